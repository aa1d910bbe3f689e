package election_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
)

// Contenders with different principals: with plain creator-only ACLs the second cannot even join
// (the latch belongs to the first identity); with the other identity added to the provider's ACL,
// they share the latch and leadership moves between them.
func TestContendersWithDifferentPrincipals(t *testing.T) {
	requireEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clientP, otherP := kdc.Principal("client"), kdc.Principal("other")
	cfg := func(cluster, principal, keytab string, provider acl.Provider) client.Config {
		return client.Config{Members: strings.Split(zk38.ConnectString(), ","), Root: "/flink-principals", ClusterID: "/" + cluster,
			SASL: client.SASLKerberos, ACL: provider, SessionTimeout: 4 * time.Second,
			Kerberos: sasl.Config{Login: sasl.Login{Principal: principal, Keytab: keytab, Krb5Conf: kdc.Krb5Conf}}}
	}
	// Creator-only: the second principal is locked out.
	a := newElection(t, connect(t, cfg("locked", clientP, clientKeytab, acl.Creator())))
	la := await(t, campaignAsync(t, a, ctx, "a"), "a")
	b := newElection(t, connect(t, cfg("locked", otherP, otherKeytab, acl.Creator())))
	if _, err := b.Campaign(ctx, []byte("b")); err == nil || !strings.Contains(err.Error(), zk.ErrNoAuth.Error()) {
		t.Fatalf("a second principal joined a creator-only latch: %v", err)
	}
	la.Resign(ctx)

	// Each principal's provider adds the other: shared latch, handover both ways.
	a = newElection(t, connect(t, cfg("shared", clientP, clientKeytab, acl.Creator(acl.SASL(otherP, zk.PermAll)))))
	b = newElection(t, connect(t, cfg("shared", otherP, otherKeytab, acl.Creator(acl.SASL(clientP, zk.PermAll)))))
	la = await(t, campaignAsync(t, a, ctx, "a"), "a")
	cb := campaignAsync(t, b, ctx, "b")
	notYet(t, cb, "b")
	la.Resign(ctx)
	lb := await(t, cb, "b")
	nodeACL, _, err := b.Client().GetACL(ctx, lb.Node())
	if err != nil {
		t.Fatal(err)
	}
	got := acl.Format(nodeACL)
	if !strings.Contains(got, "sasl:"+otherP+":cdrwa") || !strings.Contains(got, "sasl:"+clientP+":cdrwa") {
		t.Errorf("b's latch node ACL %s, want both principals", got)
	}
	if err := lb.Publish(ctx, "rest_server", "http://b:8081"); err != nil {
		t.Fatal(err)
	}
	if info, err := election.ReadLeader(ctx, a.Client(), "rest_server"); err != nil || info.Address != "http://b:8081" {
		t.Errorf("a reading b's record: %+v, %v", info, err)
	}
	ca := campaignAsync(t, a, ctx, "a-again")
	lb.Resign(ctx)
	await(t, ca, "a after b resigned").Resign(ctx)
}
