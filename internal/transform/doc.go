// Package transform implements EventBridge's target input modes InputPath
// and InputTransformer: a compiled JSONPath (Path) that selects part of an
// event, and a compiled template (Transformer) that builds a target's input
// from values of the event and EventBridge's predefined variables.
//
// Compile once when a rule's target is put (CompilePath, Compile): every
// error EventBridge would report at PutTargets time is reported then, as an
// *Error wrapping ErrInvalid. Apply and Extract run per delivery; they do
// not allocate in the common case, never panic, and are safe for
// concurrent use.
//
// # Paths
//
// The JSONPath subset is the one the EventBridge user guide lists
// ("Amazon EventBridge input transformation", note on supported syntax: dot
// notation, dashes, underscores, alphanumeric characters, array indices,
// wildcards, forward slashes): `$`, `.key`, `[n]`, `.*` and `[*]`. Keys in
// dot notation may also contain ':' and non-ASCII letters. InputPath also
// accepts bracket-quoted keys (`['a.b']`, `["a b"]`), which the API
// reference allows for Target.InputPath ("You may use JSON dot notation or
// bracket notation") but forbids for InputPathsMap values ("You must use
// JSON dot notation, not bracket notation"). Deep scan, filters, slices,
// unions and negative indexes are rejected, as are paths longer than 256
// characters (API reference length limit).
//
// EventBridge itself does not validate paths when a target is put ("There
// is no validation when creating JSON path for your template") and
// evaluates them at delivery; eda validates them at compile time instead,
// so that a bad path fails when the rule is put rather than silently at
// delivery.
//
// A definite path selects one value or nothing. A path with a wildcard
// selects every match in document order and yields them as a JSON array
// (empty when nothing matches), as JSONPath implementations do for
// indefinite paths.
//
// # Templates
//
// A template whose text (trimmed) starts with '{' or '[' must be valid JSON
// once each placeholder is read as a value; a template that is exactly one
// JSON string ("...") is a JSON template too; anything else is plain text.
// IsJSON reports which. JSON output is minified ("The JSON that is passed
// to the target is minified", user guide, Common issues).
//
// A placeholder is "<name>", name being an InputPathsMap key or a
// predefined variable. A '<' that does not start such a name is text, so
// "a < b" needs no escaping. A placeholder naming neither is rejected
// (recorded EventBridge error: "InputTemplate ... contains invalid
// placeholder"), and so is a placeholder in an object key (API reference,
// InputTemplate: "The placeholder cannot be used as an object key").
//
// How a value is written depends on where its placeholder stands:
//
//   - As a JSON value (outside quotes): the value's JSON. Strings get their
//     quotes ("EventBridge automatically adds quotes to string variable
//     values"); objects and arrays are inserted as JSON ("EventBridge does
//     not add quotes to variables that represent JSON objects or arrays").
//   - Inside a JSON string (between quotes): a string's contents as escaped
//     in the event (so `"a \"<v>\""` stays valid JSON), a number, boolean or
//     null as its text, an object or array as its compact JSON with the
//     delimiting quotes removed ("If a JSON path references a JSON object or
//     array, but the variable is referenced in a string, EventBridge removes
//     any internal quotes to ensure a valid string").
//   - In a plain-text template: a string's decoded text, anything else as
//     compact JSON.
//
// A path that selects nothing writes nothing inside a string or in text
// ("that variable isn't created and won't appear in the output") and ""
// as a JSON value, which is what EventBridge delivers for {"k": <missing>}
// (recorded in LocalStack's AWS-validated snapshot,
// tests/aws/services/events/test_events_inputs.snapshot.json).
//
// # Predefined variables
//
//   - <aws.events.rule-arn>, <aws.events.rule-name>: Vars.RuleARN,
//     Vars.RuleName, written as strings.
//   - <aws.events.event.ingestion-time>: Vars.IngestionTime as RFC 3339 in
//     UTC ("an ISO 8601 timestamp"); the event's time when zero.
//   - <aws.events.event.json>: the whole event ("The full original event
//     payload as JSON (with the detail field)").
//   - <aws.events.event>: the envelope without detail ("The original event
//     payload as JSON (without the detail field)"), with the member names
//     and order EventBridge delivers: id, account, detailType, time,
//     source, region, resources, version (recorded output, same snapshot).
//
// The docs say the two event variables "can only be used as a value for a
// JSON field". eda accepts them elsewhere too and writes them by the rules
// above, as it does for any object.
package transform
