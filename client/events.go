package client

import (
	"fmt"
	"sync"
	"time"
)

// Event is one connection state change.
type Event struct {
	State State
	// SessionID is the session the event is about (the new one for Reconnected with NewSession).
	SessionID int64
	// NewSession marks a Reconnected that follows Lost.
	NewSession bool
	// Member is the server connected to, when known.
	Member string
	// Err says why, for AuthFailed and (when known) Lost.
	Err error
	// At is when the client saw it.
	At time.Time
}

func (e Event) String() string {
	s := e.State.String()
	if e.SessionID != 0 {
		s += fmt.Sprintf(" session=0x%x", e.SessionID)
	}
	if e.NewSession {
		s += " new-session"
	}
	if e.Member != "" {
		s += " member=" + e.Member
	}
	if e.Err != nil {
		s += " err=" + e.Err.Error()
	}
	return s
}

// subscriber is one consumer of events (state Events, or notifications: notifications.go) with an
// unbounded queue, so that no event is ever dropped and the producer (go-zookeeper's event
// callback) never blocks.
type subscriber[T any] struct {
	mu     sync.Mutex
	queue  []T
	wake   chan struct{}
	out    chan T
	closed bool
	stop   chan struct{} // closed by unsubscribe: stop delivering
}

func newSubscriber[T any](first []T) *subscriber[T] {
	s := &subscriber[T]{queue: first, wake: make(chan struct{}, 1), out: make(chan T), stop: make(chan struct{})}
	go s.run()
	s.signal()
	return s
}

func (s *subscriber[T]) push(e T) {
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, e)
	}
	s.mu.Unlock()
	s.signal()
}

func (s *subscriber[T]) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.signal()
}

func (s *subscriber[T]) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run delivers queued events in order; after close it delivers what is queued, then closes out.
func (s *subscriber[T]) run() {
	defer close(s.out)
	for {
		s.mu.Lock()
		q := s.queue
		s.queue = nil
		closed := s.closed
		s.mu.Unlock()
		for _, e := range q {
			select {
			case s.out <- e:
			case <-s.stop:
				return
			}
		}
		if closed && len(q) == 0 {
			return
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-s.stop:
			return
		}
	}
}

func (c *Client) emitLocked(e Event) {
	c.log.Debug("state", "event", e.String())
	for s := range c.subs {
		s.push(e)
	}
}

// startOnState feeds Config.OnState from a subscriber of its own, like a States channel: one
// goroutine, every event in order, none dropped (the subscriber's queue is unbounded, so the
// producer never blocks). The subscriber is closed with the others by shutdown; the goroutine then
// delivers what is queued and ends, and shutdown waits for that. Call it before the first event.
func (c *Client) startOnState() {
	if c.cfg.OnState == nil {
		return
	}
	s := c.subscribe()
	c.onStateEnd = make(chan struct{})
	go func() {
		defer close(c.onStateEnd)
		for e := range s.out {
			c.cfg.OnState(e)
		}
	}()
}

func (c *Client) subscribe() *subscriber[Event] {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first []Event
	if c.state != 0 {
		first = []Event{{State: c.state, SessionID: c.sessionID, Member: c.member, Err: c.authErr, At: time.Now()}}
	}
	s := newSubscriber(first)
	if c.closed {
		s.close()
		return s
	}
	c.subs[s] = struct{}{}
	return s
}

func (c *Client) unsubscribe(s *subscriber[Event]) {
	c.mu.Lock()
	delete(c.subs, s)
	c.mu.Unlock()
	close(s.stop)
}

// States returns a channel of connection state events. Its first event is the state at the time of
// the call (Connected, Suspended, ...); then every change, in order, none dropped (they queue
// without bound until read). The channel closes after Close, once the queued events are delivered.
// Cancel stops the subscription early (the channel then closes).
func (c *Client) States() (events <-chan Event, cancel func()) {
	s := c.subscribe()
	var once sync.Once
	return s.out, func() { once.Do(func() { c.unsubscribe(s) }) }
}
