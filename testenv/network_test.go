package testenv_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// Named hosts resolve forward and backward through /etc/hosts, inside the namespace only.
func TestNetworkHostsResolveBothWays(t *testing.T) {
	e := shared(t)
	h, err := e.Net.AddHost("resolve1", testenv.RoleClient)
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != "resolve1.zk.test" || !strings.HasPrefix(h.Addr.String(), "127.0.2.") {
		t.Fatalf("host = %v, want resolve1.zk.test on 127.0.2.x", h)
	}
	var r net.Resolver
	ctx := context.Background()
	addrs, err := r.LookupHost(ctx, h.Name)
	if err != nil || len(addrs) != 1 || addrs[0] != h.Addr.String() {
		t.Fatalf("LookupHost(%s) = %v, %v; want [%s]", h.Name, addrs, err, h.Addr)
	}
	names, err := r.LookupAddr(ctx, h.Addr.String())
	if err != nil || len(names) == 0 || strings.TrimSuffix(names[0], ".") != h.Name {
		t.Fatalf("LookupAddr(%s) = %v, %v; want %s first", h.Addr, names, err, h.Name)
	}
	if _, err := e.Net.AddHost("resolve1", testenv.RoleClient); err == nil {
		t.Fatal("a second host with the same name was accepted")
	}
	b, err := os.ReadFile("/etc/hosts")
	if err != nil || !strings.Contains(string(b), "resolve1.zk.test") || !strings.Contains(string(b), "localhost") {
		t.Fatalf("/etc/hosts inside the namespace = %q, %v", b, err)
	}
}

// A named ensemble: every member on its own host and the same ports, its own service principal,
// a certificate for its name only from the intermediate CA — and packet and process faults that
// really cut it off and bring it back.
func TestNamedEnsembleFaults(t *testing.T) {
	e := shared(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{Members: 3, Network: e.Net, HostPrefix: "nz",
		SASL: &testenv.SASLServer{KDC: e.KDC}, TLS: &testenv.TLSServer{PKI: e.PKI, PlaintextPort: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for i, m := range z.Members {
		want := "nz" + string(rune('1'+i)) + ".zk.test"
		if m.Host.Name != want || m.ClientPort != testenv.NetClientPort || m.SecurePort != testenv.NetSecurePort {
			t.Fatalf("member %d = %s ports %d/%d, want %s on %d/%d", m.ID, m.Host, m.ClientPort, m.SecurePort, want,
				testenv.NetClientPort, testenv.NetSecurePort)
		}
		if m.ServicePrincipal != "zookeeper/"+want+"@"+e.KDC.Realm {
			t.Errorf("member %d principal %q", m.ID, m.ServicePrincipal)
		}
		if m.User.UID == 0 {
			t.Errorf("member %d runs as root; faults cannot tell its packets apart", m.ID)
		}
	}
	if got := z.SecureConnectString(); got != "nz1.zk.test:2281,nz2.zk.test:2281,nz3.zk.test:2281" {
		t.Errorf("SecureConnectString = %q", got)
	}

	// TLS as a client sees it: the name verifies against the root alone, through the intermediate.
	roots := x509.NewCertPool()
	roots.AddCert(e.PKI.CA.X509)
	m1 := z.Members[0]
	cfg := &tls.Config{RootCAs: roots, ServerName: m1.Host.Name,
		Certificates: []tls.Certificate{{Certificate: [][]byte{e.PKI.Client.X509.Raw}, PrivateKey: e.PKI.Client.Key}}}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", m1.SecureAddr(), cfg)
	if err != nil {
		t.Fatalf("TLS to %s with the root CA only: %v", m1.SecureAddr(), err)
	}
	chain := conn.ConnectionState().PeerCertificates
	conn.Close()
	if len(chain) != 2 || chain[1].Subject.CommonName != "zksecure test intermediate CA" || len(chain[0].IPAddresses) != 0 {
		t.Fatalf("server sent %d certificates (want leaf without IP SANs + intermediate)", len(chain))
	}

	followers, err := z.Followers(ctx)
	if err != nil || len(followers) != 2 {
		t.Fatalf("followers: %v, %v", followers, err)
	}
	f := followers[0]

	// Partition: a blackhole, not a refusal — the dial times out.
	fault, err := f.Partition()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", f.PlainAddr(), 500*time.Millisecond); !isTimeout(err) {
		t.Fatalf("dial to partitioned %s: %v, want a timeout", f.Host, err)
	}
	if _, err := z.Leader(ctx); err != nil { // the other two keep the quorum
		t.Fatalf("no leader while one follower is partitioned: %v", err)
	}
	if err := fault.Heal(); err != nil {
		t.Fatal(err)
	}
	if err := waitServing(ctx, f); err != nil {
		t.Fatalf("member %d after heal: %v", f.ID, err)
	}

	// Freeze: the process is stopped; connections are accepted by the kernel but nothing answers.
	if err := f.Freeze(); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 1500*time.Millisecond)
	_, err = f.Mode(short)
	cancelShort()
	if err == nil {
		t.Fatal("a frozen member answered srvr")
	}
	if err := f.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := waitServing(ctx, f); err != nil {
		t.Fatalf("member %d after thaw: %v", f.ID, err)
	}

	// Between two members: the quorum traffic of f and the leader is cut; f loses its leader
	// (it follows nobody) while clients still reach it.
	leader, _ := z.Leader(ctx)
	between, err := f.PartitionFrom(leader)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, func() error {
		mode, err := f.Mode(ctx)
		if err == nil && mode == "follower" {
			return errors.New("still following")
		}
		return nil
	}); err != nil {
		t.Fatalf("member %d kept following across a cut from the leader: %v", f.ID, err)
	}
	if _, err := net.DialTimeout("tcp", f.PlainAddr(), time.Second); err != nil {
		t.Fatalf("clients lost member %d too: %v", f.ID, err)
	}
	between.Heal()
	if err := waitServing(ctx, f); err != nil {
		t.Fatalf("member %d after the cut healed: %v", f.ID, err)
	}

	// A rolling restart leaves every member serving in one quorum.
	if err := z.RollingRestart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for _, m := range z.Members {
		if err := waitServing(ctx, m); err != nil {
			t.Fatalf("member %d after the rolling restart: %v", m.ID, err)
		}
	}
	if len(e.Net.Faults()) != 0 {
		t.Fatalf("faults left in force: %v", e.Net.Faults())
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func waitServing(ctx context.Context, m *testenv.Member) error {
	return waitFor(ctx, func() error {
		mode, err := m.Mode(ctx)
		if err != nil {
			return err
		}
		if mode != "leader" && mode != "follower" {
			return errors.New("mode " + mode)
		}
		return nil
	})
}

func waitFor(ctx context.Context, cond func() error) error {
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
