package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/zksecure/zksecure/internal/srvr"
	"github.com/zksecure/zksecure/version"
)

func (m *Member) launch() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		p, err := startProcess(fmt.Sprintf("zookeeper member %d", m.ID), m.OutPath, m.Dir, nil, m.argv...)
		if err != nil {
			return err
		}
		m.proc = p
		return nil
	}
	return m.proc.start(m.Dir, nil, m.argv...)
}

// waitReady polls srvr until the member serves requests.
func (m *Member) waitReady(ctx context.Context) error {
	err := waitFor(ctx, 50*time.Millisecond, m.proc.exited(), func() error {
		mode, err := m.Mode(ctx)
		if err != nil {
			return err
		}
		switch mode {
		case "standalone", "leader", "follower", "observer":
		default:
			return fmt.Errorf("mode %q", mode)
		}
		// srvr went over the plaintext port; with both ports, the secure one may bind later.
		if m.ClientPort != 0 && m.SecurePort != 0 {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(m.ip(), strconv.Itoa(m.SecurePort)), time.Second)
			if err != nil {
				return fmt.Errorf("secure port: %w", err)
			}
			c.Close()
		}
		return nil
	})
	if err == nil {
		return nil
	}
	logs := tailFile(m.LogPath, 30) + "\n" + tailFile(m.OutPath, 10)
	if strings.Contains(logs, "Address already in use") {
		return fmt.Errorf("testenv: ZooKeeper member %d: %w", m.ID, errPortInUse)
	}
	return fmt.Errorf("testenv: ZooKeeper member %d (%s) not ready: %w\n--- %s:\n%s", m.ID, m.zk.Version, err, m.LogPath, logs)
}

// Addr is the member's client address as "host:port" — the plaintext port when the member has
// one, else the secure port. The host is a name, not an IP ("localhost", or the member's host name
// in a Network cluster), so that Kerberos service principals and TLS hostname checks work.
func (m *Member) Addr() string {
	if m.ClientPort != 0 {
		return m.PlainAddr()
	}
	return m.SecureAddr()
}

// PlainAddr is "host:<ClientPort>", empty when the member has no plaintext port.
func (m *Member) PlainAddr() string {
	if m.ClientPort == 0 {
		return ""
	}
	return net.JoinHostPort(m.hostName(), strconv.Itoa(m.ClientPort))
}

// SecureAddr is "host:<SecurePort>", empty without TLS.
func (m *Member) SecureAddr() string {
	if m.SecurePort == 0 {
		return ""
	}
	return net.JoinHostPort(m.hostName(), strconv.Itoa(m.SecurePort))
}

// hostName is the name clients use for the member; ip the address it listens on.
func (m *Member) hostName() string {
	if m.name != "" {
		return m.name
	}
	if m.Host.Name != "" {
		return m.Host.Name
	}
	return "localhost"
}

func (m *Member) ip() string {
	if m.Host.Addr.IsValid() {
		return m.Host.Addr.String()
	}
	return "127.0.0.1"
}

// Srvr sends the srvr four-letter word (inside TLS on a TLS-only member, with the PKI's client
// certificate and without verifying the server) and returns the answer; a member that answers it
// does not serve (no quorum yet) gets an error that quotes it.
func (m *Member) Srvr(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	var conn net.Conn
	var err error
	if m.ClientPort != 0 {
		conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(m.ip(), strconv.Itoa(m.ClientPort)))
	} else {
		cfg := &tls.Config{InsecureSkipVerify: true} // readiness probe only: the tests verify for real
		if c := m.zk.opts.TLS.PKI.Client; c != nil {
			cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{c.X509.Raw}, PrivateKey: c.Key}}
		}
		td := tls.Dialer{NetDialer: &d, Config: cfg}
		conn, err = td.DialContext(ctx, "tcp", net.JoinHostPort(m.ip(), strconv.Itoa(m.SecurePort)))
	}
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return srvr.Ask(ctx, conn)
}

// Mode returns the "Mode:" line of srvr: standalone, leader, follower or observer; an error while
// the member does not serve.
func (m *Member) Mode(ctx context.Context) (string, error) {
	out, err := m.Srvr(ctx)
	if err != nil {
		return "", err
	}
	if mode := version.ServerMode(out); mode != "" {
		return mode, nil
	}
	return "", fmt.Errorf("not serving: %q", srvr.FirstLine(out))
}

// Stop stops the member with SIGTERM (a clean shutdown) and waits for it to exit. A frozen member
// is thawed first, so that it can shut down.
func (m *Member) Stop() error { return m.proc.stop(syscall.SIGTERM, 10*time.Second) }

// Kill stops the member with SIGKILL, as a crash would.
func (m *Member) Kill() error { return m.proc.stop(syscall.SIGKILL, 0) }

// Running reports whether the member's process is alive.
func (m *Member) Running() bool { return m.proc != nil && m.proc.running() }

// PID is the member's current process id, 0 when stopped.
func (m *Member) PID() int { return m.proc.pid() }

// Start restarts a stopped or killed member with the same configuration and ports, and waits until
// it serves again (for an ensemble member: until it has rejoined a quorum).
func (m *Member) Start(ctx context.Context) error {
	if m.Running() {
		return nil
	}
	if err := m.launch(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.zk.opts.StartTimeout)
	defer cancel()
	return m.waitReady(ctx)
}
