package testenv_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// A keytab written by the KDC logs in with gokrb5 and yields a service ticket for the ZooKeeper
// service principal, encrypted with an AES type.
func TestKDCIssuesTGTAndServiceTicket(t *testing.T) {
	k := shared(t).KDC
	ctx := context.Background()
	kt, err := k.Keytab(ctx, "client")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(k.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	ktab, err := keytab.Load(kt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ktab.Entries {
		if e.Key.KeyType != 17 && e.Key.KeyType != 18 {
			t.Errorf("keytab entry %s has enctype %d, want AES (17/18) only", e.Principal.String(), e.Key.KeyType)
		}
	}
	cl := krbclient.NewWithKeytab("client", k.Realm, ktab, cfg, krbclient.DisablePAFXFAST(true))
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		t.Fatalf("login with keytab: %v", err)
	}
	tkt, key, err := cl.GetServiceTicket("zookeeper/localhost")
	if err != nil {
		t.Fatalf("service ticket: %v", err)
	}
	if got := tkt.SName.PrincipalNameString(); got != "zookeeper/localhost" {
		t.Errorf("ticket for %q, want zookeeper/localhost", got)
	}
	if key.KeyType != 17 && key.KeyType != 18 {
		t.Errorf("session key enctype %d, want AES", key.KeyType)
	}
}

// A keytab made stale by a key change fails to log in with a Kerberos error, not a hang.
func TestKDCRandomizedKeyMakesKeytabStale(t *testing.T) {
	k := shared(t).KDC
	ctx := context.Background()
	name := fmt.Sprintf("stale-%d", time.Now().UnixNano()) // the KDC is shared across -count runs
	if err := k.AddPrincipals(ctx, name); err != nil {
		t.Fatal(err)
	}
	kt, err := k.Keytab(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.RandomizeKey(ctx, name); err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Load(k.Krb5Conf)
	ktab, _ := keytab.Load(kt)
	cl := krbclient.NewWithKeytab(name, k.Realm, ktab, cfg, krbclient.DisablePAFXFAST(true))
	defer cl.Destroy()
	err = cl.Login()
	if err == nil {
		t.Fatal("login with a stale keytab succeeded")
	}
	if !strings.Contains(err.Error(), "KDC_ERR_PREAUTH_FAILED") && !strings.Contains(err.Error(), "Decrypt") &&
		!strings.Contains(err.Error(), "decrypt") {
		t.Errorf("stale keytab error = %v, want a preauth/decrypt failure", err)
	}
}
