package sasl

import (
	"fmt"

	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/zksecure/zksecure/internal/bounded"
)

// loadKrb5Conf reads a krb5.conf within bounded.Config.
func loadKrb5Conf(path string) (*krbconfig.Config, error) {
	b, err := bounded.ReadFile(path, "krb5.conf", bounded.Config)
	if err != nil {
		return nil, err
	}
	return krbconfig.NewFromString(string(b))
}

// loadKeytab reads a keytab within bounded.Keytab. gokrb5's parser quotes the raw bytes — keys
// included — in its errors, and may panic on a malformed file: neither its error text nor a panic
// leaves this function.
func loadKeytab(path string) (*keytab.Keytab, error) {
	b, err := bounded.ReadFile(path, "keytab", bounded.Keytab)
	if err != nil {
		return nil, err
	}
	kt := keytab.New()
	if !parses(func() error { return kt.Unmarshal(b) }) {
		return nil, fmt.Errorf("%s is not a valid keytab (%d bytes, not shown: a keytab holds keys); check it with klist -k -t %s, or export it again", path, len(b), path)
	}
	return kt, nil
}

// loadCCache reads a ticket cache within bounded.TicketCache, with the same care as loadKeytab (a
// ticket cache holds session keys).
func loadCCache(path string) (*credentials.CCache, error) {
	b, err := bounded.ReadFile(path, "ticket cache", bounded.TicketCache)
	if err != nil {
		return nil, err
	}
	cc := new(credentials.CCache)
	if len(b) < 2 || !parses(func() error { return cc.Unmarshal(b) }) {
		return nil, fmt.Errorf("%s is not a valid ticket cache (%d bytes, not shown: a ticket cache holds keys)", path, len(b))
	}
	return cc, nil
}

// parses runs a gokrb5 parser and reports whether it succeeded; a panic in it is a failure too. Its
// error and panic value are dropped on purpose: both may carry the bytes being parsed.
func parses(f func() error) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f() == nil
}
