package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/preflight"
	"github.com/zksecure/zksecure/testenv"
)

var (
	kdc     *testenv.KDC
	pki     *testenv.PKI
	servers map[string]*testenv.ZooKeeper
	keytabs = map[string]string{}
	testEnv *testenv.Shared // set up by the first test that needs it
)

const (
	srvGood      = "good"      // SASL enforced, host stripped, TLS need + plaintext port
	srvNoStrip   = "nostrip"   // SASL, principals kept whole
	srvNoSASL    = "nosasl"    // no SASL at all
	srvExpired   = "expired"   // TLS with an expired certificate
	srvWrongHost = "wronghost" // TLS with a certificate for wrong.example
	srvIPOnly    = "iponly"    // TLS with a certificate whose only SAN is 127.0.0.1
	srv34        = "3.4"       // ZooKeeper 3.4 with SASL
)

func TestMain(m *testing.M) {
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		var err error
		if kdc, err = s.StartKDC(ctx, testenv.KDCOptions{
			Principals: []string{"zookeeper/localhost", "flink/jm1", "flink/jm2", "notzk/localhost", "stale"}}); err != nil {
			return err
		}
		for _, p := range []string{"flink/jm1", "flink/jm2", "stale"} {
			if keytabs[p], err = kdc.Keytab(ctx, p); err != nil {
				return err
			}
		}
		if err := kdc.RandomizeKey(ctx, "stale"); err != nil {
			return err
		}
		if pki, err = s.NewPKI("pki"); err != nil {
			return err
		}
		ipOnly, err := pki.Issue("server-iponly", testenv.CertOptions{CommonName: "zookeeper", OrganizationalUnit: "servers",
			IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true})
		if err != nil {
			return err
		}
		servers, err = s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			srvGood: {SASL: &testenv.SASLServer{KDC: kdc, Enforce: true, RemoveHostFromPrincipal: true},
				TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}},
			srvNoStrip:   {SASL: &testenv.SASLServer{KDC: kdc}},
			srvNoSASL:    {},
			srvExpired:   {TLS: &testenv.TLSServer{PKI: pki, Cert: pki.ExpiredServer, ClientAuth: testenv.ClientAuthNone}},
			srvWrongHost: {TLS: &testenv.TLSServer{PKI: pki, Cert: pki.WrongHostServer, ClientAuth: testenv.ClientAuthNone}},
			srvIPOnly:    {TLS: &testenv.TLSServer{PKI: pki, Cert: ipOnly, ClientAuth: testenv.ClientAuthNone}},
			srv34:        {Version: testenv.ZK34, SASL: &testenv.SASLServer{KDC: kdc}},
		})
		return err
	})
	code := testEnv.Run(m)
	// After Run has stopped the servers: no goroutine of the tests may remain.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

type output struct {
	Checks  []preflight.Result `json:"checks"`
	Summary preflight.Summary  `json:"summary"`
}

// check runs the CLI with --output json and returns the exit code and the parsed report.
func check(t *testing.T, args ...string) (int, output, string) {
	t.Helper()
	testenv.Require(t) // the dependencies; a test that uses the shared servers calls testEnv.Require first
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append(args, "--output", "json", "--timeout", "60s"), &stdout, &stderr)
	var out output
	if code != 2 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("JSON output: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
	}
	for _, c := range out.Checks {
		for _, secret := range []string{testenv.KeyPassword} {
			if strings.Contains(c.Message+c.Fix, secret) {
				t.Errorf("a secret in the output: %+v", c)
			}
		}
		if (c.Status == preflight.Fail || c.Status == preflight.Warn) && c.Fix == "" {
			t.Errorf("%s %s: %s without a fix: %s", c.Name, c.Member, c.Status, c.Message)
		}
	}
	return code, out, stderr.String()
}

func (o output) find(name string) []preflight.Result {
	var rs []preflight.Result
	for _, c := range o.Checks {
		if c.Name == name {
			rs = append(rs, c)
		}
	}
	return rs
}

