package sasl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/zksecure/zksecure/internal/srvr"
	"github.com/zksecure/zksecure/internal/wire"
	"github.com/zksecure/zksecure/version"
)

// Dialer returns a zk.Dialer that authenticates every connection it makes. base makes the
// underlying connection (plain TCP or TLS); nil means net.DialTimeout.
//
// Before dialing it makes sure a service ticket for the member is cached. The returned net.Conn lets
// go-zookeeper's ConnectRequest through, and on go-zookeeper's first Read it reads the whole
// ConnectResponse itself, runs the SASL exchange, and only then hands the ConnectResponse to
// go-zookeeper: go-zookeeper is blocked in its handshake the whole time, so none of its requests can
// leave before the connection is authenticated.
//
// A verdict of the server (AuthFailed, SASL required, no SASL configured) or of the KDC (unknown
// principal, wrong key, ...) is permanent: it latches, the OnFailure hooks run, and every later dial
// fails at once. Anything else — a KDC that cannot be reached, a connection reset, closed or timed
// out during the exchange — is transient: the dial or the connection fails as a connection error,
// so go-zookeeper moves on to the next member, and the next attempts wait with a growing backoff.
func (a *Authenticator) Dialer(base zk.Dialer) zk.Dialer {
	if base == nil {
		base = net.DialTimeout
	}
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		if err := a.Err(); err != nil {
			return nil, err
		}
		if err := a.backoff(); err != nil {
			return nil, err
		}
		spn, tkt, key, err := a.serviceTicket(context.Background(), address)
		if err != nil {
			a.failed1(address, err)
			return nil, err
		}
		c, err := base(network, address, timeout)
		if err != nil {
			return nil, err
		}
		ac := &conn{a: a, base: base, member: address, spn: spn, tkt: tkt, key: key}
		return wire.Interpose(c, ac.authenticate), nil
	}
}

// failed1 latches a permanent failure or records a transient one.
func (a *Authenticator) failed1(member string, err error) {
	var ae *AuthError
	if errors.As(err, &ae) && ae.Permanent {
		a.fail(ae)
		return
	}
	a.transient(member, err)
}

// conn is what one connection needs to authenticate on its first Read (see authenticate).
type conn struct {
	a      *Authenticator
	base   zk.Dialer // for the srvr probe after a close during the exchange
	member string
	spn    string
	tkt    messages.Ticket
	key    types.EncryptionKey
}

// authenticate reads the ConnectResponse and runs the SASL exchange after it (wire.Interpose calls
// it on go-zookeeper's first Read); it returns the ConnectResponse frame for go-zookeeper.
func (c *conn) authenticate(raw net.Conn, _ time.Time) ([]byte, error) {
	start := time.Now()
	if err := raw.SetDeadline(start.Add(c.a.exchangeTimeout())); err != nil {
		return nil, err
	}
	frame, body, err := wire.ReadFrame(raw)
	if err != nil {
		if errors.Is(err, wire.ErrFrameTooLarge) {
			return nil, fmt.Errorf("sasl: %s did not answer with a ZooKeeper ConnectResponse (%w): is it a TLS port dialed in plaintext, or the reverse?", c.member, err)
		}
		return nil, fmt.Errorf("sasl: %s closed the connection before answering the connect request: %w", c.member, err)
	}
	cr, err := wire.ParseConnectResponse(body)
	if err != nil {
		return nil, fmt.Errorf("sasl: %s: %w", c.member, err)
	}
	if cr.SessionID != 0 {
		if err := c.a.exchange(raw, c.member, c.spn, c.tkt, c.key); err != nil {
			var ae *AuthError
			if errors.As(err, &ae) && ae.closed {
				c.judgeClose(ae)
			}
			c.a.explainWeakTicket(err, c.member, c.spn, c.tkt, c.key)
			c.a.failed1(c.member, err)
			return nil, err
		}
		c.a.succeeded()
		c.a.log.Debug("authenticated", "member", c.member, "service_principal", c.spn,
			"session", fmt.Sprintf("0x%x", cr.SessionID), "took", time.Since(start))
	}
	// A session id of 0 means the session expired: go-zookeeper handles that and reconnects, and the
	// new connection authenticates again.
	return frame, nil
}

