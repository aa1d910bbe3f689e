package zktls

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The crafted 35-byte JKS is an error that names the file, as keystore and as truststore; it never
// reaches the allocation.
func TestHugeChainJKSIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.jks")
	if err := os.WriteFile(path, hugeChainJKS, 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("changeit\n"), 0o600)
	for name, cfg := range map[string]Config{
		"keystore":   {CertFile: path, KeyPasswordFile: pwFile},
		"truststore": {CAFile: path, CAPasswordFile: pwFile},
	} {
		_, err := cfg.Load()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "certificate count") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
