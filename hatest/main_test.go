package hatest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/testenv"
)

// The environment every test of the package shares: inside a private network namespace, a KDC, a
// PKI and a 3-member ZooKeeper 3.8 ensemble on named hosts (zk1.ha.test …, the same ports on every
// host) with Kerberos enforced and TLS (per-host principals and certificates from an intermediate
// CA).
type haEnv struct {
	net *testenv.Network
	kdc *testenv.KDC
	pki *testenv.PKI
	zk  *testenv.ZooKeeper
	dir string

	keytab string // the writer's principal "flink"

	mu  sync.Mutex
	jms int // JobManager hosts made so far
}

const (
	// sessionTimeout is the contenders' session timeout: short, so that a fault test takes seconds.
	sessionTimeout = 4 * time.Second
	tickTime       = 500 * time.Millisecond
	clusterID      = "/ha"
	// recoveryBound is the invariant "a leader again within session timeout + 2 ticks + 2 s after
	// a fault ends".
	recoveryBound = sessionTimeout + 2*tickTime + 2*time.Second
)

var (
	env    *haEnv
	envErr error
)

func TestMain(m *testing.M) {
	if raw := os.Getenv(peerEnv); raw != "" {
		os.Exit(runPeer(raw))
	}
	if raw := os.Getenv(stormEnv); raw != "" {
		os.Exit(runStormPeer(raw))
	}
	code, parent, isoErr := testenv.Isolate()
	if parent {
		os.Exit(code)
	}
	code = testenv.RunMain(closing{m}, &envErr, func(ctx context.Context, s *testenv.Shared) error {
		if isoErr != nil {
			return isoErr
		}
		return setup(ctx, s)
	})
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// closing runs the tests, then ends the contenders they shared, before the servers are stopped.
type closing struct{ m *testing.M }

func (c closing) Run() int {
	code := c.m.Run()
	closeHarness()
	return code
}

func setup(ctx context.Context, s *testenv.Shared) error {
	e := &haEnv{dir: s.Dir}
	var err error
	if e.net, err = s.NewNetwork("ha.test"); err != nil {
		return err
	}
	if e.kdc, err = s.StartKDC(ctx, testenv.KDCOptions{Principals: []string{"flink"}}); err != nil {
		return err
	}
	if e.keytab, err = e.kdc.Keytab(ctx, "flink"); err != nil {
		return err
	}
	if e.pki, err = s.NewPKI("pki"); err != nil {
		return err
	}
	zks, err := s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{"ha": {
		Members:  3,
		Network:  e.net,
		TickTime: tickTime,
		// Every JobManager host has its own principal flink/jmN.ha.test; with the host stripped they
		// all are sasl:flink@EXAMPLE.COM, as a Flink deployment with creator ACLs needs.
		SASL: &testenv.SASLServer{KDC: e.kdc, Enforce: true, RemoveHostFromPrincipal: true},
		// The plaintext ports serve BenchmarkReconnectStorm's Kerberos-only sessions.
		TLS: &testenv.TLSServer{PKI: e.pki, PlaintextPort: true},
		// A follower gives up on a silent leader after syncLimit ticks: 2.5 s here, the same
		// ratio to the session timeout as Flink's defaults (60 s) with tickTime 2 s, syncLimit 5.
		Extra: map[string]string{"syncLimit": "5"},
	}})
	if err != nil {
		return err
	}
	e.zk = zks["ha"]
	env = e
	return nil
}

func sharedEnv(t testing.TB) *haEnv {
	t.Helper()
	if envErr != nil {
		t.Fatalf("shared test environment: %v", envErr)
	}
	return env
}
