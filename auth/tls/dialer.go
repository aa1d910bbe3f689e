package zktls

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
)

// ErrClientCertRequired: the server asked for a client certificate (ssl.clientAuth=need) and the
// configuration has none, or the server rejected the one sent.
var ErrClientCertRequired = errors.New("zktls: the server requires a client certificate")

// ErrNoCommonProtocol: the server and this configuration share no TLS version or no cipher suite.
var ErrNoCommonProtocol = errors.New("zktls: no TLS version or cipher suite in common with the server")

// suiteNote describes configured TLS 1.2 suites when they are not the defaults.
func (cl *Client) suiteNote() string {
	if cl.cfg.CipherSuites == nil || cl.min >= tls.VersionTLS13 {
		return ""
	}
	var names []string
	for _, id := range cl.cfg.CipherSuites {
		names = append(names, tls.CipherSuiteName(id))
	}
	return "; TLS 1.2 suites " + strings.Join(names, ", ")
}

// ErrNotTLS: the port closed the connection on the TLS ClientHello, which is what a plaintext
// ZooKeeper port (or any 3.4 server) does.
var ErrNotTLS = errors.New("zktls: the port does not speak TLS")

// Dial connects to member and completes the TLS handshake, with errors that say what went wrong
// (unknown CA, expiry, names, missing client certificate, plaintext port).
func (cl *Client) Dial(ctx context.Context, member string) (*tls.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", member)
	if err != nil {
		return nil, err
	}
	return cl.Handshake(ctx, raw, member)
}

// Handshake runs the client handshake on an established connection to member.
func (cl *Client) Handshake(ctx context.Context, raw net.Conn, member string) (*tls.Conn, error) {
	var ip net.IP
	if a, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.IP
	}
	c := tls.Client(raw, cl.configFor(ctx, member, ip))
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, cl.explain(member, err)
	}
	// With TLS 1.3 a refused client certificate shows only at the first read: ZooKeeper always
	// answers the client first, so nothing to do here; explain() covers it when it surfaces.
	return c, nil
}

// explain turns handshake errors into errors a user can act on.
func (cl *Client) explain(member string, err error) error {
	if errors.Is(err, ErrUnknownCA) || errors.Is(err, ErrExpired) || errors.Is(err, ErrHostname) || errors.Is(err, ErrConfig) ||
		errors.Is(err, ErrRevoked) || errors.Is(err, ErrRevocationUnknown) {
		return err
	}
	var cert *tls.Certificate
	if m := cl.files.peek(); m != nil {
		cert = m.cert
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "bad certificate"), strings.Contains(msg, "certificate required"),
		strings.Contains(msg, "handshake failure") && cert == nil:
		if cert == nil {
			return fmt.Errorf("%w: %s refused the handshake without a client certificate (ssl.clientAuth=need): configure one", ErrClientCertRequired, member)
		}
		return fmt.Errorf("%w: %s rejected the client certificate %s (not issued by a CA in the server's trust store, or expired): %w",
			ErrClientCertRequired, member, cert.Leaf.Subject, err)
	case strings.Contains(msg, "protocol version not supported"), strings.Contains(msg, "no mutual cipher suite"),
		strings.Contains(msg, "unsupported versions"), strings.Contains(msg, "insufficient security level"):
		return fmt.Errorf("%w: %s and this configuration share no TLS version or cipher suite (this client: %s to %s%s): align zookeeper.ssl.enabledProtocols / zookeeper.ssl.ciphersuites with the server's ssl.protocol, ssl.enabledProtocols and ssl.ciphersuites: %w",
			ErrNoCommonProtocol, member, versionName(cl.min), versionName(cl.max), cl.suiteNote(), err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("%w: %s closed the connection on the TLS ClientHello: it is a plaintext port (a 3.4 server, or a 3.5+ clientPort rather than its secureClientPort)", ErrNotTLS, member)
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return fmt.Errorf("%w: %s answered in plaintext: it is not a TLS port", ErrNotTLS, member)
	}
	return fmt.Errorf("zktls: handshake with %s: %w", member, err)
}

// Dialer returns a zk.Dialer that connects over TLS with this configuration, verifying each member
// by its own host name. base makes the TCP connection; nil means net.DialTimeout.
func (cl *Client) Dialer(base zk.Dialer) zk.Dialer {
	if base == nil {
		base = net.DialTimeout
	}
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		raw, err := base(network, address, timeout)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout(timeout))
		defer cancel()
		return cl.Handshake(ctx, raw, address)
	}
}

func handshakeTimeout(dial time.Duration) time.Duration {
	if dial < 10*time.Second {
		return 10 * time.Second
	}
	return dial
}