// exchange runs the SASL exchange (opcode 102) on a connection whose ConnectResponse has been read.
func (a *Authenticator) exchange(rw io.ReadWriter, member, spn string, tkt messages.Ticket, key types.EncryptionKey) error {
	g := &gssapiClient{mutual: !a.cfg.NoMutualAuth}
	fail := func(stage, reason, fix string, code int32, err error, permanent bool) *AuthError {
		ae := &AuthError{Member: member, ServicePrincipal: spn, ClientPrincipal: a.clientPrincipal, Stage: stage,
			Code: code, Reason: reason, Fix: fix, Err: err, Permanent: permanent}
		if errors.Is(err, ErrNoServerSASL) {
			ae.Kind, ae.Err = ErrNoServerSASL, nil
		}
		return ae
	}
	tok, err := g.start(a.krb(), tkt, key)
	if err != nil {
		return fail("GSSAPI", "could not build the initial token", "", 0, err, true)
	}
	buf := make([]byte, 0, 2048)
	for xid, first := int32(1), true; ; xid, first = xid+1, false {
		buf = wire.AppendSASLRequest(buf[:0], xid, tok)
		if _, err := rw.Write(buf); err != nil {
			return fail("SASL exchange", "could not send the SASL token", "", 0, err, false)
		}
		var h wire.ReplyHeader
		var reply []byte
		for {
			_, body, err := wire.ReadFrame(rw)
			if err != nil {
				return closedDuringSASL(fail, err)
			}
			if h, reply, err = wire.ParseSASLReply(body); err != nil {
				return fail("SASL exchange", "malformed SASL reply", "", 0, err, true)
			}
			if h.Xid == xid {
				break
			}
			if h.Xid >= 0 {
				return fail("SASL exchange", fmt.Sprintf("reply for xid %d while waiting for %d", h.Xid, xid), "", 0, nil, true)
			}
			// A notification or ping reply (negative xid): not ours, keep reading.
		}
		switch h.Err {
		case wire.ErrCodeOK:
		case wire.ErrCodeAuthFailed:
			return fail("SASL exchange", "the server rejected the authentication (AuthFailed)",
				"the server could not accept the ticket for "+spn+": check that this is the principal in the server's JAAS Server section and keytab (the server log says why)",
				h.Err, nil, true)
		case wire.ErrCodeSessionClosedRequireAuth:
			return fail("SASL exchange", "the server enforces SASL and rejected the authentication (SessionClosedRequireSaslAuth)",
				"the server could not accept the ticket for "+spn+": check that this is the principal in the server's JAAS Server section and keytab (the server log says why)",
				h.Err, nil, true)
		default:
			return fail("SASL exchange", fmt.Sprintf("the server answered the SASL request with error %d", h.Err),
				"check the server log", h.Err, nil, true)
		}
		if first && len(reply) == 0 {
			return fail("SASL exchange", "the server answered the Kerberos token with an empty reply: it has no SASL configured",
				"configure Kerberos on the server (a JAAS \"Server\" section and authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider), or turn SASL off for this client",
				0, ErrNoServerSASL, true)
		}
		out, done, err := g.step(reply)
		if err != nil {
			return fail("GSSAPI", err.Error(), "check that the server's keytab matches the KDC (kvno) and that both use AES", 0, err, true)
		}
		if done {
			return nil
		}
		tok = out
	}
}

// closedDuringSASL classifies a read failure in the middle of the exchange. Every one is transient
// here (a member restarting, or dropping its clients when it loses the quorum); judgeClose then
// asks the server whether a close was its verdict.
func closedDuringSASL(fail func(string, string, string, int32, error, bool) *AuthError, err error) *AuthError {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fail("SASL exchange", "the server did not answer the SASL token in time",
			"check the member's health and log; the client retries on the next member", 0, err, false)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		ae := fail("SASL exchange", "the server closed the connection during SASL authentication",
			"a member restarting or losing its quorum does this, and the client retries on the next member; if it persists, check the server log (ZooKeeper 3.4 to 3.5.8 close the connection when they reject a ticket)",
			0, err, false)
		ae.closed = true
		return ae
	}
	return fail("SASL exchange", "reading the SASL reply failed", "the client retries on the next member", 0, err, false)
}

// probeTimeout bounds the srvr probe of judgeClose.
const probeTimeout = 2 * time.Second

// judgeClose decides whether a close during the exchange was the server's verdict. ZooKeeper 3.5.9+
// answers a rejected ticket with AuthFailed (-115), so a close from it is never a verdict; before
// 3.5.9 the server just closes the connection. A server that closed on us and answers srvr as such a
// version right after (so it is up and serving) has rejected the ticket: that is permanent. A server
// that does not answer (restarting, no quorum) or is 3.5.9+ had a transport fault: transient.
func (c *conn) judgeClose(ae *AuthError) {
	raw, err := c.base("tcp", c.member, probeTimeout)
	if err != nil {
		return
	}
	defer raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	out, err := srvr.Ask(ctx, raw)
	if err != nil {
		return
	}
	v, err := version.ParseSrvr(out)
	if err != nil || version.ServerMode(out) == "" || v.AtLeast(3, 5, 9) {
		return
	}
	ae.Permanent = true
	ae.Reason = "the server (ZooKeeper " + v.Raw() + ", up and serving) closed the connection during SASL authentication: servers before 3.5.9 do that when they reject a ticket"
	ae.Fix = "check the server log (often the service principal " + c.spn + " does not match the server's keytab)"
}
