package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/internal/zklog"
	"github.com/zksecure/zksecure/internal/zkopt"
	"github.com/zksecure/zksecure/version"
)

var (
	// ErrClosed is returned by operations on a closed client.
	ErrClosed = errors.New("client: closed")
	// ErrTransport wraps refusals of the transport negotiation (see TransportError).
	ErrTransport = errors.New("client: transport impossible")
)

// MemberReport is what the transport negotiation learned about one member.
type MemberReport struct {
	Member  string
	Mode    version.PortMode
	Version version.Version
	Err     error
}

// TransportError refuses a transport, member by member.
type TransportError struct {
	Requested Transport
	Reason    string
	Members   []MemberReport
}

func (e *TransportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client: transport %s refused: %s", e.Requested, e.Reason)
	for _, m := range e.Members {
		if m.Err != nil {
			fmt.Fprintf(&b, "; %s: %v", m.Member, m.Err)
		} else {
			fmt.Fprintf(&b, "; %s: %s, ZooKeeper %s", m.Member, m.Mode, m.Version)
		}
	}
	return b.String()
}

func (e *TransportError) Unwrap() error { return ErrTransport }

// Client is a ZooKeeper session for high availability: secured as configured, namespaced under
// <root>/<cluster-id>. It is safe for concurrent use. Create it with Connect; Close it when done.
type Client struct {
	cfg     Config
	ns      namespace
	conn    *zk.Conn
	log     *slog.Logger
	auth    *sasl.Authenticator
	tls     *zktls.Client
	useTLS  bool
	reports []MemberReport

	hs handshake // what the latest ConnectResponse said

	nsMu    sync.Mutex
	nsReady bool

	mu         sync.Mutex
	state      State
	sessionID  int64
	member     string
	subs       map[*subscriber]struct{}
	lossTimer  *time.Timer
	lostSent   bool
	authErr    error
	attemptErr error // the latest failed connection attempt since the last session event
	closed     bool
	onStateEnd chan struct{} // closed when the OnState goroutine has returned; nil without OnState
	done       chan struct{}
}

// Connect checks the configuration, loads credentials, negotiates the transport, and returns once
// the first session exists (authenticated when SASL is on), or with an error that names what is
// wrong: a field, a file, a principal, a member, the KDC.
//
// Security fails closed, availability does not: a permanent authentication failure (the server or
// the KDC said no) ends Connect, or later closes the client with AuthFailed. Transient faults — a
// member down or restarting, a connection reset during the SASL exchange, a KDC that cannot be
// reached — are retried on the next member with backoff (within ConnectionTimeout here, for as
// long as it takes once connected); LastConnectError says why the latest attempt failed.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	members := make([]string, len(cfg.Members))
	for i, m := range cfg.Members {
		members[i], _ = NormalizeMember(m)
	}
	cfg.Members = members
	c := &Client{cfg: cfg, ns: namespace{base: path.Clean(cfg.Root + cfg.ClusterID)}, subs: map[*subscriber]struct{}{},
		done: make(chan struct{})}
	c.log = cfg.Logger.With("component", "zksecure/client", "namespace", c.ns.base)
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectionTimeout)
	defer cancel()

	if cfg.TLS != nil || cfg.Transport == TransportTLS {
		tc := zktls.Config{}
		if cfg.TLS != nil {
			tc = *cfg.TLS
		}
		if tc.Logger == nil {
			tc.Logger = c.log // reloads of the TLS files
		}
		var err error
		if c.tls, err = tc.Load(); err != nil {
			return nil, err
		}
	}
	if err := c.negotiateTransport(ctx); err != nil {
		return nil, err
	}
	setup := attemptTimeout(cfg.SessionTimeout, len(members))
	var dialer zk.Dialer = boundedDial(setup)
	if c.useTLS {
		dialer = c.tlsOnly(c.tls.Dialer(dialer))
	}
	if cfg.SASL == SASLKerberos {
		kc := cfg.Kerberos
		if kc.Logger == nil {
			kc.Logger = cfg.Logger
		}
		if kc.ExchangeTimeout == 0 {
			kc.ExchangeTimeout = setup
		}
		a, err := sasl.New(kc)
		if err != nil {
			return nil, err
		}
		if err := a.Login(ctx); err != nil {
			a.Close()
			return nil, err
		}
		for _, m := range members {
			if _, err := a.ServiceTicket(ctx, m); err != nil {
				a.Close()
				return nil, err
			}
		}
		c.auth = a
		a.OnFailure(c.authFailed)
		dialer = a.Dialer(dialer)
	}
	c.startOnState()
	first := c.subscribe()
	conn, _, err := zk.Connect(members, cfg.SessionTimeout, zkopt.List(zk.WithDialer(observeDialer(dialer, setup, &c.hs, c.attemptFailed)),
		zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogger(zklog.New(c.log)), zk.WithEventCallback(c.onZKEvent))...)
	if err != nil {
		c.shutdown()
		return nil, err
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	for {
		select {
		case ev, ok := <-first.out:
			if !ok {
				c.shutdown()
				return nil, ErrClosed
			}
			switch ev.State {
			case Connected:
				c.unsubscribe(first)
				c.log.Debug("connected", "session", fmt.Sprintf("0x%x", ev.SessionID), "member", ev.Member,
					"tls", c.useTLS, "sasl", cfg.SASL == SASLKerberos, "acl", cfg.ACL.String())
				return c, nil
			case AuthFailed:
				c.Close()
				return nil, ev.Err
			}
		case <-ctx.Done():
			err := c.Err()
			last := c.LastConnectError()
			c.Close()
			if err != nil {
				return nil, err
			}
			if last != nil {
				return nil, fmt.Errorf("client: no session with %s within %v (%w); the last attempt failed: %w",
					strings.Join(members, ","), cfg.ConnectionTimeout, ctx.Err(), last)
			}
			return nil, fmt.Errorf("client: no session with %s within %v: %w", strings.Join(members, ","), cfg.ConnectionTimeout, ctx.Err())
		}
	}
}

