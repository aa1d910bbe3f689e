package zktls_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/testenv"
)

func load(t *testing.T, cfg zktls.Config) *zktls.Client {
	t.Helper()
	cl, err := cfg.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func withCert() zktls.Config {
	return zktls.Config{CertFile: pki.Client.KeystorePEM, CAFile: pki.CAFile}
}

func dial(cl *zktls.Client, member string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cl.Dial(ctx, member)
	if err != nil {
		return err
	}
	// Under TLS 1.3 a refused client certificate only shows at the first read; ask srvr to be sure.
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.Close()
	if _, err := c.Write([]byte("srvr")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if n == 0 {
		return fmt.Errorf("no srvr answer: %w", err)
	}
	if !strings.HasPrefix(string(buf[:n]), "Zookeeper version") {
		return fmt.Errorf("unexpected answer %q", buf[:n])
	}
	return nil
}

// ssl.clientAuth need / want / none against a client with and without a certificate.
func TestClientAuthModes(t *testing.T) {
	requireEnv(t)
	noCert := zktls.Config{CAFile: pki.CAFile}
	for _, tc := range []struct {
		server string
		cfg    zktls.Config
		want   error
	}{
		{srvNeed, withCert(), nil},
		{srvNeed, noCert, zktls.ErrClientCertRequired},
		{srvWant, withCert(), nil},
		{srvWant, noCert, nil},
		{srvNone, withCert(), nil},
		{srvNone, noCert, nil},
	} {
		name := fmt.Sprintf("%s/cert=%v", tc.server, tc.cfg.CertFile != "")
		err := dial(load(t, tc.cfg), servers[tc.server].Members[0].SecureAddr())
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
		if tc.want != nil && (err == nil || !strings.Contains(err.Error(), "ssl.clientAuth=need")) {
			t.Errorf("%s: error %v does not explain clientAuth=need", name, err)
		}
	}
}

// Verification failures name what the certificate holds and what to do.
func TestVerificationFailures(t *testing.T) {
	requireEnv(t)
	noneAddr := servers[srvNone].Members[0].SecureAddr()
	port := strings.TrimPrefix(noneAddr, "localhost:")
	for _, tc := range []struct {
		name     string
		cfg      zktls.Config
		member   string
		sentinel error
		mentions []string
	}{
		{"unknown CA", zktls.Config{CAFile: pki.UnknownCAFile}, noneAddr, zktls.ErrUnknownCA,
			[]string{"zksecure test CA", pki.UnknownCAFile, noneAddr}},
		{"expired", zktls.Config{CAFile: pki.CAFile}, servers[srvExpired].Members[0].SecureAddr(), zktls.ErrExpired,
			[]string{"expired on " + pki.ExpiredServer.NotAfter.UTC().Format(time.RFC3339)}},
		{"wrong host", zktls.Config{CAFile: pki.CAFile}, servers[srvWrongHost].Members[0].SecureAddr(), zktls.ErrHostname,
			[]string{"wrong.example", "not for localhost"}},
		{"wrong explicit server name", zktls.Config{CAFile: pki.CAFile, ServerName: "zk.example.org"}, servers[srvWrongHost].Members[0].SecureAddr(),
			zktls.ErrHostname, []string{"for wrong.example, not for zk.example.org"}},
		{"TLS to a 3.4 server", zktls.Config{CAFile: pki.CAFile}, servers[srv34].Members[0].Addr(), zktls.ErrNotTLS,
			[]string{"plaintext port"}},
		{"TLS to a 3.8 plaintext port", zktls.Config{CAFile: pki.CAFile}, servers[srvNeed].Members[0].PlainAddr(), zktls.ErrNotTLS,
			[]string{"secureClientPort"}},
	} {
		err := dial(load(t, tc.cfg), tc.member)
		if !errors.Is(err, tc.sentinel) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.sentinel)
			continue
		}
		for _, m := range tc.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: %q does not mention %q", tc.name, err, m)
			}
		}
	}
	// What verification accepts, as ZooKeeper's Java client would.
	for _, tc := range []struct {
		name   string
		cfg    zktls.Config
		member string
	}{
		{"IP literal via IP SAN", zktls.Config{CAFile: pki.CAFile}, "127.0.0.1:" + port},
		{"hostname verification off", zktls.Config{CAFile: pki.CAFile, NoHostnameVerification: true}, servers[srvWrongHost].Members[0].SecureAddr()},
		{"explicit server name the certificate holds", zktls.Config{CAFile: pki.CAFile, ServerName: "wrong.example"}, servers[srvWrongHost].Members[0].SecureAddr()},
		{"insecure switch", zktls.Config{CAFile: pki.UnknownCAFile, InsecureSkipVerify: true}, noneAddr},
	} {
		if err := dial(load(t, tc.cfg), tc.member); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func connectTLS(t *testing.T, cl *zktls.Client, members string, dialer zk.Dialer) *zk.Conn {
	t.Helper()
	c, ev, err := zk.Connect(strings.Split(members, ","), 10*time.Second, zk.WithDialer(dialer),
		zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatal("no session over TLS")
		}
	}
}

