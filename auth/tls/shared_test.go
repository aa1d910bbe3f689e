package zktls_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/testenv"
)

// Equal Configs share one loaded Client (a process that connects with a fresh Config each time
// reads the files once, and its connections resume each other's TLS sessions); a Config that
// differs, if only in a password, gets its own. Once a file changed, Shared reads the files again
// as Load does (and the Clients handed out before read them by themselves, a new Generation): the
// new certificate is used, a broken file fails with Load's error, and restoring
// it works again.
func TestSharedClientUntilTheFilesChange(t *testing.T) {
	requireEnv(t)
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"), filepath.Join(dir, "ca.pem")
	replace(t, certFile, mustRead(t, pki.Client.ChainFile))
	replace(t, keyFile, mustRead(t, pki.Client.KeyFile))
	replace(t, caFile, mustRead(t, pki.CAFile))
	cfg := func() zktls.Config { return zktls.Config{CertFile: certFile, KeyFile: keyFile, CAFile: caFile} }

	a, err := zktls.Shared(cfg())
	if err != nil {
		t.Fatal(err)
	}
	b, err := zktls.Shared(cfg())
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two equal Configs got two Clients")
	}
	other := cfg()
	other.KeyPassword = "not-needed"
	if c, err := zktls.Shared(other); err != nil || c == a {
		t.Errorf("a Config with another password: %p (shared %p), %v; want a Client of its own", c, a, err)
	}
	suites := cfg()
	suites.CipherSuites = []uint16{0xc02f}
	if c, err := zktls.Shared(suites); err != nil || c == a {
		t.Errorf("a Config with other cipher suites: %p (shared %p), %v; want a Client of its own", c, a, err)
	}

	gen := a.Generation()
	if a.Generation() != gen {
		t.Error("Generation changed with no file changed")
	}
	rotated, err := pki.Issue(fmt.Sprintf("client-shared-%d", time.Now().UnixNano()), testenv.CertOptions{CommonName: "client-shared", OrganizationalUnit: "clients"})
	if err != nil {
		t.Fatal(err)
	}
	replace(t, certFile, mustRead(t, rotated.ChainFile))
	replace(t, keyFile, mustRead(t, rotated.KeyFile))
	if a.Generation() == gen {
		t.Error("Generation is the same after the certificate was replaced")
	}
	c, err := zktls.Shared(cfg())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Certificate(); got == nil || got.SerialNumber.Cmp(rotated.X509.SerialNumber) != 0 {
		t.Errorf("after the rotation Shared's certificate is %v, want serial %s", got, rotated.X509.SerialNumber)
	}
	if d, err := zktls.Shared(cfg()); err != nil || d != c {
		t.Errorf("after the rotation two equal Configs got %p and %p (%v)", c, d, err)
	}

	replace(t, keyFile, []byte("-----BEGIN PRIVATE KEY-----\ntruncat"))
	_, want := cfg().Load()
	if _, err := zktls.Shared(cfg()); err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("Shared with a broken key file: %v, want Load's error %v", err, want)
	}
	replace(t, keyFile, mustRead(t, rotated.KeyFile))
	if d, err := zktls.Shared(cfg()); err != nil || d.Certificate().SerialNumber.Cmp(rotated.X509.SerialNumber) != 0 {
		t.Errorf("Shared after the key file was restored: %v", err)
	}

	expired, err := pki.Issue(fmt.Sprintf("client-shared-expired-%d", time.Now().UnixNano()), testenv.CertOptions{CommonName: "client-expired",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	replace(t, certFile, mustRead(t, expired.ChainFile))
	replace(t, keyFile, mustRead(t, expired.KeyFile))
	if _, err := zktls.Shared(cfg()); !errors.Is(err, zktls.ErrExpired) {
		t.Errorf("Shared with an expired certificate: %v, want ErrExpired", err)
	}
}