// negotiateTransport decides TLS or plaintext, probing every member when TLS is involved.
//
// TLS is configured whenever it probes, so the only possible outcome is TLS; the probe refuses early,
// member by member, what could never work. The decision rests on the members that answer: one that
// cannot be reached (down, restarting) says nothing about the transport and does not stop the client
// — the session dials it later like any other, over TLS, and refuses it if it then does not speak TLS
// (see tlsOnly). A member that answers in plaintext is refused (zksecure never mixes transports and
// never falls back to plaintext), and so is a configuration no answering member accepts. When no
// member answers at all, TLS is chosen and Connect keeps trying until ConnectionTimeout.
func (c *Client) negotiateTransport(ctx context.Context) error {
	t := c.cfg.Transport
	if t == TransportPlaintext || (t == TransportAuto && c.tls == nil) {
		return nil
	}
	reports := make([]MemberReport, len(c.cfg.Members))
	var wg sync.WaitGroup
	for i, m := range c.cfg.Members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := version.Detect(ctx, m, c.tls)
			reports[i] = MemberReport{Member: m, Mode: d.Mode, Version: d.Version, Err: err}
		}()
	}
	wg.Wait()
	c.reports = reports
	var ok, plain, silent, failed int
	for _, r := range reports {
		switch {
		case r.Mode == version.TLS && (r.Err == nil || errors.Is(r.Err, version.ErrNoAnswer)):
			ok++ // speaks TLS with this configuration (srvr may fail on a member not serving yet)
		case errors.Is(r.Err, version.ErrPlaintextPort):
			plain++
		case errors.Is(r.Err, version.ErrUnreachable), errors.Is(r.Err, version.ErrNoAnswer),
			errors.Is(r.Err, zktls.ErrNotTLS), errors.Is(r.Err, context.DeadlineExceeded):
			silent++ // no answer that says anything about the transport
		default:
			failed++ // answered, and the TLS configuration does not work with it
		}
	}
	te := &TransportError{Requested: t, Members: reports}
	switch {
	case plain > 0 && ok > 0:
		te.Reason = "TLS works for some members and not for others; zksecure never mixes transports in one session"
		return te
	case plain > 0 && plain+silent == len(reports):
		te.Reason = "TLS is configured but no member that answered speaks it; zksecure never falls back to plaintext (remove the TLS settings to use plaintext deliberately)"
		return te
	case plain > 0:
		te.Reason = "TLS is configured but some members answer only in plaintext and TLS to the others failed; zksecure never falls back to plaintext"
		return te
	case ok == 0 && failed > 0:
		te.Reason = "TLS to every member that answered failed"
		return te
	}
	c.useTLS = true
	for _, r := range reports {
		if r.Err != nil && !(r.Mode == version.TLS && errors.Is(r.Err, version.ErrNoAnswer)) {
			c.log.Warn("member not usable now; the session uses the others and tries it again over TLS only",
				"member", r.Member, "error", r.Err.Error())
		}
	}
	return nil
}

// tlsOnly wraps the TLS dialer: a member whose TLS handshake fails (it speaks plaintext, or its
// certificate is not accepted) is refused with a warning naming it, and go-zookeeper moves on to the
// next member. Nothing is ever retried in plaintext.
func (c *Client) tlsOnly(d zk.Dialer) zk.Dialer {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		conn, err := d(network, address, timeout)
		var op *net.OpError
		var ne net.Error
		switch {
		case err == nil, errors.As(err, &op) && op.Op == "dial":
		case errors.As(err, &ne) && ne.Timeout():
			// Accepted but silent (frozen, overloaded): transient, like an unreachable member.
			c.log.Debug("member did not complete the TLS handshake in time; trying the next one", "member", address, "error", err.Error())
		default:
			c.log.Warn("member refused: the TLS handshake failed and zksecure never uses plaintext when TLS is configured; the session uses the other members",
				"member", address, "error", err.Error())
		}
		return conn, err
	}
}

