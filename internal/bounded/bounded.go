// Package bounded reads the files zksecure parses — configurations, keys, stores, keytabs, password
// files — with a size limit checked before anything is parsed, so that a wrong path (/dev/zero, a log
// file) or a hostile file cannot make a parser hold or allocate without bound.
package bounded

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge is wrapped by the error for a file above its limit.
var ErrTooLarge = errors.New("file too large")

// Limits per kind of file: far above any real file of the kind, far below harm.
const (
	// Config is for flink-conf.yaml/config.yaml, Java properties, JAAS files and krb5.conf.
	Config = 1 << 20
	// Store is for keystores, truststores and CA bundles (a whole system CA bundle is ~220 KiB).
	Store = 4 << 20
	// Key is for a PEM private key file.
	Key = 1 << 20
	// Keytab is for Kerberos keytabs (thousands of entries).
	Keytab = 1 << 20
	// TicketCache is for a Kerberos ticket cache file.
	TicketCache = 4 << 20
	// Password is for a file holding a password.
	Password = 64 << 10
)

// ReadFile reads path, what it is named in errors ("keytab", "JAAS file"), refusing a file larger than
// limit bytes with an error that names the file and the limit. Files that report no size (pipes,
// devices) are read up to the limit and refused beyond it.
func ReadFile(path, what string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > limit {
		return nil, tooLarge(path, what, limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", what, path, err)
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(path, what, limit)
	}
	return b, nil
}

func tooLarge(path, what string, limit int64) error {
	return fmt.Errorf("%w: %s %s is larger than %s, the limit for a %s: is it the right file?", ErrTooLarge, what, path, Size(limit), what)
}

// Size formats a byte count as KiB or MiB when it is a whole number of them.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
