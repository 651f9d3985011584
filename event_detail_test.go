package eda

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceDetailOK is checkDetail's specification, written with
// encoding/json: a JSON object, valid UTF-8, at most maxDetailDepth levels
// deep, every integer within the 64-bit range.
func referenceDetailOK(detail []byte) bool {
	trimmed := bytes.TrimLeft(detail, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(detail) || !utf8.Valid(detail) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(detail))
	dec.UseNumber()
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return true // io.EOF: the detail is valid JSON
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				if depth++; depth > maxDetailDepth {
					return false
				}
			} else {
				depth--
			}
		case json.Number:
			if !strings.ContainsAny(string(v), ".eE") {
				if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
					return false
				}
			}
		}
	}
}

var detailSeeds = []string{
	`{}`, ` {"a":1} `, `{"a":"b\"c\\","d":[1,-0,0.5,-1e-5,2E+3,true,false,null,{}]}`,
	`{"u":"\u00e9\uD83D\uDE80","s":"\/\b\f\n\r\t"}`, `{"n":9223372036854775807,"m":-9223372036854775808}`,
	`{"n":9223372036854775808}`, `{"n":-9223372036854775809}`, `{"n":00}`, `{"n":01}`, `{"n":-}`, `{"n":1.}`,
	`{"n":.5}`, `{"n":1e}`, `{"n":+1}`, `{"a":tru}`, `{"a":nul}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`,
	`{"a":1}}`, `{"a":1} x`, `[1]`, `"x"`, ``, `{`, `{"a`, "{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":"\u12"}`,
	"{\"a\":\"\xff\"}", "{\"\xc3\xa9\":\"\xc3\"}", `{"a":"` + strings.Repeat("é", 10) + `"}`,
	strings.Repeat(`{"a":`, maxDetailDepth) + "1" + strings.Repeat("}", maxDetailDepth),
	strings.Repeat(`{"a":`, maxDetailDepth+1) + "1" + strings.Repeat("}", maxDetailDepth+1),
	`{"a":` + strings.Repeat("[", maxDetailDepth-1) + strings.Repeat("]", maxDetailDepth-1) + `}`,
	`{"a":` + strings.Repeat("[", maxDetailDepth) + strings.Repeat("]", maxDetailDepth) + `}`,
}

// TestCheckDetailMatchesReference: checkDetail accepts exactly what the
// reference accepts.
func TestCheckDetailMatchesReference(t *testing.T) {
	for _, d := range detailSeeds {
		reason := checkDetail([]byte(d))
		assert.Equal(t, referenceDetailOK([]byte(d)), reason == "", "%.80q: %s", d, reason)
	}
	// Strings are read eight bytes at a time: every byte that is not plain
	// (and its neighbours), at every place of the first words of a string
	// and of the detail.
	for _, special := range []string{`"`, `\\`, `\"`, `\u0041`, `\u00`, `\x`, "\x00", "\x1f", "\x7f", "é", "\xc3", "\xff", " "} {
		for at := range 20 {
			for _, pad := range []string{"", "x", "xxxxxxx"} {
				d := []byte(`{"` + pad + `":"` + strings.Repeat("a", at) + special + strings.Repeat("b", 20-at) + `"}`)
				reason := checkDetail(d)
				assert.Equal(t, referenceDetailOK(d), reason == "", "%q: %s", d, reason)
			}
		}
	}
}

func FuzzCheckDetail(f *testing.F) {
	for _, d := range detailSeeds {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		reason := checkDetail(d)
		require.Equal(t, referenceDetailOK(d), reason == "", "checkDetail(%q) = %q; does the reference accept it?", d, reason)
	})
}

// BenchmarkCheckDetail measures the detail check of PutEvents on the
// detail of BenchmarkBusPutEvents (146 bytes).
//
//	go test -run '^$' -bench CheckDetail .
func BenchmarkCheckDetail(b *testing.B) {
	detail := []byte(`{"orderId":"o-1","customer":"c-1","total":1.5,"items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1}],"shipping":{"country":"DE","express":false}}`)
	b.SetBytes(int64(len(detail)))
	for b.Loop() {
		if reason := checkDetail(detail); reason != "" {
			b.Fatal(reason)
		}
	}
}
