package schema

import (
	"testing"

	"github.com/edakit/eda/internal/leaktest"
)

// TestMain fails the run if a test leaves goroutines of the module running
// (a Discoverer not closed).
func TestMain(m *testing.M) { leaktest.Main(m) }
