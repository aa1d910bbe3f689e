package zktls_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/zksecure/zksecure/testenv"
)

var (
	kdc     *testenv.KDC
	pki     *testenv.PKI
	servers = map[string]*testenv.ZooKeeper{}
	envErr  error
)

const (
	srvNeed      = "need"      // TLS (need) + plaintext port + SASL
	srvWant      = "want"      // TLS (want), secure port only
	srvNone      = "none"      // TLS (none)
	srvExpired   = "expired"   // expired server certificate
	srvWrongHost = "wronghost" // certificate for wrong.example only
	srv34        = "3.4"
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "zksecure-tls-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	defer func() {
		for _, z := range servers {
			z.Close()
		}
		if kdc != nil {
			kdc.Close()
		}
	}()
	envErr = start(dir)
	code := m.Run()
	if code != 0 {
		for name, z := range servers {
			fmt.Fprintf(os.Stderr, "=== server %s\n", name)
			z.DumpLogs(os.Stderr, 20)
		}
	}
	return code
}

func start(dir string) error {
	if err := testenv.Check(); err != nil {
		return err
	}
	ctx := context.Background()
	var err error
	if kdc, err = testenv.StartKDC(ctx, testenv.KDCOptions{Dir: filepath.Join(dir, "kdc"), Principals: []string{"zookeeper/localhost", "client"}}); err != nil {
		return err
	}
	if pki, err = testenv.NewPKI(filepath.Join(dir, "pki")); err != nil {
		return err
	}
	opts := map[string]testenv.ZooKeeperOptions{
		srvNeed:      {TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}, SASL: &testenv.SASLServer{KDC: kdc}},
		srvWant:      {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthWant}},
		srvNone:      {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone}},
		srvExpired:   {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone, Cert: pki.ExpiredServer}},
		srvWrongHost: {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone, Cert: pki.WrongHostServer}},
		srv34:        {Version: testenv.ZK34},
	}
	servers, err = testenv.StartZooKeepers(ctx, dir, opts)
	return err
}

func requireEnv(t testing.TB) {
	t.Helper()
	if envErr != nil {
		t.Fatalf("test environment: %v", envErr)
	}
}
