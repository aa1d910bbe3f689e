package zktls_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/testenv"
)

var (
	kdc     *testenv.KDC
	pki     *testenv.PKI
	servers map[string]*testenv.ZooKeeper
	testEnv *testenv.Shared // set up by the first test that needs it
)

const (
	srvNeed      = "need"      // TLS (need) + plaintext port + SASL
	srvWant      = "want"      // TLS (want), secure port only
	srvNone      = "none"      // TLS (none)
	srvExpired   = "expired"   // expired server certificate
	srvWrongHost = "wronghost" // certificate for wrong.example only
	srv34        = "3.4"
)

func TestMain(m *testing.M) {
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		var err error
		if kdc, err = s.StartKDC(ctx, testenv.KDCOptions{Principals: []string{"zookeeper/localhost", "client"}}); err != nil {
			return err
		}
		if pki, err = s.NewPKI("pki"); err != nil {
			return err
		}
		servers, err = s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			srvNeed:      {TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}, SASL: &testenv.SASLServer{KDC: kdc}},
			srvWant:      {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthWant}},
			srvNone:      {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone}},
			srvExpired:   {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone, Cert: pki.ExpiredServer}},
			srvWrongHost: {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone, Cert: pki.WrongHostServer}},
			srv34:        {Version: testenv.ZK34},
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
