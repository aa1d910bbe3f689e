package client_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

// A reconnection after the member was cut off resumes the TLS session (no full handshake), and
// the session keeps its x509 identity: the server takes it from the resumed session's client
// certificate.
func TestTLSResumptionKeepsTheX509Identity(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	tc, err := tlsWith(pki.Client).Load()
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, zkMain.Members[0].SecureAddr())
	logs := newLogRecords()
	c := connect(t, client.Config{Members: []string{proxy.Addr}, TLSClient: tc, Root: "/resume", SessionTimeout: 10 * time.Second,
		Logger: slog.New(logs)})
	before, err := c.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(before, func(id acl.Identity) bool { return id.String() == "x509:"+pki.Client.Subject }) {
		t.Fatalf("Identities before the reconnection = %v, want the client certificate's x509 id", before)
	}
	ch, stop := c.States()
	defer stop()
	expect(t, ch, client.Connected, false)
	proxy.Block()
	expect(t, ch, client.Suspended, false)
	proxy.Unblock()
	expect(t, ch, client.Reconnected, false)
	if logs.find("TLS handshake", "resumed=true") == "" {
		t.Errorf("the reconnection did not resume the TLS session; handshakes: %q", logs.find("TLS handshake"))
	}
	after, err := c.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idStrings(after), idStrings(before)) {
		t.Errorf("Identities after the resumed handshake = %v, before = %v", after, before)
	}
}

// A TLS + SASL session that loses its member reconnects to another one with a resumed handshake
// (the session the transport probe or an earlier connection left for that member), and the server
// still grants it what its x509 and SASL identities are allowed: the identities are the same, and a
// node whose ACL admits only one of them stays readable.
func TestTLSResumptionOnAnotherMemberKeepsTheIdentities(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	byAddr := map[string]*testenv.Proxy{}
	var addrs []string
	for _, m := range ens.Members {
		p := testenv.NewProxy(t, m.SecureAddr())
		byAddr[p.Addr] = p
		addrs = append(addrs, p.Addr)
	}
	logs := newLogRecords()
	c := connect(t, client.Config{Members: addrs, TLS: tlsWith(pki.Client), SASL: client.SASLKerberos, Kerberos: kerberos(t, "client"),
		Root: "/resume-member", SessionTimeout: 10 * time.Second, Logger: slog.New(logs)})
	ch, stop := c.States()
	defer stop()
	member := expect(t, ch, client.Connected, false).Member
	before, err := c.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(idStrings(before), "x509:"+pki.Client.Subject) || !slices.ContainsFunc(before, func(id acl.Identity) bool { return id.Scheme == "sasl" }) {
		t.Fatalf("Identities = %v, want the certificate's x509 id and a sasl id", before)
	}
	// One node per identity, readable by that identity alone.
	var nodes []string
	for i, id := range before {
		p, err := c.Create(ctx, fmt.Sprintf("/only-%d", i), []byte(id.String()), zk.FlagEphemeral,
			[]zk.ACL{{Perms: zk.PermRead | zk.PermDelete, Scheme: id.Scheme, ID: id.ID}})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, p)
	}
	resumed := logs.count("TLS handshake", "resumed=true")
	p := byAddr[member]
	if p == nil {
		t.Fatalf("session on %q, not one of the proxies %v", member, addrs)
	}
	p.Block()
	expect(t, ch, client.Suspended, false)
	ev := expect(t, ch, client.Reconnected, false)
	p.Unblock()
	if ev.Member == member {
		t.Fatalf("reconnected to the blocked member %s", member)
	}
	if logs.count("TLS handshake", "resumed=true") == resumed {
		t.Errorf("the reconnection to %s did not resume a TLS session; handshakes: %q", ev.Member, logs.find("TLS handshake", ev.Member))
	}
	after, err := c.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idStrings(after), idStrings(before)) {
		t.Errorf("Identities after the resumed handshake on %s = %v, before on %s = %v", ev.Member, after, member, before)
	}
	for i, n := range nodes {
		if data, _, err := c.Get(ctx, n); err != nil || string(data) != before[i].String() {
			t.Errorf("Get %s (readable by %s alone) after the resumed handshake = %q, %v", n, before[i], data, err)
		}
	}
}

func idStrings(ids []acl.Identity) []string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	slices.Sort(s)
	return s
}
