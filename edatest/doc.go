// Package edatest helps unit-test event flows in-process, as
// net/http/httptest helps test HTTP handlers, with no sleep anywhere.
//
// A flow test creates its routers with [NewBus] and [NewTopic] (closed
// when the test ends, failing it if events are left in flight or
// goroutines leak), records what reaches each destination with a
// [Recorder], publishes, waits with [Settle] for everything in flight to be
// delivered or dead-lettered — or with [SettleEvent] for one event, or
// [SettleMessage] for one message, and everything it caused, whatever else
// is in flight — and checks the records with
// [AssertDelivered], [AssertNotDelivered], [AssertDeliveredN] and
// [AssertDeliveredInOrder] — or, for a Topic's messages and an SNS filter
// policy, [AssertDeliveredPolicy], [AssertNotDeliveredPolicy] and
// [AssertDeliveredPolicyN] — whose failures explain, record by record, why
// a pattern or policy did not match ([eda.Explain]). A fake [Clock] makes retries, backoff and windows run
// without waiting. A handler's panic fails the test unless it calls
// [AllowPanics]. [Producer] and [Publisher] record what code under test
// publishes, without a router.
//
//	func TestBigOrdersGoToFraudCheck(t *testing.T) {
//		bus := edatest.NewBus(t)
//		fraud := edatest.NewRecorder()
//		require.NoError(t, bus.PutRule(eda.Rule{Name: "big",
//			EventPattern: `{"detail": {"total": [{"numeric": [">", 1000]}]}}`,
//			Targets:      []eda.Target{eda.HandlerTarget("fraud", fraud)}}))
//		// ... put the events ...
//		edatest.Settle(t, bus)
//		edatest.AssertDeliveredN(t, fraud, `{"detail": {"orderId": ["o-2"]}}`, 1)
//	}
package edatest
