package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// EnvOptions configures StartEnv. The zero value is a standalone ZooKeeper 3.8 with Kerberos SASL
// (not enforced) and no TLS, in a new temporary folder.
type EnvOptions struct {
	// Dir holds everything; empty means a new temporary folder, removed by Close.
	Dir string
	// Version and Members as in ZooKeeperOptions.
	Version Version
	Members int
	// NoSASL starts ZooKeeper without Kerberos (the KDC still runs).
	NoSASL bool
	// EnforceSASL makes the servers refuse unauthenticated sessions (3.8 only).
	EnforceSASL bool
	// RemoveHostFromPrincipal, RemoveRealmFromPrincipal as in SASLServer.
	RemoveHostFromPrincipal, RemoveRealmFromPrincipal bool
	// TLS opens a secure client port with the PKI's server certificate; ClientAuth as in TLSServer;
	// PlaintextPort keeps the plaintext port open beside it.
	TLS           bool
	ClientAuth    ClientAuth
	PlaintextPort bool
	// Domain, when set, puts the members on named hosts of a Network with that domain
	// (zk1.<domain>, …; see ZooKeeperOptions.Network), for packet and process faults. It needs an
	// isolated run (Isolate).
	Domain string
	// Servers fixes every member's id, host, ports and data folder, as a zoo.cfg's server.X lines
	// do (see ZooKeeperOptions.Servers; named hosts need Domain). Extra, TickTime and
	// MaxSessionTimeout are as in ZooKeeperOptions.
	Servers                     []ServerSpec
	Extra                       map[string]string
	TickTime, MaxSessionTimeout time.Duration
}

// Env is a complete kerberized ZooKeeper environment: a KDC with the usual principals, a PKI, and a
// running ZooKeeper.
type Env struct {
	// Dir holds the environment's files; KDC, PKI and ZooKeeper are its parts.
	Dir       string
	KDC       *KDC
	PKI       *PKI
	ZooKeeper *ZooKeeper
	// Network is the named-host network (nil without EnvOptions.Domain).
	Network *Network
	// ClientPrincipal ("client@REALM") logs in from ClientKeytab; JAASFile has a "Client" section
	// for it, as a Java client would use.
	ClientPrincipal, ClientKeytab, JAASFile string
	// JobManagerPrincipals are per-host principals "flink/jm1@REALM", "flink/jm2@REALM", with
	// JobManagerKeytabs in the same order.
	JobManagerPrincipals, JobManagerKeytabs []string

	ownDir bool
}

// EnvPrincipals are the principals every Env's KDC has (besides the ZooKeeper service principal).
var EnvPrincipals = []string{"client", "other", "flink/jm1", "flink/jm2"}

// StartEnv starts a KDC, writes a PKI and the client's keytab and JAAS file, and starts ZooKeeper.
func StartEnv(ctx context.Context, opts EnvOptions) (_ *Env, err error) {
	dir, own, err := workDir(opts.Dir, "zksecure-env-")
	if err != nil {
		return nil, err
	}
	e := &Env{Dir: dir, ownDir: own}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.KDC, err = StartKDC(ctx, KDCOptions{Dir: filepath.Join(dir, "kdc"),
		Principals: append([]string{"zookeeper/localhost"}, EnvPrincipals...)}); err != nil {
		return nil, err
	}
	if e.PKI, err = NewPKI(filepath.Join(dir, "pki")); err != nil {
		return nil, err
	}
	e.ClientPrincipal = e.KDC.Principal("client")
	if e.ClientKeytab, err = e.KDC.Keytab(ctx, "client"); err != nil {
		return nil, err
	}
	e.JAASFile = filepath.Join(dir, "jaas-client.conf")
	if err := os.WriteFile(e.JAASFile, []byte(JAASSection("Client", e.ClientKeytab, e.ClientPrincipal)), 0o644); err != nil {
		return nil, err
	}
	for _, jm := range []string{"flink/jm1", "flink/jm2"} {
		kt, err := e.KDC.Keytab(ctx, jm)
		if err != nil {
			return nil, err
		}
		e.JobManagerPrincipals = append(e.JobManagerPrincipals, e.KDC.Principal(jm))
		e.JobManagerKeytabs = append(e.JobManagerKeytabs, kt)
	}
	zo := ZooKeeperOptions{Version: opts.Version, Members: opts.Members, Dir: filepath.Join(dir, "zookeeper"),
		Servers: opts.Servers, Extra: opts.Extra, TickTime: opts.TickTime, MaxSessionTimeout: opts.MaxSessionTimeout}
	if opts.Domain != "" {
		if e.Network, err = NewNetwork(filepath.Join(dir, "net"), opts.Domain); err != nil {
			return nil, err
		}
		zo.Network = e.Network
	}
	if !opts.NoSASL {
		zo.SASL = &SASLServer{KDC: e.KDC, Enforce: opts.EnforceSASL,
			RemoveHostFromPrincipal: opts.RemoveHostFromPrincipal, RemoveRealmFromPrincipal: opts.RemoveRealmFromPrincipal}
	}
	if opts.TLS {
		zo.TLS = &TLSServer{PKI: e.PKI, ClientAuth: opts.ClientAuth, PlaintextPort: opts.PlaintextPort}
	}
	if e.ZooKeeper, err = StartZooKeeper(ctx, zo); err != nil {
		return nil, err
	}
	return e, nil
}

