package bounded

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFileRefusesWhatIsTooLarge(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	os.WriteFile(small, []byte("0123456789"), 0o600)
	os.WriteFile(big, make([]byte, 11), 0o600)
	if b, err := ReadFile(small, "keytab", 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	_, err := ReadFile(big, "keytab", 10)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "10 bytes") {
		t.Fatalf("above the limit: %v", err)
	}
	// A device that never ends (no size to stat) is refused at the limit, not read forever.
	_, err = ReadFile("/dev/zero", "JAAS file", 1<<10)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1 KiB") || !strings.Contains(err.Error(), "JAAS file /dev/zero") {
		t.Fatalf("/dev/zero: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), "keytab", 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
