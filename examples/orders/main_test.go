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
		"stored orders: 4 (o-1001, o-1002, o-1003, o-1004)",
		"fraud checks: 2 (o-1002: ok; o-1003: manual review)",
		"customers notified: 3 (o-1001, o-1002, o-1003)",
		"http         POST /orders o-1001 -> 202 Accepted",
		"http         POST /orders (no orderId) -> 400 Bad Request",
		"dead-letter  stored-orders/notify after 3 attempts (max-attempts): mailbox dave@bounce.example does not exist; event OrderStored of order o-1004",
		"dead letter: stored-orders/notify after 3 attempts (max-attempts): mailbox dave@bounce.example does not exist; event OrderStored of order o-1004",
		"notify       o-1001 attempt 1: mail server busy, will retry",
		"audit-log    o-1003 notified carol@example.com",
		"PutEventsEntries=11 PutEventsFailedEntries=0 MatchedEvents=11",
		"target notify      Invocations=4 FailedInvocations=1 RetryInvocationAttempts=5 DeadLetterInvocations=1",
		"flowchart LR",
		// Named after the method ("main", or under go test "orders").
		`.(*app).fraudCheck<br/>input-path $.detail`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
