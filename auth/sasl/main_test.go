package sasl_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/testenv"
)

// One MIT KDC, one Active Directory domain controller (Samba) and one set of servers per KDC serve
// the whole package (DESIGN: share per package). The tests run in a private network namespace
// (testenv.Isolate), where the DC and the AD-keyed servers have named hosts of domain ad.test.
var (
	kdc     *testenv.KDC                  // the MIT KDC
	servers map[string]*testenv.ZooKeeper // the MIT-keyed servers (and zk38NoSAS)
	pki     *testenv.PKI
	ad      *testenv.AD
	mitEnv  *kdcEnv
	adEnv   *kdcEnv
	realms  []*kdcEnv // MIT, then AD: the suite runs against each
	testEnv *testenv.Shared
)

const (
	zk38      = "3.8"          // SASL configured, not enforced
	zk38Enf   = "3.8-enforced" // SASL enforced
	zk34      = "3.4"          // SASL on 3.4.13
	zk38TLS   = "3.8-tls"      // SASL + TLS (secure port only, clientAuth=need)
	zk38NoSAS = "3.8-nosasl"   // no SASL configured at all
	zkRC4     = "3.8-rc4"      // AD only: an SPN with AD's default encryption types
)

// kdcEnv is one KDC and the servers keyed from it.
type kdcEnv struct {
	name    string // "MIT" or "AD"
	kdc     *testenv.KDC
	servers map[string]*testenv.ZooKeeper // zk38 and zk38Enf for both; more for MIT
	// otherService is a service principal the KDC knows that no server has: a ticket for it is
	// rejected by the server (AuthFailed).
	otherService string

	mu      sync.Mutex
	keytabs map[string]string // principal → a keytab of its current keys, shared by the tests
}

// exportKeytabs exports the principals' keytabs in one batch (one samba run on AD) for keytab.
func (r *kdcEnv) exportKeytabs(ctx context.Context, principals ...string) error {
	paths, err := r.kdc.Keytabs(ctx, principals...)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keytabs == nil {
		r.keytabs = map[string]string{}
	}
	for p, path := range paths {
		r.keytabs[p] = path
	}
	return nil
}

// adUsers and adSPNs are the AD's accounts; every SPN holder is given AES (msDS-SupportedEncryptionTypes
// = 24), as an AD administrator must for a JDK ZooKeeper server.
var (
	mitUsers = []string{"client", "other", "stale"}
	adUsers  = mitUsers
	adSPNs   = []string{"zookeeper/zk1.ad.test", "zookeeper/zke1.ad.test", "zookeeper/zke2.ad.test", "notzk/zk1.ad.test", "zookeeper/localhost"}
)

func TestMain(m *testing.M) {
	code, parent, isoErr := testenv.Isolate()
	if parent {
		os.Exit(code)
	}
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		if isoErr != nil {
			return isoErr
		}
		network, err := s.NewNetwork("ad.test")
		if err != nil {
			return err
		}
		// The domain controller and its servers start while the MIT side does.
		adDone := make(chan error, 1)
		go func() { adDone <- startAD(ctx, s, network) }()
		mitErr := startMIT(ctx, s)
		if err := errors.Join(mitErr, <-adDone); err != nil {
			return err
		}
		adEnv.servers[zk38NoSAS] = servers[zk38NoSAS] // no Kerberos: one server for both
		realms = []*kdcEnv{mitEnv, adEnv}
		return nil
	})
	code = testEnv.Run(m)
	// After Run has stopped the servers: no goroutine of the tests may remain.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func startMIT(ctx context.Context, s *testenv.Shared) error {
	var err error
	if kdc, err = s.StartKDC(ctx, testenv.KDCOptions{Principals: append([]string{"zookeeper/localhost", "notzk/localhost"}, mitUsers...)}); err != nil {
		return err
	}
	if pki, err = s.NewPKI("pki"); err != nil {
		return err
	}
	servers, err = s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
		zk38:      {SASL: &testenv.SASLServer{KDC: kdc}},
		zk38Enf:   {SASL: &testenv.SASLServer{KDC: kdc, Enforce: true}},
		zk34:      {Version: testenv.ZK34, SASL: &testenv.SASLServer{KDC: kdc}},
		zk38TLS:   {SASL: &testenv.SASLServer{KDC: kdc}, TLS: &testenv.TLSServer{PKI: pki}},
		zk38NoSAS: {},
	})
	if err != nil {
		return err
	}
	mitEnv = &kdcEnv{name: "MIT", kdc: kdc, servers: servers, otherService: "notzk/localhost"}
	return mitEnv.exportKeytabs(ctx, mitUsers...)
}

