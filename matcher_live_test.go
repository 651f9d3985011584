package eda

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMatcherLiveChanges runs matches on several goroutines while another
// adds, replaces and deletes patterns: matching never fails, a pattern that
// no change touches is always found, only known ids are reported, and a
// match started after Add (or Delete) returns sees the change.
func TestMatcherLiveChanges(t *testing.T) {
	m := NewMatcher()
	for i := range 1000 {
		require.NoError(t, m.Add(fmt.Sprint("base-", i), scalingPattern("exact", i)))
	}
	require.NoError(t, m.Add("stable", []byte(`{"source":["shop.orders"]}`)))
	ev := scalingEvent("churn-key")

	stop := matchWhile(t, 3, m, ev, func(ids []string) bool {
		if !assert.Contains(t, ids, "stable") {
			return false
		}
		for _, id := range ids {
			if id != "stable" && !assert.Regexp(t, `^c-\d+$`, id) {
				return false
			}
		}
		return true
	})
	hit := []byte(`{"detail":{"key":["churn-key"]}}`)
	miss := []byte(`{"detail":{"key":["other"]}}`)
	for i := range 300 {
		id := fmt.Sprint("c-", i)
		require.NoError(t, m.Add(id, hit))
		got, err := m.Match(ev)
		require.NoError(t, err)
		require.Contains(t, got, id, "a match after Add returns sees the pattern")
		require.NoError(t, m.Add(id, miss)) // replace
		got, err = m.Match(ev)
		require.NoError(t, err)
		require.NotContains(t, got, id, "a match after the replacing Add sees the new pattern")
		if i%2 == 0 {
			m.Delete(id)
			got, err = m.Match(ev)
			require.NoError(t, err)
			require.NotContains(t, got, id)
		}
	}
	stop()
	assert.Equal(t, 1001+150, m.Len())
	got, err := m.Match(ev)
	require.NoError(t, err)
	assert.True(t, slices.Equal(got, []string{"stable"}), "got %v", got)
}

// TestMatcherZeroValue: the zero Matcher matches nothing but still rejects an
// event that is not an object, and Len and Delete work on it.
func TestMatcherZeroValue(t *testing.T) {
	var m Matcher
	assert.Zero(t, m.Len())
	m.Delete("none")
	got, err := m.Match([]byte(`{"a":1}`))
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = m.Match([]byte(`[1]`))
	require.ErrorIs(t, err, ErrNotObject)
}

// matchWhile starts n goroutines that match ev on m over and over, each
// until check (given the ids of a match) returns false, a match fails, or
// the returned stop is called; stop waits for them.
func matchWhile(t *testing.T, n int, m *Matcher, ev []byte, check func(ids []string) bool) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []string
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				buf, err = m.MatchAppend(buf[:0], ev)
				if !assert.NoError(t, err) || !check(buf) {
					return
				}
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// TestMatcherInvalidOptions: a size limit below 1 or a nil option is not
// ignored: every Add on the Matcher returns an error that wraps
// ErrInvalidOption and names the option, and nothing is added.
func TestMatcherInvalidOptions(t *testing.T) {
	cases := map[string]*Matcher{
		"WithMaxPatternSize": NewMatcher(WithMaxPatternSize(0)),
		"WithMaxRuleSize":    NewMatcher(WithMaxPatternSize(100), WithMaxRuleSize(-1)),
		"option 1 is nil":    NewMatcher(WithStrictEvents(), nil),
	}
	for name, m := range cases {
		for range 2 {
			err := m.Add("a", []byte(`{"source":["x"]}`))
			require.ErrorIs(t, err, ErrInvalidOption, name)
			assert.Contains(t, err.Error(), name)
		}
		assert.Zero(t, m.Len(), name)
		ids, err := m.Match([]byte(`{"source":"x"}`))
		require.NoError(t, err)
		assert.Empty(t, ids, name)
	}
	// The first invalid option is the one reported.
	err := NewMatcher(WithMaxRuleSize(0), WithMaxPatternSize(-5)).Add("a", []byte(`{"a":[1]}`))
	assert.ErrorContains(t, err, "WithMaxRuleSize: must be positive, got 0")
	// A valid limit applies as asked: a 2-byte pattern is over a limit of 1.
	err = NewMatcher(WithMaxPatternSize(1), WithMaxRuleSize(1)).Add("a", []byte(`{}`))
	var pe *PatternError
	require.ErrorAs(t, err, &pe)
	assert.NotErrorIs(t, err, ErrInvalidOption)
}
