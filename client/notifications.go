package client

import (
	"sync"

	"github.com/go-zookeeper/zk"
)

// notifier holds the subscribers of Notifications. Its zero value has none.
type notifier struct {
	mu     sync.Mutex
	subs   map[*subscriber[zk.Event]]struct{}
	closed bool
}

// Notifications returns a channel of every notification the session receives, in the order
// go-zookeeper received them: each watch event, whichever call set the watch (paths within the
// namespace relative to it), and go-zookeeper's own session events (Type zk.EventSession, with the
// zk.State) and zk.EventNotWatching ones. On one connection the servers send the watch events of
// a session in zxid order; the events of a new connection come after its zk.StateHasSession. The
// channels GetW, ExistsW and ChildrenW return tell no order between two watches; this one does.
// Nothing is dropped (events queue without bound until read). The channel closes after Close;
// cancel ends the subscription early (the channel then closes).
func (c *Client) Notifications() (events <-chan zk.Event, cancel func()) {
	n := &c.notes
	s := newSubscriber[zk.Event](nil)
	n.mu.Lock()
	if n.closed {
		s.close()
	} else {
		if n.subs == nil {
			n.subs = map[*subscriber[zk.Event]]struct{}{}
		}
		n.subs[s] = struct{}{}
	}
	n.mu.Unlock()
	var once sync.Once
	return s.out, func() {
		once.Do(func() {
			n.mu.Lock()
			delete(n.subs, s)
			n.mu.Unlock()
			close(s.stop)
		})
	}
}

// notify gives go-zookeeper's event e to every Notifications subscriber. It runs on go-zookeeper's
// event callback, in order, and never blocks.
func (c *Client) notify(e zk.Event) {
	n := &c.notes
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.subs) == 0 {
		return
	}
	if e.Path != "" {
		if rel := c.ns.rel(e.Path); rel != "" {
			e.Path = rel
		}
	}
	for s := range n.subs {
		s.push(e)
	}
}

// closeNotifications closes every Notifications channel once what is queued is delivered.
func (c *Client) closeNotifications() {
	n := &c.notes
	n.mu.Lock()
	subs := n.subs
	n.subs, n.closed = nil, true
	n.mu.Unlock()
	for s := range subs {
		s.close()
	}
}
