package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"book order     fired 10: exact, prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, not-exists, cidr, arrays\n",
		"big pen order  fired  3: exact, exists, $or\n",
		"pen restock    fired  7: equals-ignore-case, anything-but, numeric, not-exists, cidr, $or, array-of-objects\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
