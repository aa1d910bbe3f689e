package zktls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/zksecure/zksecure/internal/bounded"
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
	// InsecureSkipVerify accepts any server certificate. DANGEROUS: anyone on the network path can
	// then read and change the traffic, credentials included. For experiments only.
	InsecureSkipVerify bool
	// MinVersion is the lowest TLS version; zero means TLS 1.2, and lower values are refused.
	MinVersion uint16
	// CipherSuites restricts the TLS 1.2 cipher suites; nil means Go's defaults.
	CipherSuites []uint16
	// LookupAddr does the reverse-DNS lookup used when a member is given as an IP address; nil means
	// net.DefaultResolver.LookupAddr.
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
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

// Client is a loaded TLS configuration. It is safe for concurrent use.
type Client struct {
	cfg      Config
	roots    *x509.CertPool
	rootList []*x509.Certificate // the trust store's CAs, nil for the system pool
	cert     *tls.Certificate
	min      uint16
}

// Load reads and checks every file of the configuration.
func (c Config) Load() (*Client, error) {
	kp := password{file: c.KeyPasswordFile, env: c.KeyPasswordEnv, value: c.KeyPassword, what: "key"}
	cp := password{file: c.CAPasswordFile, env: c.CAPasswordEnv, value: c.CAPassword, what: "truststore"}
	if err := kp.check(); err != nil {
		return nil, err
	}
	if err := cp.check(); err != nil {
		return nil, err
	}
	// The loaded Client keeps no password: the key is decrypted below, and a Client printed with %v
	// or %+v (its cfg is unexported, so Secret's redaction cannot run) must not show one.
	kept := c
	kept.KeyPassword, kept.CAPassword = "", ""
	cl := &Client{cfg: kept, min: c.MinVersion}
	if cl.min == 0 {
		cl.min = tls.VersionTLS12
	}
	if cl.min < tls.VersionTLS12 {
		return nil, fmt.Errorf("%w: TLS versions below 1.2 are not supported", ErrConfig)
	}
	if c.CertFile == "" && c.KeyFile != "" {
		return nil, fmt.Errorf("%w: key file %s given without a certificate file", ErrConfig, c.KeyFile)
	}
	if c.CertFile != "" {
		km, err := loadKeyStore(c.CertFile, c.CertType, c.KeyFile, kp)
		if err != nil {
			return nil, err
		}
		tc, err := km.certificate(c.CertFile)
		if err != nil {
			return nil, err
		}
		cl.cert = &tc
	}
	if c.CAFile != "" {
		certs, err := loadTrustStore(c.CAFile, c.CAType, cp)
		if err != nil {
			return nil, err
		}
		cl.roots, cl.rootList = x509.NewCertPool(), certs
		for _, crt := range certs {
			cl.roots.AddCert(crt)
		}
	} else {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("%w: no CA file given and the system CA pool is unavailable: %w", ErrConfig, err)
		}
		cl.roots = pool
	}
	return cl, nil
}

// Certificate returns the client certificate (leaf), or nil without one.
func (cl *Client) Certificate() *x509.Certificate {
	if cl.cert == nil {
		return nil
	}
	return cl.cert.Leaf
}

// ConfigFor returns the *tls.Config for one member ("host:port"); remoteIP is the address the
// connection goes to (nil: resolved from the host during verification).
func (cl *Client) ConfigFor(member string, remoteIP net.IP) *tls.Config {
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
		CipherSuites: cl.cfg.CipherSuites,
		// Go's own verification is replaced by verifyPeer, which reaches ZooKeeper's outcome
		// (VerifyConnection still runs, and a failure there aborts the handshake).
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cl.cfg.InsecureSkipVerify {
				return nil
			}
			return cl.verifyPeer(member, name, remoteIP, cs.PeerCertificates)
		},
	}
	if net.ParseIP(name) == nil {
		tc.ServerName = name // SNI
	}
	if cl.cert != nil {
		tc.Certificates = []tls.Certificate{*cl.cert}
	}
	return tc
}
