package zktls_test

import (
	"crypto/x509"
	"errors"
	"testing"
	"time"

	zktls "github.com/zksecure/zksecure/auth/tls"
)

// Trust is judged apart from dates: an expired certificate from the trusted CA is trusted (its expiry
// is CheckValidity's finding); any certificate from another CA is not, whatever its dates.
func TestCheckTrustIgnoresDatesOnly(t *testing.T) {
	requireEnv(t)
	trusting, err := zktls.Config{CAFile: pki.CAFile}.Load()
	if err != nil {
		t.Fatal(err)
	}
	untrusting, err := zktls.Config{CAFile: pki.UnknownCAFile}.Load()
	if err != nil {
		t.Fatal(err)
	}
	expired := []*x509.Certificate{pki.ExpiredServer.X509, pki.CA.X509}
	if err := trusting.CheckTrust("m", expired); err != nil {
		t.Errorf("expired certificate of the trusted CA: %v", err)
	}
	if _, err := zktls.CheckValidity("m", expired, time.Now()); !errors.Is(err, zktls.ErrExpired) {
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
