package zktls_test

import (
	"context"
	"fmt"
	"net"
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
	// revocationServer is the PKI's CRL distribution point and OCSP responder; revocableServer
	// the certificate of srv13, which names both.
	revocationServer *testenv.RevocationServer
	revocableServer  *testenv.Cert
)

const (
	srvNeed      = "need"      // TLS (need) + plaintext port + SASL
	srvWant      = "want"      // TLS (want), secure port only
	srvNone      = "none"      // TLS (none)
	srvExpired   = "expired"   // expired server certificate
	srvWrongHost = "wronghost" // certificate for wrong.example only
	srv13        = "tls13"     // TLS 1.3 only (clientAuth none), certificate with CRL and OCSP URLs
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
		if revocationServer, err = s.StartRevocationServer(pki); err != nil {
			return err
		}
		if revocableServer, err = pki.Issue("server-revocable", testenv.CertOptions{CommonName: "zookeeper", OrganizationalUnit: "servers",
			DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true,
			CRLDistributionPoints: []string{revocationServer.CRLURL}, OCSPServers: []string{revocationServer.OCSPURL}}); err != nil {
			return err
		}
		servers, err = s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			srvNeed:      {TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}, SASL: &testenv.SASLServer{KDC: kdc}},
			srvWant:      {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthWant}},
			srvNone:      {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone}},
			srvExpired:   {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone, Cert: pki.ExpiredServer}},
			srvWrongHost: {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone, Cert: pki.WrongHostServer}},
			srv13: {TLS: &testenv.TLSServer{PKI: pki, ClientAuth: testenv.ClientAuthNone, Cert: revocableServer},
				Extra: map[string]string{"ssl.protocol": "TLSv1.3", "ssl.enabledProtocols": "TLSv1.3",
					"ssl.ciphersuites": "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384"}},
			srv34: {Version: testenv.ZK34},
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