func (o output) dump() string {
	var b strings.Builder
	for _, c := range o.Checks {
		fmt.Fprintf(&b, "  [%s %s %s] %s\n", c.Status, c.Name, c.Member, c.Message)
	}
	return b.String()
}

// expect asserts that check name has the status (for every member it ran for) and that one of its
// messages contains want.
func expect(t *testing.T, o output, name string, status preflight.Status, want string) {
	t.Helper()
	rs := o.find(name)
	if len(rs) == 0 {
		t.Errorf("no %s check in\n%s", name, o.dump())
		return
	}
	found := false
	for _, r := range rs {
		if r.Status != status {
			t.Errorf("%s %s: %s (%s), want %s\n%s", name, r.Member, r.Status, r.Message, status, o.dump())
		}
		if strings.Contains(r.Message, want) {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: no message contains %q\n%s", name, want, o.dump())
	}
}

func kerberosArgs(principal string) []string {
	return []string{"--principal", kdc.Principal(principal), "--keytab", keytabs[principal], "--krb5-conf", kdc.Krb5Conf}
}

func tlsArgs(withCert bool) []string {
	a := []string{"--tls-ca", pki.CAFile}
	if withCert {
		a = append(a, "--tls-cert", pki.Client.CertFile, "--tls-key", pki.Client.EncryptedKeyFile, "--tls-key-password-file", pki.Client.PasswordFile)
	}
	return a
}

func args(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func q(name string, secure bool) []string {
	z := servers[name]
	if secure {
		return []string{"--quorum", z.SecureConnectString()}
	}
	return []string{"--quorum", z.Members[0].Addr()}
}

func TestEachMisconfigurationFailsItsOwnCheck(t *testing.T) {
	testEnv.Require(t)
	world := "/ww-" + fmt.Sprint(time.Now().UnixNano())
	makeWorldWritableRoot(t, world)
	jaasServerOnly := filepath.Join(t.TempDir(), "jaas.conf")
	os.WriteFile(jaasServerOnly, []byte(testenv.JAASSection("Server", keytabs["flink/jm1"], kdc.Principal("flink/jm1"))), 0o644)
	closed := closedPort(t)
	props := filepath.Join(t.TempDir(), "zkclient.properties")
	os.WriteFile(props, []byte("zookeeper.client.secure=true\n"+
		"zookeeper.ssl.keyStore.location="+pki.Client.PKCS12File+"\nzookeeper.ssl.keyStore.type=PKCS12\n"+
		"zookeeper.ssl.keyStore.passwordPath="+pki.Client.PasswordFile+"\n"+
		"zookeeper.ssl.trustStore.location="+pki.TrustStorePKCS12+"\nzookeeper.ssl.trustStore.passwordPath="+pki.Client.PasswordFile+"\n"), 0o600)
	for _, tc := range []struct {
		name   string
		args   []string
		check  string
		status preflight.Status
		want   string
		exit   int
	}{
		{"wrong service principal", args(q(srvGood, false), kerberosArgs("flink/jm1"), []string{"--server-principal", "notzk/localhost"}),
			preflight.CheckSASL, preflight.Fail, "AUTH_FAILED", 1},
		{"wrong service name", args(q(srvGood, false), kerberosArgs("flink/jm1"), []string{"--service-name", "zk"}),
			preflight.CheckServiceTicket, preflight.Fail, "does not know the service principal zk/localhost", 1},
		{"expired certificate", args(q(srvExpired, true), tlsArgs(false)),
			preflight.CheckTLSExpiry, preflight.Fail, "expired on " + pki.ExpiredServer.NotAfter.UTC().Format(time.RFC3339), 1},
		{"wrong-host certificate", args(q(srvWrongHost, true), tlsArgs(false)),
			preflight.CheckTLSHostname, preflight.Fail, "wrong.example", 1},
		{"unknown CA", args(q(srvExpired, true), []string{"--tls-ca", pki.UnknownCAFile}),
			preflight.CheckTLSChain, preflight.Fail, "not in the trust store", 1},
		{"no client certificate for clientAuth=need", args(q(srvGood, true), tlsArgs(false)),
			preflight.CheckTLSChain, preflight.Fail, "ssl.clientAuth=need", 1},
		{"TLS against 3.4", args(q(srv34, false), tlsArgs(true)),
			preflight.CheckVersion, preflight.Fail, "3.4 has no TLS", 1},
		{"missing JAAS section", args(q(srvGood, false), []string{"--jaas", jaasServerOnly, "--krb5-conf", kdc.Krb5Conf}),
			preflight.CheckLogin, preflight.Fail, `no section "Client"`, 1},
		{"per-host principals without stripping", args(q(srvNoStrip, false), kerberosArgs("flink/jm1"),
			[]string{"--acl", "creator", "--cluster-id", "/perhost", "--jobmanager-principals", kdc.Principal("flink/jm1") + "," + kdc.Principal("flink/jm2")}),
			preflight.CheckIdentityConsistency, preflight.Fail, "cannot take over", 1},
		{"world-writable HA root", args(q(srvGood, false), kerberosArgs("flink/jm1"), []string{"--acl", "creator", "--root", world, "--cluster-id", "/c"}),
			preflight.CheckACLAudit, preflight.Fail, "writable by anyone", 1},
		{"server without SASL", args(q(srvNoSASL, false), kerberosArgs("flink/jm1")),
			preflight.CheckSASL, preflight.Fail, "no SASL configured", 1},
		{"unauthenticated client, server enforces SASL", args(q(srvGood, false), []string{"--cluster-id", "/x"}),
			preflight.CheckSASL, preflight.Fail, "enforces SASL", 1},
		{"3.4 over SASL works", args(q(srv34, false), kerberosArgs("flink/jm1"), []string{"--cluster-id", "/on34"}),
			preflight.CheckSASL, preflight.Pass, "authenticated as flink/jm1@", 0},
		{"stale keytab", args(q(srvGood, false), kerberosArgs("stale")),
			preflight.CheckLogin, preflight.Fail, "keytab holds old or wrong keys", 1},
		{"unreadable krb5.conf", args(q(srvGood, false), kerberosArgs("flink/jm1"), []string{"--krb5-conf", "/nonexistent/krb5.conf"}),
			preflight.CheckKrb5Conf, preflight.Fail, "/nonexistent/krb5.conf", 1},
		{"closed port", []string{"--quorum", closed}, preflight.CheckTCP, preflight.Fail, "cannot connect", 1},
		{"unresolvable host", []string{"--quorum", "zk1.invalid:2181"}, preflight.CheckDNS, preflight.Fail, "does not resolve", 1},
		{"creator without identity", args(q(srvNoSASL, false), []string{"--acl", "creator", "--cluster-id", "/noid"}),
			preflight.CheckConfigLint, preflight.Fail, "need an authenticated identity", 1},
		{"default cluster-id", args(q(srvNoSASL, false)), preflight.CheckConfigLint, preflight.Warn, "/default", 0},
		{"Java client properties file", args(q(srvGood, true), kerberosArgs("flink/jm1"), []string{"--tls-properties", props, "--cluster-id", "/props", "--acl", "creator"}),
			preflight.CheckTLSChain, preflight.Pass, "trusted", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, o, stderr := check(t, tc.args...)
			if code != tc.exit {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.exit, o.dump(), stderr)
			}
			expect(t, o, tc.check, tc.status, tc.want)
		})
	}
}

