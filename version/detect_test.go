package version_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"go.uber.org/goleak"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/testenv"
	"github.com/zksecure/zksecure/version"
)

var (
	pki        *testenv.PKI
	zk38, zk34 *testenv.ZooKeeper
	zk39       *testenv.ZooKeeper // TLS 1.3 only, 3.9.2+'s default
	testEnv    *testenv.Shared    // set up by the first test that needs it
	clientTLS  *zktls.Client
)

func TestMain(m *testing.M) {
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		var err error
		if pki, err = s.NewPKI("pki"); err != nil {
			return err
		}
		zks, err := s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{
			"38": {TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}},
			"34": {Version: testenv.ZK34},
			"39": {Version: testenv.ZK39, TLS: &testenv.TLSServer{PKI: pki, PlaintextPort: true}},
		})
		if err != nil {
			return err
		}
		zk38, zk34, zk39 = zks["38"], zks["34"], zks["39"]
		clientTLS, err = zktls.Config{CertFile: pki.Client.KeystorePEM, CAFile: pki.CAFile}.Load()
		return err
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

func TestDetectReportsEachMember(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	m, err := version.Detect(ctx, zk38.Members[0].PlainAddr(), nil)
	if err != nil || !m.Reachable || m.Mode != version.Plaintext || m.Version.String() != "3.8.0" || m.ServerMode != "standalone" {
		t.Errorf("3.8 plaintext: %+v, %v", m, err)
	}
	m, err = version.Detect(ctx, zk34.Members[0].Addr(), nil)
	if err != nil || m.Version.String() != "3.4.13" || m.Version.Raw() != "3.4.13-6--1" || m.Version.SupportsTLS() {
		t.Errorf("3.4 plaintext: %+v, %v", m, err)
	}
	m, err = version.Detect(ctx, zk38.Members[0].SecureAddr(), clientTLS)
	if err != nil || m.Mode != version.TLS || m.Version.String() != "3.8.0" || len(m.Chain) == 0 || m.Chain[0].Subject.CommonName != "zookeeper" {
		t.Errorf("3.8 TLS: %+v, %v", m, err)
	}
	m, err = version.Detect(ctx, zk39.Members[0].PlainAddr(), nil)
	if err != nil || m.Mode != version.Plaintext || m.Version.String() != "3.9.3" || !m.Version.SupportsWhoAmI() {
		t.Errorf("3.9 plaintext: %+v, %v", m, err)
	}
	m, err = version.Detect(ctx, zk39.Members[0].SecureAddr(), clientTLS)
	if err != nil || m.Mode != version.TLS || m.Version.String() != "3.9.3" || len(m.Chain) == 0 {
		t.Errorf("3.9 TLS (1.3 only): %+v, %v", m, err)
	}
}

// DetectOn goes on on a connection the caller made, with the same findings as Detect; where it
// must look again (TLS asked of a plaintext port) it makes its own connections.
func TestDetectOnAGivenConnection(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	dial := func(addr string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	m, err := version.DetectOn(ctx, dial(zk38.Members[0].SecureAddr()), zk38.Members[0].SecureAddr(), clientTLS)
	if err != nil || m.Mode != version.TLS || m.Version.String() != "3.8.0" || len(m.Chain) == 0 {
		t.Errorf("3.8 TLS: %+v, %v", m, err)
	}
	m, err = version.DetectOn(ctx, dial(zk38.Members[0].PlainAddr()), zk38.Members[0].PlainAddr(), nil)
	if err != nil || m.Mode != version.Plaintext || m.Version.String() != "3.8.0" {
		t.Errorf("3.8 plaintext: %+v, %v", m, err)
	}
	m, err = version.DetectOn(ctx, dial(zk38.Members[0].PlainAddr()), zk38.Members[0].PlainAddr(), clientTLS)
	if !errors.Is(err, version.ErrPlaintextPort) || m.Version.String() != "3.8.0" {
		t.Errorf("TLS asked of the plaintext port: %+v, %v; want ErrPlaintextPort with the version", m, err)
	}
}

func TestDetectExplainsWrongTransport(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	addr34 := zk34.Members[0].Addr()
	_, err := version.Detect(ctx, addr34, clientTLS)
	want := addr34 + " speaks plaintext ZooKeeper 3.4.13-6--1; 3.4 has no TLS — use SASL, or upgrade to 3.5+"
	if !errors.Is(err, version.ErrPlaintextPort) || !strings.Contains(err.Error(), want) {
		t.Errorf("TLS against 3.4: %v\nwant it to say %q", err, want)
	}
	_, err = version.Detect(ctx, zk38.Members[0].PlainAddr(), clientTLS)
	if !errors.Is(err, version.ErrPlaintextPort) || !strings.Contains(err.Error(), "secureClientPort") {
		t.Errorf("TLS against a 3.8 plaintext port: %v", err)
	}
	m, err := version.Detect(ctx, zk38.Members[0].SecureAddr(), nil)
	if !errors.Is(err, version.ErrTLSPort) || m.Mode != version.TLS || !strings.Contains(err.Error(), "CN=zookeeper") {
		t.Errorf("plaintext against a TLS port: %+v, %v", m, err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	m, err = version.Detect(ctx, closed, nil)
	if !errors.Is(err, version.ErrUnreachable) || m.Reachable {
		t.Errorf("closed port: %+v, %v", m, err)
	}
	// A TLS failure that is not about the port keeps its own error (here: an untrusted CA).
	untrusting, err := zktls.Config{CAFile: pki.UnknownCAFile}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := version.Detect(ctx, zk38.Members[0].SecureAddr(), untrusting); !errors.Is(err, zktls.ErrUnknownCA) {
		t.Errorf("unknown CA: %v", err)
	}
}

// /zookeeper/config exists on 3.5+ and never on 3.4: the cross-check once a session is up.
func TestConfigNodeCrossCheck(t *testing.T) {
	requireEnv(t)
	for _, tc := range []struct {
		z    *testenv.ZooKeeper
		want bool
	}{{zk38, true}, {zk34, false}, {zk39, true}} {
		c, ev, err := zk.Connect([]string{tc.z.Members[0].Addr()}, 10*time.Second, zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		for e := range ev {
			if e.State == zk.StateHasSession {
				break
			}
		}
		got, _, err := c.Exists("/zookeeper/config")
		c.Close()
		if err != nil || got != tc.want {
			t.Errorf("%s: /zookeeper/config exists = %v, %v; want %v", tc.z.Version, got, err, tc.want)
		}
	}
}
