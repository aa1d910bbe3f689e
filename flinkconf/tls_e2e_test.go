package flinkconf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/flinkconf"
	"github.com/zksecure/zksecure/testenv"
)

// A Flink deployment that sets TLS only in the JobManager's JVM options, as Flink requires (it has no
// ZooKeeper TLS keys): flink-conf.yaml and config.yaml, with PEM, PKCS#12 and JKS stores and
// passwords from files or values, connect over TLS for real (the server requires a client
// certificate), and the server sees the client certificate's x509 identity.
func TestFlinkConfTLSFromJVMOptions(t *testing.T) {
	env := testenv.NewEnv(t, testenv.EnvOptions{TLS: true, NoSASL: true})
	p := env.PKI
	quorum := env.ZooKeeper.SecureConnectString()
	secure := "-Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty"
	for _, tc := range []struct {
		name, file, opts string
	}{
		{"PEM keystore and truststore", "flink-conf.yaml",
			"-Dzookeeper.ssl.keyStore.location=" + p.Client.KeystorePEM + " -Dzookeeper.ssl.trustStore.location=" + p.CAFile + " -Dzookeeper.ssl.trustStore.type=PEM"},
		{"PKCS#12, passwords from files", "config.yaml",
			"-Dzookeeper.ssl.keyStore.location=" + p.Client.PKCS12File + " -Dzookeeper.ssl.keyStore.passwordPath=" + p.Client.PasswordFile +
				" -Dzookeeper.ssl.trustStore.location=" + p.TrustStorePKCS12 + " -Dzookeeper.ssl.trustStore.type=PKCS12 -Dzookeeper.ssl.trustStore.passwordPath=" + p.Client.PasswordFile},
		{"JKS, password values", "flink-conf.yaml",
			"-Dzookeeper.ssl.keyStore.location=" + p.Client.JKSFile + " -Dzookeeper.ssl.keyStore.type=JKS -Dzookeeper.ssl.keyStore.password=" + testenv.KeyPassword +
				" -Dzookeeper.ssl.trustStore.location=" + p.TrustStoreJKS + " -Dzookeeper.ssl.trustStore.password=" + testenv.KeyPassword},
		{"JKS truststore with a password file, TLSv1.2", "config.yaml",
			"-Dzookeeper.ssl.keyStore.location=" + p.Client.KeystorePEM + " -Dzookeeper.ssl.keyStore.type=PEM -Dzookeeper.ssl.protocol=TLSv1.2" +
				" -Dzookeeper.ssl.trustStore.location=" + p.TrustStoreJKS + " -Dzookeeper.ssl.trustStore.passwordPath=" + p.Client.PasswordFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			var content string
			if tc.file == "flink-conf.yaml" {
				content = "high-availability.type: zookeeper\n" +
					"high-availability.zookeeper.quorum: " + quorum + "\n" +
					"high-availability.storageDir: file:///tmp/flink-ha\n" +
					"high-availability.cluster-id: tls\n" +
					"high-availability.zookeeper.client.acl: creator\n" +
					"zookeeper.sasl.disable: true\n" +
					"env.java.opts.all: " + secure + "\n" +
					"env.java.opts.jobmanager: " + tc.opts + "\n"
			} else {
				content = fmt.Sprintf(`high-availability:
  type: zookeeper
  storageDir: file:///tmp/flink-ha
  cluster-id: tls
  zookeeper:
    quorum: %s
    client:
      acl: creator
zookeeper:
  sasl:
    disable: true
env:
  java:
    opts:
      all: %q
      jobmanager: %q
`, quorum, secure, tc.opts)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			conf, err := flinkconf.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := conf.ClientConfig(flinkconf.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Warnings) > 0 {
				t.Errorf("warnings: %q", r.Warnings)
			}
			if r.Config.TLS == nil || r.Config.Transport != client.TransportTLS {
				t.Fatalf("no TLS from the JVM options: transport %q", r.Config.Transport)
			}
			if strings.Contains(fmt.Sprintf("%v %+v %#v", r, r.Config, r.Config.TLS), testenv.KeyPassword) {
				t.Error("the mapped configuration prints a password")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cl, err := client.Connect(ctx, r.Config)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if !cl.UsesTLS() {
				t.Fatal("connected without TLS")
			}
			if err := cl.EnsureNamespace(ctx); err != nil {
				t.Fatal(err)
			}
			a, _, err := cl.Conn().GetACL("/flink/tls")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range a {
				got = append(got, e.Scheme+":"+e.ID+":"+acl.Perms(e.Perms))
			}
			if want := []string{"x509:" + p.Client.Subject + ":cdrwa"}; !slices.Equal(got, want) {
				t.Errorf("HA root ACL %v, want %v (the server saw the client certificate)", got, want)
			}
		})
	}
}
