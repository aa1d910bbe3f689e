package election

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"

	"github.com/zksecure/zksecure/client"
)

// Leadership is held from a successful Campaign until Done is closed. When it ends, its latch node
// and the records it published are deleted as soon as the connection allows (they are ephemeral
// nodes of a session that may well survive, for instance a quorum loss longer than the session
// timeout): Resign does it at once, otherwise it happens in the background until it succeeds or the
// client closes.
type Leadership struct {
	e     *Election
	node  string
	owner int64 // the session that owns node
	// SessionID is the leader session id (a random UUID per leadership), which Flink publishes with
	// the address and followers use to fence stale leaders.
	SessionID uuid.UUID

	done      chan struct{}
	mu        sync.Mutex
	err       error           // set, and done closed, by revoke
	published map[string]bool // components whose connection_info we wrote or are writing
	writes    int             // Publish writes not yet resolved
	idle      chan struct{}   // closed when writes drops to 0, made by a waiter
	cancel    func()

	cleanMu sync.Mutex
	cleaned bool // latch node and records deleted (under cleanMu)
}

func (e *Election) lead(node string, owner int64) *Leadership {
	l := &Leadership{e: e, node: node, owner: owner, SessionID: uuid.New(), done: make(chan struct{}), published: map[string]bool{}}
	states, cancel := e.c.States()
	l.cancel = cancel
	go l.monitor(states)
	e.log.Debug("leading", "node", node, "leader_session", l.SessionID.String(), "session", fmt.Sprintf("0x%x", owner))
	return l
}

// Node is the latch node (relative to the namespace) that holds the leadership.
func (l *Leadership) Node() string { return l.e.latch + "/" + l.node }

// Done is closed when leadership ends; Err then says why (ErrResigned, ErrSuspended, ErrSessionLost,
// ErrNodeDeleted, or the client's error).
func (l *Leadership) Done() <-chan struct{} { return l.done }

// Err is nil while leading, then the reason leadership ended.
func (l *Leadership) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// revoke ends the leadership (once). Done is closed under mu, so that a Publish write either counts
// as in flight before it or sees it.
func (l *Leadership) revoke(err error) {
	if err == nil {
		err = ErrSessionLost
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	l.err = err
	close(l.done)
	l.e.log.Debug("leadership ended", "node", l.node, "reason", err.Error())
}

func sessionLost(cause error) error {
	if cause == nil {
		return ErrSessionLost
	}
	return fmt.Errorf("%w: %w", ErrSessionLost, cause)
}

// monitor ends the leadership on the connection policy, on deletion of our node, or client close,
// then removes what the leadership left once the connection allows.
func (l *Leadership) monitor(states <-chan client.Event) {
	defer l.cancel()
	// Our node's existence, watched until the leadership ends.
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	node := watchLoop(watchCtx, l.e.c, func(ctx context.Context) (bool, string, <-chan zk.Event, error) {
		ok, _, watch, err := l.e.c.ExistsW(ctx, l.Node())
		return ok, fmt.Sprint(ok), watch, err
	})
	connected := true // Campaign just read the latch on this connection
lead:
	for {
		select {
		case <-l.done: // Resign
			break lead
		case exists, ok := <-node:
			if !ok {
				node = nil // the client closed: its Done tells
			} else if !exists {
				l.revoke(ErrNodeDeleted)
				break lead
			}
		case <-l.e.c.Done():
			l.revoke(l.e.closedErr())
			return
		case ev, ok := <-states:
			if !ok {
				l.revoke(l.e.closedErr())
				return
			}
			connected = isConnected(ev.State)
			switch ev.State {
			case client.Suspended:
				if !l.e.tolerate {
					l.revoke(ErrSuspended)
					break lead
				}
			case client.Lost:
				l.revoke(sessionLost(ev.Err))
				break lead
			case client.Reconnected:
				if ev.NewSession {
					l.revoke(sessionLost(zk.ErrSessionExpired))
					break lead
				}
			case client.AuthFailed:
				if ev.Err == nil {
					ev.Err = l.e.closedErr()
				}
				l.revoke(ev.Err)
				return
			}
		}
	}
	stopWatch()
	l.cleanup(states, connected)
}

// cleanup deletes the leadership's records and latch node whenever the connection is back, until
// that succeeds or the client closes — whether or not Lost came first: after a quorum loss the
// servers keep sessions that the client, by its timer, declared lost (Curator resets its node on
// every RECONNECTED for the same reason).
func (l *Leadership) cleanup(states <-chan client.Event, connected bool) {
	ctx, cancel := l.e.lifetime()
	defer cancel()
	for {
		if connected {
			err := l.removeNodes(ctx)
			if err == nil || ctx.Err() != nil {
				return
			}
			if refused(err) {
				l.e.log.Debug("could not delete the nodes of an ended leadership; the session's end will", "node", l.node, "error", err)
				return
			}
			l.e.log.Debug("deleting the nodes of an ended leadership failed; trying again", "node", l.node, "error", err)
		}
		var retry <-chan time.Time
		if connected {
			retry = time.After(500 * time.Millisecond)
		}
		select {
		case ev, ok := <-states:
			if !ok || ev.State == client.AuthFailed {
				return
			}
			connected = isConnected(ev.State)
		case <-retry:
		case <-l.e.c.Done():
			return
		}
	}
}

// waitWrites waits until no Publish write is in flight. After revoke no new write starts.
func (l *Leadership) waitWrites(ctx context.Context) error {
	l.mu.Lock()
	if l.writes == 0 {
		l.mu.Unlock()
		return nil
	}
	if l.idle == nil {
		l.idle = make(chan struct{})
	}
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.e.c.Done():
		return l.e.closedErr()
	}
}

