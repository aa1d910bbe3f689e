package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// HostRole chooses the address block a named host gets: each role has its own /24 of 127.0.0.0/8,
// so that a rule or a log line tells at a glance what a host is.
type HostRole int

const (
	// RoleServer hosts get 127.0.1.x (ZooKeeper members).
	RoleServer HostRole = iota + 1
	// RoleClient hosts get 127.0.2.x (JobManagers, contenders).
	RoleClient
	// RoleKDC hosts get 127.0.3.x (KDCs, domain controllers).
	RoleKDC
)

// Host is a named host of a Network: its own loopback address, resolvable forward and backward.
type Host struct {
	// Name is the fully qualified name ("zk1.zk.test"); Short the first label ("zk1").
	Name, Short string
	// Addr is the host's address.
	Addr netip.Addr
}

func (h Host) String() string { return h.Name + " (" + h.Addr.String() + ")" }

// firstUID is the first user id Network.NewUser hands out. Such users need no passwd entry.
const firstUID = 64001

// Network is the private network of an isolated run (see Isolate): named hosts on loopback
// addresses, a hosts file bind-mounted over /etc/hosts (so Go's resolver and the JVMs resolve the
// names both ways), process users for telling processes' packets apart, and packet faults as
// nftables rules. It exists only inside the namespace; Close removes the rules and the mount.
//
// The zero value is not usable: create one with NewNetwork.
type Network struct {
	// Domain is appended to short host names ("zk.test").
	Domain string
	// HostsFile is the file mounted over /etc/hosts.
	HostsFile string

	mu      sync.Mutex
	hosts   []Host
	next    map[HostRole]int
	nextUID int
	faults  map[*Fault]struct{}
	mounted bool
	closed  bool
}