// attemptFailed records a failed connection attempt (see LastConnectError).
func (c *Client) attemptFailed(member string, err error) {
	c.mu.Lock()
	c.attemptErr = fmt.Errorf("client: connecting to %s: %w", member, err)
	c.mu.Unlock()
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

// onZKEvent is go-zookeeper's event callback: it runs for every event, in order, and must not block.
func (c *Client) onZKEvent(e zk.Event) {
	if e.Type != zk.EventSession {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	now := time.Now()
	switch e.State {
	case zk.StateHasSession:
		c.attemptErr = nil
		sid := c.hs.sessionID.Load()
		switch c.state {
		case 0:
			c.state, c.sessionID, c.member = Connected, sid, e.Server
			c.emitLocked(Event{State: Connected, SessionID: sid, Member: e.Server, At: now})
		case Suspended, Lost:
			newSession := sid != c.sessionID
			if newSession && !c.lostSent {
				c.emitLocked(Event{State: Lost, SessionID: c.sessionID, Err: zk.ErrSessionExpired, At: now})
			}
			c.stopLossTimerLocked()
			c.state, c.sessionID, c.member, c.lostSent = Reconnected, sid, e.Server, false
			c.emitLocked(Event{State: Reconnected, SessionID: sid, NewSession: newSession, Member: e.Server, At: now})
		}
	case zk.StateDisconnected:
		if c.state == Connected || c.state == Reconnected {
			c.state = Suspended
			c.emitLocked(Event{State: Suspended, SessionID: c.sessionID, Member: c.member, At: now})
			c.startLossTimerLocked()
		}
	case zk.StateExpired:
		if c.state != 0 && !c.lostSent {
			c.stopLossTimerLocked()
			c.state, c.lostSent = Lost, true
			c.emitLocked(Event{State: Lost, SessionID: c.sessionID, Err: zk.ErrSessionExpired, At: now})
		}
	}
}

// startLossTimerLocked fires Lost when Suspended lasts longer than the negotiated session timeout.
func (c *Client) startLossTimerLocked() {
	timeout := time.Duration(c.hs.timeout.Load())
	if timeout <= 0 {
		timeout = c.cfg.SessionTimeout
	}
	sid := c.sessionID
	c.lossTimer = time.AfterFunc(timeout, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed || c.state != Suspended || c.sessionID != sid || c.lostSent {
			return
		}
		c.state, c.lostSent = Lost, true
		err := fmt.Errorf("client: no connection for %v, the session timeout: the servers have expired session 0x%x", timeout, sid)
		if c.attemptErr != nil {
			err = fmt.Errorf("client: no connection for %v, the session timeout: the servers have expired session 0x%x; the last attempt failed: %w", timeout, sid, c.attemptErr)
		}
		c.emitLocked(Event{State: Lost, SessionID: sid, At: time.Now(), Err: err})
	})
}

func (c *Client) stopLossTimerLocked() {
	if c.lossTimer != nil {
		c.lossTimer.Stop()
		c.lossTimer = nil
	}
}

// authFailed is the authenticator's failure hook: report, then close (fail-closed).
func (c *Client) authFailed(err error) {
	c.mu.Lock()
	if c.authErr == nil {
		c.authErr = err
		c.state = AuthFailed
		c.emitLocked(Event{State: AuthFailed, SessionID: c.sessionID, Err: err, At: time.Now()})
	}
	c.mu.Unlock()
	go c.Close() // not on go-zookeeper's goroutine, which Close waits for
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

func (c *Client) subscribe() *subscriber {
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

func (c *Client) unsubscribe(s *subscriber) {
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
func (c *Client) NegotiatedSessionTimeout() time.Duration { return time.Duration(c.hs.timeout.Load()) }

// Namespace returns the server path every client path lives under ("/flink/default").
func (c *Client) Namespace() string { return c.ns.base }

// UsesTLS reports whether the transport negotiation chose TLS.
func (c *Client) UsesTLS() bool { return c.useTLS }

// Members returns the transport negotiation's per-member report (nil when no probe was needed).
func (c *Client) Members() []MemberReport { return c.reports }

// Authenticator returns the Kerberos authenticator, or nil when SASL is off.
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
	c.subs = map[*subscriber]struct{}{}
	c.mu.Unlock()
	for s := range subs {
		s.close()
	}
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	if c.auth != nil {
		c.auth.Close()
	}
	if c.onStateEnd != nil {
		<-c.onStateEnd
	}
}
