package election

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/client"
)

// Publish writes the leader record of component (address and this leadership's SessionID, in
// Flink's format) as an ephemeral node owned by this session — atomically with a check that this
// leadership's latch node still exists. A record of another session is replaced. Publish never
// succeeds once Done is closed: it refuses (ErrNotLeader) after that, and before sending anything
// while the connection is not up; a write that lands while leadership ends is undone and reported
// as ErrNotLeader. An invalid component is an error wrapping ErrInvalidComponent.
func (l *Leadership) Publish(ctx context.Context, component, address string) error {
	if err := validComponent(component); err != nil {
		return err
	}
	rec, err := EncodeLeaderRecord(LeaderInfo{Address: address, SessionID: l.SessionID})
	if err != nil {
		return err
	}
	p := infoPath(component)
	if err := l.usable(); err != nil {
		return err
	}
	if err := l.e.c.CreateAll(ctx, "/leader/"+component); err != nil {
		return err
	}
	for attempt := 0; attempt < 5; attempt++ {
		_, st, err := l.e.c.Get(ctx, p)
		check := &zk.CheckVersionRequest{Path: l.Node(), Version: -1}
		switch {
		case errors.Is(err, zk.ErrNoNode):
			err = l.write(ctx, component, check, &zk.CreateRequest{Path: p, Data: rec, Flags: zk.FlagEphemeral})
		case err != nil:
			return err
		case st.EphemeralOwner == l.owner:
			err = l.write(ctx, component, check, &zk.SetDataRequest{Path: p, Data: rec, Version: st.Version})
		default:
			// A record of another session (a previous leader): replace it.
			err = l.write(ctx, component, check, &zk.DeleteRequest{Path: p, Version: st.Version},
				&zk.CreateRequest{Path: p, Data: rec, Flags: zk.FlagEphemeral})
		}
		if err == nil {
			if lerr := l.Err(); lerr != nil {
				// Leadership ended while the write was in flight: take the record back.
				uerr := l.unpublish(ctx, component)
				return errors.Join(fmt.Errorf("%w: leadership ended while publishing %s: %w", ErrNotLeader, p, lerr), uerr)
			}
			return nil
		}
		if errors.Is(err, ErrNotLeader) {
			return err
		}
		if errors.Is(err, zk.ErrNoNode) && l.nodeGone(ctx) {
			l.revoke(ErrNodeDeleted)
			return fmt.Errorf("%w: the latch node is gone", ErrNotLeader)
		}
		if !errors.Is(err, zk.ErrNodeExists) && !errors.Is(err, zk.ErrBadVersion) && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return fmt.Errorf("election: publishing %s: too much contention", p)
}

// usable returns nil when a write may be sent: still leading, connected, on the leading session.
func (l *Leadership) usable() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.usableLocked()
}

func (l *Leadership) usableLocked() error {
	if err := l.err; err != nil {
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	}
	if st := l.e.c.State(); !isConnected(st) {
		if l.e.tolerate && st == client.Suspended {
			// Still leading under this policy, but a write now would be sent whenever the
			// connection comes back, by which time leadership may be gone.
			return fmt.Errorf("election: not publishing while the connection is %s: %w", st, zk.ErrConnectionClosed)
		}
		return fmt.Errorf("%w: the connection is %s", ErrNotLeader, st)
	}
	if sid := l.e.c.SessionID(); sid != l.owner {
		return fmt.Errorf("%w: the session 0x%x that leads is gone", ErrNotLeader, l.owner)
	}
	return nil
}

// write sends one Publish write unless the leadership has ended or the connection is not up,
// counted as in flight until go-zookeeper resolves it (it may outlive ctx), so that the removal after
// revoke waits for it.
func (l *Leadership) write(ctx context.Context, component string, ops ...any) error {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	l.published[component] = true // before the write: the removal must consider it
	l.writes++
	l.mu.Unlock()
	res := make(chan error, 1)
	life, cancel := l.e.lifetime()
	go func() {
		defer cancel()
		_, err := l.e.c.Multi(life, ops...)
		l.mu.Lock()
		if l.writes--; l.writes == 0 && l.idle != nil {
			close(l.idle)
			l.idle = nil
		}
		l.mu.Unlock()
		res <- err
	}()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Leadership) nodeGone(ctx context.Context) bool {
	ok, _, err := l.e.c.Exists(ctx, l.Node())
	return err == nil && !ok
}
