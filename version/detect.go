package version

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/zksecure/zksecure/internal/srvr"
)

// PortMode is how a member's port speaks.
type PortMode string

const (
	Plaintext PortMode = "plaintext" // the port speaks ZooKeeper without TLS (clientPort)
	TLS       PortMode = "tls"       // the port speaks TLS (secureClientPort)
)

var (
	// ErrUnreachable: no TCP connection to the member.
	ErrUnreachable = errors.New("version: member unreachable")
	// ErrPlaintextPort: TLS was asked for, but the port speaks plaintext ZooKeeper.
	ErrPlaintextPort = errors.New("version: plaintext port")
	// ErrTLSPort: plaintext was asked for, but the port speaks TLS.
	ErrTLSPort = errors.New("version: TLS port")
	// ErrNoAnswer: the port accepted the connection but answered nothing ZooKeeper-like.
	ErrNoAnswer = errors.New("version: no ZooKeeper answer")
)

// Handshaker opens TLS on an established connection to member; *zktls.Client implements it.
type Handshaker interface {
	Handshake(ctx context.Context, raw net.Conn, member string) (*tls.Conn, error)
}

// FromConfig adapts a plain *tls.Config to a Handshaker.
func FromConfig(cfg *tls.Config) Handshaker { return configHandshaker{cfg} }

type configHandshaker struct{ cfg *tls.Config }

func (h configHandshaker) Handshake(ctx context.Context, raw net.Conn, member string) (*tls.Conn, error) {
	cfg := h.cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(member)
	}
	c := tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// Member is what Detect learned about one ensemble member.
type Member struct {
	// Addr is the member as given ("host:port").
	Addr string
	// Reachable: a TCP connection was made.
	Reachable bool
	// Mode is how the port speaks, when known.
	Mode PortMode
	// Version is the server's version (zero when unknown); ServerMode its srvr "Mode:".
	Version    Version
	ServerMode string
	// Chain is the server's certificate chain on a TLS port (leaf first).
	Chain []*x509.Certificate
	// TLSVersion and CipherSuite of the handshake, on a TLS port.
	TLSVersion, CipherSuite uint16
	// Took is how long the detection took.
	Took time.Duration
}

// Detect probes member: with hs nil it expects a plaintext port, otherwise a TLS port, and asks
// srvr (inside TLS on a TLS port) for the version. The error says what is wrong and what to do; the
// returned Member holds what was learned either way (Mode is TLS once a TLS handshake passed, even
// when srvr then failed).
func Detect(ctx context.Context, member string, hs Handshaker) (m Member, err error) {
	return detect(ctx, member, hs, &firstConn{})
}

// DetectOn is Detect with its first connection already made: raw, a TCP connection to member
// that nothing has been sent on (zk-secure-check's tcp check hands over its own, so that a
// server sees one connection for both checks). Detect's further connections, when it needs them
// (a plaintext srvr after a failed handshake, a TLS probe of a silent plaintext attempt), are
// its own. raw is closed when DetectOn returns.
func DetectOn(ctx context.Context, raw net.Conn, member string, hs Handshaker) (Member, error) {
	first := &firstConn{c: raw}
	defer first.close()
	return detect(ctx, member, hs, first)
}

// firstConn holds a connection made before Detect, used by its first dial.
type firstConn struct{ c net.Conn }

// take returns the held connection, once (nil after that, and without one).
func (f *firstConn) take() net.Conn {
	c := f.c
	f.c = nil
	return c
}

func (f *firstConn) close() {
	if c := f.take(); c != nil {
		c.Close()
	}
}