func startAD(ctx context.Context, s *testenv.Shared, network *testenv.Network) error {
	var err error
	if ad, err = s.StartAD(ctx, testenv.ADOptions{Network: network, Principals: append(append([]string{}, adUsers...), adSPNs...)}); err != nil {
		return err
	}
	if err := ad.SetSupportedEnctypes(ctx, testenv.ADEnctypesAES, adSPNs...); err != nil {
		return err
	}
	adEnv = &kdcEnv{name: "AD", kdc: ad.KDC, otherService: "notzk/zk1.ad.test"}
	if err := adEnv.exportKeytabs(ctx, adUsers...); err != nil {
		return err
	}
	// Cluster names are folder names in the shared environment: prefixed, apart from the MIT ones.
	zks, err := s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
		"ad-" + zk38:    {Network: network, HostPrefix: "zk", SASL: &testenv.SASLServer{KDC: ad.KDC}},
		"ad-" + zk38Enf: {Network: network, HostPrefix: "zke", Members: 2, SASL: &testenv.SASLServer{KDC: ad.KDC, Enforce: true}},
		// Its SPN zookeeper/zkr1.ad.test keeps AD's defaults: RC4 tickets, an RC4-only keytab.
		"ad-" + zkRC4: {Network: network, HostPrefix: "zkr", SASL: &testenv.SASLServer{KDC: ad.KDC}},
	})
	if err != nil {
		return err
	}
	adEnv.servers = map[string]*testenv.ZooKeeper{zk38: zks["ad-"+zk38], zk38Enf: zks["ad-"+zk38Enf], zkRC4: zks["ad-"+zkRC4]}
	return nil
}

func requireEnv(t testing.TB) {
	t.Helper()
	testEnv.Require(t)
}

// forEachKDC runs f as a subtest against the MIT KDC and against the AD domain controller.
func forEachKDC(t *testing.T, f func(t *testing.T, r *kdcEnv)) {
	t.Helper()
	requireEnv(t)
	for _, r := range realms {
		t.Run(r.name, func(t *testing.T) { f(t, r) })
	}
}

// keytab exports a fresh keytab for principal from the MIT KDC.
func keytab(t testing.TB, principal string) string {
	t.Helper()
	return mitEnv.keytab(t, principal)
}

// keytab returns a keytab of principal's current keys: exported once and shared (tests only read
// keytabs), except for "stale", whose keys a test changes after exporting them.
func (r *kdcEnv) keytab(t testing.TB, principal string) string {
	t.Helper()
	r.mu.Lock()
	kt, ok := r.keytabs[principal]
	r.mu.Unlock()
	if ok && principal != "stale" {
		return kt
	}
	kt, err := r.kdc.Keytab(context.Background(), principal)
	if err != nil {
		t.Fatal(err)
	}
	return kt
}

// tlsDialer dials the secure port with the test CA and the client certificate.
func tlsDialer(t testing.TB) zk.Dialer {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(pki.Client.CertFile, pki.Client.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(pki.CA.X509)
	return func(network, addr string, timeout time.Duration) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout},
			Config: &tls.Config{RootCAs: pool, ServerName: host, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
		return d.Dial(network, addr)
	}
}
