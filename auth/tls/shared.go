package zktls

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Shared returns the process's Client for cfg: every caller with an equal Config (same files,
// password sources, versions, suites, verification settings and Logger) gets the same Client, as
// long as its files have not changed since it loaded them. A process that opens many sessions —
// client.Connect with a fresh Config each time uses Shared — then reads and parses the files once,
// and keeps one Client's revocation answers and one place whose connections resume each other's
// TLS sessions.
//
// When any of the files changed since the shared Client read them (or one of them failed to load
// since, or the client certificate is no longer valid), Shared loads cfg afresh, exactly as Load
// does — with Load's error for a file that does not load — and the new Client becomes the shared
// one. Clients handed out before keep reading changed files themselves, as every Client does.
//
// A Config with LookupAddr is not shared (a function is not comparable): Shared then returns a new
// Client of its own. Shared Clients are never closed (a Client holds no goroutine and no open
// file).
func Shared(cfg Config) (*Client, error) {
	if cfg.LookupAddr != nil {
		return cfg.Load()
	}
	k := keyOf(cfg)
	shared.mu.Lock()
	cl := shared.m[k]
	shared.mu.Unlock()
	if cl != nil && cl.files.current(time.Now()) {
		return cl, nil
	}
	cl, err := cfg.Load()
	if err != nil {
		return nil, err
	}
	shared.mu.Lock()
	shared.m[k] = cl
	shared.mu.Unlock()
	return cl, nil
}

// shared holds the Clients of Shared by configuration. It grows by one entry per distinct Config
// a process uses; a Client replaced after its files changed is dropped from it.
var shared = struct {
	mu sync.Mutex
	m  map[sharedKey]*Client
}{m: map[sharedKey]*Client{}}

// sharedKey is a Config made comparable. Passwords given as values or in environment variables are
// kept as keyed hashes (HMAC-SHA256 under a key of this process), never as themselves: two Configs
// with the same files and different passwords must not share a Client that opened with one of them.
type sharedKey struct {
	certFile, keyFile, caFile          string
	certType, caType                   StoreType
	keyPasswordFile, keyPasswordEnv    string
	caPasswordFile, caPasswordEnv      string
	keyPassword, caPassword            [sha256.Size]byte
	serverName                         string
	noHostnameVerification, reverseDNS bool
	insecureSkipVerify, crl, ocsp      bool
	hostnameRules                      HostnameRules
	minVersion, maxVersion             uint16
	cipherSuites, crlFiles             string
	logger                             *slog.Logger
}

// hashKey keys the password hashes of sharedKey: random, per process.
var hashKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
})

// passwordHash is the keyed hash of what p resolves to now (a file's password is not read: the
// file is among the Client's files, whose changes Shared notices).
func passwordHash(p password) [sha256.Size]byte {
	var out [sha256.Size]byte
	var v []byte
	switch {
	case p.file != "":
		return out
	case p.env != "":
		v = []byte(os.Getenv(p.env))
	default:
		v = []byte(p.value)
	}
	h := hmac.New(sha256.New, hashKey())
	h.Write(v)
	copy(out[:], h.Sum(nil))
	return out
}

func keyOf(c Config) sharedKey {
	kp := passwordHash(password{file: c.KeyPasswordFile, env: c.KeyPasswordEnv, value: c.KeyPassword})
	cp := passwordHash(password{file: c.CAPasswordFile, env: c.CAPasswordEnv, value: c.CAPassword})
	return sharedKey{
		certFile: c.CertFile, keyFile: c.KeyFile, caFile: c.CAFile, certType: c.CertType, caType: c.CAType,
		keyPasswordFile: c.KeyPasswordFile, keyPasswordEnv: c.KeyPasswordEnv,
		caPasswordFile: c.CAPasswordFile, caPasswordEnv: c.CAPasswordEnv, keyPassword: kp, caPassword: cp,
		serverName: c.ServerName, noHostnameVerification: c.NoHostnameVerification, reverseDNS: c.AllowReverseDNSLookup,
		insecureSkipVerify: c.InsecureSkipVerify, crl: c.CRL, ocsp: c.OCSP, hostnameRules: c.HostnameRules,
		minVersion: c.MinVersion, maxVersion: c.MaxVersion,
		cipherSuites: fmt.Sprintf("%v/%t", c.CipherSuites, c.CipherSuites == nil), crlFiles: fmt.Sprintf("%q", c.CRLFiles),
		logger: c.Logger,
	}
}

// Generation counts the times the Client's files were read again after a change (reading them
// first if they changed now): two equal values mean the same certificate, key, trust store and
// CRLs, so that what a handshake with this Client found out about a member still holds.
func (cl *Client) Generation() uint64 { return cl.files.generation() }
