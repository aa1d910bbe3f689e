package zktls_test

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	zktls "github.com/zksecure/zksecure/auth/tls"
)

// fromProps maps Java client properties onto a Config, failing the test on an error.
func fromProps(t *testing.T, props map[string]string) zktls.Config {
	t.Helper()
	p, err := zktls.FromProperties(props, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.Config
}

// version dials member and returns the negotiated TLS version.
func version(t *testing.T, cfg zktls.Config, member string) (uint16, error) {
	t.Helper()
	cl := load(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cl.Dial(ctx, member)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.ConnectionState().Version, nil
}

// zookeeper.ssl.protocol / enabledProtocols / ciphersuites against a server configured for TLS 1.3
// only and against Debian 3.8's default (TLS 1.2): the defaults reach both, TLSv1.3 is TLS 1.3,
// and a configuration the server cannot meet fails saying so.
func TestProtocolsAgainstTLS13Server(t *testing.T) {
	requireEnv(t)
	m13 := servers[srv13].Members[0].SecureAddr()
	m12 := servers[srvNone].Members[0].SecureAddr()
	ca := map[string]string{"zookeeper.ssl.trustStore.location": pki.CAFile, "zookeeper.ssl.trustStore.type": "PEM"}
	with := func(kv ...string) map[string]string {
		p := map[string]string{}
		for k, v := range ca {
			p[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		props  map[string]string
		member string
		want   uint16
	}{
		{"defaults, TLS 1.3 server", with(), m13, tls.VersionTLS13},
		{"defaults, Debian 3.8 server", with(), m12, tls.VersionTLS12},
		{"protocol TLSv1.3", with("zookeeper.ssl.protocol", "TLSv1.3"), m13, tls.VersionTLS13},
		{"TLS 1.3 suites only", with("zookeeper.ssl.ciphersuites", "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256"), m13, tls.VersionTLS13},
		{"enabledProtocols both", with("zookeeper.ssl.enabledProtocols", "TLSv1.2,TLSv1.3"), m12, tls.VersionTLS12},
		{"Java suite names, TLS 1.2", with("zookeeper.ssl.ciphersuites", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"), m12, tls.VersionTLS12},
	} {
		v, err := version(t, fromProps(t, tc.props), tc.member)
		if err != nil || v != tc.want {
			t.Errorf("%s: version %x, %v; want %x", tc.name, v, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name   string
		props  map[string]string
		member string
	}{
		{"protocol TLSv1.2 against TLS 1.3 only", with("zookeeper.ssl.protocol", "TLSv1.2"), m13},
		{"TLS 1.2 suites only against TLS 1.3 only", with("zookeeper.ssl.ciphersuites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), m13},
		{"protocol TLSv1.3 against TLS 1.2 only", with("zookeeper.ssl.protocol", "TLSv1.3"), m12},
	} {
		_, err := version(t, fromProps(t, tc.props), tc.member)
		if !errors.Is(err, zktls.ErrNoCommonProtocol) || !strings.Contains(err.Error(), tc.member) || !strings.Contains(err.Error(), "zookeeper.ssl.enabledProtocols") {
			t.Errorf("%s: %v, want ErrNoCommonProtocol naming the member and the keys", tc.name, err)
		}
	}
}

// zookeeper.ssl.crl: the server certificate's CRL distribution point (or a configured CRL file)
// decides; a revoked server certificate fails with its serial; without any CRL the status is
// unknown, which fails as in the Java client. zookeeper.ssl.ocsp asks the responder first.
func TestRevocationOfTheServerCertificate(t *testing.T) {
	requireEnv(t)
	member := servers[srv13].Members[0].SecureAddr()
	serial := strings.ToUpper(revocableServer.X509.SerialNumber.Text(16))
	crlOn := zktls.Config{CAFile: pki.CAFile, CRL: true}
	ocspOn := zktls.Config{CAFile: pki.CAFile, OCSP: true}

	crl0, ocsp0 := revocationServer.Requests()
	if _, err := version(t, crlOn, member); err != nil {
		t.Fatalf("CRL from the distribution point, not revoked: %v", err)
	}
	if _, err := version(t, ocspOn, member); err != nil {
		t.Fatalf("OCSP, not revoked: %v", err)
	}
	if crl1, ocsp1 := revocationServer.Requests(); crl1 == crl0 || ocsp1 == ocsp0 {
		t.Errorf("the distribution point (%d→%d) or the responder (%d→%d) was not asked", crl0, crl1, ocsp0, ocsp1)
	}
	// A CRL file that lists the certificate wins over the distribution point (which still says good).
	revokedFile := filepath.Join(t.TempDir(), "revoked.crl")
	if err := pki.WriteCRL(revokedFile, revocableServer); err != nil {
		t.Fatal(err)
	}
	_, err := version(t, zktls.Config{CAFile: pki.CAFile, CRLFiles: []string{revokedFile}}, member)
	if !errors.Is(err, zktls.ErrRevoked) || !strings.Contains(err.Error(), "serial "+serial) || !strings.Contains(err.Error(), revokedFile) {
		t.Errorf("revoked in a CRL file: %v", err)
	}
	// Without any CRL for its certificate (PKI.Server has no distribution point), a member fails.
	_, err = version(t, crlOn, servers[srvNone].Members[0].SecureAddr())
	if !errors.Is(err, zktls.ErrRevocationUnknown) || !strings.Contains(err.Error(), "no CRL distribution point") {
		t.Errorf("no CRL at all: %v", err)
	}
	// Revoked at the CA: both the CRL and the OCSP answer say so, from the next new client on.
	revocationServer.Revoke(revocableServer)
	t.Cleanup(func() { revocationServer.Unrevoke(revocableServer) })
	for name, cfg := range map[string]zktls.Config{"CRL": crlOn, "OCSP": ocspOn} {
		_, err := version(t, cfg, member)
		if !errors.Is(err, zktls.ErrRevoked) || !strings.Contains(err.Error(), "serial "+serial) || !strings.Contains(err.Error(), "keyCompromise") {
			t.Errorf("%s, revoked: %v", name, err)
		}
	}
}
