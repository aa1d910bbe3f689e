package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Version selects the ZooKeeper server a cluster runs.
type Version string

const (
	// ZK38 is Debian bookworm's ZooKeeper 3.8.0 (/usr/share/java).
	ZK38 Version = "3.8"
	// ZK34 is ZooKeeper 3.4.13 from Debian bullseye, unpacked into Zk34Dir. It has no TLS and
	// cannot enforce client authentication.
	ZK34 Version = "3.4"
)

// ClientAuth is ZooKeeper's ssl.clientAuth setting.
type ClientAuth string

const (
	ClientAuthNeed ClientAuth = "need" // a client certificate is required (ZooKeeper's default)
	ClientAuthWant ClientAuth = "want" // a client certificate is asked for, not required
	ClientAuthNone ClientAuth = "none" // no client certificate is asked for
)

// SASLServer configures Kerberos SASL on the servers. The zero value is not usable: KDC is required.
type SASLServer struct {
	// KDC issues the server's keys. Required.
	KDC *KDC
	// Principal is the service principal the servers log in as; empty means "zookeeper/localhost".
	// It is created in the KDC if it does not exist yet.
	Principal string
	// Enforce makes a 3.8 server close sessions that have not authenticated with SASL
	// (enforce.auth.enabled=true, enforce.auth.schemes=sasl): they get error -124. 3.4 cannot enforce.
	Enforce bool
	// RemoveHostFromPrincipal and RemoveRealmFromPrincipal set kerberos.removeHostFromPrincipal and
	// kerberos.removeRealmFromPrincipal, which shape the sasl ACL id of a session.
	RemoveHostFromPrincipal, RemoveRealmFromPrincipal bool
}

// TLSServer configures TLS on the servers (3.5+ only). The zero value is not usable: PKI is required.
type TLSServer struct {
	// PKI supplies the CA (trust store) and, unless Cert is set, the server certificate.
	PKI *PKI
	// Cert is the server's certificate; nil means PKI.Server. Use PKI.ExpiredServer,
	// PKI.WrongHostServer or PKI.UnknownCAServer for negative tests.
	Cert *Cert
	// ClientAuth is ssl.clientAuth; empty means ClientAuthNeed, ZooKeeper's default.
	ClientAuth ClientAuth
	// PlaintextPort opens the plaintext client port beside the secure one. By default a TLS server
	// has the secure port only.
	PlaintextPort bool
}

// ZooKeeperOptions configures StartZooKeeper. The zero value is a standalone plaintext 3.8 server with
// no authentication.
type ZooKeeperOptions struct {
	// Version is ZK38 (the zero value means ZK38) or ZK34.
	Version Version
	// Members is the ensemble size; 0 or 1 means standalone.
	Members int
	// SASL enables Kerberos authentication; nil means none (and no JAAS Server section at all:
	// such a server answers a SASL token with an empty reply).
	SASL *SASLServer
	// TLS enables the secure client port; nil means plaintext only.
	TLS *TLSServer
	// TickTime is ZooKeeper's tickTime; zero means 500ms. The negotiable session timeout is
	// 2×TickTime to MaxSessionTimeout.
	TickTime time.Duration
	// MaxSessionTimeout is maxSessionTimeout; zero means 60s (Flink's default session timeout).
	MaxSessionTimeout time.Duration
	// Dir is where the members' folders go; empty means a new temporary folder, removed by Close.
	Dir string
	// Extra lines are set in every member's zoo.cfg as key=value (replacing testenv's own line
	// for a key it writes).
	Extra map[string]string
	// StartTimeout bounds the start of the whole cluster; zero means 60s.
	StartTimeout time.Duration

	// Network, when set, runs the cluster on named hosts of that network, as in production: member
	// N on host <HostPrefix>N.<domain> with its own address, every member on the same ports
	// (client 2181, secure 2281, quorum 2888 and 3888), each member as its own process user so that
	// faults can drop its packets (Member.Partition). With SASL (and no SASL.Principal) every member
	// has its own service principal zookeeper/<host name> and keytab; with TLS (and no TLS.Cert)
	// every member has its own certificate, for its host name only (no IP SAN), issued by the PKI's
	// intermediate CA, and sends the chain leaf + intermediate (clients trust the root).
	Network *Network
	// HostPrefix names the hosts of a Network cluster; empty means "zk". Two clusters in one
	// network need different prefixes.
	HostPrefix string

	// Servers, when set, fixes each member's id, host, ports and data folder, one entry per
	// member, as the server.X lines of a zoo.cfg do (Members is then their number, or must equal
	// it). Nil means Members members with the defaults above.
	Servers []ServerSpec
}

// The ports every member of a Network cluster uses on its own host (ZooKeeper's usual ones).
const (
	NetClientPort   = 2181
	NetSecurePort   = 2281
	NetPeerPort     = 2888
	NetElectionPort = 3888
)

