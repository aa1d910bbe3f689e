package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// mainEnv makes the test binary run zk-testenv itself (for the console test, which needs a process
// of its own: it makes a network namespace).
const mainEnv = "ZK_TESTENV_RUN_MAIN"

// TestMain fails the package when a goroutine outlives its tests.
func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}
