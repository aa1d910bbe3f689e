package sasl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/session"
)

// Connect opens a go-zookeeper session on members ("host:port", hostnames kept) whose every
// connection authenticates with a; base dials the underlying connection (nil: plain TCP, bounded
// like client.Connect's by the session timeout divided among the members). It logs in first
// (unless a is logged in) and makes sure every member's service ticket is cached, and returns once
// the first connection has authenticated and the session exists; with the first permanent
// authentication failure; or with ctx's error (and the last transient failure: transient failures
// are retried on the next member with backoff until then).
//
// When a later reconnection fails to authenticate permanently, the returned zk.Conn is closed (its
// event channel closes, its requests fail with zk.ErrClosing) and a.Err() says why. opts are extra
// go-zookeeper options (zk.WithEventCallback, ...); the dialer, host provider and logger are set
// here. The returned event channel relays go-zookeeper's events and closes when the zk.Conn is
// closed; events that are not received are dropped, as go-zookeeper drops them.
func Connect(ctx context.Context, a *Authenticator, members []string, sessionTimeout time.Duration, base zk.Dialer, opts ...func(*zk.Conn)) (*zk.Conn, <-chan zk.Event, error) {
	if len(members) == 0 {
		return nil, nil, fmt.Errorf("%w: no ensemble members", ErrConfig)
	}
	if err := a.Prepare(ctx, members); err != nil {
		return nil, nil, err
	}
	s, err := session.Open(ctx, session.Spec{Members: members, SessionTimeout: sessionTimeout, Dial: base, Auth: a,
		Logger: a.log, Options: opts})
	switch {
	case err == nil:
		return s.Conn, s.Events, nil
	case ctx.Err() == nil || !errors.Is(err, ctx.Err()):
		return nil, nil, err
	}
	if err := a.Err(); err != nil {
		return nil, nil, err
	}
	if last := a.LastError(); last != nil {
		return nil, nil, fmt.Errorf("sasl: no authenticated session with %v before the context ended (%w); the last attempt failed: %w", members, ctx.Err(), last)
	}
	return nil, nil, fmt.Errorf("sasl: no authenticated session with %v: %w", members, ctx.Err())
}
