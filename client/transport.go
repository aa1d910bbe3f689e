package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/probed"
	"github.com/zksecure/zksecure/version"
)

// ErrTransport wraps refusals of the transport negotiation (see TransportError).
var ErrTransport = errors.New("client: transport impossible")

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

// negotiateTransport probes every member when TLS is configured (beside the session's setup, see
// Connect) and refuses what could never work. A member probed by an earlier Connect with this TLS
// client is not probed again (internal/probed): the refusals need only what it speaks, and whether it
// can be reached is checked when Members is called.
//
// TLS is configured whenever it probes, so the only possible outcome is TLS; the probe refuses early,
// member by member, what could never work. The decision rests on the members that answer: one that
// cannot be reached (down, restarting) says nothing about the transport and does not stop the client
// — the session dials it later like any other, over TLS, and refuses it if it then does not speak TLS
// (see tlsOnly). A member that answers in plaintext is refused (zksecure never mixes transports and
// never falls back to plaintext), and so is a configuration no answering member accepts. When no
// member answers at all, TLS is chosen and Connect keeps trying until ConnectionTimeout.
func (c *Client) negotiateTransport(ctx context.Context) error {
	if !c.useTLS {
		return nil
	}
	t := c.cfg.Transport
	reports := make([]MemberReport, len(c.cfg.Members))
	pending := make([]bool, len(c.cfg.Members))
	var wg sync.WaitGroup
	for i, m := range c.cfg.Members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d, ok := probed.Recall(c.tls, m); ok { // probed earlier in this process (see Members)
				reports[i] = MemberReport{Member: m, Mode: d.Mode, Version: d.Version}
				pending[i] = true
				return
			}
			d, err := version.Detect(ctx, m, c.tls)
			reports[i] = MemberReport{Member: m, Mode: d.Mode, Version: d.Version, Err: err}
			if err == nil {
				probed.Remember(c.tls, d)
			}
		}()
	}
	wg.Wait()
	c.reports, c.unchecked = reports, pending
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
		case err == nil:
			if tc, ok := conn.(*tls.Conn); ok {
				st := tc.ConnectionState()
				c.log.Debug("TLS handshake", "member", address, "resumed", st.DidResume, "version", tls.VersionName(st.Version))
			}
		case errors.As(err, &op) && op.Op == "dial":
		case errors.As(err, &ne) && ne.Timeout():
			// Accepted but silent (frozen, overloaded): transient, like an unreachable member.
			c.log.Debug("member did not complete the TLS handshake in time; trying the next one", "member", address, "error", err.Error())
		default:
			probed.Forget(c.tls, address) // probe it again on the next Connect
			c.log.Warn("member refused: the TLS handshake failed and zksecure never uses plaintext when TLS is configured; the session uses the other members",
				"member", address, "error", err.Error())
		}
		return conn, err
	}
}

// checkReachable fills in the reachability of the members whose report came from an earlier
// Connect's probe: a TCP connection to each, bounded by ctx and ConnectionTimeout. Members calls it
// (under reportsMu) rather than Connect: a TCP connection that closes without a handshake is logged
// as an error by a ZooKeeper server's TLS port, and nothing in Connect needs the answer. A member
// whose check ctx cut short stays unchecked.
func (c *Client) checkReachable(caller context.Context) {
	ctx, cancel := context.WithTimeout(caller, c.cfg.ConnectionTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i, pending := range c.unchecked {
		if !pending {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := reach(ctx, c.reports[i].Member)
			if caller.Err() != nil {
				return // cut short by the caller: the next Members checks it again
			}
			c.unchecked[i] = false
			if err != nil {
				c.reports[i] = MemberReport{Member: c.reports[i].Member, Err: err}
			}
		}()
	}
	wg.Wait()
}
