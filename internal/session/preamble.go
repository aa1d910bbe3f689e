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
		pc := &preambleConn{member: address, once: &once, p: p, limit: limit}
		return wire.Interpose(c, pc.run), nil
	}
}

// preambleConn is what one connection needs to run the preamble on go-zookeeper's first Read.
type preambleConn struct {
	member string
	once   *sync.Once
	p      Preamble
	limit  time.Duration
}

// run reads the ConnectResponse and, on the first connection with a session, runs the preamble
// (within limit, or go-zookeeper's read deadline if sooner); it returns the ConnectResponse frame.
func (c *preambleConn) run(raw net.Conn, readDeadline time.Time) ([]byte, error) {
	frame, body, err := wire.ReadFrame(raw)
	if err != nil {
		return nil, err
	}
	cr, err := wire.ParseConnectResponse(body)
	if err != nil || cr.SessionID == 0 {
		return frame, nil // go-zookeeper judges it
	}
	c.once.Do(func() {
		deadline := time.Now().Add(c.limit)
		if !readDeadline.IsZero() && readDeadline.Before(deadline) {
			deadline = readDeadline
		}
		if err = raw.SetDeadline(deadline); err == nil {
			err = c.p(c.member, raw)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("session: the preamble on %s: %w", c.member, err)
	}
	return frame, nil
}