// tls-hostname says which rule passed, and warns when a member passes only by a ZooKeeper-only rule
// (an IP SAN for a host name), which --tls-strict-hostnames refuses.
func TestHostnameRuleReported(t *testing.T) {
	testEnv.Require(t)
	member := servers[srvIPOnly].Members[0].SecureAddr() // localhost:<port>
	port := member[strings.LastIndex(member, ":")+1:]
	code, o, stderr := check(t, args([]string{"--quorum", member}, tlsArgs(false))...)
	if code != 0 {
		t.Errorf("exit %d, want 0 (a warning)\n%s%s", code, o.dump(), stderr)
	}
	expect(t, o, preflight.CheckTLSHostname, preflight.Warn, "only by a ZooKeeper-only rule")
	expect(t, o, preflight.CheckTLSHostname, preflight.Warn, "rule ip-san")
	code, o, _ = check(t, args([]string{"--quorum", member, "--tls-strict-hostnames"}, tlsArgs(false))...)
	if code != 1 {
		t.Errorf("strict: exit %d, want 1", code)
	}
	expect(t, o, preflight.CheckTLSHostname, preflight.Fail, "strict hostname rules")
	// By address, the IP SAN is what Go's rules want too.
	code, o, _ = check(t, args([]string{"--quorum", "127.0.0.1:" + port, "--tls-strict-hostnames"}, tlsArgs(false))...)
	if code != 0 {
		t.Errorf("strict by address: exit %d, want 0\n%s", code, o.dump())
	}
	expect(t, o, preflight.CheckTLSHostname, preflight.Pass, "rule ip-san, strict (Go's) rules")
}

