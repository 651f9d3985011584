package eda

import (
	"testing"

	"github.com/edakit/eda/internal/leaktest"
)

// TestMain fails the run if any test of the package leaves goroutines of
// the module running (checked after all tests passed, with retries). Tests
// that start goroutines also check their own with leaktest.Test.
func TestMain(m *testing.M) { leaktest.Main(m) }

// leakCheck is leaktest.Test under its former name, which tests that
// others were editing when the check became one (bus_intake_test.go,
// target_test.go, rule_targets_test.go) still use.
var leakCheck = leaktest.Test