// removeNodes deletes, once every Publish write in flight is resolved (none starts after revoke),
// the records this leadership published and then its latch node — each only if it is this
// leadership's. Call it after revoke.
func (l *Leadership) removeNodes(ctx context.Context) error {
	if err := l.waitWrites(ctx); err != nil {
		return err
	}
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	if l.cleaned {
		return nil
	}
	l.mu.Lock()
	comps := make([]string, 0, len(l.published))
	for c := range l.published {
		comps = append(comps, c)
	}
	l.mu.Unlock()
	sort.Strings(comps)
	var errs []error
	for _, comp := range comps {
		if err := l.unpublish(ctx, comp); err != nil {
			errs = append(errs, fmt.Errorf("election: deleting the record %s: %w", infoPath(comp), err))
		}
	}
	if err := l.deleteLatchNode(ctx); err != nil {
		errs = append(errs, fmt.Errorf("election: deleting the latch node %s: %w", l.Node(), err))
	}
	if len(errs) == 0 {
		l.cleaned = true
		l.e.log.Debug("deleted the nodes of an ended leadership", "node", l.node)
	}
	return errors.Join(errs...)
}

// unpublish deletes component's record if it is this leadership's (it carries our SessionID). While
// our latch node exists no other contender can lead, so the record is deleted together with a check
// of it: a newer leader's record is never touched. Without it (someone deleted our node), the delete
// is only version-checked.
func (l *Leadership) unpublish(ctx context.Context, component string) error {
	p := infoPath(component)
	for attempt := 0; ; attempt++ {
		data, st, err := l.e.c.Get(ctx, p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		if info, derr := DecodeLeaderRecord(data); derr != nil || info.SessionID != l.SessionID {
			return nil // not ours
		}
		_, err = l.e.c.Multi(ctx, &zk.CheckVersionRequest{Path: l.Node(), Version: -1}, &zk.DeleteRequest{Path: p, Version: st.Version})
		if errors.Is(err, zk.ErrNoNode) {
			err = l.e.c.Delete(ctx, p, st.Version)
		}
		if err == nil || errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if !errors.Is(err, zk.ErrBadVersion) || attempt >= 5 {
			return err
		}
	}
}

// deleteLatchNode deletes our latch node, in one request: its name holds our protection id, so no
// other contender's node can have it, and we never change its data (nothing to version-check).
func (l *Leadership) deleteLatchNode(ctx context.Context) error {
	err := l.e.c.Delete(ctx, l.Node(), -1)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

// Resign gives up leadership: the connection_info records this leadership published and its latch
// node are deleted, so the next contender takes over at once. Done is closed even when a deletion
// fails (the error is returned; the deletion goes on in the background until it succeeds or the
// client closes). After Done has closed for another reason, Resign deletes what is left.
func (l *Leadership) Resign(ctx context.Context) error {
	l.revoke(ErrResigned)
	return l.removeNodes(ctx)
}
