package eda

import "errors"

// ErrClosed is returned by calls on a Bus or Topic after Close.
var ErrClosed = errors.New("eda: closed")
