package election_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

var (
	otherKeytab string
	kdc         *testenv.KDC
	zk38, zk34  *testenv.ZooKeeper
	// ensemble is a 3-member ensemble with a short tickTime, for the quorum-loss tests (members are
	// frozen and thawed, never killed).
	ensemble     *testenv.ZooKeeper
	testEnv      *testenv.Shared // set up by the first test that needs it
	clientKeytab string
	jaasFile     string
)

func TestMain(m *testing.M) {
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		var err error
		if kdc, err = s.StartKDC(ctx, testenv.KDCOptions{Principals: []string{"zookeeper/localhost", "client", "other"}}); err != nil {
			return err
		}
		if clientKeytab, err = kdc.Keytab(ctx, "client"); err != nil {
			return err
		}
		if otherKeytab, err = kdc.Keytab(ctx, "other"); err != nil {
			return err
		}
		jaasFile = filepath.Join(s.Dir, "jaas.conf")
		if err := os.WriteFile(jaasFile, []byte(testenv.JAASSection("Client", clientKeytab, kdc.Principal("client"))), 0o644); err != nil {
			return err
		}
		zks, err := s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			"38":       {SASL: &testenv.SASLServer{KDC: kdc}},
			"34":       {Version: testenv.ZK34, SASL: &testenv.SASLServer{KDC: kdc}},
			"ensemble": {Members: 3, SASL: &testenv.SASLServer{KDC: kdc}, TickTime: 250 * time.Millisecond},
		})
		if err != nil {
			return err
		}
		zk38, zk34, ensemble = zks["38"], zks["34"], zks["ensemble"]
		return nil
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

func requireEnv(t testing.TB) {
	t.Helper()
	testEnv.Require(t)
}

// setup is one security flavour of the same election tests.
type setup struct {
	name   string
	server func() *testenv.ZooKeeper
	secure bool
}

var setups = []setup{
	{"3.8-sasl", func() *testenv.ZooKeeper { return zk38 }, true},
	{"3.8-open", func() *testenv.ZooKeeper { return zk38 }, false},
	{"3.4-sasl", func() *testenv.ZooKeeper { return zk34 }, true},
}

func (s setup) config(cluster string, members ...string) client.Config {
	if len(members) == 0 {
		members = strings.Split(s.server().ConnectString(), ",")
	}
	// Each setup has its own root: a creator-only /flink made by a SASL setup rightly refuses an
	// unauthenticated one.
	cfg := client.Config{Members: members, Root: "/flink-" + s.name, ClusterID: "/" + cluster, SessionTimeout: 4 * time.Second, ConnectionTimeout: 20 * time.Second}
	if s.secure {
		cfg.SASL = client.SASLKerberos
		cfg.Kerberos = sasl.Config{Login: sasl.Login{Principal: "client", Keytab: clientKeytab, Krb5Conf: kdc.Krb5Conf}}
		cfg.ACL = acl.Creator()
	}
	return cfg
}

func connect(t testing.TB, cfg client.Config) *client.Client {
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
