package leaktest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
)

func TestCheckReportsRunningGoroutinesUntilTheyExit(t *testing.T) {
	stop := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		<-stop
	}()
	err := leaktest.Check(20 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "TestCheckReportsRunningGoroutinesUntilTheyExit") {
		t.Fatalf("Check = %v, want the running goroutine reported", err)
	}
	close(stop)
	<-exited
	if err := leaktest.Check(5 * time.Second); err != nil {
		t.Fatalf("Check after exit: %v", err)
	}
}
