package sasl

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/internal/zklog"
	"github.com/zksecure/zksecure/internal/zkopt"
)

// Connect opens a go-zookeeper session on members ("host:port", hostnames kept) whose every
// connection authenticates with a; base dials the underlying connection (nil: plain TCP). It logs in
// first, and returns once the first connection has authenticated and the session exists; with the
// first permanent authentication failure; or with ctx's error (and the last transient failure:
// transient failures are retried on the next member with backoff until then).
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
	if err := a.Login(ctx); err != nil {
		return nil, nil, err
	}
	// Fetch every member's ticket now, under ctx: an unknown service principal or an unreachable KDC
	// is reported here rather than as a reconnect loop.
	for _, m := range members {
		if _, err := a.ServiceTicket(ctx, m); err != nil {
			return nil, nil, err
		}
	}
	var (
		mu     sync.Mutex
		zconn  *zk.Conn
		closed bool
	)
	failed := make(chan error, 1)
	unregister := a.OnFailure(func(err error) {
		select {
		case failed <- err:
		default:
		}
		mu.Lock()
		c := zconn
		closed = true
		mu.Unlock()
		if c != nil {
			go c.Close() // not from go-zookeeper's own goroutine, which Close waits for
		}
	})
	// Every connection: the ConnectResponse within the Java client's connect timeout (the session
	// timeout divided among the members), no frame beyond zkopt.MaxBuffer.
	all := zkopt.Bounded(zk.WithDialer, a.Dialer(base), sessionTimeout/time.Duration(len(members)), opts...)
	all = append(all, zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogger(zklog.New(a.log)))
	c, events, err := zk.Connect(members, sessionTimeout, all...)
	if err != nil {
		unregister()
		return nil, nil, err
	}
	mu.Lock()
	zconn = c
	if closed {
		go c.Close()
	}
	mu.Unlock()
	out := make(chan zk.Event, 16)
	ready := make(chan struct{})
	go func() {
		defer close(out)
		defer unregister()
		once := sync.Once{}
		for ev := range events {
			if ev.State == zk.StateHasSession {
				once.Do(func() { close(ready) })
			}
			select {
			case out <- ev:
			default: // the caller is not reading: drop, as go-zookeeper does
			}
		}
	}()
	select {
	case <-ready:
		return c, out, nil
	case err := <-failed:
		c.Close()
		return nil, nil, err
	case <-ctx.Done():
		c.Close()
		if err := a.Err(); err != nil {
			return nil, nil, err
		}
		if last := a.LastError(); last != nil {
			return nil, nil, fmt.Errorf("sasl: no authenticated session with %v before the context ended (%w); the last attempt failed: %w", members, ctx.Err(), last)
		}
		return nil, nil, fmt.Errorf("sasl: no authenticated session with %v: %w", members, ctx.Err())
	}
}