// NewEnv starts an Env for the duration of a test.
func NewEnv(t TB, opts EnvOptions) *Env {
	t.Helper()
	Require(t)
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "env")
	}
	e, err := StartEnv(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var b strings.Builder
			e.ZooKeeper.DumpLogs(&b, 30)
			t.Logf("ZooKeeper logs:\n%s\nKDC log:\n%s", b.String(), tailFile(e.KDC.LogPath(), 20))
		}
		e.Close()
	})
	return e
}

// Exports returns the environment as NAME=value pairs, for a shell (`zk-testenv up`) or a child
// process. Paths only: no password or key is ever in the values (KeyPasswordFile holds the password).
func (e *Env) Exports() []string {
	z := e.ZooKeeper
	out := []string{
		"KRB5_CONFIG=" + e.KDC.Krb5Conf,
		"ZK_REALM=" + e.KDC.Realm,
		"ZK_KDC=" + e.KDC.Addr,
		"ZK_QUORUM=" + z.ConnectString(),
		"ZK_VERSION=" + string(z.Version),
		"ZK_SERVER_PRINCIPAL=" + z.ServicePrincipal,
		"ZK_CLIENT_PRINCIPAL=" + e.ClientPrincipal,
		"ZK_CLIENT_KEYTAB=" + e.ClientKeytab,
		"ZK_JAAS=" + e.JAASFile,
		"ZK_TLS_CA=" + e.PKI.CAFile,
		"ZK_TLS_CERT=" + e.PKI.Client.CertFile,
		"ZK_TLS_KEY=" + e.PKI.Client.KeyFile,
		"ZK_TLS_KEY_ENCRYPTED=" + e.PKI.Client.EncryptedKeyFile,
		"ZK_TLS_KEY_PASSWORD_FILE=" + e.PKI.Client.PasswordFile,
		"ZK_TLS_PKCS12=" + e.PKI.Client.PKCS12File,
	}
	if s := z.SecureConnectString(); s != "" {
		out = append(out, "ZK_SECURE_QUORUM="+s)
	}
	if s := z.PlainConnectString(); s != "" {
		out = append(out, "ZK_PLAIN_QUORUM="+s)
	}
	return out
}

// Describe writes a human summary of the environment to w.
func (e *Env) Describe(w io.Writer) {
	z := e.ZooKeeper
	fmt.Fprintf(w, "KDC          %s realm %s (krb5.conf %s)\n", e.KDC.Addr, e.KDC.Realm, e.KDC.Krb5Conf)
	for _, m := range z.Members {
		fmt.Fprintf(w, "ZooKeeper %s member %d: plaintext %s, TLS %s, log %s\n", z.Version, m.ID,
			orNone(m.PlainAddr()), orNone(m.SecureAddr()), m.LogPath)
	}
	if z.ServicePrincipal != "" {
		fmt.Fprintf(w, "service principal %s\n", z.ServicePrincipal)
	}
	fmt.Fprintf(w, "client principal  %s (keytab %s)\n", e.ClientPrincipal, e.ClientKeytab)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Close stops ZooKeeper and the KDC and removes the folder if StartEnv created it.
func (e *Env) Close() error {
	if e.ZooKeeper != nil {
		e.ZooKeeper.Close()
	}
	if e.KDC != nil {
		e.KDC.Close()
	}
	if e.Network != nil {
		e.Network.Close()
	}
	if e.ownDir {
		os.RemoveAll(e.Dir)
	}
	return nil
}
