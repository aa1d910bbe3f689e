package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ServerSpec fixes one member of a cluster, as one server.X line of a zoo.cfg does (see
// ZooKeeperOptions.Servers). Zero fields take the defaults of a cluster without Servers.
type ServerSpec struct {
	// ID is the server id (myid), from 1; zero means the entry's position, from 1. Ids are unique.
	ID int
	// Host is the member's host. In a Network cluster: a name in the network's domain
	// ("zk1.<domain>"), or one label ("zk1": the host is zk1.<domain>, and clients use "zk1",
	// which the member's certificate names too); empty means <HostPrefix><ID>. Without a
	// Network: empty, "localhost" or "127.0.0.1" (the member is on loopback, named localhost).
	Host string
	// ClientPort, SecurePort, PeerPort and ElectionPort fix the member's ports, where the member
	// has that port at all (the plaintext port: see TLSServer.PlaintextPort; the quorum ports: in
	// an ensemble). Zero means a free port from the OS on loopback, the usual one (NetClientPort,
	// …) in a Network cluster. Members on loopback need ports of their own; a start with a fixed
	// port taken by another process fails (it is not retried on other ports).
	ClientPort, SecurePort, PeerPort, ElectionPort int
	// DataDir holds the member's data (myid, snapshots, transaction log); empty means the folder
	// "data" in the member's folder. It is created if missing, and Close leaves it.
	DataDir string
	// Extra lines go into this member's zoo.cfg after ZooKeeperOptions.Extra.
	Extra map[string]string
}

// checkServers validates opts.Servers and sets Members to their number.
func checkServers(opts *ZooKeeperOptions) error {
	if len(opts.Servers) == 0 {
		return nil
	}
	if opts.Members > 0 && opts.Members != len(opts.Servers) {
		return fmt.Errorf("testenv: Members is %d but Servers has %d entries: set one or the other", opts.Members, len(opts.Servers))
	}
	opts.Members = len(opts.Servers)
	ids := map[int]bool{}
	ports := map[int]int{} // fixed loopback port → server id
	for i, s := range opts.Servers {
		id := s.ID
		if id == 0 {
			id = i + 1
		}
		if id < 0 || ids[id] {
			return fmt.Errorf("testenv: Servers[%d]: server id %d is negative or used twice", i, id)
		}
		ids[id] = true
		if opts.Network == nil {
			switch s.Host {
			case "", "localhost", "127.0.0.1":
			default:
				return fmt.Errorf("testenv: server %d: host %q needs a Network (ZooKeeperOptions.Network); without one members are on localhost", id, s.Host)
			}
			for _, p := range []int{s.ClientPort, s.SecurePort, s.PeerPort, s.ElectionPort} {
				if p == 0 {
					continue
				}
				if o, dup := ports[p]; dup {
					return fmt.Errorf("testenv: servers %d and %d both use port %d on localhost: members on loopback need ports of their own", o, id, p)
				}
				ports[p] = id
			}
			continue
		}
		if _, err := specHost(s.Host, opts.Network.Domain); err != nil {
			return fmt.Errorf("testenv: server %d: %w", id, err)
		}
	}
	return nil
}

// specHost returns the short label of a Network host given as a name in domain or as one label.
func specHost(host, domain string) (string, error) {
	if short, ok := strings.CutSuffix(host, "."+domain); ok && !strings.Contains(short, ".") {
		return short, nil
	}
	if host != "" && !strings.Contains(host, ".") {
		return host, nil
	}
	return "", fmt.Errorf("host %q is neither one label nor a name in the network's domain %s", host, domain)
}

// spec returns the ServerSpec of the i-th member (zero but for the ID without Servers).
func (z *ZooKeeper) spec(i int) ServerSpec {
	var s ServerSpec
	if i < len(z.opts.Servers) {
		s = z.opts.Servers[i]
	}
	if s.ID == 0 {
		s.ID = i + 1
	}
	return s
}

// applySpec overrides the ports chosen for the member with those its ServerSpec fixes.
func (m *Member) applySpec() {
	s := m.spec
	for _, f := range []struct {
		port *int
		spec int
	}{{&m.ClientPort, s.ClientPort}, {&m.SecurePort, s.SecurePort}, {&m.PeerPort, s.PeerPort}, {&m.ElectionPort, s.ElectionPort}} {
		if *f.port != 0 && f.spec != 0 {
			*f.port = f.spec
		}
	}
}

// fixedPorts reports whether any member has a fixed port on loopback, where a start that finds a
// port taken must not be retried with other ports.
func (opts ZooKeeperOptions) fixedPorts() bool {
	for _, s := range opts.Servers {
		if s.ClientPort != 0 || s.SecurePort != 0 || s.PeerPort != 0 || s.ElectionPort != 0 {
			return true
		}
	}
	return false
}

// makeDirs creates the member's folder and its data folder, and returns the latter.
func (m *Member) makeDirs() (string, error) {
	data := m.spec.DataDir
	if data == "" {
		data = filepath.Join(m.Dir, "data")
	}
	for _, d := range []string{m.Dir, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("testenv: member %d: %w", m.ID, err)
		}
	}
	return data, nil
}

// appendExtra sets key=value lines in cfg: a key testenv wrote already has its line replaced
// (ZooKeeper would take the last one anyway), others are appended in key order; later maps win.
func appendExtra(cfg []string, extras ...map[string]string) []string {
	merged := map[string]string{}
	for _, e := range extras {
		for k, v := range e {
			merged[k] = v
		}
	}
	for i, line := range cfg {
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			if v, set := merged[k]; set {
				cfg[i] = k + "=" + v
				delete(merged, k)
			}
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cfg = append(cfg, k+"="+merged[k])
	}
	return cfg
}

// freePorts returns n free loopback ports, none of them a port a ServerSpec fixes.
func (opts ZooKeeperOptions) freePorts(n int) ([]int, error) {
	fixed := map[int]bool{}
	for _, s := range opts.Servers {
		for _, p := range []int{s.ClientPort, s.SecurePort, s.PeerPort, s.ElectionPort} {
			if p != 0 {
				fixed[p] = true
			}
		}
	}
	all, err := freePorts(n + len(fixed))
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, p := range all {
		if !fixed[p] && len(out) < n {
			out = append(out, p)
		}
	}
	return out, nil
}
