package sasl_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/testenv"
)

// Without mutual authentication the exchange is one round trip shorter and still yields the
// principal's identity.
func TestWithoutMutualAuthentication(t *testing.T) {
	forEachKDC(t, withoutMutualAuthentication)
}

func withoutMutualAuthentication(t *testing.T, r *kdcEnv) {
	cfg := r.keytabLogin(t, "client")
	cfg.NoMutualAuth = true
	c := connect(t, r.newAuth(t, cfg), r.servers[zk38Enf], nil)
	p := uniquePath(t)
	if _, err := c.Create(p, nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	acl, _, err := c.GetACL(p)
	if err != nil || len(acl) != 1 || acl[0].ID != r.kdc.Principal("client") {
		t.Fatalf("ACL %v, %v", acl, err)
	}
}

// With 5-second tickets, a session that reconnects after its TGT and service ticket have expired
// still authenticates: the TGT is renewed (or the login redone) from the keytab, and a fresh service
// ticket fetched before the dial.
func TestTicketsRenewedFromKeytab(t *testing.T) {
	requireEnv(t)
	short := testenv.NewKDC(t, testenv.KDCOptions{TicketLifetime: 5 * time.Second, Principals: []string{"zookeeper/localhost", "client"}})
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{Dir: filepath.Join(t.TempDir(), "zk"), SASL: &testenv.SASLServer{KDC: short, Enforce: true}})
	proxy := testenv.NewProxy(t, z.Members[0].Addr())
	kt, err := short.Keytab(context.Background(), "client")
	if err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, sasl.Config{Login: sasl.Login{Principal: "client", Keytab: kt, Krb5Conf: short.Krb5Conf}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := sasl.Connect(ctx, a, []string{proxy.Addr}, 20*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(7 * time.Second) // every ticket of the first login has expired
	proxy.Block()
	time.Sleep(200 * time.Millisecond)
	proxy.Unblock()
	var lastErr error
	for ctx.Err() == nil {
		if _, lastErr = c.Create(uniquePath(t), nil, zk.FlagEphemeral, zk.AuthACL(zk.PermAll)); lastErr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lastErr != nil || a.Err() != nil {
		t.Fatalf("after the tickets expired: %v (auth: %v)", lastErr, a.Err())
	}
	if log := strings.Count(readFile(t, short.LogPath()), "TGS_REQ"); log < 2 {
		t.Errorf("the KDC issued %d service tickets, want a fresh one after expiry", log)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