// ZooKeeper is a running standalone server or ensemble.
type ZooKeeper struct {
	// Version is the server version every member runs; Members are the members, by ID.
	Version Version
	Members []*Member
	// Dir holds one folder per member (zoo.cfg, data, logs).
	Dir string
	// ServicePrincipal is the servers' Kerberos principal (with realm), empty without SASL.
	ServicePrincipal string
	// Keytab is the servers' keytab, empty without SASL.
	Keytab string

	opts   ZooKeeperOptions
	ownDir bool
}

// Member is one server of a ZooKeeper cluster.
type Member struct {
	// ID is the server id (myid), from 1.
	ID int
	// ClientPort is the plaintext client port, 0 when the server has none.
	ClientPort int
	// SecurePort is the TLS client port, 0 without TLS.
	SecurePort int
	// PeerPort and ElectionPort are the quorum ports (ensembles only).
	PeerPort, ElectionPort int
	// Dir is the member's folder; LogPath its server log; OutPath the JVM's stdout/stderr.
	Dir, LogPath, OutPath string
	// Host is the member's named host in a Network cluster (zero otherwise: the member is on
	// localhost / 127.0.0.1); User the process user it runs as there.
	Host Host
	User User
	// ServicePrincipal and Keytab are the member's own Kerberos identity (a Network cluster gives
	// every member its own; otherwise the cluster's). Cert is the member's TLS certificate.
	ServicePrincipal, Keytab string
	Cert                     *Cert

	zk   *ZooKeeper
	spec ServerSpec // what ZooKeeperOptions.Servers fixes for the member
	name string     // the name clients use when it is not Host.Name (a one-label ServerSpec.Host)
	proc *process
	argv []string
	mu   sync.Mutex
}

