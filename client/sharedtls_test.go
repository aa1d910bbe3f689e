package client_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
	"github.com/zksecure/zksecure/version"
)

// countingForwarder forwards TCP connections to target and counts them, and those on which the
// client sent anything.
type countingForwarder struct {
	addr string
	l    net.Listener
	wg   sync.WaitGroup

	mu             sync.Mutex
	conns, talking int
}

func newCountingForwarder(t *testing.T, target string) *countingForwarder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &countingForwarder{addr: "localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), l: l}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.forward(c, target)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); f.wg.Wait() })
	return f
}

func (f *countingForwarder) forward(c net.Conn, target string) {
	defer c.Close()
	var d net.Dialer
	up, err := d.DialContext(context.Background(), "tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(c, up)
		c.Close()
	}()
	buf := make([]byte, 32<<10)
	for first := true; ; first = false {
		n, err := c.Read(buf)
		if n > 0 && first {
			f.mu.Lock()
			f.talking++
			f.mu.Unlock()
		}
		if n > 0 {
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			up.Close()
			return
		}
	}
}

// counts returns the connections so far, and those the client sent something on.
func (f *countingForwarder) counts() (conns, talking int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns, f.talking
}

// settled returns counts once at least conns connections were accepted (the kernel completes a
// connection before Accept returns it), or after 10s.
func (f *countingForwarder) settled(conns int) (int, int) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if n, _ := f.counts(); n >= conns {
			break
		}
	}
	return f.counts()
}

// Clients connected one after the other, each with a fresh Config and the same TLS settings, share
// the process's loaded TLS client: after the first, a Connect makes no transport probe (the
// process remembers that the member speaks TLS and its version) and its session's handshake
// resumes. Members still says whether the member can be reached (a TCP connection, when called).
func TestFreshConfigsShareTLSAndSkipTheProbes(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	fwd := newCountingForwarder(t, zkMain.Members[0].SecureAddr())
	logs := newLogRecords()
	log := slog.New(logs) // one logger: the shared TLS client is the process's for equal settings and logger
	open := func() *client.Client {
		c := connect(t, client.Config{Members: []string{fwd.addr}, TLS: tlsWith(pki.Client), Root: "/fresh-tls", Logger: log})
		if _, _, err := c.Exists(ctx, "/"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := open()
	c.Close()
	conns, talking := fwd.settled(2)
	if conns != 2 || talking != 2 {
		t.Errorf("the first Connect made %d connections, %d with traffic; want 2: the probe and the session", conns, talking)
	}
	for i := range 2 {
		resumed := logs.count("TLS handshake", "resumed=true")
		c := open()
		c.Close()
		n, nt := fwd.counts()
		if n-conns != 1 || nt-talking != 1 {
			t.Errorf("Connect %d made %d connections, %d with traffic; want only the session's", i+2, n-conns, nt-talking)
		}
		if logs.count("TLS handshake", "resumed=true") != resumed+1 {
			t.Errorf("Connect %d did not resume the TLS session; handshakes: %q", i+2, logs.find("TLS handshake"))
		}
		// The report: what the first probe found, and whether the member is reachable now (a TCP
		// connection that sends nothing).
		if r := c.Members(); len(r) != 1 || r[0].Err != nil || r[0].Mode != version.TLS || r[0].Version.String() != "3.8.0" {
			t.Errorf("Connect %d reports %+v, want TLS, ZooKeeper 3.8.0", i+2, r)
		}
		conns, talking = fwd.settled(n + 1)
		if conns != n+1 || talking != nt {
			t.Errorf("the report of Connect %d made %d connections, %d with traffic; want 1, 0", i+2, conns-n, talking-nt)
		}
	}
}

// A fresh Config whose certificate files were replaced meanwhile uses the new certificate (the
// server sees the new x509 identity), although the process shares its TLS client between Configs.
func TestFreshConfigUsesRotatedCertificate(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	copyFile(t, pki.Client.ChainFile, certFile)
	copyFile(t, pki.Client.KeyFile, keyFile)
	cfg := func() client.Config {
		return client.Config{Members: members(zkMain.SecureConnectString()), Root: "/fresh-rotated",
			TLS: &zktls.Config{CertFile: certFile, KeyFile: keyFile, CAFile: pki.CAFile}}
	}
	x509Of := func(c *client.Client) []string {
		t.Helper()
		ids, err := c.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, id := range ids {
			if id.Scheme == "x509" {
				out = append(out, id.String())
			}
		}
		return out
	}
	if got := x509Of(connect(t, cfg())); !slices.Equal(got, []string{"x509:" + pki.Client.Subject}) {
		t.Fatalf("identity before the rotation %v", got)
	}
	rotated, err := pki.Issue(fmt.Sprintf("client-fresh-%d", time.Now().UnixNano()), testenv.CertOptions{CommonName: "client-fresh", OrganizationalUnit: "clients"})
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, rotated.ChainFile, certFile)
	copyFile(t, rotated.KeyFile, keyFile)
	if got := x509Of(connect(t, cfg())); !slices.Equal(got, []string{"x509:" + rotated.Subject}) {
		t.Errorf("identity of a fresh Config after the rotation %v, want x509:%s", got, rotated.Subject)
	}
}

// copyFile replaces to with from's content, the way deployment tools do: a new file renamed over.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to+".new", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".new", to); err != nil {
		t.Fatal(err)
	}
}
