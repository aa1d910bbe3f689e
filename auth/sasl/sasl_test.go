package sasl_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	krbkeytab "github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/testenv"
)

// newAuth makes an Authenticator against the MIT KDC (unless cfg names a krb5.conf).
func newAuth(t testing.TB, cfg sasl.Config) *sasl.Authenticator { return mitEnv.newAuth(t, cfg) }

// newAuth makes an Authenticator against r's KDC (unless cfg names a krb5.conf).
func (r *kdcEnv) newAuth(t testing.TB, cfg sasl.Config) *sasl.Authenticator {
	t.Helper()
	if cfg.Krb5Conf == "" {
		cfg.Krb5Conf = r.kdc.Krb5Conf
	}
	a, err := sasl.New(cfg)
	if err != nil {
		t.Fatalf("sasl.New: %v", err)
	}
	t.Cleanup(a.Close)
	return a
}

// keytabLogin logs in as principal of the MIT KDC from a fresh keytab.
func keytabLogin(t testing.TB, principal string) sasl.Config { return mitEnv.keytabLogin(t, principal) }

// keytabLogin logs in as principal of r's KDC from a fresh keytab.
func (r *kdcEnv) keytabLogin(t testing.TB, principal string) sasl.Config {
	return sasl.Config{Login: sasl.Login{Principal: principal, Keytab: r.keytab(t, principal)}}
}

func connect(t testing.TB, a *sasl.Authenticator, z *testenv.ZooKeeper, base zk.Dialer) *zk.Conn {
	t.Helper()
	return connectTo(t, a, strings.Split(z.ConnectString(), ","), base)
}

func connectTo(t testing.TB, a *sasl.Authenticator, members []string, base zk.Dialer) *zk.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, _, err := sasl.Connect(ctx, a, members, 10*time.Second, base)
	if err != nil {
		t.Fatalf("sasl.Connect(%v): %v", members, err)
	}
	t.Cleanup(c.Close)
	return c
}

// uniquePath returns a fresh path for one test.
func uniquePath(t testing.TB) string {
	return "/" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + time.Now().Format("150405.000000")
}

// On every server kind, the session authenticates as the keytab's principal: a creator-only node
// carries exactly the sasl id of that principal.
// Against AD, zk38Enf is an ensemble whose members have principals of their own
// (zookeeper/zke1.ad.test, zookeeper/zke2.ad.test): the client asks each for its own.
func TestSessionIdentityIsThePrincipal(t *testing.T) {
	forEachKDC(t, func(t *testing.T, r *kdcEnv) {
		for _, name := range []string{zk38, zk38Enf, zk34, zk38TLS} {
			z := r.servers[name]
			if z == nil {
				continue
			}
			t.Run(name, func(t *testing.T) {
				sessionIdentity(t, r, name, z)
			})
		}
	})
}

func sessionIdentity(t *testing.T, r *kdcEnv, name string, z *testenv.ZooKeeper) {
	var base zk.Dialer
	if name == zk38TLS {
		base = tlsDialer(t)
	}
	a := r.newAuth(t, r.keytabLogin(t, "client"))
	if a.ClientPrincipal() != r.kdc.Principal("client") {
		t.Errorf("ClientPrincipal() = %q", a.ClientPrincipal())
	}
	// Each member on its own: every one must accept the ticket for its own principal.
	for _, m := range z.Members {
		spn, err := a.ServicePrincipal(context.Background(), m.Addr())
		if err != nil || spn != m.ServicePrincipal {
			t.Errorf("ServicePrincipal(%s) = %q, %v; want the member's own %s", m.Addr(), spn, err, m.ServicePrincipal)
		}
		c := connectTo(t, a, []string{m.Addr()}, base)
		p := uniquePath(t)
		if _, err := c.Create(p, []byte("x"), 0, zk.AuthACL(zk.PermAll)); err != nil {
			t.Fatalf("member %s: create creator-only node: %v", m.Addr(), err)
		}
		acl, _, err := c.GetACL(p)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range acl {
			ids = append(ids, e.Scheme+":"+e.ID)
		}
		if want := "sasl:" + r.kdc.Principal("client"); !slices.Contains(ids, want) {
			t.Fatalf("member %s: ACL ids %v do not contain %s", m.Addr(), ids, want)
		}
		if name == zk38TLS && !slices.Contains(ids, "x509:"+pki.Client.Subject) {
			t.Errorf("over TLS with a client certificate, ACL ids %v lack the x509 id", ids)
		}
	}
}

