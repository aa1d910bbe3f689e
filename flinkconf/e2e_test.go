package flinkconf_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/flinkconf"
	"github.com/zksecure/zksecure/testenv"
)

// A flink-conf.yaml as a kerberized deployment writes it — the JAAS file and krb5.conf passed in
// env.java.opts — connects for real: SASL as the JAAS principal, creator-only HA root.
func TestFlinkConfConnectsToKerberizedZooKeeper(t *testing.T) {
	env := testenv.NewEnv(t, testenv.EnvOptions{EnforceSASL: true})
	conf := filepath.Join(t.TempDir(), "flink-conf.yaml")
	content := "high-availability.type: zookeeper\n" +
		"high-availability.zookeeper.quorum: " + env.ZooKeeper.ConnectString() + "\n" +
		"high-availability.storageDir: file:///tmp/flink-ha\n" +
		"high-availability.cluster-id: e2e\n" +
		"high-availability.zookeeper.client.acl: creator\n" +
		"high-availability.zookeeper.client.session-timeout: 20 s\n" +
		"env.java.opts.all: -Djava.security.auth.login.config=" + env.JAASFile + " -Djava.security.krb5.conf=" + env.KDC.Krb5Conf + "\n"
	if err := os.WriteFile(conf, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := flinkconf.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.ClientConfig(flinkconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) > 0 {
		t.Errorf("warnings: %v", r.Warnings)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.Connect(ctx, r.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.Namespace() != "/flink/e2e" {
		t.Errorf("namespace %s", cl.Namespace())
	}
	if err := cl.EnsureNamespace(ctx); err != nil {
		t.Fatal(err)
	}
	a, _, err := cl.Conn().GetACL("/flink/e2e")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, e := range a {
		got = append(got, e.Scheme+":"+e.ID+":"+acl.Perms(e.Perms))
	}
	if want := []string{"sasl:" + env.ClientPrincipal + ":cdrwa"}; !slices.Equal(got, want) {
		t.Errorf("HA root ACL %v, want %v", got, want)
	}
	if _, err := cl.Create(ctx, "/probe", nil, zk.FlagEphemeral, nil); err != nil {
		t.Fatal(err)
	}
}
