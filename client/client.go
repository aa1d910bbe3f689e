package client

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/session"
)

// ErrClosed is returned by operations on a closed client.
var ErrClosed = errors.New("client: closed")

// Client is a ZooKeeper session for high availability: secured as configured, namespaced under
// <root>/<cluster-id>. It is safe for concurrent use. Create it with Connect; Close it when done.
type Client struct {
	cfg            Config
	ns             namespace
	conn           *zk.Conn
	log            *slog.Logger
	auth           *sasl.Authenticator // a Fork of Config.Authenticator or of sasl.Shared's
	authUnregister func()
	authRelease    func() // gives sasl.Shared's Authenticator back
	tls            *zktls.Client
	useTLS         bool
	reports        []MemberReport
	unchecked      []bool     // reports whose reachability Members checks (checkReachable)
	reportsMu      sync.Mutex // guards reports and unchecked after Connect (Members)

	hs session.Handshake // what the latest ConnectResponse said

	nsMu    sync.Mutex
	nsReady atomic.Bool // set under nsMu; read without it on every call

	mu         sync.Mutex
	state      State
	sessionID  int64
	member     string
	subs       map[*subscriber[Event]]struct{}
	notes      notifier // the subscribers of Notifications (notifications.go)
	lossTimer  *time.Timer
	lostSent   bool
	authErr    error
	attemptErr error         // the latest failed connection attempt since the last session event
	hasSession chan struct{} // closed while the client has a session (state.go)
	closed     bool
	onStateEnd chan struct{} // closed when the OnState goroutine has returned; nil without OnState
	done       chan struct{}

	workers *workers // run the calls of do (workers.go)
}

// LastConnectError returns why the latest connection attempt failed (a member that cannot be
// reached or refuses TLS, a KDC that cannot be reached, a connection closed during the SASL
// exchange, ...), since the client last had a session; nil while it has one. While Suspended it
// says why the client is not back yet. Transient failures are retried by themselves.
func (c *Client) LastConnectError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.attemptErr
}

// State returns the current connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// SessionID returns the current session's id.
func (c *Client) SessionID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// NegotiatedSessionTimeout returns the session timeout the server granted (0 before the first
// session).
func (c *Client) NegotiatedSessionTimeout() time.Duration { return c.hs.Timeout() }

// Namespace returns the server path every client path lives under ("/flink/default").
func (c *Client) Namespace() string { return c.ns.base }

// UsesTLS reports whether the transport negotiation chose TLS.
func (c *Client) UsesTLS() bool { return c.useTLS }

// Members returns the transport negotiation's per-member report (nil when no probe was needed).
// A member that an earlier Connect of this process probed with the same TLS client (and files) is
// not probed again: its mode and version are what that probe found, and whether it can be reached
// is checked by Members, with a TCP connection bounded by ctx and ConnectionTimeout. A check cut
// short by ctx is made again by the next call; a finished one is not.
func (c *Client) Members(ctx context.Context) []MemberReport {
	c.reportsMu.Lock()
	defer c.reportsMu.Unlock()
	c.checkReachable(ctx)
	return slices.Clone(c.reports)
}

// Authenticator returns the client's Kerberos authenticator (a Fork of Config.Authenticator when
// one was given), or nil when SASL is off.
func (c *Client) Authenticator() *sasl.Authenticator { return c.auth }

// ACL returns the client's ACL provider.
func (c *Client) ACL() acl.Provider { return c.cfg.ACL }

// Config returns the configuration with defaults filled in.
func (c *Client) Config() Config { return c.cfg }

// Conn returns the underlying go-zookeeper connection, for what this package does not wrap. Its
// paths are not namespaced.
func (c *Client) Conn() *zk.Conn { return c.conn }

// Err returns the authentication failure that closed the client, if any.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authErr
}

// Done is closed when the client is closed (by Close or after AuthFailed).
func (c *Client) Done() <-chan struct{} { return c.done }

// Close ends the session (its ephemeral nodes go at once) and closes every States channel after
// delivering what is queued. With Config.OnState, Close returns once OnState has been called for
// every queued event and has returned: no OnState call happens after Close. Safe to call more than
// once, from several goroutines; never from OnState itself (Close would wait for its caller).
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		if c.onStateEnd != nil {
			<-c.onStateEnd // another Close is delivering the last events
		}
		return
	}
	c.closed = true
	c.stopLossTimerLocked()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	c.shutdown()
}

func (c *Client) shutdown() {
	c.mu.Lock()
	c.closed = true
	subs := c.subs
	c.subs = map[*subscriber[Event]]struct{}{}
	c.mu.Unlock()
	for s := range subs {
		s.close()
	}
	c.closeNotifications()
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	if c.auth != nil {
		c.authUnregister()
		c.auth.Close()
		c.authRelease()
	}
	if c.onStateEnd != nil {
		<-c.onStateEnd
	}
}
