package testenv_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/zksecure/zksecure/testenv"
)

// One KDC and one PKI serve every test of the package; servers are started per test because each
// test needs a different configuration.
type sharedEnv struct {
	KDC *testenv.KDC
	PKI *testenv.PKI
}

var env *sharedEnv
var envErr error

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "zksecure-testenv-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if envErr = testenv.Check(); envErr == nil {
		env = &sharedEnv{}
		env.KDC, envErr = testenv.StartKDC(context.Background(), testenv.KDCOptions{
			Dir:        filepath.Join(dir, "kdc"),
			Principals: []string{"zookeeper/localhost", "client", "other"},
		})
		if envErr == nil {
			defer env.KDC.Close()
			env.PKI, envErr = testenv.NewPKI(filepath.Join(dir, "pki"))
		}
	}
	code := m.Run()
	if code != 0 && env != nil && env.KDC != nil {
		fmt.Fprintf(os.Stderr, "KDC log %s (last lines):\n", env.KDC.LogPath())
	}
	return code
}

// shared returns the package's KDC and PKI, failing the test if they could not be started.
func shared(t *testing.T) *sharedEnv {
	t.Helper()
	if envErr != nil {
		t.Fatalf("shared test environment: %v", envErr)
	}
	return env
}
