package testenv_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/zksecure/zksecure/testenv"
)

// keytabEnctypes returns the encryption types a keytab holds for principal.
func keytabEnctypes(t *testing.T, path, principal string) map[int32]bool {
	t.Helper()
	kt, err := keytab.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]bool{}
	for _, e := range kt.Entries {
		if e.Principal.String() == principal {
			out[e.Key.KeyType] = true
		}
	}
	return out
}

// A domain with AD's defaults behaves as the issue saw it: users have AES keys, an SPN on a user
// account gets RC4 tickets (with an AES session key); msDS-SupportedEncryptionTypes=24 on the
// account gives the SPN AES keys and tickets. MIT kinit and kvno work against the DC.
func TestADDefaultsGiveSPNsRC4Keys(t *testing.T) {
	e := shared(t)
	ad := testenv.NewAD(t, testenv.ADOptions{Network: e.Net, HostName: "dc9",
		Principals: []string{"alice", "zookeeper/rc4.zk.test", "zookeeper/aes.zk.test"}})
	ctx := context.Background()
	if ad.Realm != "ZK.TEST" || ad.Account("zookeeper/rc4.zk.test") != "svc-zookeeper-rc4" {
		t.Fatalf("realm %s, account %q", ad.Realm, ad.Account("zookeeper/rc4.zk.test"))
	}
	if err := ad.SetSupportedEnctypes(ctx, testenv.ADEnctypesAES, "zookeeper/aes.zk.test"); err != nil {
		t.Fatal(err)
	}
	user, err := ad.Keytab(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := keytabEnctypes(t, user, "alice@ZK.TEST"); !got[etypeID.AES256_CTS_HMAC_SHA1_96] {
		t.Errorf("user keytab enctypes %v, want AES256", got)
	}
	// The keytab holds the account's keys (its UPN is the SPN), but the tickets are what matters:
	// RC4 under the defaults (klist below).
	if _, err := ad.Keytab(ctx, "zookeeper/rc4.zk.test"); err != nil {
		t.Fatal(err)
	}
	aes, err := ad.Keytab(ctx, "zookeeper/aes.zk.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := keytabEnctypes(t, aes, "zookeeper/aes.zk.test@ZK.TEST"); !got[etypeID.AES256_CTS_HMAC_SHA1_96] {
		t.Errorf("SPN keytab with msDS-SupportedEncryptionTypes=24 holds %v, want AES keys", got)
	}

	cache := filepath.Join(t.TempDir(), "cc")
	run := func(args ...string) string {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "KRB5_CONFIG="+ad.Krb5Conf, "KRB5CCNAME="+cache)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
		return string(out)
	}
	run("kinit", "-k", "-t", user, "alice@ZK.TEST")
	run("kvno", "zookeeper/rc4.zk.test@ZK.TEST", "zookeeper/aes.zk.test@ZK.TEST")
	// klist -e: a ticket's line, then "renew until …, Etype (skey, tkt): <session key>, <ticket>".
	etypes := map[string]string{}
	var last string
	for _, line := range strings.Split(run("klist", "-e"), "\n") {
		if f := strings.Fields(line); len(f) == 5 && strings.Contains(f[4], "@") {
			last = f[4]
		} else if _, et, ok := strings.Cut(line, "Etype (skey, tkt): "); ok && last != "" {
			etypes[last] = strings.TrimSpace(et)
		}
	}
	for spn, want := range map[string]string{
		"zookeeper/rc4.zk.test@ZK.TEST": "aes256-cts-hmac-sha1-96, DEPRECATED:arcfour-hmac",
		"zookeeper/aes.zk.test@ZK.TEST": "aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96",
	} {
		if etypes[spn] != want {
			t.Errorf("ticket for %s: etypes %q, want %q (all: %v)", spn, etypes[spn], want, etypes)
		}
	}
}

// With ADOptions.AES (kdc default domain supported enctypes = 24) an SPN on an account without
// msDS-SupportedEncryptionTypes gets AES keys, as the issue saw it.
func TestADDomainDefaultAES(t *testing.T) {
	e := shared(t)
	ad := testenv.NewAD(t, testenv.ADOptions{Network: e.Net, HostName: "dc8", AES: true, Principals: []string{"zookeeper/dom.zk.test"}})
	kt, err := ad.Keytab(context.Background(), "zookeeper/dom.zk.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := keytabEnctypes(t, kt, "zookeeper/dom.zk.test@ZK.TEST"); !got[etypeID.AES256_CTS_HMAC_SHA1_96] {
		t.Errorf("SPN keytab with the domain default AES holds %v, want AES keys", got)
	}
}
