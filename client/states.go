package client

import (
	"fmt"
	"sync"
	"time"
)

// State is a connection state, named as Curator names them.
type State int

const (
	// Connected: the first session exists (authenticated, when SASL is on). Fired once, first.
	Connected State = iota + 1
	// Suspended: the connection was lost; the session may still live on the servers. Ephemeral
	// nodes and leadership may be lost at any moment. Fired once per outage.
	Suspended
	// Reconnected: a connection is back. With Event.NewSession false the session survived (its
	// ephemeral nodes and watches are intact); with NewSession true it follows Lost and everything
	// session-bound must be re-created.
	Reconnected
	// Lost: the session is gone — the server reported it expired, or the client stayed Suspended for
	// longer than the negotiated session timeout (after which the servers have surely expired it).
	Lost
	// AuthFailed: a connection failed to authenticate (Event.Err says why). The client closes
	// itself: it never continues unauthenticated. Always the last event.
	AuthFailed
)

func (s State) String() string {
	switch s {
	case Connected:
		return "CONNECTED"
	case Suspended:
		return "SUSPENDED"
	case Reconnected:
		return "RECONNECTED"
	case Lost:
		return "LOST"
	case AuthFailed:
		return "AUTH_FAILED"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

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

// subscriber is one consumer of events with an unbounded queue, so that no event is ever dropped
// and the producer (go-zookeeper's event callback) never blocks.
type subscriber struct {
	mu     sync.Mutex
	queue  []Event
	wake   chan struct{}
	out    chan Event
	closed bool
	stop   chan struct{} // closed by unsubscribe: stop delivering
}

func newSubscriber(first []Event) *subscriber {
	s := &subscriber{queue: first, wake: make(chan struct{}, 1), out: make(chan Event), stop: make(chan struct{})}
	go s.run()
	s.signal()
	return s
}

func (s *subscriber) push(e Event) {
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, e)
	}
	s.mu.Unlock()
	s.signal()
}

func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.signal()
}

func (s *subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run delivers queued events in order; after close it delivers what is queued, then closes out.
func (s *subscriber) run() {
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
