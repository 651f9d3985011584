package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"a":[1,-2.5e3,"x\n\u00e9",true,false,null,{}],"b":{"c":[]},"a2":0}`,
		` { "k" : "v" , "k" : "last" } `,
		`"\ud83d\ude00"`, `[]`, `-0`, "\"caf\xc3\xa9\"",
	} {
		got, err := decodeJSON([]byte(in))
		require.NoError(t, err, in)
		var want any
		require.NoError(t, json.Unmarshal([]byte(in), &want), in)
		gotJSON, err := json.Marshal(got)
		require.NoError(t, err)
		wantJSON, err := json.Marshal(want)
		require.NoError(t, err)
		assert.JSONEq(t, string(wantJSON), string(gotJSON), in)
	}
	n, err := decodeJSON([]byte(`12345678901234567890123`))
	require.NoError(t, err)
	assert.Equal(t, json.Number("12345678901234567890123"), n, "numbers keep their text")
	s, err := decodeJSON([]byte("\"a\xffb\""))
	require.NoError(t, err)
	assert.Equal(t, "a\uFFFDb", s, "invalid UTF-8 becomes U+FFFD, as in encoding/json")
}

func TestDecodeJSONRefusesInvalidJSON(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `[1,]`, `[1 2]`, `{a:1}`, `"abc`, "\"a\tb\"",
		`"\x"`, `01`, `1.`, `1e`, `-`, `tru`, `nul`, `{"a":1}x`, `[`,
	} {
		_, err := decodeJSON([]byte(in))
		assert.Error(t, err, in)
	}
	deep := make([]byte, 0, 2*maxDecodeDepth+2)
	for range maxDecodeDepth + 1 {
		deep = append(deep, '[')
	}
	for range maxDecodeDepth + 1 {
		deep = append(deep, ']')
	}
	_, err := decodeJSON(deep)
	assert.ErrorIs(t, err, errDepth)
}

// FuzzDecodeJSON: the decoder accepts exactly what encoding/json accepts,
// never panics, and yields the same value (numbers compared as text, which
// is what the decoder keeps).
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-2.5e3,"x\n\u00e9",true,false,null,{}],"b":{"c":[]}}`, `{"k":"v","k":"last"}`,
		`"\ud83d\ude00"`, `[]`, `-0`, `12345678901234567890123`, "\"a\xffb\"", `{"a":1,}`, `01`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeJSON(data)
		var want any
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		wantErr := d.Decode(&want)
		if wantErr == nil {
			if _, tokErr := d.Token(); tokErr != io.EOF {
				wantErr = errors.New("trailing data")
			}
		}
		if wantErr != nil {
			require.Error(t, err, "encoding/json refuses %q (%v)", data, wantErr)
			return
		}
		require.NoError(t, err, "encoding/json accepts %q", data)
		assert.Equal(t, want, got, "value of %q", data)
	})
}
