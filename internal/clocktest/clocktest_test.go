package clocktest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestManualClockFiresInTimeOrder(t *testing.T) {
	c := New(start)
	var got []string
	c.AfterFunc(3*time.Second, func() { got = append(got, "3s") })
	c.AfterFunc(time.Second, func() {
		got = append(got, "1s")
		c.AfterFunc(time.Second, func() { got = append(got, "1s+1s") }) // due at 2s
	})
	stopped := c.AfterFunc(2*time.Second, func() { got = append(got, "stopped") })
	assert.True(t, stopped.Stop())
	assert.False(t, stopped.Stop())
	assert.Equal(t, 2, c.Pending())

	c.Advance(999 * time.Millisecond)
	assert.Empty(t, got)
	c.Advance(2 * time.Second)
	assert.Equal(t, []string{"1s", "1s+1s"}, got)
	assert.Equal(t, start.Add(2999*time.Millisecond), c.Now())
	c.Set(start) // never backwards
	assert.Equal(t, start.Add(2999*time.Millisecond), c.Now())
	c.Advance(time.Millisecond)
	assert.Equal(t, []string{"1s", "1s+1s", "3s"}, got)
	assert.Zero(t, c.Pending())
}

func TestInstantClockFiresAtOnce(t *testing.T) {
	c := NewInstant(start)
	var wg sync.WaitGroup
	wg.Add(1)
	c.AfterFunc(time.Hour, wg.Done)
	wg.Wait()
	c.Wait()
	assert.Equal(t, start, c.Now(), "time stands still")
}

func TestWaitForTimers(t *testing.T) {
	c := New(start)
	assert.False(t, c.WaitForTimers(1, time.Millisecond))
	go c.AfterFunc(time.Second, func() {})
	require.True(t, c.WaitForTimers(1, 5*time.Second))
}

func TestRequested(t *testing.T) {
	c := New(start)
	assert.Empty(t, c.Requested())
	c.AfterFunc(time.Second, func() {})
	c.AfterFunc(time.Hour, func() {}).Stop()
	c.Advance(time.Second)
	c.AfterFunc(time.Minute, func() {})
	got := c.Requested()
	assert.Equal(t, []time.Duration{time.Second, time.Hour, time.Minute}, got, "fired, stopped and pending alike")
	got[0] = 0
	assert.Equal(t, time.Second, c.Requested()[0], "the result is a copy")

	i := NewInstant(start)
	i.AfterFunc(time.Hour, func() {})
	i.Wait()
	assert.Equal(t, []time.Duration{time.Hour}, i.Requested(), "instant clocks too")
}

func TestNext(t *testing.T) {
	c := New(start)
	assert.False(t, c.Next(), "no timer pending")
	assert.Equal(t, start, c.Now(), "the time stays")
	var got []time.Time
	c.AfterFunc(2*time.Second, func() { got = append(got, c.Now()) })
	c.AfterFunc(time.Second, func() { got = append(got, c.Now()) })
	c.AfterFunc(time.Second, func() { got = append(got, c.Now()) })
	require.True(t, c.Next())
	assert.Equal(t, []time.Time{start.Add(time.Second), start.Add(time.Second)}, got, "both timers due at 1s, at their time")
	assert.Equal(t, start.Add(time.Second), c.Now())
	require.True(t, c.Next())
	assert.Equal(t, start.Add(2*time.Second), c.Now())
	assert.Len(t, got, 3)
	assert.False(t, c.Next())
}

func TestFireByRunsOnlyTheEarliestDue(t *testing.T) {
	c := New(start)
	var got []string
	c.AfterFunc(2*time.Second, func() { got = append(got, "2s") })
	c.AfterFunc(time.Second, func() { got = append(got, "1s-a") })
	c.AfterFunc(time.Second, func() { got = append(got, "1s-b") })
	assert.False(t, c.FireBy(start.Add(999*time.Millisecond)))
	assert.True(t, c.FireBy(start.Add(time.Hour)))
	assert.Equal(t, []string{"1s-a"}, got, "one timer, the first scheduled of the earliest")
	assert.Equal(t, start.Add(time.Second), c.Now(), "the time moves to it, not to the limit")
	assert.True(t, c.FireBy(start.Add(time.Second)))
	assert.False(t, c.FireBy(start.Add(time.Second)), "the 2s timer is after the limit")
	assert.Equal(t, 1, c.Pending())
}

func TestSetInstantAndScheduled(t *testing.T) {
	c := New(start)
	n, sched := c.Scheduled()
	assert.Equal(t, 0, n)
	var wg sync.WaitGroup
	wg.Add(2)
	c.AfterFunc(time.Hour, wg.Done)
	select {
	case <-sched:
	default:
		require.Fail(t, "Scheduled's channel is not closed by AfterFunc")
	}
	n, _ = c.Scheduled()
	assert.Equal(t, 1, n)
	c.SetInstant(true) // fires the pending timer
	c.AfterFunc(time.Hour, wg.Done)
	wg.Wait()
	c.Wait()
	assert.Equal(t, start, c.Now())
	assert.Equal(t, 0, c.Pending())
	c.SetInstant(false)
	c.AfterFunc(time.Second, func() {})
	assert.Equal(t, 1, c.Pending())
}
