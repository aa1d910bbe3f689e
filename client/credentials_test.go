package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
)

// Clients given ready credentials — one Authenticator and one loaded TLS configuration — log in
// once and fetch the service ticket once between them, and each session has both identities. A
// permanent authentication failure of one client (a server without SASL) fails that Connect only:
// the shared Authenticator and the other clients go on.
func TestSharedCredentialsLogInOnce(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	if err := kdc.AddPrincipals(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	root, err := sasl.New(kerberos(t, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	tc, err := tlsWith(pki.Client).Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg := client.Config{Members: members(zkMain.SecureConnectString()), Root: "/shared", TLSClient: tc, Authenticator: root, ACL: acl.Creator()}
	want := []string{"sasl:" + kdc.Principal("shared"), "x509:" + pki.Client.Subject}
	var clients []*client.Client
	for range 3 {
		c := connect(t, cfg)
		clients = append(clients, c)
		got, err := c.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, id := range got {
			s = append(s, id.String())
		}
		slices.Sort(s)
		if !slices.Equal(s, want) {
			t.Errorf("Identities = %v, want %v", s, want)
		}
		if c.Authenticator() == root {
			t.Error("the client authenticates with the shared Authenticator itself, not a Fork of it")
		}
	}
	issued, err := kdc.Issued("shared")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("issued %v", issued)
	if n := issued["krbtgt/"+kdc.Realm+"@"+kdc.Realm]; n != 1 {
		t.Errorf("%d logins for 3 clients, want 1 (%v)", n, issued)
	}
	if n := issued["zookeeper/localhost@"+kdc.Realm]; n != 1 {
		t.Errorf("%d service tickets for 3 clients of one member, want 1 (%v)", n, issued)
	}

	_, err = client.Connect(ctx, client.Config{Members: members(zk34.ConnectString()), Authenticator: root})
	var ae *sasl.AuthError
	if !errors.As(err, &ae) || !ae.Permanent {
		t.Fatalf("SASL to a server without SASL: err = %v, want a permanent AuthError", err)
	}
	if err := root.Err(); err != nil {
		t.Errorf("the shared Authenticator latched another client's failure: %v", err)
	}
	for i, c := range clients {
		if _, _, err := c.Exists(ctx, "/"); err != nil || c.Err() != nil {
			t.Errorf("client %d after another client's AuthFailed: %v, %v", i, err, c.Err())
		}
	}
	connect(t, cfg)
}

// Without an Authenticator, clients with equal Kerberos settings share the process's (sasl.Shared):
// open together or one after the other (within sasl.SharedLinger), they log in once.
func TestDefaultCredentialsAreSharedInTheProcess(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	if err := kdc.AddPrincipals(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	cfg := client.Config{Members: members(zkMain.PlainConnectString()), Root: "/default-creds", Kerberos: kerberos(t, "default"), SASL: client.SASLKerberos}
	a, b := connect(t, cfg), connect(t, cfg)
	if a.Authenticator() == b.Authenticator() {
		t.Error("two clients authenticate with one Fork")
	}
	b.Close()
	c := connect(t, cfg)
	for _, cl := range []*client.Client{a, c} {
		if _, _, err := cl.Exists(ctx, "/"); err != nil {
			t.Fatal(err)
		}
	}
	issued, err := kdc.Issued("default")
	if err != nil {
		t.Fatal(err)
	}
	if n := issued["krbtgt/"+kdc.Realm+"@"+kdc.Realm]; n != 1 {
		t.Errorf("%d logins for 3 clients with one configuration, want 1 (%v)", n, issued)
	}
}
