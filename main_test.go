package eda

import (
	"testing"

	"github.com/edakit/eda/internal/leaktest"
)

// TestMain fails the run if any test of the package leaves goroutines of
// the module running (checked after all tests passed, with retries). Tests
// that start goroutines also check their own with leaktest.Test.
func TestMain(m *testing.M) { leaktest.Main(m) }
