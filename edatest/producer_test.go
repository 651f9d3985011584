package edatest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProducerRecords(t *testing.T) {
	var p Producer
	ctx := context.Background()
	res, err := p.PutEvents(ctx, eda.Event{Source: "a", DetailType: "A", Detail: json.RawMessage(`{}`)},
		eda.Event{ID: "mine", Source: "b", DetailType: "B", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	assert.Equal(t, []eda.PutEventsResultEntry{{EventID: "event-1"}, {EventID: "mine"}}, res.Entries)
	_, err = p.PutEvents(ctx, eda.Event{Source: "c"})
	require.NoError(t, err)
	evs := p.Events()
	require.Len(t, evs, 3)
	assert.Equal(t, []string{"event-1", "mine", "event-3"}, []string{evs[0].ID, evs[1].ID, evs[2].ID})
	assert.Equal(t, "b", evs[1].Source)

	// A typed producer over it.
	type placed struct{ ID string }
	typed, err := eda.NewProducer[placed](&p, "shop", "OrderPlaced")
	require.NoError(t, err)
	_, err = typed.Put(ctx, placed{ID: "o-1"})
	require.NoError(t, err)
	last := p.Events()[3]
	assert.Equal(t, "OrderPlaced", last.DetailType)
	assert.JSONEq(t, `{"ID":"o-1"}`, string(last.Detail))

	boom := errors.New("down")
	failing := &Producer{Err: boom}
	_, err = failing.PutEvents(ctx, eda.Event{Source: "a"})
	assert.Equal(t, boom, err)
	assert.Empty(t, failing.Events())
}

func TestPublisherRecords(t *testing.T) {
	var p Publisher
	ctx := context.Background()
	res, err := p.Publish(ctx, eda.Message{Body: []byte("one")})
	require.NoError(t, err)
	assert.Equal(t, "message-1", res.MessageID)
	res, err = p.Publish(ctx, eda.Message{Body: []byte("two"), Subject: "s"})
	require.NoError(t, err)
	assert.Equal(t, "message-2", res.MessageID)
	msgs := p.Messages()
	require.Len(t, msgs, 2)
	assert.Equal(t, "two", string(msgs[1].Body))

	boom := errors.New("down")
	failing := &Publisher{Err: boom}
	_, err = failing.Publish(ctx, eda.Message{Body: []byte("x")})
	assert.Equal(t, boom, err)
	assert.Empty(t, failing.Messages())
}
