package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

// Reads started while the client is cut off from its server fail inside go-zookeeper (its requests
// are flushed on every failed round of connection attempts) and are retried: one whose context is
// cancelled meanwhile returns the context's error, the other returns the node's data once the
// connection is back. RetryWait is an hour, so only the reconnection can end the retry's wait.
func TestReadDuringConnectionLossSucceedsAfterReconnection(t *testing.T) {
	requireEnv(t)
	proxy := testenv.NewProxy(t, zkMain.Members[0].PlainAddr())
	logs := newLogRecords()
	c := connect(t, client.Config{Members: []string{proxy.Addr}, Root: "/retry", SessionTimeout: 30 * time.Second,
		RetryWait: time.Hour, Logger: slog.New(logs)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a bound for a hung test, not a timing
	defer cancel()
	want := []byte("kept")
	if _, err := c.Create(ctx, "/node", want, 0, nil); err != nil {
		t.Fatal(err)
	}
	states, stop := c.States()
	defer stop()
	expect(t, states, client.Connected, false)

	proxy.Block()
	expect(t, states, client.Suspended, false)
	type result struct {
		data []byte
		err  error
	}
	kept, given := make(chan result, 1), make(chan result, 1)
	go func() { d, _, err := c.Get(ctx, "/node"); kept <- result{d, err} }()
	gctx, giveUp := context.WithCancel(ctx)
	defer giveUp()
	go func() { d, _, err := c.Get(gctx, "/node"); given <- result{d, err} }()
	const retrying = "retrying after connection loss"
	if err := poll(ctx, func() error {
		if n := logs.count(retrying); n < 2 {
			return fmt.Errorf("%d reads retrying, want 2", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	giveUp()
	if r := <-given; !errors.Is(r.err, context.Canceled) {
		t.Errorf("read whose context was cancelled during the loss: %q, %v; want %v", r.data, r.err, context.Canceled)
	}
	select {
	case r := <-kept:
		t.Fatalf("read returned while the connection was still lost: %q, %v", r.data, r.err)
	default:
	}

	proxy.Unblock()
	for ev := range states {
		if ev.State == client.Reconnected {
			break
		}
	}
	if r := <-kept; r.err != nil || !bytes.Equal(r.data, want) {
		t.Errorf("read started during the loss: %q, %v; want %q", r.data, r.err, want)
	}
}