// StartZooKeeper writes the configuration of every member, starts them and returns once every
// member serves requests (standalone, or leader/follower of a formed quorum).
func StartZooKeeper(ctx context.Context, opts ZooKeeperOptions) (_ *ZooKeeper, err error) {
	if opts.Version == "" {
		opts.Version = ZK38
	}
	if opts.Version != ZK38 && opts.Version != ZK34 {
		return nil, fmt.Errorf("testenv: unknown ZooKeeper version %q (want %q or %q)", opts.Version, ZK38, ZK34)
	}
	if err := checkServers(&opts); err != nil {
		return nil, err
	}
	if opts.Members <= 0 {
		opts.Members = 1
	}
	if opts.TickTime <= 0 {
		opts.TickTime = 500 * time.Millisecond
	}
	if opts.MaxSessionTimeout <= 0 {
		opts.MaxSessionTimeout = 60 * time.Second
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if opts.TLS != nil {
		if opts.Version == ZK34 {
			return nil, errors.New("testenv: ZooKeeper 3.4 has no TLS; use ZK38 for a TLS server")
		}
		if opts.TLS.PKI == nil {
			return nil, errors.New("testenv: TLSServer.PKI is required")
		}
		if opts.TLS.ClientAuth == "" {
			opts.TLS.ClientAuth = ClientAuthNeed
		}
	}
	if opts.SASL != nil {
		if opts.SASL.KDC == nil {
			return nil, errors.New("testenv: SASLServer.KDC is required")
		}
		if opts.SASL.Enforce && opts.Version == ZK34 {
			return nil, errors.New("testenv: ZooKeeper 3.4 cannot enforce SASL authentication")
		}
	}
	if err := Check(); err != nil {
		return nil, err
	}
	dir, ownDir, err := workDir(opts.Dir, "zksecure-zk-")
	if err != nil {
		return nil, err
	}
	z := &ZooKeeper{Version: opts.Version, Dir: dir, opts: opts, ownDir: ownDir}
	defer func() {
		if err != nil {
			z.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	if err := z.makeHosts(); err != nil {
		return nil, err
	}
	var krb5 string
	if s := opts.SASL; s != nil {
		krb5 = s.KDC.Krb5Conf
		if err := z.makeServiceKeys(ctx); err != nil {
			return nil, err
		}
	}
	if opts.TLS != nil {
		if err := z.makeCerts(); err != nil {
			return nil, err
		}
	}

	// Ports may be taken by another process between choosing and binding them: retry the whole
	// start with fresh ports when a member reports "Address already in use".
	for attempt := 1; ; attempt++ {
		err = z.startOnce(ctx, krb5)
		if err == nil {
			return z, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == 3 || opts.Network != nil || opts.fixedPorts() {
			return nil, err
		}
		z.stopAll()
	}
}

var errPortInUse = errors.New("port in use")

func (z *ZooKeeper) startOnce(ctx context.Context, krb5 string) error {
	opts := z.opts
	n := opts.Members
	plain := opts.TLS == nil || opts.TLS.PlaintextPort
	perMember := 0
	if plain {
		perMember++
	}
	if opts.TLS != nil {
		perMember++
	}
	if n > 1 {
		perMember += 2
	}
	var ports []int
	if opts.Network == nil {
		var err error
		if ports, err = opts.freePorts(n * perMember); err != nil {
			return err
		}
	}
	for _, m := range z.Members {
		next := func(fixed int) int {
			if opts.Network != nil {
				return fixed
			}
			p := ports[0]
			ports = ports[1:]
			return p
		}
		m.ClientPort, m.SecurePort, m.PeerPort, m.ElectionPort = 0, 0, 0, 0
		if plain {
			m.ClientPort = next(NetClientPort)
		}
		if opts.TLS != nil {
			m.SecurePort = next(NetSecurePort)
		}
		if n > 1 {
			m.PeerPort, m.ElectionPort = next(NetPeerPort), next(NetElectionPort)
		}
		m.applySpec()
	}
	for _, m := range z.Members {
		if err := m.writeConfig(krb5); err != nil {
			return err
		}
	}
	for _, m := range z.Members {
		if err := m.launch(); err != nil {
			return err
		}
	}
	for _, m := range z.Members {
		if err := m.waitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// NewZooKeeper starts a cluster for the duration of a test: closed by t.Cleanup, with the server logs
// printed when the test has failed.
func NewZooKeeper(t TB, opts ZooKeeperOptions) *ZooKeeper {
	t.Helper()
	Require(t)
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "zookeeper")
	}
	z, err := StartZooKeeper(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var b strings.Builder
			z.DumpLogs(&b, 30)
			t.Logf("ZooKeeper logs:\n%s", b.String())
		}
		z.Close()
	})
	return z
}

// ConnectString is the comma-separated Addr of every member ("localhost:p1,localhost:p2,...").
func (z *ZooKeeper) ConnectString() string {
	return z.joinAddrs((*Member).Addr)
}

// SecureConnectString is the comma-separated SecureAddr of every member, empty without TLS.
func (z *ZooKeeper) SecureConnectString() string {
	if z.opts.TLS == nil {
		return ""
	}
	return z.joinAddrs((*Member).SecureAddr)
}

// PlainConnectString is the comma-separated PlainAddr of every member, empty when there is no
// plaintext port.
func (z *ZooKeeper) PlainConnectString() string {
	if z.Members[0].ClientPort == 0 {
		return ""
	}
	return z.joinAddrs((*Member).PlainAddr)
}

func (z *ZooKeeper) joinAddrs(f func(*Member) string) string {
	addrs := make([]string, len(z.Members))
	for i, m := range z.Members {
		addrs[i] = f(m)
	}
	return strings.Join(addrs, ",")
}

// Leader returns the member whose srvr reports "Mode: leader" (or the standalone server), polling
// until one does or ctx ends.
func (z *ZooKeeper) Leader(ctx context.Context) (*Member, error) {
	var leader *Member
	err := waitFor(ctx, 50*time.Millisecond, nil, func() error {
		for _, m := range z.Members {
			if !m.Running() {
				continue
			}
			if mode, err := m.Mode(ctx); err == nil && (mode == "leader" || mode == "standalone") {
				leader = m
				return nil
			}
		}
		return errors.New("no member reports Mode: leader")
	})
	return leader, err
}

// DumpLogs writes the last lines of every member's log to w.
func (z *ZooKeeper) DumpLogs(w io.Writer, lines int) {
	for _, m := range z.Members {
		if m == nil {
			continue
		}
		fmt.Fprintf(w, "--- member %d: %s\n%s\n", m.ID, m.LogPath, tailFile(m.LogPath, lines))
	}
}

func (z *ZooKeeper) stopAll() {
	for _, m := range z.Members {
		if m != nil && m.proc != nil {
			// The data is thrown away: no need for a clean (and slower) shutdown.
			m.Kill()
		}
	}
}

// Close kills every member and removes the folder if StartZooKeeper created it. Safe to call twice.
func (z *ZooKeeper) Close() error {
	z.stopAll()
	if z.ownDir {
		os.RemoveAll(z.Dir)
	}
	return nil
}

// StartZooKeepers starts several named clusters in parallel (each in dir/<name>), as a TestMain does
// for a package's tests. On error every cluster that started is closed and the errors of all that
// failed are returned together.
func StartZooKeepers(ctx context.Context, dir string, opts map[string]ZooKeeperOptions) (map[string]*ZooKeeper, error) {
	out := make(map[string]*ZooKeeper, len(opts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for name, o := range opts {
		if o.Dir == "" {
			o.Dir = filepath.Join(dir, sanitize(name))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			z, err := StartZooKeeper(ctx, o)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			out[name] = z
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		for _, z := range out {
			z.Close()
		}
		return nil, errors.Join(errs...)
	}
	return out, nil
}
