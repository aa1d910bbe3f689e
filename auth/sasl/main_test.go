package sasl_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/testenv"
)

// One KDC and one set of servers serve the whole package (DESIGN: share per package).
var (
	kdc     *testenv.KDC
	pki     *testenv.PKI
	servers = map[string]*testenv.ZooKeeper{}
	envErr  error
	tmpDir  string
)

const (
	zk38      = "3.8"          // SASL configured, not enforced
	zk38Enf   = "3.8-enforced" // SASL enforced
	zk34      = "3.4"          // SASL on 3.4.13
	zk38TLS   = "3.8-tls"      // SASL + TLS (secure port only, clientAuth=need)
	zk38NoSAS = "3.8-nosasl"   // no SASL configured at all
)

func TestMain(m *testing.M) {
	code := run(m)
	os.Exit(code)
}

func run(m *testing.M) int {
	var err error
	if tmpDir, err = os.MkdirTemp("", "zksecure-sasl-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpDir)
	defer func() {
		for _, z := range servers {
			z.Close()
		}
		if kdc != nil {
			kdc.Close()
		}
	}()
	envErr = startEnv()
	code := m.Run()
	if code != 0 {
		for name, z := range servers {
			fmt.Fprintf(os.Stderr, "=== server %s\n", name)
			z.DumpLogs(os.Stderr, 25)
		}
		if kdc != nil {
			fmt.Fprintf(os.Stderr, "=== KDC log\n%s\n", mustReadTail(kdc.LogPath()))
		}
	}
	return code
}

func mustReadTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func startEnv() error {
	if err := testenv.Check(); err != nil {
		return err
	}
	ctx := context.Background()
	var err error
	kdc, err = testenv.StartKDC(ctx, testenv.KDCOptions{Dir: filepath.Join(tmpDir, "kdc"),
		Principals: []string{"zookeeper/localhost", "client", "other", "stale", "notzk/localhost"}})
	if err != nil {
		return err
	}
	if pki, err = testenv.NewPKI(filepath.Join(tmpDir, "pki")); err != nil {
		return err
	}
	opts := map[string]testenv.ZooKeeperOptions{
		zk38:      {SASL: &testenv.SASLServer{KDC: kdc}},
		zk38Enf:   {SASL: &testenv.SASLServer{KDC: kdc, Enforce: true}},
		zk34:      {Version: testenv.ZK34, SASL: &testenv.SASLServer{KDC: kdc}},
		zk38TLS:   {SASL: &testenv.SASLServer{KDC: kdc}, TLS: &testenv.TLSServer{PKI: pki}},
		zk38NoSAS: {},
	}
	servers, err = testenv.StartZooKeepers(ctx, tmpDir, opts)
	return err
}

func requireEnv(t testing.TB) {
	t.Helper()
	if envErr != nil {
		t.Fatalf("test environment: %v", envErr)
	}
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
