package testenv_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// Servers fixes what a zoo.cfg's server.X lines fix: the ids, the hosts (a one-label host is what
// clients use, and its certificate names it), the quorum ports, the data folder, extra keys.
func TestServersFixIDsHostsAndPorts(t *testing.T) {
	e := shared(t)
	data := filepath.Join(t.TempDir(), "data4")
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{Network: e.Net, TLS: &testenv.TLSServer{PKI: e.PKI, PlaintextPort: true},
		Servers: []testenv.ServerSpec{
			{ID: 4, Host: "alpha", PeerPort: 2999, ElectionPort: 3999, DataDir: data, Extra: map[string]string{"maxClientCnxns": "7"}},
			{ID: 9, Host: "beta.zk.test", ClientPort: 2182},
		}})
	if got, want := z.PlainConnectString(), "alpha:2181,beta.zk.test:2182"; got != want {
		t.Errorf("PlainConnectString = %q, want %q", got, want)
	}
	m4, m9 := z.Members[0], z.Members[1]
	if m4.ID != 4 || m9.ID != 9 || m4.PeerPort != 2999 || m4.ElectionPort != 3999 || m9.PeerPort != testenv.NetPeerPort || m9.SecurePort != testenv.NetSecurePort {
		t.Errorf("members %d (%d/%d) and %d (%d/%d, TLS %d)", m4.ID, m4.PeerPort, m4.ElectionPort, m9.ID, m9.PeerPort, m9.ElectionPort, m9.SecurePort)
	}
	if b, err := os.ReadFile(filepath.Join(data, "myid")); err != nil || strings.TrimSpace(string(b)) != "4" {
		t.Errorf("myid in the fixed data folder: %q, %v", b, err)
	}
	cfg, err := os.ReadFile(filepath.Join(m4.Dir, "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(cfg), "maxClientCnxns="); n != 1 || !strings.Contains(string(cfg), "maxClientCnxns=7\n") ||
		!strings.Contains(string(cfg), "server.4=alpha:2999:3999\n") || !strings.Contains(string(cfg), "server.9=beta.zk.test:2888:3888\n") {
		t.Errorf("member 4's zoo.cfg (%d maxClientCnxns lines):\n%s", n, cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := z.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(e.PKI.CA.X509)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", m4.SecureAddr(), &tls.Config{RootCAs: roots,
		ServerName: "alpha", Certificates: []tls.Certificate{{Certificate: [][]byte{e.PKI.Client.X509.Raw}, PrivateKey: e.PKI.Client.Key}}})
	if err != nil {
		t.Fatalf("TLS to %s by its one-label name: %v", m4.SecureAddr(), err)
	}
	conn.Close()
}

func TestServersRefused(t *testing.T) {
	for _, tc := range []struct {
		opts testenv.ZooKeeperOptions
		want string
	}{
		{testenv.ZooKeeperOptions{Members: 2, Servers: []testenv.ServerSpec{{}}}, "Members is 2 but Servers has 1 entries"},
		{testenv.ZooKeeperOptions{Servers: []testenv.ServerSpec{{ID: 1}, {ID: 1}}}, "server id 1 is negative or used twice"},
		{testenv.ZooKeeperOptions{Servers: []testenv.ServerSpec{{Host: "zk1.example.com"}}}, `host "zk1.example.com" needs a Network`},
		{testenv.ZooKeeperOptions{Servers: []testenv.ServerSpec{{ClientPort: 40000}, {PeerPort: 40000}}}, "servers 1 and 2 both use port 40000 on localhost"},
	} {
		_, err := testenv.StartZooKeeper(context.Background(), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want …%s…", tc.opts.Servers, err, tc.want)
		}
	}
}
