package testenv_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/zksecure/zksecure/testenv"
)

// Every format of a generated certificate opens with the documented password and holds the same key;
// the negative certificates carry what their names promise.
func TestPKIMaterial(t *testing.T) {
	p := shared(t).PKI
	c := p.Client
	b, err := os.ReadFile(c.EncryptedKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "ENCRYPTED PRIVATE KEY" {
		t.Fatalf("encrypted key PEM block = %v", blk)
	}
	if _, err := pkcs8.ParsePKCS8PrivateKey(blk.Bytes, []byte(testenv.KeyPassword)); err != nil {
		t.Fatalf("PBES2 key does not decrypt with KeyPassword: %v", err)
	}
	if _, err := pkcs8.ParsePKCS8PrivateKey(blk.Bytes, []byte("wrong")); err == nil {
		t.Error("PBES2 key decrypted with a wrong password")
	}
	pk, crt, cas, err := pkcs12.DecodeChain(mustRead(t, c.PKCS12File), testenv.KeyPassword)
	if err != nil {
		t.Fatalf("PKCS#12: %v", err)
	}
	if pk == nil || !crt.Equal(c.X509) || len(cas) != 1 || !cas[0].Equal(p.CA.X509) {
		t.Errorf("PKCS#12 holds cert %v and %d CAs", crt.Subject, len(cas))
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.CA.X509)
	if _, err := p.Server.X509.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"}); err != nil {
		t.Errorf("server certificate for localhost: %v", err)
	}
	if err := p.Server.X509.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("server certificate for 127.0.0.1: %v", err)
	}
	if !p.ExpiredServer.NotAfter.Before(time.Now()) {
		t.Errorf("expired certificate valid until %v", p.ExpiredServer.NotAfter)
	}
	if err := p.WrongHostServer.X509.VerifyHostname("localhost"); err == nil {
		t.Error("wrong-host certificate is valid for localhost")
	}
	if _, err := p.UnknownCAServer.X509.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"}); err == nil {
		t.Error("certificate of the unknown CA verifies against the test CA")
	}
	if c.Subject != "CN=client,OU=clients,O=zksecure" {
		t.Errorf("client subject = %q", c.Subject)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
