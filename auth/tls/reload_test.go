package zktls_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/testenv"
)

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// replace writes data to path the way deployment tools do: a new file renamed over the old one.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// trackingDialer remembers the last connection it made, so that a test can cut it.
type trackingDialer struct {
	base zk.Dialer
	mu   sync.Mutex
	last net.Conn
	n    int
}

func (d *trackingDialer) dial(network, address string, timeout time.Duration) (net.Conn, error) {
	c, err := d.base(network, address, timeout)
	if err == nil {
		d.mu.Lock()
		d.last, d.n = c, d.n+1
		d.mu.Unlock()
	}
	return c, err
}

// cut closes the live connection and waits until the session is back on a new one.
func (d *trackingDialer) cut(t *testing.T, ev <-chan zk.Event) {
	t.Helper()
	d.mu.Lock()
	c, n := d.last, d.n
	d.mu.Unlock()
	c.Close()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateExpired {
				t.Fatal("the session expired across the reconnect")
			}
			if e.State == zk.StateHasSession {
				d.mu.Lock()
				again := d.n > n
				d.mu.Unlock()
				if again {
					return
				}
			}
		case <-deadline:
			t.Fatal("no session again after the connection was cut")
		}
	}
}

// Short-lived client certificates: the files are replaced while a session lives; the next
// connection (forced by cutting the live one) presents the new certificate — the server's x509
// identity changes — on the same session. A broken replacement keeps the last good material and
// logs the file and why; an expired one names the file and its date; a new CA bundle is used by the
// next connection.
func TestRotatedFilesUnderALiveSession(t *testing.T) {
	requireEnv(t)
	member := servers[srvWant].Members[0].SecureAddr()
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"), filepath.Join(dir, "ca.pem")
	replace(t, certFile, mustRead(t, pki.Client.ChainFile))
	replace(t, keyFile, mustRead(t, pki.Client.KeyFile))
	replace(t, caFile, mustRead(t, pki.CAFile))
	var logs syncBuffer
	cl := load(t, zktls.Config{CertFile: certFile, KeyFile: keyFile, CAFile: caFile,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	d := &trackingDialer{base: cl.Dialer(nil)}
	c, ev, err := zk.Connect([]string{member}, 20*time.Second, zk.WithDialer(d.dial),
		zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for e := range ev {
		if e.State == zk.StateHasSession {
			break
		}
	}
	session := c.SessionID()
	run := fmt.Sprintf("/rotate-%d", time.Now().UnixNano())
	identity := func(node string) []string {
		t.Helper()
		if _, err := c.Create(run+node, nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		return aclIDs(t, c, run+node)
	}
	if ids := identity("-1"); !slices.Equal(ids, []string{"x509:" + pki.Client.Subject}) {
		t.Fatalf("identity before the rotation %v", ids)
	}

	// 1. A new certificate and key (another subject, so that the server's identity shows which).
	rotated, err := pki.Issue(fmt.Sprintf("client-rotated-%d", time.Now().UnixNano()), testenv.CertOptions{CommonName: "client-rotated", OrganizationalUnit: "clients"})
	if err != nil {
		t.Fatal(err)
	}
	replace(t, certFile, mustRead(t, rotated.ChainFile))
	replace(t, keyFile, mustRead(t, rotated.KeyFile))
	d.cut(t, ev)
	if ids := identity("-2"); !slices.Equal(ids, []string{"x509:" + rotated.Subject}) {
		t.Errorf("identity after the rotation %v, want x509:%s", ids, rotated.Subject)
	}
	if c.SessionID() != session {
		t.Errorf("session %x after the rotation, want %x", c.SessionID(), session)
	}
	if got := cl.Certificate(); got == nil || got.SerialNumber.Cmp(rotated.X509.SerialNumber) != 0 {
		t.Errorf("Certificate() after the rotation: %v", got)
	}
	if !strings.Contains(logs.String(), "serial="+strings.ToUpper(rotated.X509.SerialNumber.Text(16))) {
		t.Errorf("the reload log does not name the new serial:\n%s", logs.String())
	}

	// 2. A broken key file (half-written): the last good material stays, the log names the file.
	replace(t, keyFile, []byte("-----BEGIN PRIVATE KEY-----\ntruncat"))
	d.cut(t, ev)
	if ids := identity("-3"); !slices.Equal(ids, []string{"x509:" + rotated.Subject}) {
		t.Errorf("identity after a broken replacement %v, want the last good x509:%s", ids, rotated.Subject)
	}
	if l := logs.String(); !strings.Contains(l, "cannot be used") || !strings.Contains(l, keyFile) {
		t.Errorf("the failed reload is not logged with the file:\n%s", l)
	}

	// 3. An expired certificate: kept out, the log names the file and its date; a new Load fails
	// the same way.
	expired, err := pki.Issue(fmt.Sprintf("client-expired-%d", time.Now().UnixNano()), testenv.CertOptions{CommonName: "client-expired",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	replace(t, certFile, mustRead(t, expired.ChainFile))
	replace(t, keyFile, mustRead(t, expired.KeyFile))
	d.cut(t, ev)
	if ids := identity("-4"); !slices.Equal(ids, []string{"x509:" + rotated.Subject}) {
		t.Errorf("identity after an expired replacement %v, want the last good x509:%s", ids, rotated.Subject)
	}
	date := expired.NotAfter.UTC().Format(time.RFC3339)
	if l := logs.String(); !strings.Contains(l, certFile) || !strings.Contains(l, "expired on "+date) {
		t.Errorf("the expired certificate is not logged with its file and date %s:\n%s", date, l)
	}
	_, err = zktls.Config{CertFile: certFile, KeyFile: keyFile, CAFile: caFile}.Load()
	if !errors.Is(err, zktls.ErrExpired) || !strings.Contains(err.Error(), certFile) || !strings.Contains(err.Error(), "expired on "+date) {
		t.Errorf("Load of the expired certificate: %v", err)
	}

	// 4. A CA bundle that no longer holds the servers' CA: the next connection refuses the server.
	replace(t, caFile, mustRead(t, pki.UnknownCAFile))
	if err := dial(cl, member); !errors.Is(err, zktls.ErrUnknownCA) || !strings.Contains(err.Error(), caFile) {
		t.Errorf("dial after the CA bundle was replaced: %v, want ErrUnknownCA naming %s", err, caFile)
	}
	replace(t, caFile, mustRead(t, pki.CAFile))
	if err := dial(cl, member); err != nil {
		t.Errorf("dial after the CA bundle was restored: %v", err)
	}
	if c.SessionID() != session {
		t.Errorf("session %x at the end, want %x", c.SessionID(), session)
	}
}
