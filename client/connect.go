package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/session"
)

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
	c := &Client{cfg: cfg, ns: namespace{base: path.Clean(cfg.Root + cfg.ClusterID)}, subs: map[*subscriber[Event]]struct{}{},
		done: make(chan struct{})}
	c.workers = newWorkers(c.done)
	c.log = cfg.Logger.With("component", "zksecure/client", "namespace", c.ns.base)
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectionTimeout)
	defer cancel()

	phase := c.phases()
	if err := c.loadTLS(); err != nil {
		return nil, err
	}
	phase("TLS loaded")
	// With TLS configured the only possible outcome is TLS (or a refusal): the transport probes
	// run beside the session's setup — the login, the tickets, the session's own TLS-only
	// connection — rather than before it, and Connect waits for both. A refusal of the probes
	// closes the session before anything was sent on it.
	c.useTLS = c.tls != nil && cfg.Transport != TransportPlaintext
	c.startOnState()
	verdict := make(chan error, 1)
	go func() { verdict <- c.negotiateTransport(ctx) }()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	type result struct {
		s   *session.Session
		err error
	}
	opened := make(chan result, 1)
	go func() {
		s, err := c.open(sctx)
		opened <- result{s, err}
	}()
	if err := <-verdict; err != nil {
		scancel()
		if o := <-opened; o.s != nil {
			o.s.Conn.Close()
		}
		c.Close()
		return nil, err
	}
	phase("transport negotiated")
	o := <-opened
	s, err := o.s, o.err
	if err != nil {
		c.Close()
		if aerr := c.Err(); aerr != nil {
			return nil, aerr
		}
		if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
			return nil, err
		}
		if last := c.LastConnectError(); last != nil {
			return nil, fmt.Errorf("client: no session with %s within %v (%w); the last attempt failed: %w",
				strings.Join(members, ","), cfg.ConnectionTimeout, ctx.Err(), last)
		}
		return nil, fmt.Errorf("client: no session with %s within %v: %w", strings.Join(members, ","), cfg.ConnectionTimeout, ctx.Err())
	}
	c.mu.Lock()
	closed, member := c.closed, c.member
	c.conn = s.Conn
	c.mu.Unlock()
	if closed { // an authentication failure right after the session came up
		s.Conn.Close()
		if aerr := c.Err(); aerr != nil {
			return nil, aerr
		}
		return nil, ErrClosed
	}
	c.log.Debug("connected", "session", fmt.Sprintf("0x%x", c.SessionID()), "member", member,
		"tls", c.useTLS, "sasl", cfg.SASL == SASLKerberos, "acl", cfg.ACL.String())
	return c, nil
}

// open sets up Kerberos and opens the session. It runs beside the transport probes.
func (c *Client) open(ctx context.Context) (*session.Session, error) {
	phase := c.phases()
	if err := c.loadKerberos(ctx, session.AttemptTimeout(c.cfg.SessionTimeout, len(c.cfg.Members))); err != nil {
		return nil, err
	}
	phase("Kerberos ready")
	spec := session.Spec{Members: c.cfg.Members, SessionTimeout: c.cfg.SessionTimeout, Handshake: &c.hs,
		OnAttemptFailed: c.attemptFailed, Logger: c.log, Options: []func(*zk.Conn){zk.WithEventCallback(c.onZKEvent)}}
	if c.useTLS {
		spec.TLS = func(d zk.Dialer) zk.Dialer { return c.tlsOnly(c.tls.Dialer(d)) }
	}
	if c.auth != nil {
		spec.Auth = c.auth
	}
	s, err := session.Open(ctx, spec)
	if err == nil {
		phase("session open")
	}
	return s, err
}

// phases returns a function that logs, at Debug, how long Connect's phase that just ended took.
func (c *Client) phases() func(name string) {
	if !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return func(string) {}
	}
	last := time.Now()
	return func(name string) {
		now := time.Now()
		c.log.Debug("connect phase", "phase", name, "took", now.Sub(last))
		last = now
	}
}

// loadTLS uses Config.TLSClient, or the process's loaded TLS client for Config.TLS (zktls.Shared:
// the files are read again only when they changed, and the connections of every client with these
// settings resume each other's TLS sessions), when TLS is configured or required.
func (c *Client) loadTLS() error {
	switch {
	case c.cfg.TLSClient != nil:
		c.tls = c.cfg.TLSClient
	case c.cfg.TLS != nil || c.cfg.Transport == TransportTLS:
		tc := zktls.Config{}
		if c.cfg.TLS != nil {
			tc = *c.cfg.TLS
		}
		if tc.Logger == nil {
			tc.Logger = c.cfg.Logger // reloads of the TLS files; one logger per process's client
		}
		var err error
		if c.tls, err = zktls.Shared(tc); err != nil {
			return err
		}
	}
	return nil
}

// loadKerberos sets up the client's authenticator when SASL is on — a Fork of Config.Authenticator,
// or of the process's shared Authenticator for Config.Kerberos (sasl.Shared) — and logs in (unless
// it is logged in) and fetches every member's service ticket (unless they are cached).
func (c *Client) loadKerberos(ctx context.Context, setup time.Duration) error {
	if c.cfg.SASL != SASLKerberos {
		return nil
	}
	root, release := c.cfg.Authenticator, func() {}
	if root == nil {
		kc := c.cfg.Kerberos
		if kc.Logger == nil {
			kc.Logger = c.cfg.Logger
		}
		if kc.ExchangeTimeout == 0 {
			kc.ExchangeTimeout = setup
		}
		var err error
		if root, release, err = sasl.Shared(kc); err != nil {
			return err
		}
	}
	a := root.Fork()
	if err := a.Prepare(ctx, c.cfg.Members); err != nil {
		a.Close()
		release()
		return err
	}
	c.auth, c.authRelease = a, release
	c.authUnregister = a.OnFailure(c.authFailed)
	return nil
}

// attemptFailed records a failed connection attempt (see LastConnectError).
func (c *Client) attemptFailed(member string, err error) {
	c.mu.Lock()
	c.attemptErr = fmt.Errorf("client: connecting to %s: %w", member, err)
	c.mu.Unlock()
}
