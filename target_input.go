package eda

import (
	"fmt"

	"github.com/edakit/eda/internal/transform"
)

// compileTransformer validates an input transformer when its rule is put
// and returns the function that applies it at delivery. JSON output is
// delivered minified, text output as is, as EventBridge does.
func compileTransformer(id string, it *InputTransformer) (inputFunc, error) {
	tr, err := transform.Compile(it.InputPathsMap, it.InputTemplate)
	if err != nil {
		return nil, fmt.Errorf("target %q: InputTransformer: %w", id, err)
	}
	return func(ev routed, t *targetRuntime) ([]byte, error) {
		return tr.Apply(nil, ev.raw, transform.Vars{
			RuleARN:       t.ruleARN,
			RuleName:      t.rule,
			IngestionTime: ev.accepted,
		})
	}, nil
}
