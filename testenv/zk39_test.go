package testenv_test

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// ZooKeeper 3.9 from its own classpath serves what the tests rely on: the Java 3.8 client
// authenticates with Kerberos on the plaintext port, and over TLS with a client certificate it gets
// both identities (sasl and x509). The secure port speaks TLS 1.3 only (3.9.2+'s default): a TLS 1.2
// client — the Java 3.8 client unless zookeeper.ssl.protocol=TLSv1.3 — is refused.
func TestZK39SASLAndTLSIdentities(t *testing.T) {
	e := shared(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{Version: testenv.ZK39,
		SASL: &testenv.SASLServer{KDC: e.KDC}, TLS: &testenv.TLSServer{PKI: e.PKI, PlaintextPort: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	jaas := clientJAAS(t, e.KDC, "client")
	saslID := "sasl:" + e.KDC.Principal("client")

	plain := testenv.NewJavaClient(t, testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: e.KDC.Krb5Conf})
	if _, _, err := plain.Connect(ctx, z.PlainConnectString(), 10*time.Second, true); err != nil {
		t.Fatalf("SASL on the 3.9 plaintext port: %v", err)
	}
	if ids, err := plain.WhoAmI(ctx); err != nil || !slices.Contains(ids, saslID) {
		t.Errorf("whoami on the plaintext port = %v, %v; want %s", ids, err, saslID)
	}

	secure := testenv.NewJavaClient(t, testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: e.KDC.Krb5Conf,
		TLS: &testenv.JavaTLS{KeyStore: e.PKI.Client.KeystorePEM, TrustStore: e.PKI.CAFile, Protocol: "TLSv1.3"}})
	if _, _, err := secure.Connect(ctx, z.SecureConnectString(), 10*time.Second, true); err != nil {
		t.Fatalf("TLS + SASL on the 3.9 secure port: %v", err)
	}
	ids, err := secure.WhoAmI(ctx)
	x509ID := "x509:" + e.PKI.Client.Subject
	if err != nil || !slices.Contains(ids, saslID) || !slices.Contains(ids, x509ID) {
		t.Errorf("whoami over TLS = %v, %v; want %s and %s", ids, err, saslID, x509ID)
	}

	cert, err := tls.LoadX509KeyPair(e.PKI.Client.CertFile, e.PKI.Client.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: caPool(t, e.PKI.CAFile), ServerName: "localhost", Certificates: []tls.Certificate{cert}}
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", z.Members[0].SecureAddr())
	if err != nil {
		t.Fatalf("TLS handshake with 3.9: %v", err)
	}
	if v := conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("3.9 negotiated %s, want TLS 1.3", tls.VersionName(v))
	}
	conn.Close()
	old := cfg.Clone()
	old.MaxVersion = tls.VersionTLS12
	if _, err := srvrOverTLS(z.Members[0].SecureAddr(), old); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("a TLS 1.2-only client against 3.9's defaults: err = %v, want a protocol version alert", err)
	}
	if out, err := srvrOverTLS(z.Members[0].SecureAddr(), cfg); err != nil || !strings.HasPrefix(out, "Zookeeper version: 3.9.3") {
		t.Errorf("srvr over TLS = %q, %v", out, err)
	}
}