var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// NewNetwork sets up the network of this isolated run: a hosts file in dir mounted over /etc/hosts
// (localhost kept) and an empty nftables table for faults. It fails with ErrNotIsolated outside the
// namespace of Isolate, where it would change the machine.
func NewNetwork(dir, domain string) (*Network, error) {
	if !Isolated() {
		return nil, ErrNotIsolated
	}
	if !domainRE.MatchString(domain) {
		return nil, fmt.Errorf("testenv: network domain %q is not a lower-case DNS name", domain)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	n := &Network{Domain: domain, HostsFile: filepath.Join(dir, "hosts"), next: map[HostRole]int{}, nextUID: firstUID,
		faults: map[*Fault]struct{}{}}
	if err := n.writeHosts(); err != nil {
		return nil, err
	}
	if err := syscall.Mount(n.HostsFile, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return nil, fmt.Errorf("testenv: mounting %s over /etc/hosts: %w", n.HostsFile, err)
	}
	n.mounted = true
	if err := n.nftInit(context.Background()); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// AddHost names a new host short.<Domain> with the next free address of role, adds the address to
// lo and writes it into the hosts file. Names are unique.
func (n *Network) AddHost(short string, role HostRole) (Host, error) {
	hs, err := n.AddHosts(role, short)
	if err != nil {
		return Host{}, err
	}
	return hs[0], nil
}

// AddHosts adds several hosts of one role at once (see AddHost), and returns when this process
// resolves every one of them.
func (n *Network) AddHosts(role HostRole, shorts ...string) ([]Host, error) {
	var block byte
	switch role {
	case RoleServer, RoleClient, RoleKDC:
		block = byte(role)
	default:
		return nil, fmt.Errorf("testenv: unknown host role %d", role)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("testenv: network closed")
	}
	var added []Host
	for _, short := range shorts {
		if !domainRE.MatchString(short) || strings.Contains(short, ".") {
			return nil, fmt.Errorf("testenv: host name %q must be one lower-case DNS label", short)
		}
		h := Host{Name: short + "." + n.Domain, Short: short}
		for _, o := range append(n.hosts, added...) {
			if o.Name == h.Name {
				return nil, fmt.Errorf("testenv: host %s exists already", h.Name)
			}
		}
		if n.next[role] >= 254 {
			return nil, fmt.Errorf("testenv: no address left for role %d", role)
		}
		n.next[role]++
		h.Addr = netip.AddrFrom4([4]byte{127, 0, block, byte(n.next[role])})
		// ZooKeeper and the Go resolver do not need the address on an interface (all of 127/8 is
		// local); Samba does.
		if _, err := runTool(context.Background(), nil, "", mustIP(), "addr", "add", h.Addr.String()+"/32", "dev", "lo"); err != nil {
			return nil, err
		}
		added = append(added, h)
	}
	n.hosts = append(n.hosts, added...)
	if err := n.writeHosts(); err != nil {
		return nil, err
	}
	// Go's resolver re-reads /etc/hosts at most every 5 seconds: wait until it knows the names, so
	// that the hosts are usable from this process as soon as AddHosts returns.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, h := range added {
		for {
			addrs, err := net.DefaultResolver.LookupHost(ctx, h.Name)
			if err == nil && len(addrs) > 0 && addrs[0] == h.Addr.String() {
				break
			}
			select {
			case <-ctx.Done():
				if err != nil {
					return nil, fmt.Errorf("testenv: %s does not resolve after writing %s: %w", h.Name, n.HostsFile, err)
				}
				return nil, fmt.Errorf("testenv: %s resolves to %v, not %s, after writing %s", h.Name, addrs, h.Addr, n.HostsFile)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return added, nil
}

// Hosts returns the hosts added so far.
func (n *Network) Hosts() []Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Host(nil), n.hosts...)
}

// NewUser returns a new user id for a process started with [User.Argv]: rules can then drop the
// packets of that process alone (DropUser), as if it ran on a host of its own.
func (n *Network) NewUser() User {
	n.mu.Lock()
	defer n.mu.Unlock()
	u := User{UID: n.nextUID}
	n.nextUID++
	return u
}

// writeHosts rewrites the hosts file in place (the bind mount follows the inode, so the file is
// truncated and written, never replaced).
func (n *Network) writeHosts() error {
	var b strings.Builder
	b.WriteString("# Written by zksecure testenv for an isolated run.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, h := range n.hosts {
		fmt.Fprintf(&b, "%s\t%s %s\n", h.Addr, h.Name, h.Short)
	}
	f, err := os.OpenFile(n.HostsFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("testenv: hosts file: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("testenv: hosts file: %w", err)
	}
	return f.Close()
}

// Close heals every fault, removes the fault table and unmounts the hosts file. Safe to call twice.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	mounted := n.mounted
	n.mu.Unlock()
	err := n.nftDestroy(context.Background())
	if mounted {
		if uerr := syscall.Unmount("/etc/hosts", 0); uerr != nil {
			err = errors.Join(err, fmt.Errorf("testenv: unmounting /etc/hosts: %w", uerr))
		}
	}
	return err
}

// User is a process identity for packet faults: processes started through Argv run as UID, and
// rules match their packets by it (nftables `meta skuid`). They keep the right to read and write
// every file (CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, nothing else), so test material needs no
// ownership changes.
type User struct {
	UID int // the user (and group) id; 0 is this process's own user
}

// Argv returns argv wrapped in setpriv so that it runs as u, with SIGKILL as its parent-death
// signal (a change of user clears the one set by the parent). The zero User returns argv unchanged.
func (u User) Argv(argv []string) []string {
	if u.UID == 0 {
		return argv
	}
	id := fmt.Sprint(u.UID)
	// no_setuid_fixup keeps the two capabilities for access(2) too, which the JVM uses before it
	// reads a file; the process holds no other capability.
	return append([]string{"setpriv", "--reuid", id, "--regid", id, "--clear-groups", "--securebits", "+no_setuid_fixup",
		"--inh-caps", "+dac_override,+dac_read_search", "--ambient-caps", "+dac_override,+dac_read_search",
		"--pdeathsig", "SIGKILL", "--"}, argv...)
}

func mustIP() string {
	ip, err := lookIP()
	if err != nil {
		return "ip"
	}
	return ip
}
