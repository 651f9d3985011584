package eda_test

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edakit/eda"
)

// MatchPattern is EventBridge's TestEventPattern as a function.
func ExampleMatchPattern() {
	pattern := []byte(`{
	  "source": ["aws.ec2"],
	  "detail": {
	    "state": [{"anything-but": "initializing"}],
	    "c-count": [{"numeric": [">", 0, "<=", 5]}]
	  }
	}`)
	running := []byte(`{"source": "aws.ec2", "detail": {"state": "running", "c-count": 5}}`)
	starting := []byte(`{"source": "aws.ec2", "detail": {"state": "initializing", "c-count": 5}}`)

	ok, err := eda.MatchPattern(pattern, running)
	fmt.Println(ok, err)
	ok, err = eda.MatchPattern(pattern, starting)
	fmt.Println(ok, err)
	// Output:
	// true <nil>
	// false <nil>
}

// A Matcher holds many patterns by id and reports every id whose pattern an
// event matches, each once.
func ExampleMatcher() {
	m := eda.NewMatcher()
	rules := map[string]string{
		"eu-orders":  `{"source": ["shop.orders"], "region": [{"prefix": "eu-"}]}`,
		"big-orders": `{"detail": {"amount": [{"numeric": [">=", 1000]}]}}`,
		"no-coupon":  `{"detail": {"coupon": [{"exists": false}]}}`,
		"refunds":    `{"detail-type": ["Refund Issued"]}`,
	}
	for id, p := range rules {
		if err := m.Add(id, []byte(p)); err != nil {
			fmt.Println(err)
		}
	}
	event := []byte(`{"source": "shop.orders", "region": "eu-west-1", "detail-type": "Order Placed",
	  "detail": {"amount": 1250.00, "currency": "EUR"}}`)

	ids, err := m.Match(event)
	if err != nil {
		fmt.Println(err)
	}
	slices.Sort(ids)
	fmt.Println(ids)

	m.Delete("no-coupon")
	ids, _ = m.Match(event)
	slices.Sort(ids)
	fmt.Println(ids)
	// Output:
	// [big-orders eu-orders no-coupon]
	// [big-orders eu-orders]
}

// Matcher.MatchAppend reuses the caller's slice, so matching allocates
// nothing once the slice is large enough.
func ExampleMatcher_MatchAppend() {
	m := eda.NewMatcher()
	_ = m.Add("ec2", []byte(`{"source": ["aws.ec2"]}`))
	buf := make([]string, 0, 8)
	for _, ev := range []string{`{"source": "aws.ec2"}`, `{"source": "aws.s3"}`} {
		buf, _ = m.MatchAppend(buf[:0], []byte(ev))
		fmt.Println(len(buf), buf)
	}
	// Output:
	// 1 [ec2]
	// 0 []
}

// ParsePattern rejects what EventBridge rejects, with a *PatternError that
// says where in the pattern and why.
func ExampleParsePattern() {
	_, err := eda.ParsePattern([]byte(`{"detail": {"price": [{"numeric": [">", "abc"]}]}}`))
	var pe *eda.PatternError
	if errors.As(err, &pe) {
		fmt.Println(pe.Path)
		fmt.Println(err)
	}
	// Output:
	// detail.price
	// event pattern: detail.price: numeric: ">" needs a number, got "abc"
}
