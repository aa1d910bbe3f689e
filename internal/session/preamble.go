package session

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/wire"
)

// Preamble is an exchange of requests a caller inside this module makes on a session's own
// connection before go-zookeeper sends any request on it: rw is the connection with its
// ConnectResponse read and, with an Authenticator, authenticated. It writes framed requests and
// reads their replies (wire.ReadFrame) and must leave no reply unread. An error fails the
// connection (go-zookeeper then dials again, without the preamble); an answer the caller does not
// like is the caller's to record, with nil returned.
//
// zk-secure-check asks whoAmI this way on the very session it checks, rather than on a session of
// its own: one session, TLS handshake and SASL exchange fewer per run.
type Preamble func(member string, rw io.ReadWriter) error

type preambleKey struct{}

// WithPreamble returns ctx carrying p: Open runs p once, on the first connection of the session
// that gets a session id (not on reconnections). It is not part of the public API: client.Connect
// passes its context on to Open.
func WithPreamble(ctx context.Context, p Preamble) context.Context {
	return context.WithValue(ctx, preambleKey{}, p)
}

func preambleFrom(ctx context.Context) Preamble {
	p, _ := ctx.Value(preambleKey{}).(Preamble)
	return p
}

// withPreamble wraps d so that p runs on the first connection that gets a session id, between
// its ConnectResponse (after the SASL exchange) and go-zookeeper's first request, within limit.
func withPreamble(d zk.Dialer, p Preamble, limit time.Duration) zk.Dialer {
	var once sync.Once
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		c, err := d(network, address, timeout)
		if err != nil {
			return nil, err
		}
		return &preambleConn{Conn: c, member: address, once: &once, p: p, limit: limit}, nil
	}
}

// preambleConn runs the preamble on go-zookeeper's first Read, which waits for the ConnectResponse:
// go-zookeeper sends nothing until it has it. Reads happen on one goroutine at a time, so the
// fields need no lock.
type preambleConn struct {
	net.Conn
	member   string
	once     *sync.Once
	p        Preamble
	limit    time.Duration
	started  bool
	err      error
	replay   []byte    // the ConnectResponse frame, handed to go-zookeeper after the preamble
	deadline time.Time // go-zookeeper's read deadline, restored after the preamble
}

func (c *preambleConn) SetReadDeadline(t time.Time) error {
	c.deadline = t
	return c.Conn.SetReadDeadline(t)
}

func (c *preambleConn) SetDeadline(t time.Time) error {
	c.deadline = t
	return c.Conn.SetDeadline(t)
}

func (c *preambleConn) Read(b []byte) (int, error) {
	if !c.started {
		c.started = true
		c.err = c.run()
	}
	if c.err != nil {
		return 0, c.err
	}
	if len(c.replay) > 0 {
		n := copy(b, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// run reads the ConnectResponse and, on the first connection with a session, runs the preamble.
func (c *preambleConn) run() error {
	frame, body, err := wire.ReadFrame(c.Conn)
	if err != nil {
		return err
	}
	c.replay = frame
	cr, err := wire.ParseConnectResponse(body)
	if err != nil || cr.SessionID == 0 {
		return nil // go-zookeeper judges it
	}
	ran := false
	c.once.Do(func() {
		ran = true
		deadline := time.Now().Add(c.limit)
		if !c.deadline.IsZero() && c.deadline.Before(deadline) {
			deadline = c.deadline
		}
		if err = c.Conn.SetDeadline(deadline); err == nil {
			err = c.p(c.member, c.Conn)
		}
	})
	if !ran {
		return nil
	}
	if err != nil {
		c.Conn.Close()
		return fmt.Errorf("session: the preamble on %s: %w", c.member, err)
	}
	c.Conn.SetWriteDeadline(time.Time{})
	return c.Conn.SetReadDeadline(c.deadline)
}