func detect(ctx context.Context, member string, hs Handshaker, first *firstConn) (m Member, err error) {
	start := time.Now()
	m = Member{Addr: member}
	defer func() { m.Took = time.Since(start) }()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if hs == nil {
		out, err := plainSrvr(ctx, member, first)
		if err != nil {
			if errors.Is(err, ErrUnreachable) {
				return m, err
			}
			m.Reachable = true
			// No plaintext answer: is it a TLS port?
			if chain, ok := looksLikeTLS(ctx, member); ok {
				m.Mode, m.Chain = TLS, chain
				subject := ""
				if len(chain) > 0 {
					subject = " (certificate " + chain[0].Subject.String() + ")"
				}
				return m, fmt.Errorf("%w: %s speaks TLS%s: configure TLS for this member, or use its plaintext clientPort", ErrTLSPort, member, subject)
			}
			return m, err
		}
		m.Reachable, m.Mode = true, Plaintext
		return m, m.fill(out)
	}
	var chainSeen []*x509.Certificate
	handshook := false
	out, err := askSrvr(ctx, member, first, func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		c, err := hs.Handshake(ctx, raw, member)
		if err != nil {
			return nil, err
		}
		st := c.ConnectionState()
		chainSeen, m.TLSVersion, m.CipherSuite = st.PeerCertificates, st.Version, st.CipherSuite
		handshook = true
		return c, nil
	})
	if err != nil {
		if errors.Is(err, ErrUnreachable) {
			return m, err
		}
		m.Reachable = true
		if handshook {
			// The port speaks TLS (the handshake passed); only srvr failed (not serving yet, no
			// quorum, srvr not whitelisted).
			m.Mode, m.Chain = TLS, chainSeen
			return m, err
		}
		// Did the port close on our ClientHello because it speaks plaintext? Ask srvr in plaintext.
		if pout, perr := plainSrvr(ctx, member, first); perr == nil {
			v, _ := ParseSrvr(pout)
			m.Mode, m.Version, m.ServerMode = Plaintext, v, ServerMode(pout)
			if !v.IsZero() && !v.SupportsTLS() {
				return m, fmt.Errorf("%w: %s speaks plaintext ZooKeeper %s; %s has no TLS — use SASL, or upgrade to 3.5+",
					ErrPlaintextPort, member, v.Raw(), v.shortName())
			}
			return m, fmt.Errorf("%w: %s speaks plaintext ZooKeeper %s: it is the server's clientPort; connect to its secureClientPort for TLS",
				ErrPlaintextPort, member, v.Raw())
		}
		return m, err
	}
	m.Reachable, m.Mode, m.Chain = true, TLS, chainSeen
	return m, m.fill(out)
}

func (v Version) shortName() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (m *Member) fill(out string) error {
	v, err := ParseSrvr(out)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNoAnswer, m.Addr, err)
	}
	m.Version, m.ServerMode = v, ServerMode(out)
	return nil
}

// srvrAnswerTime bounds a plaintext srvr probe: a ZooKeeper answers in milliseconds, while a TLS
// port just waits for the rest of a TLS record, which would otherwise use up the caller's deadline.
const srvrAnswerTime = 2 * time.Second

func plainSrvr(ctx context.Context, member string, first *firstConn) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, srvrAnswerTime)
	defer cancel()
	return askSrvr(ctx, member, first, nil)
}

// askSrvr asks member for srvr and reads the whole answer, on first's connection when it holds one
// (else on a new one); wrap, when set, turns the TCP connection into a TLS one first.
func askSrvr(ctx context.Context, member string, first *firstConn, wrap func(context.Context, net.Conn) (net.Conn, error)) (string, error) {
	var err error
	raw := first.take()
	if raw == nil {
		var d net.Dialer
		if raw, err = d.DialContext(ctx, "tcp", member); err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrUnreachable, member, err)
		}
	}
	conn := raw
	if wrap != nil {
		if conn, err = wrap(ctx, raw); err != nil {
			return "", err
		}
	}
	defer conn.Close()
	out, err := srvr.Ask(ctx, conn)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrNoAnswer, member, err)
	}
	return out, nil
}

// looksLikeTLS attempts a TLS handshake without verification, only to learn whether the port speaks
// TLS; it returns the certificates the server sent. Nothing is sent after the handshake.
func looksLikeTLS(ctx context.Context, member string) ([]*x509.Certificate, bool) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", member)
	if err != nil {
		return nil, false
	}
	defer raw.Close()
	var chain []*x509.Certificate
	c := tls.Client(raw, &tls.Config{
		InsecureSkipVerify: true, // detection only: no data is exchanged on this connection
		MinVersion:         tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			chain = cs.PeerCertificates
			return nil
		},
	})
	err = c.HandshakeContext(ctx)
	// A server that demands a client certificate aborts after sending its own: still TLS.
	return chain, err == nil || len(chain) > 0
}
