package testenv

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// makeHosts creates the members (named hosts and process users in a Network cluster).
func (z *ZooKeeper) makeHosts() error {
	opts := z.opts
	prefix := opts.HostPrefix
	if prefix == "" {
		prefix = "zk"
	}
	var hosts []Host
	if n := opts.Network; n != nil {
		names := make([]string, opts.Members)
		for i := range names {
			names[i] = fmt.Sprintf("%s%d", prefix, z.spec(i).ID)
			if h := z.spec(i).Host; h != "" {
				names[i], _ = specHost(h, n.Domain) // checked by checkServers
			}
		}
		var err error
		if hosts, err = n.AddHosts(RoleServer, names...); err != nil {
			return err
		}
	}
	z.Members = make([]*Member, opts.Members)
	for i := range z.Members {
		s := z.spec(i)
		m := &Member{ID: s.ID, zk: z, spec: s, Dir: filepath.Join(z.Dir, fmt.Sprintf("member%d", s.ID))}
		m.LogPath = filepath.Join(m.Dir, "zookeeper.log")
		m.OutPath = filepath.Join(m.Dir, "zookeeper.out")
		if hosts != nil {
			m.Host, m.User = hosts[i], opts.Network.NewUser()
			if s.Host != "" && !strings.Contains(s.Host, ".") {
				m.name = s.Host // clients use the label as written
			}
		}
		z.Members[i] = m
	}
	return nil
}

// makeServiceKeys gives the members their service principal and keytab: one shared principal
// (SASL.Principal, default zookeeper/localhost), or in a Network cluster without SASL.Principal
// one per member, zookeeper/<host name>.
func (z *ZooKeeper) makeServiceKeys(ctx context.Context) error {
	s := z.opts.SASL
	if z.opts.Network == nil || s.Principal != "" {
		princ := s.Principal
		if princ == "" {
			princ = "zookeeper/localhost"
		}
		z.ServicePrincipal = s.KDC.Principal(princ)
		_ = s.KDC.AddPrincipals(ctx, princ) // may exist already; Keytab fails if it does not
		kt, err := s.KDC.Keytab(ctx, princ)
		if err != nil {
			return err
		}
		z.Keytab = kt
		for _, m := range z.Members {
			m.ServicePrincipal, m.Keytab = z.ServicePrincipal, kt
		}
		return nil
	}
	for _, m := range z.Members {
		princ := "zookeeper/" + m.Host.Name
		_ = s.KDC.AddPrincipals(ctx, princ)
		kt, err := s.KDC.Keytab(ctx, princ)
		if err != nil {
			return err
		}
		m.ServicePrincipal, m.Keytab = s.KDC.Principal(princ), kt
	}
	z.ServicePrincipal = "zookeeper/<host>@" + s.KDC.Realm
	return nil
}

// makeCerts gives the members their TLS certificate: TLS.Cert (default PKI.Server) for all, or in a
// Network cluster without TLS.Cert one per member, for its host name only, from the intermediate CA.
func (z *ZooKeeper) makeCerts() error {
	t := z.opts.TLS
	for _, m := range z.Members {
		switch {
		case t.Cert != nil:
			m.Cert = t.Cert
		case z.opts.Network == nil:
			m.Cert = t.PKI.Server
		default:
			names := []string{m.Host.Name}
			if m.name != "" {
				names = append(names, m.name)
			}
			c, err := t.PKI.IssueIntermediate("server-"+m.Host.Short+"-"+sanitize(z.Dir), CertOptions{
				CommonName: m.Host.Name, OrganizationalUnit: "servers", DNSNames: names, Server: true})
			if err != nil {
				return err
			}
			m.Cert = c
		}
	}
	return nil
}

// Freeze stops the member's process with SIGSTOP, as a long garbage-collection pause or a hung
// machine would: its connections stay open but nothing answers. Thaw resumes it.
func (m *Member) Freeze() error {
	if m.proc == nil {
		return fmt.Errorf("testenv: member %d was never started", m.ID)
	}
	return m.proc.signal(syscall.SIGSTOP)
}

// Thaw resumes a frozen member (SIGCONT).
func (m *Member) Thaw() error {
	if m.proc == nil {
		return fmt.Errorf("testenv: member %d was never started", m.ID)
	}
	return m.proc.signal(syscall.SIGCONT)
}

// Partition drops every packet to and from the member (see Network.DropHost): clients and the
// other members see a blackhole. It needs a Network cluster. Heal the returned fault to end it.
func (m *Member) Partition() (*Fault, error) {
	n := m.zk.opts.Network
	if n == nil {
		return nil, fmt.Errorf("testenv: member %d: packet faults need a Network cluster (ZooKeeperOptions.Network)", m.ID)
	}
	return n.DropHost(m.Host.Addr, m.User)
}

// PartitionFrom drops the packets between the member and o (quorum traffic), in both directions;
// both still talk to clients and to the other members.
func (m *Member) PartitionFrom(o *Member) (*Fault, error) {
	n := m.zk.opts.Network
	if n == nil {
		return nil, fmt.Errorf("testenv: member %d: packet faults need a Network cluster (ZooKeeperOptions.Network)", m.ID)
	}
	return n.DropBetween(m.Host.Addr, m.User, o.Host.Addr, o.User)
}

// Network returns the cluster's network (nil on plain localhost).
func (z *ZooKeeper) Network() *Network { return z.opts.Network }

// Followers returns the running members that are not the leader, in member order.
func (z *ZooKeeper) Followers(ctx context.Context) ([]*Member, error) {
	leader, err := z.Leader(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Member
	for _, m := range z.Members {
		if m != leader && m.Running() {
			out = append(out, m)
		}
	}
	return out, nil
}

// RollingRestart restarts every member in turn, as an operator upgrading the ensemble would: the
// followers first, the leader last; each is stopped (SIGTERM), started again and waited for until it
// serves as part of a quorum, and then pause passes before the next one. Every member is running
// again when it returns nil.
func (z *ZooKeeper) RollingRestart(ctx context.Context, pause time.Duration) error {
	order := z.Members
	if len(z.Members) > 1 {
		leader, err := z.Leader(ctx)
		if err != nil {
			return fmt.Errorf("testenv: rolling restart: %w", err)
		}
		order = nil
		for _, m := range z.Members {
			if m != leader {
				order = append(order, m)
			}
		}
		order = append(order, leader)
	}
	for i, m := range order {
		if err := m.Stop(); err != nil {
			return fmt.Errorf("testenv: rolling restart: stopping member %d: %w", m.ID, err)
		}
		if err := m.Start(ctx); err != nil {
			return fmt.Errorf("testenv: rolling restart: starting member %d: %w", m.ID, err)
		}
		if i < len(order)-1 && pause > 0 {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}