// Stopping and restarting the member forces a reconnection; the session re-authenticates and still
// writes under its creator-only node.
func TestIdentitySurvivesReconnection(t *testing.T) {
	forEachKDC(t, identitySurvivesReconnection)
}

func identitySurvivesReconnection(t *testing.T, r *kdcEnv) {
	z := r.servers[zk38]
	a := r.newAuth(t, r.keytabLogin(t, "client"))
	c := connect(t, a, z, nil)
	p := uniquePath(t)
	if _, err := c.Create(p, nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	if err := z.Members[0].Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := z.Members[0].Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Writes under the creator-only node need the sasl identity; retry while reconnecting.
	var err error
	for ctx.Err() == nil {
		if _, err = c.Create(p+"/child", nil, 0, zk.AuthACL(zk.PermAll)); err == nil || errors.Is(err, zk.ErrNodeExists) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("write after reconnection: %v (auth error: %v)", err, a.Err())
	}
	if c.SessionID() != sid {
		t.Logf("session changed from 0x%x to 0x%x across the restart", sid, c.SessionID())
	}
	if a.Err() != nil {
		t.Fatalf("authentication failure latched: %v", a.Err())
	}
}

// A node the Java client creates for sasl:client is readable by our client logged in as client and
// NoAuth for "other"; a creator-only node we create is readable by the Java client as client and
// NoAuth for "other".
func TestInteropWithJavaClient(t *testing.T) {
	forEachKDC(t, interopWithJavaClient)
}

func interopWithJavaClient(t *testing.T, r *kdcEnv) {
	z := r.servers[zk38Enf]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	jaas := func(principal string) string {
		p := filepath.Join(t.TempDir(), "jaas.conf")
		if err := os.WriteFile(p, []byte(testenv.JAASSection("Client", r.keytab(t, principal), r.kdc.Principal(principal))), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	javaAs := func(principal string) *testenv.JavaClient {
		j := testenv.NewJavaClient(t, testenv.JavaClientOptions{JAASFile: jaas(principal), Krb5Conf: r.kdc.Krb5Conf})
		if _, _, err := j.Connect(ctx, z.ConnectString(), 10*time.Second, true); err != nil {
			t.Fatalf("Java client as %s: %v", principal, err)
		}
		return j
	}
	javaClient, javaOther := javaAs("client"), javaAs("other")
	goClient := connect(t, r.newAuth(t, r.keytabLogin(t, "client")), z, nil)
	goOther := connect(t, r.newAuth(t, r.keytabLogin(t, "other")), z, nil)

	fromJava := uniquePath(t) + "-java"
	if _, err := javaClient.Create(ctx, fromJava, "written by java", "sasl:"+r.kdc.Principal("client")+":cdrwa", "persistent"); err != nil {
		t.Fatal(err)
	}
	if data, _, err := goClient.Get(fromJava); err != nil || string(data) != "written by java" {
		t.Fatalf("our client as client reading the Java node: %q, %v", data, err)
	}
	if _, _, err := goOther.Get(fromJava); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("our client as other reading the Java node: err = %v, want ErrNoAuth", err)
	}

	fromGo := uniquePath(t) + "-go"
	if _, err := goClient.Create(fromGo, []byte("written by go"), 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if data, err := javaClient.Get(ctx, fromGo); err != nil || data != "written by go" {
		t.Fatalf("Java client as client reading our node: %q, %v", data, err)
	}
	var je *testenv.JavaError
	if _, err := javaOther.Get(ctx, fromGo); !errors.As(err, &je) || je.Code != "NOAUTH" {
		t.Fatalf("Java client as other reading our node: err = %v, want NOAUTH", err)
	}
}

// The Java client's own login sources work for us too: a JAAS file with a Client section, and a
// ticket cache written by kinit.
func TestLoginFromJAASAndTicketCache(t *testing.T) {
	forEachKDC(t, loginFromJAASAndTicketCache)
}

func loginFromJAASAndTicketCache(t *testing.T, r *kdcEnv) {
	dir := t.TempDir()
	kt := r.keytab(t, "client")
	jaasPath := filepath.Join(dir, "jaas.conf")
	jaas := "// written like a Flink JAAS file\nZkClient {\n  " + sasl.Krb5LoginModule + " required\n  useKeyTab=true\n  keyTab=\"" + kt +
		"\"\n  storeKey=true\n  principal=\"" + r.kdc.Principal("client") + "\";\n};\n"
	if err := os.WriteFile(jaasPath, []byte(jaas), 0o644); err != nil {
		t.Fatal(err)
	}
	a := r.newAuth(t, sasl.Config{Login: sasl.Login{JAASFile: jaasPath, LoginContext: "ZkClient"}})
	c := connect(t, a, r.servers[zk38], nil)
	if _, err := c.Create(uniquePath(t), nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatalf("JAAS login: %v", err)
	}
	if !strings.Contains(a.Source(), "section ZkClient") {
		t.Errorf("Source() = %q, want it to name the JAAS section", a.Source())
	}

	cache := filepath.Join(dir, "krb5cc")
	if out, err := r.kinit(kt, r.kdc.Principal("client"), cache); err != nil {
		t.Fatalf("kinit: %v: %s", err, out)
	}
	a2 := r.newAuth(t, sasl.Config{Login: sasl.Login{UseTicketCache: true, TicketCache: "FILE:" + cache}})
	c2 := connect(t, a2, r.servers[zk38], nil)
	if _, err := c2.Create(uniquePath(t)+"-ccache", nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatalf("ticket cache login: %v", err)
	}
	if a2.ClientPrincipal() != r.kdc.Principal("client") {
		t.Errorf("ticket cache principal = %q", a2.ClientPrincipal())
	}
}

// Every misconfiguration ends with its own error, names what is wrong, and never hangs until the
// context's deadline.
func TestFailuresAreSpecificAndFailClosed(t *testing.T) {
	forEachKDC(t, failuresAreSpecificAndFailClosed)
}

func failuresAreSpecificAndFailClosed(t *testing.T, r *kdcEnv) {
	ctx := context.Background()
	// The plain server's host, as the client names it in the service principal.
	host, _, _ := strings.Cut(strings.TrimPrefix(r.servers[zk38].Members[0].ServicePrincipal, "zookeeper/"), "@")
	// A keytab whose keys were changed in the KDC afterwards.
	staleKT := r.keytab(t, "stale")
	if err := r.kdc.RandomizeKey(ctx, "stale"); err != nil {
		t.Fatal(err)
	}
	// An RC4-only keytab, written with gokrb5's keytab type.
	rc4 := krbkeytab.New()
	if err := rc4.AddEntry("client", r.kdc.Realm, "not-the-real-password", time.Now(), 1, etypeID.RC4_HMAC); err != nil {
		t.Fatal(err)
	}
	rc4Path := filepath.Join(t.TempDir(), "rc4.keytab")
	b, _ := rc4.Marshal()
	if err := os.WriteFile(rc4Path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// A krb5.conf whose KDC is a closed port.
	deadKDC := filepath.Join(t.TempDir(), "krb5.conf")
	conf, _ := os.ReadFile(r.kdc.Krb5Conf)
	if err := os.WriteFile(deadKDC, []byte(strings.ReplaceAll(string(conf), r.kdc.Addr, "127.0.0.1:1")), 0o644); err != nil {
		t.Fatal(err)
	}
	jaasPath := filepath.Join(t.TempDir(), "jaas.conf")
	os.WriteFile(jaasPath, []byte(testenv.JAASSection("Server", r.keytab(t, "client"), r.kdc.Principal("client"))), 0o644)

	for _, tc := range []struct {
		name     string
		cfg      func() sasl.Config
		server   string
		newErr   bool // the error comes from sasl.New (before any network)
		sentinel error
		mentions []string
	}{
		{"wrong keytab", func() sasl.Config {
			return sasl.Config{Login: sasl.Login{Principal: "stale", Keytab: staleKT}}
		}, zk38, false, sasl.ErrLogin, []string{"stale@" + r.kdc.Realm, "fresh keytab"}},
		{"principal missing from keytab", func() sasl.Config {
			return sasl.Config{Login: sasl.Login{Principal: "other", Keytab: r.keytab(t, "client")}}
		}, zk38, true, sasl.ErrLogin, []string{"no key for principal other@" + r.kdc.Realm, "client@" + r.kdc.Realm}},
		{"wrong service name", func() sasl.Config {
			c := r.keytabLogin(t, "client")
			c.ServiceName = "zk"
			return c
		}, zk38, false, sasl.ErrUnknownServicePrincipal, []string{"zk/" + host + "@" + r.kdc.Realm, "does not know the service principal", host + ":"}},
		{"service principal of another service", func() sasl.Config {
			c := r.keytabLogin(t, "client")
			c.ServerPrincipal = r.otherService
			return c
		}, zk38, false, sasl.ErrAuthFailed, []string{"AuthFailed", r.kdc.Principal(r.otherService), "server error -115"}},
		{"service principal of another service on 3.4", func() sasl.Config {
			c := r.keytabLogin(t, "client")
			c.ServerPrincipal = r.otherService
			return c
		}, zk34, false, sasl.ErrAuthFailed, []string{"closed the connection during SASL", r.kdc.Principal(r.otherService)}},
		{"KDC unreachable", func() sasl.Config {
			c := r.keytabLogin(t, "client")
			c.Krb5Conf = deadKDC
			return c
		}, zk38, false, sasl.ErrKDCUnreachable, []string{"KDC", deadKDC}},
		{"JAAS section missing", func() sasl.Config {
			return sasl.Config{Login: sasl.Login{JAASFile: jaasPath}}
		}, zk38, true, sasl.ErrJAAS, []string{`no section "Client"`, "Server", jaasPath}},
		{"server without SASL", func() sasl.Config { return r.keytabLogin(t, "client") },
			zk38NoSAS, false, sasl.ErrNoServerSASL, []string{"no SASL configured", "JAAS"}},
		{"RC4-only keytab", func() sasl.Config {
			return sasl.Config{Login: sasl.Login{Principal: "client", Keytab: rc4Path}}
		}, zk38, true, sasl.ErrWeakEnctype, []string{"arcfour-hmac (rc4-hmac)", "aes256-cts-hmac-sha1-96", rc4Path}},
		{"no login configured", func() sasl.Config { return sasl.Config{} }, zk38, true, sasl.ErrConfig, []string{"no Kerberos login"}},
	} {
		if r.servers[tc.server] == nil {
			continue // ZooKeeper 3.4 runs against the MIT KDC only
		}
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg()
			if cfg.Krb5Conf == "" {
				cfg.Krb5Conf = r.kdc.Krb5Conf
			}
			a, err := sasl.New(cfg)
			if tc.newErr {
				checkErr(t, err, tc.sentinel, tc.mentions)
				return
			}
			if err != nil {
				t.Fatalf("sasl.New: %v", err)
			}
			defer a.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, _, err := sasl.Connect(ctx, a, strings.Split(r.servers[tc.server].ConnectString(), ","), 10*time.Second, nil)
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("hung until the deadline: %v", err)
			}
			checkErr(t, err, tc.sentinel, tc.mentions)
			if !strings.Contains(err.Error(), "Fix:") && !tc.newErr {
				t.Errorf("error has no fix: %v", err)
			}
		})
	}
}

func checkErr(t *testing.T, err, sentinel error, mentions []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, sentinel) {
		t.Errorf("error %q is not %v", err, sentinel)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans several lines: %q", err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
	if strings.Contains(err.Error(), testenv.KeyPassword) {
		t.Errorf("error leaks a secret: %v", err)
	}
}

// After the server rejects the ticket, no request ever reaches it: the zk.Conn is closed and every
// later dial fails at once with the same error. A plain 3.8 server answers AuthFailed (-115), a
// SASL-enforcing one SessionClosedRequireSaslAuth (-124).
func TestAuthFailureLatchesAndClosesSession(t *testing.T) {
	forEachKDC(t, authFailureLatchesAndClosesSession)
}

func authFailureLatchesAndClosesSession(t *testing.T, r *kdcEnv) {
	for _, tc := range []struct {
		server string
		code   int32
	}{{zk38, sasl.CodeAuthFailed}, {zk38Enf, sasl.CodeSASLRequired}} {
		t.Run(tc.server, func(t *testing.T) {
			cfg := r.keytabLogin(t, "client")
			cfg.ServerPrincipal = r.otherService
			a := r.newAuth(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			member := r.servers[tc.server].Members[0].Addr()
			_, _, err := sasl.Connect(ctx, a, []string{member}, 10*time.Second, nil)
			var ae *sasl.AuthError
			if !errors.As(err, &ae) || ae.Code != tc.code || !ae.Permanent || ae.Member != member {
				t.Fatalf("err = %#v, want a permanent *AuthError for %s with code %d", err, member, tc.code)
			}
			if a.Err() == nil {
				t.Fatal("failure did not latch")
			}
			if _, err := a.Dialer(nil)("tcp", member, time.Second); !errors.Is(err, sasl.ErrAuthFailed) {
				t.Fatalf("dial after a latched failure: %v", err)
			}
		})
	}
}
