package sasl_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// shortLived is a KDC whose tickets last 5 seconds and a SASL-enforcing server keyed from it,
// shared by the tests that wait for tickets to expire (they run in parallel).
var shortLived struct {
	once sync.Once
	kdc  *testenv.KDC
	zk   *testenv.ZooKeeper
	err  error
}

func shortLivedEnv(t *testing.T) (*testenv.KDC, *testenv.ZooKeeper) {
	t.Helper()
	requireEnv(t)
	shortLived.once.Do(func() {
		ctx := context.Background()
		shortLived.kdc, shortLived.err = testEnv.StartKDC(ctx, testenv.KDCOptions{TicketLifetime: 5 * time.Second,
			Principals: []string{"zookeeper/localhost", "client"}})
		if shortLived.err != nil {
			return
		}
		zks, err := testEnv.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			"short-lived": {SASL: &testenv.SASLServer{KDC: shortLived.kdc, Enforce: true}}})
		shortLived.zk, shortLived.err = zks["short-lived"], err
	})
	if shortLived.err != nil {
		t.Fatal(shortLived.err)
	}
	return shortLived.kdc, shortLived.zk
}

// With 5-second tickets, a session that reconnects after its TGT and service ticket have expired
// still authenticates: the TGT is renewed (or the login redone) from the keytab, and a fresh service
// ticket fetched before the dial.
func TestTicketsRenewedFromKeytab(t *testing.T) {
	t.Parallel()
	short, z := shortLivedEnv(t)
	proxy := testenv.NewProxy(t, z.Members[0].Addr())
	kt, err := short.Keytab(context.Background(), "client")
	if err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, sasl.Config{Login: sasl.Login{Principal: "client", Keytab: kt, Krb5Conf: short.Krb5Conf}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	issued := strings.Count(readFile(t, short.LogPath()), "TGS_REQ")
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
	if n := strings.Count(readFile(t, short.LogPath()), "TGS_REQ") - issued; n < 2 {
		t.Errorf("the KDC issued %d service tickets, want a fresh one after expiry", n)
	}
}

// A ticket cache renewed by an external kinit -R under a live session is re-read when it changes:
// after the first TGT's end the session still reconnects, with the renewed TGT. A cache nobody
// renewed fails with its file and the date its TGT ended, and it is not a permanent failure (a
// later kinit rescues the session).
func TestTicketCacheRenewedExternally(t *testing.T) {
	t.Parallel()
	short, z := shortLivedEnv(t)
	r := &kdcEnv{name: "short", kdc: short}
	kt, err := short.Keytab(context.Background(), "client")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	renewed, expiring := filepath.Join(dir, "renewed.cc"), filepath.Join(dir, "expiring.cc")
	if out, err := r.kinit(kt, short.Principal("client"), renewed, "-r", "1h"); err != nil {
		t.Fatalf("kinit: %v: %s", err, out)
	}
	if out, err := r.kinit(kt, short.Principal("client"), expiring, "-r", "1s"); err != nil { // renewable until it starts: not at all
		t.Fatalf("kinit: %v: %s", err, out)
	}
	proxy := testenv.NewProxy(t, z.Members[0].Addr())
	a := r.newAuth(t, sasl.Config{Login: sasl.Login{TicketCache: renewed}})
	stale := r.newAuth(t, sasl.Config{Login: sasl.Login{TicketCache: "FILE:" + expiring}})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := connectTo(t, a, []string{proxy.Addr}, nil)
	p := uniquePath(t)
	writeUntilOK(t, ctx, c, a, p)
	first := a.Credentials()
	if first.TGTEnd.IsZero() {
		t.Fatalf("no TGT end in %+v", first)
	}

	time.Sleep(time.Until(first.TGTEnd) / 2)
	cmd := exec.Command("kinit", "-R", "-c", renewed)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+short.Krb5Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit -R: %v: %s", err, out)
	}
	time.Sleep(time.Until(first.TGTEnd) + 500*time.Millisecond) // the first TGT has ended
	proxy.Block()
	proxy.Unblock()
	writeUntilOK(t, ctx, c, a, p+"/after-renewal")
	after := a.Credentials()
	if after.Reloads != 1 || !after.TGTEnd.After(first.TGTEnd) || a.Err() != nil {
		t.Fatalf("after kinit -R: %+v (first %+v), auth error %v", after, first, a.Err())
	}

	_, err = stale.ServiceTicket(ctx, proxy.Addr)
	t.Logf("expired cache: %v", err)
	for _, want := range []string{expiring, "expired at " + stale.Credentials().TGTEnd.UTC().Format(time.RFC3339), "kinit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ticket from the expired cache: %v, want it to mention %q", err, want)
		}
	}
	if errors.Is(err, sasl.ErrAuthFailed) {
		t.Errorf("an expired cache is permanent: %v", err)
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