// A Flink configuration with TLS only in the JobManager's JVM options: the checker uses TLS (it
// reported plaintext and failed on the TLS port before).
func TestFlinkConfTLSInJVMOptions(t *testing.T) {
	testEnv.Require(t)
	conf := filepath.Join(t.TempDir(), "flink-conf.yaml")
	content := "high-availability.type: zookeeper\nhigh-availability.storageDir: file:///tmp/ha\n" +
		"high-availability.zookeeper.quorum: " + servers[srvGood].SecureConnectString() + "\n" +
		"high-availability.cluster-id: /tls-jvm\n" +
		"security.kerberos.login.keytab: " + keytabs["flink/jm1"] + "\n" +
		"security.kerberos.login.principal: " + kdc.Principal("flink/jm1") + "\n" +
		"security.kerberos.login.contexts: Client\n" +
		"security.kerberos.krb5-conf.path: " + kdc.Krb5Conf + "\n" +
		"env.java.opts.jobmanager: -Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty" +
		" -Dzookeeper.ssl.keyStore.location=" + pki.Client.PKCS12File + " -Dzookeeper.ssl.keyStore.passwordPath=" + pki.Client.PasswordFile +
		" -Dzookeeper.ssl.trustStore.location=" + pki.TrustStorePKCS12 + " -Dzookeeper.ssl.trustStore.passwordPath=" + pki.Client.PasswordFile + "\n"
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, o, stderr := check(t, "--flink-conf", conf)
	if code != 0 {
		t.Errorf("exit %d, want 0\n%s%s", code, o.dump(), stderr)
	}
	expect(t, o, preflight.CheckVersion, preflight.Pass, "tls port")
	expect(t, o, preflight.CheckTLSChain, preflight.Pass, "trusted")
	expect(t, o, preflight.CheckTLSHostname, preflight.Pass, "rule ip-san")
	expect(t, o, preflight.CheckIdentity, preflight.Pass, "x509:"+pki.Client.Subject)
}

// Dependents of a failed prerequisite are skipped, naming it; --ignore turns the failure into a
// warning (exit 0).
func TestKDCDownSkipsDependentsAndIgnore(t *testing.T) {
	testEnv.Require(t)
	if err := kdc.Stop(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := kdc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}()
	a := args(q(srvGood, false), kerberosArgs("flink/jm1"))
	code, o, _ := check(t, a...)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	expect(t, o, preflight.CheckKDCReach, preflight.Fail, "no KDC of realm")
	expect(t, o, preflight.CheckLogin, preflight.Skip, "kdc-reach failed")
	expect(t, o, preflight.CheckSASL, preflight.Skip, "kdc-reach failed")
	expect(t, o, preflight.CheckIdentity, preflight.Skip, "kdc-reach failed")
	code, o, _ = check(t, append(a, "--ignore", "kdc-reach")...)
	if code != 0 {
		t.Errorf("with --ignore kdc-reach: exit %d, want 0\n%s", code, o.dump())
	}
	expect(t, o, preflight.CheckKDCReach, preflight.Warn, "(ignored)")
}

