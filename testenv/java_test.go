package testenv_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// clientJAAS writes a JAAS file with a Client section for principal, logging in from a fresh keytab.
func clientJAAS(t *testing.T, k *testenv.KDC, principal string) string {
	t.Helper()
	kt, err := k.Keytab(context.Background(), principal)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jaas.conf")
	if err := os.WriteFile(path, []byte(testenv.JAASSection("Client", kt, k.Principal(principal))), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The Java client authenticates with Kerberos to a SASL-enforcing 3.8 server and gets its principal
// as identity; a Java client without SASL on the same server is refused with -124.
func TestJavaClientSASLOnEnforcingServer(t *testing.T) {
	e := shared(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{SASL: &testenv.SASLServer{KDC: e.KDC, Enforce: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	authed := testenv.NewJavaClient(t, testenv.JavaClientOptions{JAASFile: clientJAAS(t, e.KDC, "client"), Krb5Conf: e.KDC.Krb5Conf})
	if _, _, err := authed.Connect(ctx, z.ConnectString(), 10*time.Second, true); err != nil {
		t.Fatalf("SASL connect: %v", err)
	}
	ids, err := authed.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := "sasl:" + e.KDC.Principal("client")
	if !slices.Contains(ids, want) {
		t.Errorf("whoami = %v, want it to contain %s", ids, want)
	}
	if _, err := authed.Create(ctx, "/owned", "x", "creator", "persistent"); err != nil {
		t.Fatalf("authenticated create: %v", err)
	}
	acl, err := authed.GetACL(ctx, "/owned")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(acl, []string{want + ":cdrwa"}) {
		t.Errorf("ACL of creator-only node = %v, want [%s:cdrwa]", acl, want)
	}

	anon := testenv.NewJavaClient(t, testenv.JavaClientOptions{})
	_, _, err = anon.Connect(ctx, z.ConnectString(), 10*time.Second, false)
	if err == nil {
		_, err = anon.Get(ctx, "/owned")
	}
	var je *testenv.JavaError
	if !errors.As(err, &je) || je.Code != "SESSIONCLOSEDREQUIRESASLAUTH" {
		t.Fatalf("unauthenticated client on an enforcing server: err = %v, want SESSIONCLOSEDREQUIRESASLAUTH (-124)", err)
	}
}

// Without enforcement, an unauthenticated Java client connects, but cannot read a node that only the
// SASL identity may read (NOAUTH): the server really applies sasl ACLs.
func TestJavaClientSASLIdentityGuardsNodes(t *testing.T) {
	e := shared(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{Version: testenv.ZK34, SASL: &testenv.SASLServer{KDC: e.KDC}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner := testenv.NewJavaClient(t, testenv.JavaClientOptions{JAASFile: clientJAAS(t, e.KDC, "client"), Krb5Conf: e.KDC.Krb5Conf})
	if _, _, err := owner.Connect(ctx, z.ConnectString(), 10*time.Second, true); err != nil {
		t.Fatalf("SASL connect to 3.4: %v", err)
	}
	if _, err := owner.Create(ctx, "/private", "secret-data", "sasl:"+e.KDC.Principal("client")+":cdrwa", "persistent"); err != nil {
		t.Fatal(err)
	}
	if got, err := owner.Get(ctx, "/private"); err != nil || got != "secret-data" {
		t.Fatalf("owner read = %q, %v", got, err)
	}
	other := testenv.NewJavaClient(t, testenv.JavaClientOptions{JAASFile: clientJAAS(t, e.KDC, "other"), Krb5Conf: e.KDC.Krb5Conf})
	if _, _, err := other.Connect(ctx, z.ConnectString(), 10*time.Second, true); err != nil {
		t.Fatal(err)
	}
	_, err := other.Get(ctx, "/private")
	var je *testenv.JavaError
	if !errors.As(err, &je) || je.Code != "NOAUTH" {
		t.Fatalf("read by another principal: err = %v, want NOAUTH", err)
	}
}
