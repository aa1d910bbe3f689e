package preflight

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/testenv"
)

// The Kerberos checks run against real KDCs: an Active Directory domain controller (Samba) with
// servers keyed from it, started by the first test that needs them, inside a private network
// namespace (testenv.Isolate) where the DC has its own address.
var (
	testEnv *testenv.Shared
	env     struct {
		ad  *testenv.AD
		zks map[string]*testenv.ZooKeeper // zkAES, zkRC4
		// keytabs of the client principal "flink" (AES keys: users have them by default).
		flinkKeytab string
	}
)

const (
	zkAES = "ad-aes" // SPN zookeeper/zk1.ad.test, its account given AES (msDS-SupportedEncryptionTypes=24)
	zkRC4 = "ad-rc4" // SPN zookeeper/zkr1.ad.test with AD's defaults: RC4 tickets
)

// TestMain runs the tests in a private namespace and fails the package when a goroutine outlives
// its tests.
func TestMain(m *testing.M) {
	code, parent, isoErr := testenv.Isolate()
	if parent {
		os.Exit(code)
	}
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		if isoErr != nil {
			return isoErr
		}
		network, err := s.NewNetwork("ad.test")
		if err != nil {
			return err
		}
		if env.ad, err = s.StartAD(ctx, testenv.ADOptions{Network: network,
			Principals: []string{"flink", "zookeeper/zk1.ad.test", "zookeeper/zkr1.ad.test"}}); err != nil {
			return err
		}
		if err := env.ad.SetSupportedEnctypes(ctx, testenv.ADEnctypesAES, "zookeeper/zk1.ad.test"); err != nil {
			return err
		}
		if env.flinkKeytab, err = env.ad.Keytab(ctx, "flink"); err != nil {
			return err
		}
		env.zks, err = s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			zkAES: {Network: network, HostPrefix: "zk", SASL: &testenv.SASLServer{KDC: env.ad.KDC, Enforce: true}},
			zkRC4: {Network: network, HostPrefix: "zkr", SASL: &testenv.SASLServer{KDC: env.ad.KDC, Enforce: true}},
		})
		return err
	})
	code = testEnv.Run(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
