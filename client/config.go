package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
)

// Transport selects how connections are made.
type Transport string

const (
	// TransportAuto uses TLS when TLS is configured, plaintext when it is not. With TLS configured,
	// Connect probes every member (once per process and TLS client, see Client.Members): one that
	// answers in plaintext (a 3.4 server, a clientPort) is
	// refused, as is a configuration no answering member accepts — never downgraded. A member that
	// cannot be reached does not stop Connect: the session uses the others and dials it later over
	// TLS only (refusing it, with a warning, if it then does not speak TLS). When no member answers
	// at all, TLS is chosen and Connect keeps trying until ConnectionTimeout.
	TransportAuto Transport = "auto"
	// TransportPlaintext never uses TLS; configuring TLS as well is refused as contradictory.
	TransportPlaintext Transport = "plaintext"
	// TransportTLS requires TLS (with the system CAs when no TLS is configured); members are probed
	// as with TransportAuto.
	TransportTLS Transport = "tls"
)

// SASLMode selects SASL authentication.
type SASLMode string

const (
	SASLOff      SASLMode = "off"
	SASLKerberos SASLMode = "kerberos"
)

// Defaults, as Flink's (DESIGN.md §8).
const (
	DefaultRoot              = "/flink"
	DefaultClusterID         = "/default"
	DefaultSessionTimeout    = 60 * time.Second
	DefaultConnectionTimeout = 15 * time.Second
	DefaultRetryWait         = 5 * time.Second
	DefaultMaxRetryAttempts  = 3
)

// Config configures Connect. Only Members is required; every other field's zero value is documented
// and safe.
type Config struct {
	// Members are the ensemble members as "host:port" (a missing port means 2181). Hostnames are kept
	// as written: Kerberos service principals and TLS names are derived from them.
	Members []string
	// Root is high-availability.zookeeper.path.root; empty means DefaultRoot ("/flink").
	Root string
	// ClusterID is high-availability.cluster-id; empty means DefaultClusterID ("/default"). Every
	// path the client is given lives under Root + ClusterID.
	ClusterID string
	// SessionTimeout is the requested session timeout (the servers may negotiate it down or up);
	// zero means 60s.
	SessionTimeout time.Duration
	// ConnectionTimeout bounds Connect until the first session exists, and the transport probes;
	// zero means 15s.
	ConnectionTimeout time.Duration
	// RetryWait bounds the first wait before retrying a read that failed with connection loss
	// (doubled each time): the retry comes as soon as the client has a session again, at the latest
	// after the wait; zero means 5s.
	RetryWait time.Duration
	// MaxRetryAttempts is how many times a read is retried on connection loss; zero means 3, a
	// negative value means never.
	MaxRetryAttempts int
	// Transport is auto, plaintext or tls; empty means auto.
	Transport Transport
	// TLS configures TLS; nil means not configured. Connect uses the process's loaded TLS client for
	// these settings (zktls.Shared, with Logger if TLS.Logger is nil): clients with equal TLS settings
	// read the files once, again only when one of them changed, and resume each other's TLS sessions.
	TLS *zktls.Config
	// TLSClient is TLS already loaded (the result of zktls.Config.Load, for a caller that holds it
	// anyway); nil means Connect loads TLS itself. When set, TLS is configured, no file is read
	// again, and TLS (if also set) is not used.
	TLSClient *zktls.Client
	// SASL is off or kerberos; empty means off (kerberos when Authenticator is set). With kerberos,
	// Kerberos holds the login and the service principal rules.
	SASL     SASLMode
	Kerberos sasl.Config
	// Authenticator is Kerberos credentials already made with sasl.New, to share with other users
	// (zk-secure-check's checks, other clients); nil means the process's shared Authenticator for
	// Kerberos (sasl.Shared): clients with equal Kerberos settings (Logger included) log in once
	// and fetch each service ticket once between them, as long as one is open and for
	// sasl.SharedLinger after. When set, Kerberos is not used. Either way the client authenticates
	// with a Fork of it: its login and tickets are reused, and a permanent authentication failure
	// closes only this client. The client does not close a given Authenticator: its owner does,
	// after closing the clients that use it.
	Authenticator *sasl.Authenticator
	// ACL gives the ACL of every node the client creates; nil means acl.Open() (Flink's default).
	// acl.Creator() needs an authenticated identity and is refused without SASL or a TLS client
	// certificate.
	ACL acl.Provider
	// OnState, if set, is called for every connection state event, in order, none dropped, from one
	// goroutine of the client's (events queue without bound while it runs, as on a States channel);
	// nil means no callback. Close waits until it has been called for every queued event, so it
	// must not call Close, and a slow OnState delays Close.
	OnState func(Event)
	// Logger receives the client's log; nil means slog.Default(). Secrets are never logged.
	Logger *slog.Logger
}

