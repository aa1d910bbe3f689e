// Package session assembles every go-zookeeper session zksecure opens — client.Connect's,
// sasl.Connect's, and zk-secure-check's per-member ones — in one place: the dialer (TCP bounded by
// the attempt timeout, then TLS, then SASL), the host provider that keeps host names, the logger,
// the observation of each ConnectResponse, and the wait for the first session.
//
// It knows TLS and SASL only as dialer layers (the auth packages provide them), so that the
// dependency arrows keep pointing one way: client → auth/* → internal.
package session

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/internal/zklog"
	"github.com/zksecure/zksecure/internal/zkopt"
)

// ErrNoMembers is returned by Open for a Spec without members.
var ErrNoMembers = errors.New("session: no ensemble members")

// Authenticator authenticates every connection of a session (*sasl.Authenticator is one). A
// permanent failure is reported to the OnFailure hooks; Open then closes the session.
type Authenticator interface {
	// Dialer wraps base so that every connection it makes authenticates before go-zookeeper's
	// first request.
	Dialer(base zk.Dialer) zk.Dialer
	// OnFailure registers f for the first permanent authentication failure.
	OnFailure(f func(error)) (unregister func())
}

// Spec says how to assemble one session. Members and SessionTimeout are required; every other
// field's zero value is documented.
type Spec struct {
	// Members are "host:port", kept as written: Kerberos and TLS need the host names.
	Members []string
	// SessionTimeout is the requested session timeout.
	SessionTimeout time.Duration
	// Dial makes the connection TLS and Auth are layered on; nil means BoundedDial(AttemptTimeout).
	Dial zk.Dialer
	// TLS wraps the connection in TLS; nil means plaintext.
	TLS func(zk.Dialer) zk.Dialer
	// Auth authenticates every connection; nil means none.
	Auth Authenticator
	// Handshake receives what every ConnectResponse says; nil means Open makes one (see
	// Session.Handshake). Pass one to read it from an event callback before Open returns.
	Handshake *Handshake
	// OnAttemptFailed is told of every connection attempt that fails before its ConnectResponse is
	// in (the dial, TLS, the service ticket, the ConnectResponse, the SASL exchange); nil: no one.
	OnAttemptFailed func(member string, err error)
	// Logger receives go-zookeeper's log and the timings of every connection's phases (TCP, TLS,
	// ConnectResponse with SASL), at Debug; nil means slog.Default().
	Logger *slog.Logger
	// Options are more go-zookeeper options (zk.WithEventCallback, ...). The dialer, host provider
	// and logger are always Open's own.
	Options []func(*zk.Conn)
}

// Session is an open go-zookeeper session.
type Session struct {
	Conn *zk.Conn
	// Events relays go-zookeeper's events and closes when Conn is closed; events that are not
	// received are dropped, as go-zookeeper drops them.
	Events <-chan zk.Event
	// Handshake is what the latest ConnectResponse said.
	Handshake *Handshake
}

// AttemptTimeout is how long one connection attempt may take until the session is established —
// TCP, TLS, ConnectResponse and SASL together: the Java client's connect timeout, the session
// timeout divided among the members.
func AttemptTimeout(sessionTimeout time.Duration, members int) time.Duration {
	if members < 1 {
		members = 1
	}
	return sessionTimeout / time.Duration(members)
}

// timed logs how long each dial of d took, at Debug.
func timed(d zk.Dialer, log *slog.Logger, what string) zk.Dialer {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return d
	}
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		t0 := time.Now()
		c, err := d(network, address, timeout)
		log.Debug("dialed", "member", address, "layers", what, "took", time.Since(t0), "ok", err == nil)
		return c, err
	}
}

// Open starts the session and returns once it exists (authenticated, with Auth); with the first
// permanent authentication failure; or with ctx's error, unwrapped, when ctx ends first (transient
// failures are retried on the next member with go-zookeeper's backoff until then). On error the
// connection is closed. A Preamble that ctx carries (WithPreamble) runs on the first connection. After Open returned, a permanent authentication failure closes Conn
// (fail-closed): its requests then fail with zk.ErrClosing.
func Open(ctx context.Context, s Spec) (*Session, error) {
	if len(s.Members) == 0 {
		return nil, ErrNoMembers
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	attempt := AttemptTimeout(s.SessionTimeout, len(s.Members))
	d := s.Dial
	if d == nil {
		d = BoundedDial(attempt)
	}
	d = timed(d, log, "tcp")
	if s.TLS != nil {
		d = timed(s.TLS(d), log, "tcp+tls")
	}
	if s.Auth != nil {
		d = s.Auth.Dialer(d)
	}
	if p := preambleFrom(ctx); p != nil {
		d = withPreamble(d, p, attempt)
	}
	hs := s.Handshake
	if hs == nil {
		hs = &Handshake{}
	}
	failedAttempt := s.OnAttemptFailed
	if failedAttempt == nil {
		failedAttempt = func(string, error) {}
	}
	// No first frame (the ConnectResponse) beyond zkopt.MaxBuffer or past the attempt's limit: a
	// hostile or wrong server cannot make go-zookeeper allocate what it says or wait forever.
	d = observe(zkopt.BoundDialer(d, attempt), attempt, hs, failedAttempt, log)

	var (
		mu     sync.Mutex
		conn   *zk.Conn
		closed bool // a permanent failure came before zk.Connect returned
	)
	failed := make(chan error, 1)
	unregister := func() {}
	if s.Auth != nil {
		unregister = s.Auth.OnFailure(func(err error) {
			select {
			case failed <- err:
			default:
			}
			mu.Lock()
			c := conn
			closed = true
			mu.Unlock()
			if c != nil {
				go c.Close() // not on go-zookeeper's own goroutine, which Close waits for
			}
		})
	}
	// Open's own options go last, so that none of the caller's can replace them (a dialer without
	// the SASL layer would send requests unauthenticated).
	opts := zkopt.List(zk.WithDialer(d), s.Options...)
	opts = append(opts, zk.WithDialer(d), zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogger(zklog.New(log)),
		zk.WithMaxBufferSize(zkopt.MaxBuffer))
	c, events, err := zk.Connect(s.Members, s.SessionTimeout, opts...)
	if err != nil {
		unregister()
		return nil, err
	}
	mu.Lock()
	conn = c
	if closed {
		go c.Close()
	}
	mu.Unlock()
	out := make(chan zk.Event, 16)
	ready := make(chan struct{})
	go func() {
		defer close(out)
		defer unregister()
		first := true
		for ev := range events {
			if first && ev.State == zk.StateHasSession {
				first = false
				close(ready)
			}
			select {
			case out <- ev:
			default: // the caller is not reading: drop, as go-zookeeper does
			}
		}
	}()
	select {
	case <-ready:
		return &Session{Conn: c, Events: out, Handshake: hs}, nil
	case err := <-failed:
		c.Close()
		return nil, err
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}
