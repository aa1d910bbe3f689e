package testenv_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

func caPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no certificate in %s", file)
	}
	return pool
}

// srvrOverTLS performs a TLS handshake verified against the CA with ServerName localhost and sends srvr.
func srvrOverTLS(addr string, cfg *tls.Config) (string, error) {
	d := tls.Dialer{Config: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// The secure port completes a handshake verified against the generated CA (SAN localhost), serves
// srvr inside TLS, and under clientAuth=need refuses a client that has no certificate.
func TestTLSPortVerifiedHandshakeAndClientAuthNeed(t *testing.T) {
	e := shared(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{TLS: &testenv.TLSServer{PKI: e.PKI}})
	m := z.Members[0]
	if m.ClientPort != 0 {
		t.Fatalf("TLS-only member has a plaintext port %d", m.ClientPort)
	}
	pool := caPool(t, e.PKI.CAFile)
	cert, err := tls.LoadX509KeyPair(e.PKI.Client.CertFile, e.PKI.Client.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	out, err := srvrOverTLS(m.SecureAddr(), &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatalf("verified handshake with a client certificate: %v", err)
	}
	if !strings.HasPrefix(out, "Zookeeper version: 3.8") {
		t.Errorf("srvr over TLS = %q", out)
	}
	// Without a client certificate the server aborts the handshake (or closes before answering).
	out, err = srvrOverTLS(m.SecureAddr(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err == nil && out != "" {
		t.Fatalf("client without certificate got an answer under clientAuth=need: %q", out)
	}
	// A client that trusts another CA rejects the server.
	_, err = srvrOverTLS(m.SecureAddr(), &tls.Config{RootCAs: caPool(t, e.PKI.UnknownCAFile), ServerName: "localhost", Certificates: []tls.Certificate{cert}})
	var unknown x509.UnknownAuthorityError
	if err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("handshake trusting another CA: err = %v, want %T", err, unknown)
	}
}

// With clientAuth=want and both ports, a client without certificate is served on the secure port and
// the plaintext port answers too.
func TestTLSClientAuthWantAndBothPorts(t *testing.T) {
	e := shared(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{TLS: &testenv.TLSServer{PKI: e.PKI, ClientAuth: testenv.ClientAuthWant, PlaintextPort: true}})
	m := z.Members[0]
	if m.ClientPort == 0 || m.SecurePort == 0 {
		t.Fatalf("ports: plain %d secure %d, want both", m.ClientPort, m.SecurePort)
	}
	out, err := srvrOverTLS(m.SecureAddr(), &tls.Config{RootCAs: caPool(t, e.PKI.CAFile), ServerName: "localhost"})
	if err != nil || !strings.HasPrefix(out, "Zookeeper version: 3.8") {
		t.Fatalf("no-certificate client under clientAuth=want: %q, %v", out, err)
	}
	if out, err := m.Srvr(context.Background()); err != nil || !strings.HasPrefix(out, "Zookeeper version: 3.8") {
		t.Fatalf("plaintext port: %q, %v", out, err)
	}
}

// Server certificates for negative tests are served as generated: expired (dated) and wrong host.
func TestTLSNegativeServerCertificates(t *testing.T) {
	e := shared(t)
	pool := caPool(t, e.PKI.CAFile)
	for _, tc := range []struct {
		cert *testenv.Cert
		want string
	}{
		{e.PKI.ExpiredServer, "expired"},
		{e.PKI.WrongHostServer, "wrong.example"},
	} {
		t.Run(tc.cert.Name, func(t *testing.T) {
			t.Parallel()
			z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{TLS: &testenv.TLSServer{PKI: e.PKI, Cert: tc.cert, ClientAuth: testenv.ClientAuthNone}})
			_, err := srvrOverTLS(z.Members[0].SecureAddr(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("handshake against %s: err = %v, want it to mention %q", tc.cert, err, tc.want)
			}
		})
	}
}

// The Java client with a PEM keystore holding the client certificate authenticates by TLS and gets
// the x509 id of its subject DN; creator-only nodes carry it.
func TestJavaClientTLSIdentity(t *testing.T) {
	e := shared(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{TLS: &testenv.TLSServer{PKI: e.PKI}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := testenv.NewJavaClient(t, testenv.JavaClientOptions{TLS: &testenv.JavaTLS{KeyStore: e.PKI.Client.KeystorePEM, TrustStore: e.PKI.CAFile}})
	if _, _, err := c.Connect(ctx, z.SecureConnectString(), 10*time.Second, false); err != nil {
		t.Fatalf("Java TLS connect: %v", err)
	}
	if _, err := c.Create(ctx, "/x509-owned", "", "creator", "persistent"); err != nil {
		t.Fatal(err)
	}
	acl, err := c.GetACL(ctx, "/x509-owned")
	if err != nil {
		t.Fatal(err)
	}
	want := "x509:" + e.PKI.Client.Subject + ":cdrwa"
	if !slices.Equal(acl, []string{want}) {
		t.Errorf("ACL = %v, want [%s]", acl, want)
	}
}

// TLS on 3.4 is refused by testenv itself, with a message that says why.
func TestZK34HasNoTLS(t *testing.T) {
	_, err := testenv.StartZooKeeper(context.Background(), testenv.ZooKeeperOptions{Version: testenv.ZK34, TLS: &testenv.TLSServer{PKI: shared(t).PKI}})
	if err == nil || !strings.Contains(err.Error(), "3.4 has no TLS") {
		t.Fatalf("err = %v", err)
	}
}
