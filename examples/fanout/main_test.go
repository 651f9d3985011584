package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out), out.String())
	got := out.String()
	for _, want := range []string{
		// Filter policies: attributes (email, analytics) and body (fraud).
		"analytics-service OrderPlaced o-1 NL 250.00\nanalytics-service OrderPlaced o-2 US 1800.00\n" +
			"analytics-service OrderPlaced o-3 DE 7200.00\nanalytics-service OrderPlaced o-4 FR 40.00\n" +
			"analytics-service OrderShipped o-1 NL 250.00\n",
		// The enveloped delivery: SNS's notification, decoded.
		`email-service     Notification "OrderPlaced o-1" to alice (OrderPlaced, NL, from arn:aws:sns:us-east-1:000000000000:orders)` + "\n" +
			`email-service     Notification "OrderPlaced o-3" to carol (OrderPlaced, DE, from arn:aws:sns:us-east-1:000000000000:orders)` + "\n" +
			`email-service     Notification "OrderPlaced o-4" to mallory (OrderPlaced, FR, from arn:aws:sns:us-east-1:000000000000:orders)` + "\n" +
			`email-service     Notification "OrderShipped o-1" to alice (OrderShipped, NL, from arn:aws:sns:us-east-1:000000000000:orders)` + "\n",
		// The body policy, and the bus's message (no attributes) reaching it.
		"fraud-service     check o-2: bob pays 1800.00 by card\nfraud-service     check o-5: dave pays 3000.00 by card\n",
		"loyalty-service   o-5 (legacy): 300 points for dave\n",
		"loyalty-service   o-1 (OrderShipped): no points\n",
		"dead letters      loyalty after 3 attempts (max-attempts): account of mallory is closed; body {\"orderId\":\"o-4\",\"customer\":\"mallory\",\"total\":40,\"payment\":{\"method\":\"card\"}}\n",
		// FIFO: order per customer despite the retries, and the duplicate.
		"published p-3 alice  +20 sequence number 00000000000000000003\npublished p-4 alice  -10 sequence number 00000000000000000004\n" +
			"published p-3 alice  +20 sequence number 00000000000000000003\n",
		"ledger-service    alice: p-1 +10 (attempt 2), p-3 +20, p-4 -10\nledger-service    bob: p-2 +5 (attempt 2), p-5 +7\n",
		// Stats.
		"NumberOfMessagesPublished=6 NumberOfDuplicatesDropped=0 NumberOfNotificationsFilteredOut=7 (no attributes: 2)\n",
		"  loyalty   NumberOfNotificationsDelivered=5 NumberOfNotificationsFailed=1 NumberOfNotificationsRedrivenToDlq=1 retries=2\n",
		"NumberOfMessagesPublished=5 NumberOfDuplicatesDropped=1 NumberOfNotificationsFilteredOut=0 (no attributes: 0)\n",
		// The topology: the bus's topic target points at the topic.
		"flowchart LR\n",
		`  bus0_rule0 -->|"to-orders-topic"| topic0` + "\n",
		`  topic0_sub3["loyalty<br/>handler: loyalty-service"]` + "\n",
		`  topic1[["topic: payments.fifo"]]` + "\n",
	} {
		assert.Contains(t, got, want)
	}
	assert.Equal(t, 1, strings.Count(got, "dead letters"), "one dead letter")
}

// TestRunIsDeterministic checks the promise of the package comment: the
// output is the same on every run.
func TestRunIsDeterministic(t *testing.T) {
	var first, second bytes.Buffer
	require.NoError(t, run(&first))
	require.NoError(t, run(&second))
	assert.Equal(t, first.String(), second.String())
}
