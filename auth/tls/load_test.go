package zktls_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/testenv"
)

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(t *testing.T, argv ...string) {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
}

// Every supported format yields the client certificate; each unsupported or wrongly unlocked one
// fails with its own error that names the file and never contains the password.
func TestLoadKeyAndTrustFormats(t *testing.T) {
	requireEnv(t)
	c := pki.Client
	t.Setenv("ZK_TEST_KEY_PASSWORD", testenv.KeyPassword)
	jks := filepath.Join(t.TempDir(), "client.jks")
	runCmd(t, "keytool", "-importkeystore", "-noprompt", "-srckeystore", c.PKCS12File, "-srcstoretype", "PKCS12",
		"-srcstorepass", testenv.KeyPassword, "-destkeystore", jks, "-deststoretype", "JKS", "-deststorepass", testenv.KeyPassword,
		"-destkeypass", testenv.KeyPassword)
	trustJKS := filepath.Join(t.TempDir(), "trust.jks")
	runCmd(t, "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", pki.CAFile, "-keystore", trustJKS,
		"-storetype", "JKS", "-storepass", testenv.KeyPassword)
	good := map[string]zktls.Config{
		"PEM certificate and key":         {CertFile: c.CertFile, KeyFile: c.KeyFile, CAFile: pki.CAFile},
		"PEM keystore (chain and key)":    {CertFile: c.KeystorePEM, CAFile: pki.CAFile},
		"encrypted PKCS#8, password file": {CertFile: c.ChainFile, KeyFile: c.EncryptedKeyFile, KeyPasswordFile: c.PasswordFile, CAFile: pki.CAFile},
		"encrypted PKCS#8, password env":  {CertFile: c.CertFile, KeyFile: c.EncryptedKeyFile, KeyPasswordEnv: "ZK_TEST_KEY_PASSWORD", CAFile: pki.CAFile},
		"PKCS#12 bundle and truststore":   {CertFile: c.PKCS12File, KeyPasswordFile: c.PasswordFile, CAFile: pki.TrustStorePKCS12, CAPasswordFile: c.PasswordFile},
		"JKS keystore and truststore":     {CertFile: jks, KeyPasswordFile: c.PasswordFile, CAFile: trustJKS, CAPasswordFile: c.PasswordFile},
	}
	for name, cfg := range good {
		cl, err := cfg.Load()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := cl.Certificate(); got == nil || !got.Equal(c.X509) {
			t.Errorf("%s: loaded certificate %v, want %s", name, got, c.Subject)
		}
	}

	// Bad inputs, made the way users make them.
	wrongPW := writeFile(t, "wrong.password", "not-the-password\n")
	pbes1 := filepath.Join(t.TempDir(), "pbes1.key")
	runCmd(t, "openssl", "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", c.KeyFile, "-out", pbes1, "-passout", "file:"+c.PasswordFile)
	blk, _ := pem.Decode(mustRead(t, c.KeyFile))
	key, _ := x509.ParsePKCS8PrivateKey(blk.Bytes)
	der := x509.MarshalPKCS1PrivateKey(key.(*rsaKey))
	//lint:ignore SA1019 the legacy format (deprecated in Go for good reasons) is exactly what this test feeds the loader
	legacyBlk, err := x509.EncryptPEMBlock(randReader{}, "RSA PRIVATE KEY", der, []byte(testenv.KeyPassword), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	legacy := writeFile(t, "legacy.key", string(pem.EncodeToMemory(legacyBlk)))
	for _, tc := range []struct {
		name     string
		cfg      zktls.Config
		sentinel error
		mentions []string
	}{
		{"wrong password for encrypted PKCS#8", zktls.Config{CertFile: c.CertFile, KeyFile: c.EncryptedKeyFile, KeyPasswordFile: wrongPW, CAFile: pki.CAFile},
			zktls.ErrKeyPassword, []string{c.EncryptedKeyFile, wrongPW}},
		{"no password for encrypted PKCS#8", zktls.Config{CertFile: c.CertFile, KeyFile: c.EncryptedKeyFile, CAFile: pki.CAFile},
			zktls.ErrKeyPassword, []string{c.EncryptedKeyFile, "password"}},
		{"wrong password for PKCS#12", zktls.Config{CertFile: c.PKCS12File, KeyPasswordFile: wrongPW, CAFile: pki.CAFile},
			zktls.ErrKeyPassword, []string{c.PKCS12File}},
		{"wrong password for JKS", zktls.Config{CertFile: jks, KeyPasswordFile: wrongPW, CAFile: pki.CAFile},
			zktls.ErrKeyPassword, []string{jks}},
		{"PBES1 key", zktls.Config{CertFile: c.CertFile, KeyFile: pbes1, KeyPasswordFile: c.PasswordFile, CAFile: pki.CAFile},
			zktls.ErrUnsupportedKey, []string{pbes1, "PBES1", "openssl pkcs8 -topk8 -v2 aes-256-cbc"}},
		{"legacy Proc-Type encrypted PEM", zktls.Config{CertFile: c.CertFile, KeyFile: legacy, KeyPasswordFile: c.PasswordFile, CAFile: pki.CAFile},
			zktls.ErrUnsupportedKey, []string{legacy, "Proc-Type: 4,ENCRYPTED", "openssl pkcs8"}},
		{"key of another certificate", zktls.Config{CertFile: c.CertFile, KeyFile: pki.Client2.KeyFile, CAFile: pki.CAFile},
			zktls.ErrConfig, []string{"does not belong", "CN=client"}},
		{"certificate without key", zktls.Config{CertFile: c.CertFile, CAFile: pki.CAFile},
			zktls.ErrConfig, []string{"no private key", c.CertFile}},
		{"missing CA file", zktls.Config{CAFile: "/nonexistent/ca.pem"}, zktls.ErrConfig, []string{"/nonexistent/ca.pem"}},
		{"two password sources", zktls.Config{CertFile: c.PKCS12File, KeyPasswordFile: c.PasswordFile, KeyPasswordEnv: "X"},
			zktls.ErrConfig, []string{"more than one key password source"}},
	} {
		_, err := tc.cfg.Load()
		if err == nil {
			t.Errorf("%s: loaded", tc.name)
			continue
		}
		if !errors.Is(err, tc.sentinel) {
			t.Errorf("%s: %v is not %v", tc.name, err, tc.sentinel)
		}
		for _, m := range tc.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: %q does not mention %q", tc.name, err, m)
			}
		}
		if strings.Contains(err.Error(), testenv.KeyPassword) || strings.Contains(err.Error(), "not-the-password") {
			t.Errorf("%s: error leaks a password: %v", tc.name, err)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Secret never prints.
func TestSecretNeverPrints(t *testing.T) {
	s := zktls.Secret("hunter2")
	cfg := zktls.Config{KeyPassword: s}
	for _, out := range []string{s.String(), fmtAll(s), fmtAll(cfg)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
}
