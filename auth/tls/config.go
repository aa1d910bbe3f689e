package zktls

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zksecure/zksecure/internal/bounded"
	"github.com/zksecure/zksecure/internal/tlsresume"
)

var (
	// ErrConfig wraps errors in the TLS configuration and its files.
	ErrConfig = errors.New("zktls: configuration")
	// ErrKeyPassword is returned when an encrypted key or a keystore does not open with the password.
	ErrKeyPassword = errors.New("zktls: wrong key password")
	// ErrUnsupportedKey is returned for keys zksecure cannot read: PBES1 or PKCS#12-PBE encrypted
	// PKCS#8, legacy OpenSSL "Proc-Type: 4,ENCRYPTED" PEM, unknown key types. The error says how to
	// convert the key.
	ErrUnsupportedKey = errors.New("zktls: unsupported key format")
	// ErrUnknownCA: the server's chain does not lead to a CA in the trust store.
	ErrUnknownCA = errors.New("zktls: certificate signed by an unknown CA")
	// ErrExpired: the server's certificate (or one in its chain) is expired or not yet valid.
	ErrExpired = errors.New("zktls: certificate expired or not yet valid")
	// ErrHostname: the server's certificate does not name the member.
	ErrHostname = errors.New("zktls: certificate does not match the host")
)

// Secret is a password held in memory (for example read from a Java properties file). It prints as
// "[redacted]" with every fmt verb.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Format implements fmt.Formatter, so that no verb prints the value.
func (Secret) Format(f fmt.State, _ rune) { f.Write([]byte("[redacted]")) }

// MarshalText keeps the value out of JSON, YAML and logs.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Config describes the client side of TLS. The zero value verifies servers against the system's CA
// pool with no client certificate, TLS 1.2 or newer.
type Config struct {
	// CertFile is the client's certificate: a PEM file with the chain (and the key, unless KeyFile
	// is set — ZooKeeper's "PEM keystore"), a PKCS#12 bundle or a JKS keystore. Empty: no client
	// certificate (servers with ssl.clientAuth=need will refuse the handshake).
	CertFile string
	// CertType is the format of CertFile; empty infers it from the extension (.p12/.pfx, .jks, else PEM).
	CertType StoreType
	// KeyFile is a separate PEM key: PKCS#8 (plain or encrypted with PBES2), PKCS#1 or SEC1.
	KeyFile string
	// KeyPasswordFile, KeyPasswordEnv and KeyPassword give the password of an encrypted key or of
	// a PKCS#12/JKS keystore; at most one may be set. A file's trailing newline is ignored.
	KeyPasswordFile, KeyPasswordEnv string
	KeyPassword                     Secret

	// CAFile holds the CAs to trust: a PEM bundle, a PKCS#12 or JKS truststore. Empty: the system pool.
	CAFile string
	// CAType is the format of CAFile, inferred like CertType when empty.
	CAType StoreType
	// CAPasswordFile, CAPasswordEnv, CAPassword: the truststore's password, if it has one.
	CAPasswordFile, CAPasswordEnv string
	CAPassword                    Secret

	// ServerName, if set, is the name verified for every member instead of its host.
	ServerName string
	// NoHostnameVerification verifies the chain but not the names in the certificate
	// (zookeeper.ssl.hostnameVerification=false).
	NoHostnameVerification bool
	// HostnameRules selects how names are matched: the zero value is ZooKeeper's Java client
	// (ZKTrustManager); HostnameJDK the JDK's HTTPS rules (zookeeper.fips-mode=true);
	// HostnameStrict Go's own (zksecure.ssl.strictHostnames=true). See HostnameRules.
	HostnameRules HostnameRules
	// AllowReverseDNSLookup lets a member given as an IP address pass by its reverse-DNS name among
	// the DNS SANs, with HostnameZooKeeper rules (zookeeper.ssl.allowReverseDnsLookup). False, the
	// zero value, is the default of ZooKeeper 3.8.6+ and 3.9.5+ clients: whoever answers reverse
	// DNS (unauthenticated) would otherwise decide which certificate names an IP member.
	AllowReverseDNSLookup bool
	// InsecureSkipVerify accepts any server certificate. DANGEROUS: anyone on the network path can
	// then read and change the traffic, credentials included. For experiments only.
	InsecureSkipVerify bool
	// MinVersion is the lowest TLS version; zero means TLS 1.2, and lower values are refused.
	MinVersion uint16
	// MaxVersion is the highest TLS version; zero means TLS 1.3 (zookeeper.ssl.protocol and
	// zookeeper.ssl.enabledProtocols set both).
	MaxVersion uint16
	// CipherSuites restricts the TLS 1.2 cipher suites (TLS 1.3's are not configurable in Go); nil
	// means the Java client's default list as far as Go implements it securely: ECDHE with
	// AES-GCM, then ECDHE with AES-CBC-SHA.
	CipherSuites []uint16
	// CRL checks the revocation of every certificate of the server's chain but the trust anchor
	// against CRLs, from the certificates' CRL distribution points (http, https, file) and
	// CRLFiles (zookeeper.ssl.crl). A certificate whose status cannot be determined fails the
	// handshake, as in the Java client. False: no revocation checking.
	CRL bool
	// CRLFiles are CRLs (DER or PEM) to check the chain against, read again when they change;
	// setting any turns CRL on (zksecure.ssl.crlFile).
	CRLFiles []string
	// OCSP asks the OCSP responder each certificate names (after a response the server stapled)
	// before the CRL, which stays the fallback (zookeeper.ssl.ocsp). A response must be signed by
	// the issuer or a responder the issuer authorized, and current.
	OCSP bool
	// LookupAddr does the reverse-DNS lookup of AllowReverseDNSLookup; nil means
	// net.DefaultResolver.LookupAddr, whose names must also resolve back to the address (as Java
	// checks); the names a LookupAddr returns are taken as confirmed.
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	// Logger receives reloads of the files and their failures; nil means slog.Default().
	Logger *slog.Logger
}

