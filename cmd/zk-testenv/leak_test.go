package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// mainEnv makes the test binary run zk-testenv itself (for the console and zoo.cfg tests, which
// need a process of their own: it makes a network namespace). With flinkHAProbe as its first
// argument it runs the probe instead, as the command zk-testenv runs inside an environment.
const mainEnv = "ZK_TESTENV_RUN_MAIN"

// TestMain fails the package when a goroutine outlives its tests.
func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		if len(os.Args) > 1 && os.Args[1] == flinkHAProbe {
			os.Exit(probeFlinkHA(os.Args[2:], os.Stdout, os.Stderr))
		}
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeChecker()
		os.Exit(code)
	}))
}
