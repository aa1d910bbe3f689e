package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The nftables table and chain that hold the faults of a Network. On loopback every packet passes
// the output hook once, so one chain sees all traffic.
const (
	nftTable = "zksecure_faults"
	nftChain = "out"
)

// Fault is one packet fault in force: a set of nftables rules that drop packets. Dropped packets
// are a real blackhole: connects hang, reads time out, nothing is reset. Heal removes it.
type Fault struct {
	// Desc says what is dropped, for logs ("all traffic of zk2.zk.test (127.0.1.2)").
	Desc string

	n       *Network
	handles []int
}

// Heal removes the fault's rules. Safe to call twice.
func (f *Fault) Heal() error {
	n := f.n
	n.mu.Lock()
	_, live := n.faults[f]
	delete(n.faults, f)
	closed := n.closed
	n.mu.Unlock()
	if !live || closed {
		return nil
	}
	var errs []error
	for _, h := range f.handles {
		if _, err := nft(context.Background(), "delete", "rule", "inet", nftTable, nftChain, "handle", strconv.Itoa(h)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("testenv: healing %s: %w", f.Desc, err)
	}
	return nil
}

func (f *Fault) String() string { return f.Desc }

// DropHost drops every packet to addr and every packet sent by the processes of users (a host's
// own outgoing connections leave from 127.0.0.1 on loopback, so its processes are matched by user):
// the host is cut off from everyone, as a partitioned machine is.
func (n *Network) DropHost(addr netip.Addr, users ...User) (*Fault, error) {
	rules := []string{"ip daddr " + addr.String() + " drop"}
	for _, u := range users {
		if u.UID != 0 {
			rules = append(rules, "meta skuid "+strconv.Itoa(u.UID)+" drop")
		}
	}
	return n.addFault(fmt.Sprintf("all traffic of %s", n.describe(addr)), rules)
}

// DropUser drops every packet sent by the processes of u: a client process cut off from the
// network while the rest of its machine is not.
func (n *Network) DropUser(u User) (*Fault, error) {
	if u.UID == 0 {
		return nil, errors.New("testenv: DropUser needs a process user from Network.NewUser (not root)")
	}
	return n.addFault(fmt.Sprintf("all traffic of uid %d", u.UID), []string{"meta skuid " + strconv.Itoa(u.UID) + " drop"})
}

// DropBetween drops the packets between two hosts in both directions (a and b run as ua and ub):
// each still talks to everyone else.
func (n *Network) DropBetween(a netip.Addr, ua User, b netip.Addr, ub User) (*Fault, error) {
	if ua.UID == 0 || ub.UID == 0 {
		return nil, errors.New("testenv: DropBetween needs both hosts' process users")
	}
	return n.addFault(fmt.Sprintf("traffic between %s and %s", n.describe(a), n.describe(b)), []string{
		fmt.Sprintf("meta skuid %d ip daddr %s drop", ua.UID, b),
		fmt.Sprintf("meta skuid %d ip daddr %s drop", ub.UID, a),
	})
}

// HealAll removes every fault.
func (n *Network) HealAll() error {
	n.mu.Lock()
	fs := make([]*Fault, 0, len(n.faults))
	for f := range n.faults {
		fs = append(fs, f)
	}
	n.mu.Unlock()
	var errs []error
	for _, f := range fs {
		errs = append(errs, f.Heal())
	}
	return errors.Join(errs...)
}

// Faults returns the faults in force.
func (n *Network) Faults() []*Fault {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*Fault, 0, len(n.faults))
	for f := range n.faults {
		out = append(out, f)
	}
	return out
}

func (n *Network) describe(a netip.Addr) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range n.hosts {
		if h.Addr == a {
			return h.String()
		}
	}
	return a.String()
}

var handleRE = regexp.MustCompile(`# handle (\d+)`)

func (n *Network) addFault(desc string, rules []string) (*Fault, error) {
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return nil, errors.New("testenv: network closed")
	}
	f := &Fault{Desc: desc, n: n}
	for _, r := range rules {
		args := append([]string{"--echo", "--handle", "add", "rule", "inet", nftTable, nftChain}, strings.Fields(r)...)
		out, err := nft(context.Background(), args...)
		if err == nil {
			m := handleRE.FindStringSubmatch(out)
			if m == nil {
				err = fmt.Errorf("no rule handle in %q", strings.TrimSpace(out))
			} else {
				h, _ := strconv.Atoi(m[1])
				f.handles = append(f.handles, h)
				continue
			}
		}
		n.mu.Lock()
		n.faults[f] = struct{}{}
		n.mu.Unlock()
		f.Heal()
		return nil, fmt.Errorf("testenv: fault %s: %w", desc, err)
	}
	n.mu.Lock()
	n.faults[f] = struct{}{}
	n.mu.Unlock()
	return f, nil
}

func (n *Network) nftInit(ctx context.Context) error {
	if _, err := lookNft(); err != nil {
		return err
	}
	_, _ = nft(ctx, "delete", "table", "inet", nftTable) // a leftover of a crashed run in the same namespace
	if _, err := nft(ctx, "add", "table", "inet", nftTable); err != nil {
		return err
	}
	_, err := nft(ctx, "add", "chain", "inet", nftTable, nftChain, "{", "type", "filter", "hook", "output", "priority", "0", ";", "}")
	return err
}

func (n *Network) nftDestroy(ctx context.Context) error {
	if _, err := lookNft(); err != nil {
		return nil
	}
	_, err := nft(ctx, "delete", "table", "inet", nftTable)
	return err
}

func lookNft() (string, error) {
	p, err := lookPath("nft")
	if err != nil {
		return "", fmt.Errorf("testenv: nft (Debian package nftables) is needed for packet faults; run scripts/install-deps.sh: %w", err)
	}
	return p, nil
}

func nft(ctx context.Context, args ...string) (string, error) {
	p, err := lookNft()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return runTool(ctx, nil, "", append([]string{p}, args...)...)
}
