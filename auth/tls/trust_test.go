package zktls_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/tlsprobe"
	"github.com/zksecure/zksecure/testenv"
)

// Trust is judged apart from dates: an expired certificate from the trusted CA is trusted (its expiry
// is CheckValidity's finding); any certificate from another CA is not, whatever its dates.
func TestCheckTrustIgnoresDatesOnly(t *testing.T) {
	requireEnv(t)
	tc, err := zktls.Config{CAFile: pki.CAFile}.Load()
	if err != nil {
		t.Fatal(err)
	}
	uc, err := zktls.Config{CAFile: pki.UnknownCAFile}.Load()
	if err != nil {
		t.Fatal(err)
	}
	trusting, untrusting := tlsprobe.For(tc), tlsprobe.For(uc)
	expired := []*x509.Certificate{pki.ExpiredServer.X509, pki.CA.X509}
	if err := trusting.CheckTrust("m", expired); err != nil {
		t.Errorf("expired certificate of the trusted CA: %v", err)
	}
	if _, err := trusting.CheckValidity("m", expired, time.Now()); !errors.Is(err, zktls.ErrExpired) {
		t.Errorf("CheckValidity of an expired chain: %v", err)
	}
	for _, chain := range [][]*x509.Certificate{expired, {pki.Server.X509, pki.CA.X509}, {pki.Server.X509}} {
		if err := untrusting.CheckTrust("m", chain); !errors.Is(err, zktls.ErrUnknownCA) {
			t.Errorf("chain %s under another CA: %v, want ErrUnknownCA", chain[0].Subject, err)
		}
	}
	if err := untrusting.CheckTrust("m", []*x509.Certificate{pki.UnknownCAServer.X509}); err != nil {
		t.Errorf("certificate of the trusted (other) CA: %v", err)
	}
}

// The inspection configuration preflight gets carries the client certificate and the minimum
// version, and verifies nothing.
func TestProbeConfig(t *testing.T) {
	p, err := testenv.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cl, err := zktls.Config{CAFile: p.CAFile, CertFile: p.Client.CertFile, KeyFile: p.Client.KeyFile, MinVersion: tls.VersionTLS13}.Load()
	if err != nil {
		t.Fatal(err)
	}
	pc := tlsprobe.For(cl).Config()
	if !pc.InsecureSkipVerify || pc.VerifyConnection != nil || pc.VerifyPeerCertificate != nil {
		t.Errorf("probe config verifies: InsecureSkipVerify %v", pc.InsecureSkipVerify)
	}
	if pc.MinVersion != tls.VersionTLS13 {
		t.Errorf("probe MinVersion %x, want TLS 1.3", pc.MinVersion)
	}
	if len(pc.Certificates) != 1 || !pc.Certificates[0].Leaf.Equal(cl.Certificate()) {
		t.Errorf("probe config lacks the client certificate: %d certificates", len(pc.Certificates))
	}
}
