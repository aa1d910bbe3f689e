package client

import (
	"bytes"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// A slow OnState gets every event of a burst, in order, from one goroutine; Close waits until the
// queued events are delivered, no OnState call happens after Close returns, and no goroutine is
// left behind. No server is needed: the burst is what go-zookeeper's event callback would produce.
func TestOnStateSlowCallbackGetsEveryEventInOrder(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	const n = 500 // far beyond any buffer: the producer must never block nor spawn a goroutine per event
	gate := make(chan struct{})
	var (
		mu      sync.Mutex
		got     []int64
		callers = map[int64]bool{} // distinct goroutines seen, by a marker each call leaves
		closed  bool
		late    int
	)
	c := &Client{
		cfg: Config{OnState: func(e Event) {
			if e.SessionID == 0 {
				<-gate // the first call blocks until the whole burst is queued
			}
			time.Sleep(20 * time.Microsecond) // slow
			mu.Lock()
			defer mu.Unlock()
			if closed {
				late++
			}
			got = append(got, e.SessionID)
			callers[goid()] = true
		}},
		subs: map[*subscriber[Event]]struct{}{},
		done: make(chan struct{}),
		log:  slog.New(slog.DiscardHandler),
	}
	before := runtime.NumGoroutine()
	c.startOnState()
	for i := range n {
		c.mu.Lock()
		c.emitLocked(Event{State: Suspended, SessionID: int64(i)})
		c.mu.Unlock()
	}
	// The OnState goroutine and its queue's; a little slack for the test environment's own.
	if extra := runtime.NumGoroutine() - before; extra > 5 {
		t.Errorf("%d goroutines more while OnState is behind by %d events: a goroutine per event", extra, n)
	}
	closeReturned := make(chan struct{})
	go func() {
		c.Close()
		mu.Lock()
		closed = true
		mu.Unlock()
		close(closeReturned)
	}()
	select {
	case <-closeReturned:
		t.Error("Close returned while OnState was still blocked on the first event")
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	select {
	case <-closeReturned:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after OnState was released")
	}
	c.Close() // a second Close returns at once
	mu.Lock()
	if len(got) != n {
		t.Errorf("OnState got %d events by the time Close returned, want %d", len(got), n)
	}
	for i, id := range got {
		if id != int64(i) {
			t.Errorf("event %d is session %d: events overtook each other", i, id)
			break
		}
	}
	if len(callers) != 1 {
		t.Errorf("OnState ran on %d goroutines, want 1", len(callers))
	}
	mu.Unlock()
	goleak.VerifyNone(t, ignore)
	mu.Lock()
	defer mu.Unlock()
	if late != 0 || len(got) != n {
		t.Errorf("%d OnState calls after Close returned (%d calls in all, want %d)", late, len(got), n)
	}
}

// goid is the calling goroutine's number, from its stack header ("goroutine 7 [running]:").
func goid() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id int64
	for _, b := range bytes.TrimPrefix(buf, []byte("goroutine ")) {
		if b < '0' || b > '9' {
			break
		}
		id = id*10 + int64(b-'0')
	}
	return id
}
