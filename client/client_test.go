package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

func ids(a []zk.ACL) []string {
	var out []string
	for _, e := range a {
		out = append(out, e.Scheme+":"+e.ID+":"+acl.Perms(e.Perms))
	}
	slices.Sort(out)
	return out
}

// For each security setup the HA root chain is created with the provider's ACLs, nodes below carry
// them too, and another identity is refused.
func TestHARootACLsPerSecuritySetup(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	saslID := "sasl:" + kdc.Principal("client") + ":cdrwa"
	x509ID := "x509:" + pki.Client.Subject + ":cdrwa"
	for _, tc := range []struct {
		name   string
		cfg    client.Config
		other  client.Config
		want   []string
		secure bool
	}{
		{"no-auth", client.Config{Members: members(zkMain.PlainConnectString()), Transport: client.TransportPlaintext},
			client.Config{}, []string{"world:anyone:cdrwa"}, false},
		{"sasl", client.Config{Members: members(zkMain.PlainConnectString()), SASL: client.SASLKerberos, Kerberos: kerberos(t, "client"), ACL: acl.Creator()},
			client.Config{Members: members(zkMain.PlainConnectString()), SASL: client.SASLKerberos, Kerberos: kerberos(t, "other")}, []string{saslID}, true},
		{"tls-cert", client.Config{Members: members(zkMain.SecureConnectString()), TLS: tlsWith(pki.Client), ACL: acl.Creator()},
			client.Config{Members: members(zkMain.SecureConnectString()), TLS: tlsWith(pki.Client2)}, []string{x509ID}, true},
		{"tls+sasl", client.Config{Members: members(zkMain.SecureConnectString()), TLS: tlsWith(pki.Client), SASL: client.SASLKerberos,
			Kerberos: kerberos(t, "client"), ACL: acl.Creator()},
			client.Config{Members: members(zkMain.SecureConnectString()), TLS: tlsWith(pki.Client2), SASL: client.SASLKerberos, Kerberos: kerberos(t, "other")},
			[]string{saslID, x509ID}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Root, tc.cfg.ClusterID = "/ha-"+tc.name, "/cluster-a"
			c := connect(t, tc.cfg)
			if c.UsesTLS() != strings.HasPrefix(tc.name, "tls") {
				t.Errorf("UsesTLS = %v", c.UsesTLS())
			}
			if err := c.CreateAll(ctx, "/leader/rest_server"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Create(ctx, "/leader/rest_server/connection_info", []byte("addr"), zk.FlagEphemeral, nil); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"/ha-" + tc.name, "/ha-" + tc.name + "/cluster-a", "/ha-" + tc.name + "/cluster-a/leader/rest_server/connection_info"} {
				a, _, err := c.Conn().GetACL(p)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(a); !slices.Equal(got, tc.want) {
					t.Errorf("ACL of %s = %v, want %v", p, got, tc.want)
				}
			}
			got, err := c.Identities(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want)*boolInt(tc.secure) {
				t.Errorf("Identities = %v, want the ids of %v", got, tc.want)
			}
			if !tc.secure {
				// The auditor calls the open root out.
				fs, err := acl.Audit(ctx, c.Conn(), got, acl.AuditOptions{}, "/ha-"+tc.name, c.Namespace())
				if err != nil || len(fs) == 0 || fs[0].Kind != acl.WorldWritable {
					t.Errorf("audit of an open HA root: %+v, %v", fs, err)
				}
				return
			}
			tc.other.Root, tc.other.ClusterID = "/ha-"+tc.name, "/cluster-a"
			o := connect(t, tc.other)
			if _, _, err := o.Get(ctx, "/leader/rest_server/connection_info"); !errors.Is(err, zk.ErrNoAuth) {
				t.Errorf("another identity reading: err = %v, want ErrNoAuth", err)
			}
			if _, err := o.Create(ctx, "/leader/intruder", nil, 0, nil); !errors.Is(err, zk.ErrNoAuth) {
				t.Errorf("another identity writing: err = %v, want ErrNoAuth", err)
			}
			// The auditor, run as the owner, finds nothing wrong; run as the other identity, it
			// reports nodes it cannot use.
			self, _ := c.Identities(ctx)
			if fs, err := acl.Audit(ctx, c.Conn(), self, acl.AuditOptions{}, "/ha-"+tc.name, c.Namespace()); err != nil || len(fs) != 0 {
				t.Errorf("audit as owner: %+v, %v", fs, err)
			}
			oself, _ := o.Identities(ctx)
			fs, err := acl.Audit(ctx, o.Conn(), oself, acl.AuditOptions{}, "/ha-"+tc.name, c.Namespace())
			if err != nil || len(fs) == 0 {
				t.Errorf("audit as another identity found nothing: %v", err)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// acl=creator without an identity is refused before anything is written.
func TestCreatorWithoutIdentityFailsBeforeAnyWrite(t *testing.T) {
	requireEnv(t)
	_, err := client.Connect(context.Background(), client.Config{Members: members(zkMain.PlainConnectString()),
		Root: "/noid", ACL: acl.Creator()})
	if !errors.Is(err, client.ErrConfig) || !errors.Is(err, acl.ErrNoIdentity) || !strings.Contains(err.Error(), "ACL") {
		t.Fatalf("err = %v", err)
	}
	raw := connect(t, client.Config{Members: members(zkMain.PlainConnectString()), Root: "/probe"})
	if ok, _, err := raw.Conn().Exists("/noid"); err != nil || ok {
		t.Fatalf("/noid exists=%v err=%v: something was written", ok, err)
	}
}

// Transport negotiation: TLS where configured and possible; refusals say why per member.
func TestTransportNegotiation(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	c := connect(t, client.Config{Members: members(zkMain.SecureConnectString()), TLS: tlsWith(pki.Client)})
	if !c.UsesTLS() || len(c.Members(ctx)) != 1 || c.Members(ctx)[0].Version.String() != "3.8.0" {
		t.Errorf("auto with TLS: TLS=%v members=%+v", c.UsesTLS(), c.Members(ctx))
	}
	plain := connect(t, client.Config{Members: members(zk34.ConnectString())})
	if plain.UsesTLS() {
		t.Error("auto without TLS config used TLS")
	}
	for _, tc := range []struct {
		name     string
		cfg      client.Config
		mentions []string
	}{
		{"TLS configured, member is 3.4", client.Config{Members: members(zk34.ConnectString()), TLS: tlsWith(pki.Client)},
			[]string{"never falls back to plaintext", "3.4 has no TLS"}},
		{"mixed ensemble", client.Config{Members: []string{zkMain.Members[0].SecureAddr(), zk34.Members[0].Addr()}, Transport: client.TransportTLS, TLS: tlsWith(pki.Client)},
			[]string{"never mixes transports", zk34.Members[0].Addr() + ": version: plaintext port", zkMain.Members[0].SecureAddr() + ": tls, ZooKeeper 3.8.0"}},
		{"TLS to a plaintext port", client.Config{Members: members(zkMain.PlainConnectString()), Transport: client.TransportTLS, TLS: tlsWith(pki.Client)},
			[]string{"secureClientPort"}},
	} {
		_, err := client.Connect(ctx, tc.cfg)
		var te *client.TransportError
		if !errors.As(err, &te) || !errors.Is(err, client.ErrTransport) {
			t.Errorf("%s: err = %v, want a TransportError", tc.name, err)
			continue
		}
		for _, m := range tc.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: %q does not mention %q", tc.name, err, m)
			}
		}
	}
	_, err := client.Connect(ctx, client.Config{Members: members(zkMain.PlainConnectString()), Transport: client.TransportPlaintext, TLS: tlsWith(nil)})
	if !errors.Is(err, client.ErrConfig) || !strings.Contains(err.Error(), "Transport") {
		t.Errorf("plaintext with TLS configured: %v", err)
	}
}

// A wrong service principal ends Connect with the authentication error; nothing is retried forever.
func TestConnectAuthFailure(t *testing.T) {
	requireEnv(t)
	k := kerberos(t, "client")
	k.ServerPrincipal = "other@" + kdc.Realm
	_, err := client.Connect(context.Background(), client.Config{Members: members(zkMain.PlainConnectString()), SASL: client.SASLKerberos, Kerberos: k,
		ConnectionTimeout: 20 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "AuthFailed") {
		t.Fatalf("err = %v", err)
	}
}

// Namespaced operations: paths map in and out of <root>/<cluster-id>, escapes are refused, watches
// and multi speak namespace paths.
func TestNamespacedOperations(t *testing.T) {
	requireEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cluster := fmt.Sprintf("/one-%d", time.Now().UnixNano())
	c := connect(t, client.Config{Members: members(zkMain.PlainConnectString()), Root: "/ns", ClusterID: cluster})
	if _, _, err := c.Get(ctx, "/../other"); !errors.Is(err, client.ErrPath) {
		t.Errorf("escape: %v", err)
	}
	if err := c.Delete(ctx, "/", -1); !errors.Is(err, client.ErrPath) {
		t.Errorf("deleting the namespace root: %v", err)
	}
	created, err := c.Create(ctx, "/seq-", []byte("a"), zk.FlagSequence, nil)
	if err != nil || !strings.HasPrefix(created, "/seq-") {
		t.Fatalf("sequential create: %q %v", created, err)
	}
	if ok, _, err := c.Conn().Exists("/ns" + cluster + created); !ok || err != nil {
		t.Fatalf("%s not under /ns%s: %v", created, cluster, err)
	}
	_, _, w, err := c.GetW(ctx, created)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Multi(ctx, &zk.SetDataRequest{Path: created, Data: []byte("b"), Version: -1},
		&zk.CreateRequest{Path: "/multi", Data: []byte("m")})
	if err != nil || len(res) != 2 || res[1].String != "/multi" {
		t.Fatalf("multi: %+v %v", res, err)
	}
	select {
	case ev := <-w:
		if ev.Type != zk.EventNodeDataChanged || ev.Path != created {
			t.Errorf("watch event %+v, want data change on %s", ev, created)
		}
	case <-ctx.Done():
		t.Fatal("no watch event")
	}
	kids, _, err := c.Children(ctx, "/")
	if err != nil || !slices.Contains(kids, "multi") {
		t.Errorf("children of the namespace root: %v %v", kids, err)
	}
	// A context that ends stops waiting.
	done, stop := context.WithCancel(ctx)
	stop()
	if _, _, err := c.Get(done, "/multi"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// Stopping and restarting the (standalone) member: Suspended, then Reconnected with the same session.
func TestSuspendedThenReconnected(t *testing.T) {
	requireEnv(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{})
	c := connect(t, client.Config{Members: members(z.ConnectString()), SessionTimeout: 20 * time.Second})
	states, cancel := c.States()
	defer cancel()
	expect(t, states, client.Connected, false)
	sid := c.SessionID()
	if err := z.Members[0].Stop(); err != nil {
		t.Fatal(err)
	}
	expect(t, states, client.Suspended, false)
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := z.Members[0].Start(ctx); err != nil {
		t.Fatal(err)
	}
	ev := expect(t, states, client.Reconnected, false)
	if ev.SessionID != sid {
		t.Errorf("reconnected to session 0x%x, want the old 0x%x", ev.SessionID, sid)
	}
}

// Cut off from a server that stays up for longer than the session timeout: Suspended, Lost, and after
// the partition heals Reconnected with a new session (ephemeral nodes gone).
func TestLostOnSessionExpiry(t *testing.T) {
	requireEnv(t)
	proxy := testenv.NewProxy(t, zkMain.Members[0].PlainAddr())
	c := connect(t, client.Config{Members: []string{proxy.Addr}, Root: "/expiry", SessionTimeout: 2 * time.Second})
	if got := c.NegotiatedSessionTimeout(); got != 2*time.Second {
		t.Errorf("negotiated session timeout %v, want 2s", got)
	}
	ctx := context.Background()
	if _, err := c.Create(ctx, "/eph", nil, zk.FlagEphemeral, nil); err != nil {
		t.Fatal(err)
	}
	states, cancel := c.States()
	defer cancel()
	expect(t, states, client.Connected, false)
	proxy.Block()
	expect(t, states, client.Suspended, false)
	lost := expect(t, states, client.Lost, false)
	if lost.Err == nil {
		t.Error("Lost without a reason")
	}
	time.Sleep(2 * time.Second) // let the server expire the session for certain
	proxy.Unblock()
	ev := expect(t, states, client.Reconnected, true)
	if ok, _, err := c.Exists(ctx, "/eph"); err != nil || ok {
		t.Errorf("ephemeral node of the lost session: exists=%v err=%v", ok, err)
	}
	_ = ev
}

// In a 3-member ensemble, killing the member the client is connected to moves the session to another
// member: Suspended, then Reconnected with the same session; ephemeral nodes survive.
func TestEnsembleFailoverKeepsSession(t *testing.T) {
	requireEnv(t)
	restore(t)
	z := ens
	c := connect(t, client.Config{Members: members(z.ConnectString()), Root: "/failover", SessionTimeout: 10 * time.Second})
	ctx := context.Background()
	if _, err := c.Create(ctx, "/eph", []byte("x"), zk.FlagEphemeral, nil); err != nil {
		t.Fatal(err)
	}
	states, cancel := c.States()
	defer cancel()
	first := expect(t, states, client.Connected, false)
	var victim *testenv.Member
	for _, m := range z.Members {
		if m.Addr() == first.Member {
			victim = m
		}
	}
	if victim == nil {
		t.Fatalf("connected member %q not in %s", first.Member, z.ConnectString())
	}
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	expect(t, states, client.Suspended, false)
	ev := expect(t, states, client.Reconnected, false)
	if ev.SessionID != first.SessionID || ev.Member == victim.Addr() {
		t.Errorf("after failover: %v (was %v)", ev, first)
	}
	if ok, _, err := c.Exists(ctx, "/eph"); err != nil || !ok {
		t.Errorf("ephemeral node after failover: exists=%v err=%v", ok, err)
	}
}

// expect waits for the next event and checks its state (and NewSession).
func expect(t *testing.T, ch <-chan client.Event, want client.State, newSession bool) client.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("state channel closed, want %v", want)
		}
		if ev.State != want || ev.NewSession != newSession {
			t.Fatalf("event %v, want %v (new session %v)", ev, want, newSession)
		}
		return ev
	case <-time.After(40 * time.Second):
		t.Fatalf("no %v event", want)
	}
	return client.Event{}
}
