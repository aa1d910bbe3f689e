package client_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

var (
	kdc    *testenv.KDC
	pki    *testenv.PKI
	zkMain *testenv.ZooKeeper // 3.8: SASL (not enforced) + TLS (clientAuth=need) + plaintext port
	zk34   *testenv.ZooKeeper
	// ens is a 3-member ensemble: SASL (not enforced) on its plaintext ports, TLS (clientAuth=need)
	// with SASL on its secure ports. Tests that stop members or the KDC restore them (restore).
	ens     *testenv.ZooKeeper
	testEnv *testenv.Shared // set up by the first test that needs it
)

func TestMain(m *testing.M) {
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		var err error
		if kdc, err = s.StartKDC(ctx, testenv.KDCOptions{Principals: []string{"zookeeper/localhost", "client", "other"}}); err != nil {
			return err
		}
		if pki, err = s.NewPKI("pki"); err != nil {
			return err
		}
		zks, err := s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			"main": {SASL: &testenv.SASLServer{KDC: kdc}, TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}},
			"34":   {Version: testenv.ZK34},
			"ens":  {Members: 3, SASL: &testenv.SASLServer{KDC: kdc}, TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}},
		})
		if err != nil {
			return err
		}
		zkMain, zk34, ens = zks["main"], zks["34"], zks["ens"]
		return nil
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

func kerberos(t testing.TB, principal string) sasl.Config {
	t.Helper()
	kt, err := kdc.Keytab(context.Background(), principal)
	if err != nil {
		t.Fatal(err)
	}
	return sasl.Config{Login: sasl.Login{Principal: principal, Keytab: kt, Krb5Conf: kdc.Krb5Conf}}
}

func tlsWith(cert *testenv.Cert) *zktls.Config {
	c := &zktls.Config{CAFile: pki.CAFile}
	if cert != nil {
		c.CertFile = cert.KeystorePEM
	}
	return c
}

func connect(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 10 * time.Second
	}
	c, err := client.Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func members(s string) []string { return splitComma(s) }

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