// password is one password source of a Config.
type password struct {
	file, env string
	value     Secret
	what      string // "key" or "truststore", for messages
}

func (p password) set() bool { return p.file != "" || p.env != "" || p.value != "" }

// source describes where the password comes from, never the password.
func (p password) source() string {
	switch {
	case p.file != "":
		return "file " + p.file
	case p.env != "":
		return "environment variable " + p.env
	case p.value != "":
		return "the configuration"
	}
	return "(none: no password configured)"
}

func (p password) check() error {
	n := 0
	for _, s := range []string{p.file, p.env, string(p.value)} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("%w: more than one %s password source (file, environment variable, value): choose one", ErrConfig, p.what)
	}
	return nil
}

// get returns the password; an encrypted key without one is an error.
func (p password) get() ([]byte, error) {
	if !p.set() {
		return nil, fmt.Errorf("%w: a %s password is needed: give it in a file or an environment variable", ErrKeyPassword, p.what)
	}
	return p.optional()
}

func (p password) optional() ([]byte, error) {
	switch {
	case p.file != "":
		b, err := bounded.ReadFile(p.file, p.what+" password file", bounded.Password)
		if err != nil {
			return nil, fmt.Errorf("%w: %s password file: %w", ErrConfig, p.what, err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	case p.env != "":
		v, ok := os.LookupEnv(p.env)
		if !ok {
			return nil, fmt.Errorf("%w: %s password: environment variable %s is not set", ErrConfig, p.what, p.env)
		}
		return []byte(v), nil
	}
	return []byte(p.value), nil
}

// Client is a loaded TLS configuration. It is safe for concurrent use. Every new connection first
// checks whether the files (certificate, key, CA bundle, password files, CRL files) changed and, if
// so, reads them again (see Load).
type Client struct {
	cfg      Config
	min, max uint16
	suites   []uint16
	files    *reloader
	rev      *revocation
	log      *slog.Logger
}

// Load reads and checks every file of the configuration. An expired (or not yet valid) client
// certificate is an error naming the file and the date.
//
// The files are read again when they change: before every new connection the Client stats them,
// and a replaced certificate, key, CA bundle or CRL is used from the next connection on — the live
// session keeps its connection. A reload that fails (a file half-written, a key that does not
// match the certificate yet, an expired certificate) keeps the last good material and logs, at
// Warn, the files that changed and why.
func (c Config) Load() (*Client, error) {
	kp := password{file: c.KeyPasswordFile, env: c.KeyPasswordEnv, value: c.KeyPassword, what: "key"}
	cp := password{file: c.CAPasswordFile, env: c.CAPasswordEnv, value: c.CAPassword, what: "truststore"}
	if err := kp.check(); err != nil {
		return nil, err
	}
	if err := cp.check(); err != nil {
		return nil, err
	}
	if err := c.HostnameRules.valid(); err != nil {
		return nil, err
	}
	// The loaded Client keeps no password: the key is decrypted below, and a Client printed with %v
	// or %+v (its cfg is unexported, so Secret's redaction cannot run) must not show one.
	kept := c
	kept.KeyPassword, kept.CAPassword = "", ""
	cl := &Client{cfg: kept, min: c.MinVersion, max: c.MaxVersion, suites: c.CipherSuites, log: c.Logger}
	if cl.log == nil {
		cl.log = slog.Default()
	}
	if cl.min == 0 {
		cl.min = tls.VersionTLS12
	}
	if cl.max == 0 {
		cl.max = tls.VersionTLS13
	}
	if cl.min < tls.VersionTLS12 {
		return nil, fmt.Errorf("%w: MinVersion %s: TLS versions below 1.2 are not supported", ErrConfig, versionName(cl.min))
	}
	if cl.max > tls.VersionTLS13 || cl.max < cl.min {
		return nil, fmt.Errorf("%w: MaxVersion %s with MinVersion %s: want MinVersion ≤ MaxVersion ≤ TLS 1.3", ErrConfig, versionName(cl.max), versionName(cl.min))
	}
	if cl.suites == nil {
		cl.suites = javaDefaultCipherSuites
	}
	if c.CertFile == "" && c.KeyFile != "" {
		return nil, fmt.Errorf("%w: key file %s given without a certificate file", ErrConfig, c.KeyFile)
	}
	var err error
	if cl.files, err = newReloader(c, kp, cp, cl.log); err != nil {
		return nil, err
	}
	cl.rev = newRevocation(c.CRL || len(c.CRLFiles) > 0, c.OCSP)
	return cl, nil
}

// Certificate returns the client certificate (leaf) new connections use, or nil without one.
func (cl *Client) Certificate() *x509.Certificate {
	m := cl.files.get()
	if m.cert == nil {
		return nil
	}
	return m.cert.Leaf
}

// sessions holds the process's TLS session caches, one per client certificate (SHA-256 of its
// leaf; "" without one), so that every Client loaded with the same certificate — each
// client.Connect may load its own — resumes the others' sessions (a TLS 1.2 session ticket or a TLS
// 1.3 PSK, as the server offers) instead of a full handshake, and a session is only ever resumed
// with the certificate it was made with (a rotated certificate starts afresh). A resumed session
// is verified again like a new one (verifyPeer runs on every handshake, with the current trust),
// and the server keeps the session's client certificate, so the x509 identity does not change.
var sessions sync.Map

// sessionsFor returns the process's session cache for cert.
func sessionsFor(cert *tls.Certificate) tls.ClientSessionCache {
	key := ""
	if cert != nil && len(cert.Certificate) > 0 {
		sum := sha256.Sum256(cert.Certificate[0])
		key = string(sum[:])
	}
	if c, ok := sessions.Load(key); ok {
		return c.(tls.ClientSessionCache)
	}
	c, _ := sessions.LoadOrStore(key, tls.NewLRUClientSessionCache(256))
	return c.(tls.ClientSessionCache)
}

// memberSessions is the session cache seen from one member: crypto/tls keys sessions by server
// name, which members on one host share (and with ServerName set, every member does), so each
// handshake would otherwise offer another member's ticket, be refused, and overwrite it.
type memberSessions struct {
	tls.ClientSessionCache
	member string
}

func (m memberSessions) Get(key string) (*tls.ClientSessionState, bool) {
	return m.ClientSessionCache.Get(m.member + " " + key)
}

func (m memberSessions) Put(key string, cs *tls.ClientSessionState) {
	m.ClientSessionCache.Put(m.member+" "+key, cs)
}

// ConfigFor returns the *tls.Config for one member ("host:port"); remoteIP is the address the
// connection goes to (nil: resolved from the host during verification). It carries the files as
// they are now (read again first if they changed).
func (cl *Client) ConfigFor(member string, remoteIP net.IP) *tls.Config {
	return cl.configFor(context.Background(), member, remoteIP)
}

// configFor is ConfigFor with the context of the handshake, which bounds the revocation fetches.
func (cl *Client) configFor(ctx context.Context, member string, remoteIP net.IP) *tls.Config {
	m := cl.files.get()
	host, _, err := net.SplitHostPort(member)
	if err != nil {
		host = member
	}
	name := host
	if cl.cfg.ServerName != "" {
		name = cl.cfg.ServerName
	}
	tc := &tls.Config{
		MinVersion:   cl.min,
		MaxVersion:   cl.max,
		CipherSuites: cl.suites,
		// Go's own verification is replaced by verifyPeer, which reaches ZooKeeper's outcome
		// (VerifyConnection still runs, and a failure there aborts the handshake).
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cl.cfg.InsecureSkipVerify {
				return nil
			}
			return cl.verifyPeer(ctx, m, member, name, remoteIP, cs)
		},
	}
	if net.ParseIP(name) == nil {
		tc.ServerName = name // SNI
	}
	// Resume an earlier session with this member and certificate rather than a full handshake —
	// unless the certificate is no longer valid: a resumed handshake would not present it, and so
	// not refuse it as GetClientCertificate does. (internal/tlsresume turns this off for a benchmark.)
	if (m.cert == nil || m.certValid(time.Now()) == nil) && !tlsresume.Disabled.Load() {
		tc.ClientSessionCache = memberSessions{sessionsFor(m.cert), member}
	}
	if m.cert != nil {
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if err := m.certValid(time.Now()); err != nil {
				cl.log.Error("zktls: not presenting the client certificate", "member", member, "error", err.Error())
				return nil, err
			}
			return m.cert, nil
		}
	}
	return tc
}
