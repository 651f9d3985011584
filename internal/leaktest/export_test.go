package leaktest

// TestWithin is Test with a timeout of the caller's choice.
var TestWithin = test
