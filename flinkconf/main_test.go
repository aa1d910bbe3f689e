package flinkconf

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/auth/sasl"
)

// TestMain fails the package when a goroutine outlives its tests. The end-to-end tests connect
// through client.Connect, whose default Authenticator is shared in the process and lingers after
// its last client (sasl.SharedLinger): it is closed before the check.
func TestMain(m *testing.M) {
	code := m.Run()
	sasl.CloseIdle()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines left after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
