package sasl_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/testenv"
)

// One KDC and one set of servers serve the whole package (DESIGN: share per package).
var (
	kdc     *testenv.KDC
	pki     *testenv.PKI
	servers map[string]*testenv.ZooKeeper
	testEnv *testenv.Shared // set up by the first test that needs it
)

const (
	zk38      = "3.8"          // SASL configured, not enforced
	zk38Enf   = "3.8-enforced" // SASL enforced
	zk34      = "3.4"          // SASL on 3.4.13
	zk38TLS   = "3.8-tls"      // SASL + TLS (secure port only, clientAuth=need)
	zk38NoSAS = "3.8-nosasl"   // no SASL configured at all
	zk39      = "3.9"          // SASL enforced + TLS (clientAuth=need) with a plaintext port too
)

func TestMain(m *testing.M) {
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		var err error
		if kdc, err = s.StartKDC(ctx, testenv.KDCOptions{
			Principals: []string{"zookeeper/localhost", "client", "other", "stale", "notzk/localhost"}}); err != nil {
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
			zk39: {Version: testenv.ZK39, SASL: &testenv.SASLServer{KDC: kdc, Enforce: true},
				TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}},
		})
		return err
	})
	code := testEnv.Run(m)
	// After Run has stopped the servers: no goroutine of the tests may remain.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func requireEnv(t testing.TB) {
	t.Helper()
	testEnv.Require(t)
}

// keytab exports a fresh keytab for principal.
func keytab(t testing.TB, principal string) string {
	t.Helper()
	kt, err := kdc.Keytab(context.Background(), principal)
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
