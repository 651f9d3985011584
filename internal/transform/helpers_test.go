package transform

import (
	"errors"
	"strings"
	"testing"
)

// The module's go.sum does not yet carry testify's dependencies, so these
// tests use small helpers of their own.

func mustCompile(t *testing.T, paths map[string]string, template string) *Transformer {
	t.Helper()
	tr, err := Compile(paths, template)
	if err != nil {
		t.Fatalf("Compile(%v, %q): %v", paths, template, err)
	}
	return tr
}

func mustPath(t *testing.T, path string) *Path {
	t.Helper()
	p, err := CompilePath(path)
	if err != nil {
		t.Fatalf("CompilePath(%q): %v", path, err)
	}
	return p
}

// wantError checks that err is a compile error for field whose reason
// contains every fragment.
func wantError(t *testing.T, err error, field string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one for %s", field)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if e.Field != field {
		t.Errorf("Field = %q, want %q (error: %v)", e.Field, field, err)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Reason, f) {
			t.Errorf("Reason %q does not contain %q", e.Reason, f)
		}
	}
}
