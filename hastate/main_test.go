package hastate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/hastate"
	"github.com/zksecure/zksecure/testenv"
)

var (
	kdc     *testenv.KDC
	server  *testenv.ZooKeeper
	keytabs = map[string]string{}
	jaas    = map[string]string{} // principal → JAAS file with a Client section for it
	testEnv *testenv.Shared
)

// One standalone ZooKeeper 3.8 with Kerberos (not enforced: the unauthenticated Java client must be
// able to connect, to show what it may and may not do) that strips the host from principals, so
// that flink/jm1 and flink/jm2 are both sasl:flink@EXAMPLE.COM, as in a Flink deployment with
// per-host principals; "other" is someone else.
func TestMain(m *testing.M) {
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		var err error
		principals := []string{"flink/jm1", "flink/jm2", "other"}
		if kdc, err = s.StartKDC(ctx, testenv.KDCOptions{Principals: append([]string{"zookeeper/localhost"}, principals...)}); err != nil {
			return err
		}
		for _, p := range principals {
			if keytabs[p], err = kdc.Keytab(ctx, p); err != nil {
				return err
			}
			jaas[p] = filepath.Join(s.Dir, "jaas-"+filepath.Base(p)+".conf")
			if err := os.WriteFile(jaas[p], []byte(testenv.JAASSection("Client", keytabs[p], kdc.Principal(p))), 0o644); err != nil {
				return err
			}
		}
		zks, err := s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			"ha": {SASL: &testenv.SASLServer{KDC: kdc, RemoveHostFromPrincipal: true}},
		})
		server = zks["ha"]
		return err
	})
	code := testEnv.Run(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// config is a JobManager's client as principal, creator-only ACLs, namespace root+cluster.
func config(principal, root, cluster string) client.Config {
	return client.Config{Members: []string{server.ConnectString()}, Root: root, ClusterID: cluster,
		SessionTimeout: 4 * time.Second, SASL: client.SASLKerberos, ACL: acl.Creator(),
		Kerberos: sasl.Config{Login: sasl.Login{Principal: kdc.Principal(principal), Keytab: keytabs[principal], Krb5Conf: kdc.Krb5Conf}}}
}

func connect(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// javaPeer is a Java client (and Curator) logged in as principal ("" for an unauthenticated one),
// connected.
func javaPeer(t *testing.T, ctx context.Context, principal string) *testenv.JavaClient {
	t.Helper()
	opts := testenv.JavaClientOptions{}
	if principal != "" {
		opts.JAASFile, opts.Krb5Conf = jaas[principal], kdc.Krb5Conf
	}
	j := testenv.NewJavaClient(t, opts)
	if _, _, err := j.Connect(ctx, server.ConnectString(), 10*time.Second, principal != ""); err != nil {
		t.Fatal(err)
	}
	return j
}

func identities(t *testing.T, ctx context.Context, c *client.Client, parent string) []acl.Identity {
	t.Helper()
	ids, err := hastate.Identities(ctx, c.Conn(), parent)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
