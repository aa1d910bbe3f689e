package testenv_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/testenv"
)

// One KDC and one PKI serve every test of the package; servers are started per test because each
// test needs a different configuration.
type sharedEnv struct {
	KDC *testenv.KDC
	PKI *testenv.PKI
	Net *testenv.Network // named hosts and packet faults: the tests run in a private namespace
}

var env *sharedEnv
var testEnv *testenv.Shared // set up by the first test that needs it

func TestMain(m *testing.M) {
	code, parent, isoErr := testenv.Isolate()
	if parent {
		os.Exit(code)
	}
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		if isoErr != nil {
			return isoErr
		}
		env = &sharedEnv{}
		var err error
		if env.Net, err = s.NewNetwork("zk.test"); err != nil {
			return err
		}
		if env.KDC, err = s.StartKDC(ctx, testenv.KDCOptions{Principals: []string{"zookeeper/localhost", "client", "other"}}); err != nil {
			return err
		}
		env.PKI, err = s.NewPKI("pki")
		return err
	})
	code = testEnv.Run(m)
	// After Run has stopped the servers: no goroutine of the tests may remain.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// shared returns the package's KDC and PKI, failing the test if they could not be started.
func shared(t *testing.T) *sharedEnv {
	t.Helper()
	testEnv.Require(t)
	return env
}