// ErrConfig wraps configuration errors; the message names the field.
var ErrConfig = errors.New("client: configuration")

// WithDefaults returns a copy with every zero field set to its documented default (Logger to
// slog.Default()): the configuration Connect uses. It is the one place the defaults are filled in.
func (c Config) WithDefaults() Config {
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	if c.ClusterID == "" {
		c.ClusterID = DefaultClusterID
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.ConnectionTimeout == 0 {
		c.ConnectionTimeout = DefaultConnectionTimeout
	}
	if c.RetryWait == 0 {
		c.RetryWait = DefaultRetryWait
	}
	if c.MaxRetryAttempts == 0 {
		c.MaxRetryAttempts = DefaultMaxRetryAttempts
	}
	if c.Transport == "" {
		c.Transport = TransportAuto
	}
	if c.SASL == "" && c.Authenticator != nil {
		c.SASL = SASLKerberos
	}
	if c.SASL == "" {
		c.SASL = SASLOff
	}
	if c.ACL == nil {
		c.ACL = acl.Open()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks the configuration without touching files or the network; the error names the
// offending field.
func (c Config) Validate() error {
	c = c.WithDefaults()
	// bad names the field; format may use %w for a cause.
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{ErrConfig, field}, args...)...)
	}
	if len(c.Members) == 0 {
		return bad("Members", "no ensemble members (high-availability.zookeeper.quorum is required)")
	}
	seen := map[string]bool{}
	for _, m := range c.Members {
		hp, err := NormalizeMember(m)
		if err != nil {
			return bad("Members", "%w", err)
		}
		if seen[hp] {
			return bad("Members", "%s is listed twice", hp)
		}
		seen[hp] = true
	}
	if err := validNamespacePart(c.Root); err != nil {
		return bad("Root", "%w", err)
	}
	if err := validNamespacePart(c.ClusterID); err != nil {
		return bad("ClusterID", "%w", err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"SessionTimeout", c.SessionTimeout}, {"ConnectionTimeout", c.ConnectionTimeout}, {"RetryWait", c.RetryWait}} {
		if d.v < 0 {
			return bad(d.name, "negative duration %v", d.v)
		}
	}
	if c.SessionTimeout < time.Second {
		return bad("SessionTimeout", "%v is below ZooKeeper's minimum of two ticks; use at least 1s", c.SessionTimeout)
	}
	switch c.Transport {
	case TransportAuto, TransportPlaintext, TransportTLS:
	default:
		return bad("Transport", "%q is not auto, plaintext or tls", string(c.Transport))
	}
	if c.Transport == TransportPlaintext && (c.TLS != nil || c.TLSClient != nil) {
		return bad("Transport", "plaintext with TLS configured would ignore the TLS settings: use auto or tls, or remove TLS")
	}
	switch c.SASL {
	case SASLOff:
		if c.Authenticator != nil {
			return bad("SASL", "off with an Authenticator given would not use it: use kerberos, or remove the Authenticator")
		}
	case SASLKerberos:
	default:
		return bad("SASL", "%q is not off or kerberos", string(c.SASL))
	}
	if c.ACL.NeedsIdentity() && c.SASL == SASLOff && !c.hasClientCertificate() {
		return fmt.Errorf("%w: ACL %s: %w, but SASL is off and no TLS client certificate is configured (in Flink terms: high-availability.zookeeper.client.acl: creator with zookeeper.sasl.disable: true)",
			ErrConfig, c.ACL, acl.ErrNoIdentity)
	}
	return nil
}

// hasClientCertificate reports whether the TLS configuration has a client certificate.
func (c Config) hasClientCertificate() bool {
	if c.TLSClient != nil {
		return c.TLSClient.Certificate() != nil
	}
	return c.TLS != nil && c.TLS.CertFile != ""
}

// SplitMembers splits a connect string ("zk1:2181, zk2:2181,...", as in
// high-availability.zookeeper.quorum) into its members, dropping empty ones.
func SplitMembers(connectString string) []string {
	var out []string
	for _, m := range strings.Split(connectString, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// NormalizeMember returns a member as "host:port", adding ZooKeeper's default port 2181; the host is
// kept as written.
func NormalizeMember(m string) (string, error) {
	m = strings.TrimSpace(m)
	if m == "" {
		return "", errors.New("empty member")
	}
	host, port, err := net.SplitHostPort(m)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return net.JoinHostPort(strings.Trim(m, "[]"), "2181"), nil
		}
		return "", fmt.Errorf("member %q: %w", m, err)
	}
	if host == "" {
		return "", fmt.Errorf("member %q has no host", m)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", fmt.Errorf("member %q: port %q is not a number from 1 to 65535", m, port)
	}
	return net.JoinHostPort(host, port), nil
}