func aclIDs(t *testing.T, c *zk.Conn, p string) []string {
	t.Helper()
	acl, _, err := c.GetACL(p)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range acl {
		ids = append(ids, e.Scheme+":"+e.ID)
	}
	return ids
}

// With a client certificate the session's identity is x509:<subject DN>; with SASL on top, a
// creator-only node carries both ids.
func TestX509IdentityAndTLSWithSASL(t *testing.T) {
	requireEnv(t)
	z := servers[srvNeed]
	cl := load(t, withCert())
	c := connectTLS(t, cl, z.SecureConnectString(), cl.Dialer(nil))
	run := fmt.Sprintf("-%d", time.Now().UnixNano())
	if _, err := c.Create("/x509-only"+run, nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	want := "x509:" + pki.Client.Subject
	if ids := aclIDs(t, c, "/x509-only"+run); !slices.Equal(ids, []string{want}) {
		t.Errorf("ACL ids %v, want [%s]", ids, want)
	}

	kt, err := kdc.Keytab(context.Background(), "client")
	if err != nil {
		t.Fatal(err)
	}
	a, err := sasl.New(sasl.Config{Login: sasl.Login{Principal: "client", Keytab: kt, Krb5Conf: kdc.Krb5Conf}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	sc, _, err := sasl.Connect(ctx, a, strings.Split(z.SecureConnectString(), ","), 10*time.Second, cl.Dialer(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if _, err := sc.Create("/x509-and-sasl"+run, nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	ids := aclIDs(t, sc, "/x509-and-sasl"+run)
	if !slices.Contains(ids, want) || !slices.Contains(ids, "sasl:"+kdc.Principal("client")) || len(ids) != 2 {
		t.Errorf("ACL ids %v, want %s and sasl:%s", ids, want, kdc.Principal("client"))
	}
}

// A Java-style client properties file (as zkCli.sh -client-configuration reads it) configures the
// same TLS session; the Java client accepts the same files.
func TestJavaPropertiesFile(t *testing.T) {
	requireEnv(t)
	z := servers[srvNeed]
	dir := t.TempDir()
	props := filepath.Join(dir, "zkclient.properties")
	content := strings.Join([]string{
		"# client config as the JVM tools read it",
		"zookeeper.client.secure=true",
		"zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"zookeeper.ssl.keyStore.location=" + pki.Client.PKCS12File,
		"zookeeper.ssl.keyStore.type=PKCS12",
		"zookeeper.ssl.keyStore.password=" + testenv.KeyPassword,
		"zookeeper.ssl.trustStore.location : " + pki.TrustStorePKCS12,
		"zookeeper.ssl.trustStore.passwordPath=" + pki.Client.PasswordFile,
		"zookeeper.ssl.hostnameVerification=true",
		"zookeeper.ssl.protocol=TLSv1.2",
		"zookeeper.ssl.quorum.keyStore.location=/ignored",
	}, "\n") + "\n"
	if err := os.WriteFile(props, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := zktls.LoadProperties(props)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Secure || p.Config.CertFile != pki.Client.PKCS12File || p.Config.CAFile != pki.TrustStorePKCS12 {
		t.Fatalf("properties → %+v", p)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "zookeeper.ssl.quorum.keyStore.location") {
		t.Errorf("warnings %q, want one (ssl.quorum... has no effect on a client)", p.Warnings)
	}
	if s := fmt.Sprintf("%v %+v", p, p.Config); strings.Contains(s, testenv.KeyPassword) {
		t.Fatalf("password printed: %s", s)
	}
	cl := load(t, p.Config)
	c := connectTLS(t, cl, z.SecureConnectString(), cl.Dialer(nil))
	node := fmt.Sprintf("/from-properties-%d", time.Now().UnixNano())
	if _, err := c.Create(node, nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}

	j := testenv.NewJavaClient(t, testenv.JavaClientOptions{TLS: &testenv.JavaTLS{
		KeyStore: pki.Client.PKCS12File, KeyStoreType: "PKCS12", KeyStorePassword: testenv.KeyPassword,
		TrustStore: pki.TrustStorePKCS12, TrustStoreType: "PKCS12", TrustStorePassword: testenv.KeyPassword}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := j.Connect(ctx, z.SecureConnectString(), 10*time.Second, false); err != nil {
		t.Fatalf("the Java client with the same files: %v", err)
	}
	if got, err := j.GetACL(ctx, node); err != nil || !slices.Equal(got, []string{"x509:" + pki.Client.Subject + ":cdrwa"}) {
		t.Fatalf("Java client sees ACL %v, %v", got, err)
	}
}