// A real KDC whose clock is 10 minutes ahead: clock-skew fails with the measured offset.
func TestClockSkewAgainstSkewedKDC(t *testing.T) {
	testEnv.Require(t)
	skewed := testenv.NewKDC(t, testenv.KDCOptions{ClockOffset: 10 * time.Minute, Principals: []string{"flink/jm1"}})
	kt, err := skewed.Keytab(context.Background(), "flink/jm1")
	if err != nil {
		t.Fatal(err)
	}
	code, o, _ := check(t, "--quorum", servers[srvNoSASL].Members[0].Addr(), "--principal", skewed.Principal("flink/jm1"),
		"--keytab", kt, "--krb5-conf", skewed.Krb5Conf)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	expect(t, o, preflight.CheckClockSkew, preflight.Fail, "behind the KDC's: beyond Kerberos' 5-minute limit")
	if !strings.Contains(o.find(preflight.CheckClockSkew)[0].Message, "10m0") && !strings.Contains(o.find(preflight.CheckClockSkew)[0].Message, "9m59") {
		t.Errorf("skew message %q does not show ~10 minutes", o.find(preflight.CheckClockSkew)[0].Message)
	}
}

// A Flink configuration whose session timeout exceeds the servers' maximum: a warning, exit 0; and
// flags override the file.
func TestFlinkConfSessionTimeoutAndOverrides(t *testing.T) {
	testEnv.Require(t)
	conf := filepath.Join(t.TempDir(), "flink-conf.yaml")
	content := "high-availability.type: zookeeper\nhigh-availability.storageDir: file:///tmp/ha\n" +
		"high-availability.zookeeper.quorum: zk-from-file.invalid:2181\n" +
		"high-availability.cluster-id: /from-file\n" +
		"high-availability.zookeeper.client.session-timeout: 300 s\n"
	os.WriteFile(conf, []byte(content), 0o644)
	code, o, stderr := check(t, "--flink-conf", conf, "--quorum", servers[srvNoSASL].Members[0].Addr())
	if code != 0 {
		t.Errorf("exit %d, want 0\n%s%s", code, o.dump(), stderr)
	}
	expect(t, o, preflight.CheckSessionTimeout, preflight.Warn, "requested 5m0s, the servers granted 1m0s")
	expect(t, o, preflight.CheckTCP, preflight.Pass, servers[srvNoSASL].Members[0].Addr())
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, a := range [][]string{
		{"--no-such-flag"},
		{"--quorum", "zk:2181", "--ignore", "bogus-check"},
		{"--quorum", "zk:2181", "--acl", "owner"},
		{"--quorum", "zk:2181", "--transport", "ssl"},
		{},
		{"--quorum", "zk:2181", "--principal", "p@R"},
		{"--flink-conf", "/nonexistent/flink-conf.yaml"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), a, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", a, code, stderr.String())
		}
		if stderr.Len() == 0 {
			t.Errorf("%v: no explanation on stderr", a)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--quorum", "zk:2181", "--output", "xml"}, &stdout, &stderr); code != 2 {
		t.Errorf("--output xml: exit %d", code)
	}
}

func makeWorldWritableRoot(t *testing.T, root string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, client.Config{Members: []string{servers[srvGood].Members[0].Addr()}, Root: root, ClusterID: "/c",
		SASL: client.SASLKerberos, ACL: acl.Open(),
		Kerberos: sasl.Config{Login: sasl.Login{Principal: kdc.Principal("flink/jm2"), Keytab: keytabs["flink/jm2"], Krb5Conf: kdc.Krb5Conf}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.CreateAll(ctx, "/leader"); err != nil {
		t.Fatal(err)
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "localhost:" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return addr
}
