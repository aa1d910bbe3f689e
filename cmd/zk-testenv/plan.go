package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zksecure/zksecure/flinkconf"
	"github.com/zksecure/zksecure/internal/zoocfg"
	"github.com/zksecure/zksecure/testenv"
)

// upFlags are the flags of `zk-testenv up`; changed reports which were given.
type upFlags struct {
	version, clientAuth, dir, domain, zooCfg, flinkConf  string
	members                                              int
	tls, plain, enforce, noSASL, removeHost, removeRealm bool
	changed                                              func(string) bool
}

// defaultDomain is the domain of one-label host names (server.1=zk1) in a zoo.cfg.
const defaultDomain = "zk.test"

// plan is what `up` will start, and what the Flink fragment says about it.
type plan struct {
	env testenv.EnvOptions
	// cfg is the ensemble read from --zoo-cfg or --flink-conf (nil without either).
	cfg *zoocfg.Config
	// named is true when the members are on named hosts: the run needs a private namespace.
	named bool
	// notes are where zk-testenv honours the input differently from a ZooKeeper on its own host.
	notes []string
	// root, clusterID and storageDir go into the fragment (from --flink-conf, else defaults).
	root, clusterID, storageDir string
}

// makePlan maps the flags, and the zoo.cfg or Flink configuration they name, onto the
// environment to start. Errors are the user's to fix (exit 2), each naming its file and line.
func makePlan(f upFlags) (*plan, error) {
	p := &plan{root: "/flink", clusterID: "/testenv"}
	v := testenv.Version(f.version)
	p.env = testenv.EnvOptions{Domain: f.domain, Dir: f.dir, Version: v, Members: f.members, NoSASL: f.noSASL,
		EnforceSASL: f.enforce, RemoveHostFromPrincipal: f.removeHost, RemoveRealmFromPrincipal: f.removeRealm,
		TLS: f.tls, ClientAuth: testenv.ClientAuth(f.clientAuth), PlaintextPort: f.plain}
	p.named = f.domain != ""
	var quorum []string // from --flink-conf
	if f.flinkConf != "" {
		conf, err := flinkconf.Load(f.flinkConf)
		if err != nil {
			return nil, err
		}
		q, _ := conf.Get(flinkconf.KeyQuorum)
		if strings.TrimSpace(q) == "" {
			return nil, fmt.Errorf("%s: %s is not set: it names the ZooKeeper members to start (host:port,host:port,...)", f.flinkConf, flinkconf.KeyQuorum)
		}
		for _, m := range strings.Split(q, ",") {
			if m = strings.TrimSpace(m); m != "" {
				quorum = append(quorum, m)
			}
		}
		if r, ok := conf.Get(flinkconf.KeyRoot); ok && r != "" {
			p.root = slashed(r)
		}
		if c, ok := conf.Get(flinkconf.KeyClusterID); ok && c != "" {
			p.clusterID = slashed(c)
		}
		p.storageDir, _ = conf.Get(flinkconf.KeyStorageDir)
		if f.zooCfg == "" {
			if f.tls && f.plain {
				return nil, fmt.Errorf("--plaintext-port with --flink-conf and --tls: the quorum's ports serve TLS; give a --zoo-cfg with secureClientPort beside clientPort to have both")
			}
			if p.cfg, err = zoocfg.FromQuorum(f.flinkConf, flinkconf.KeyQuorum, q, f.tls); err != nil {
				return nil, err
			}
		}
	}
	if f.zooCfg != "" {
		var err error
		if p.cfg, err = zoocfg.Load(f.zooCfg); err != nil {
			return nil, err
		}
	}
	if p.cfg == nil {
		return p, nil
	}
	if f.changed("members") {
		return nil, errors.New("--members with --zoo-cfg or --flink-conf: the members are the file's servers; drop --members")
	}
	if err := p.mapServers(f, v); err != nil {
		return nil, err
	}
	if quorum != nil && f.zooCfg != "" {
		if err := p.matchQuorum(f, quorum); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// tlsOnClientPort: TLS asked for, and the file has no secureClientPort, so its client port
// serves TLS (and the quorum in flink-conf.yaml works unchanged).
func (p *plan) tlsOnClientPort() bool { return p.env.TLS && p.cfg.SecureClientPort == 0 }

func (p *plan) mapServers(f upFlags, v testenv.Version) error {
	c := p.cfg
	e := &p.env
	if c.SecureClientPort != 0 {
		if v == testenv.ZK34 {
			return &zoocfg.LineError{Path: c.Path, Line: c.Line("secureClientPort"), Key: "secureClientPort", Value: fmt.Sprint(c.SecureClientPort),
				Msg: "ZooKeeper 3.4 has no TLS: remove the line, or use --version 3.8"}
		}
		if !e.TLS {
			p.notes = append(p.notes, fmt.Sprintf("secureClientPort=%d: the members serve TLS (as --tls)", c.SecureClientPort))
		}
		e.TLS = true
	}
	onClient := p.tlsOnClientPort()
	if onClient && f.plain {
		return fmt.Errorf("--plaintext-port: with --tls the client port of %s serves TLS (it has no secureClientPort); add secureClientPort=2281 to it to have both ports", c.Path)
	}
	if onClient {
		p.notes = append(p.notes, "--tls and no secureClientPort: the client ports serve TLS, so the quorum string stays the same")
	}
	// With a secureClientPort, the file decides about the plaintext port: it has one when it
	// names a client port.
	if e.TLS && !onClient {
		client, _ := c.Ports(c.Servers[0], false)
		if f.plain && client == 0 {
			return fmt.Errorf("--plaintext-port: %s has no clientPort for it; add clientPort=2181", c.Path)
		}
		e.PlaintextPort = client != 0
	}
	s := c.Security
	if s.EnforceSASL && f.noSASL {
		return fmt.Errorf("--no-sasl, but %s enforces SASL authentication: drop one of them", c.Path)
	}
	e.EnforceSASL = e.EnforceSASL || s.EnforceSASL
	e.RemoveHostFromPrincipal = e.RemoveHostFromPrincipal || s.RemoveHostFromPrincipal
	e.RemoveRealmFromPrincipal = e.RemoveRealmFromPrincipal || s.RemoveRealmFromPrincipal
	if s.ClientAuth != "" && !f.changed("client-auth") {
		e.ClientAuth = testenv.ClientAuth(s.ClientAuth)
	}
	e.TickTime, e.MaxSessionTimeout = c.TickTime, c.MaxSessionTimeout
	if len(c.Pass) > 0 {
		e.Extra = map[string]string{}
		for _, kv := range c.Pass {
			e.Extra[kv.Key] = kv.Value
		}
	}
	e.Members = 0
	p.named = !c.Servers[0].Loopback()
	for _, srv := range c.Servers {
		spec := testenv.ServerSpec{ID: srv.ID, PeerPort: srv.PeerPort, ElectionPort: srv.LeaderPort}
		if p.named {
			spec.Host = srv.Host
		}
		spec.ClientPort, spec.SecurePort = c.Ports(srv, onClient)
		member := fmt.Sprintf("member%d", srv.ID)
		if c.DataDir != "" {
			spec.DataDir = filepath.Join(c.DataDir, member)
		}
		if c.DataLogDir != "" {
			spec.Extra = map[string]string{"dataLogDir": filepath.Join(c.DataLogDir, member)}
		}
		e.Servers = append(e.Servers, spec)
	}
	if c.DataDir != "" {
		p.notes = append(p.notes, fmt.Sprintf("dataDir=%s: member N keeps its data in %s", c.DataDir, filepath.Join(c.DataDir, "memberN")))
	}
	if p.named {
		d, err := c.Domain()
		if err != nil {
			return err
		}
		switch {
		case d == "" && f.domain != "":
			d = f.domain
		case d == "":
			d = defaultDomain
		case f.domain != "" && f.domain != d:
			return fmt.Errorf("--domain %s, but the hosts of %s are in %s: drop --domain", f.domain, c.Path, d)
		}
		e.Domain = d
	} else if f.domain != "" {
		return fmt.Errorf("--domain with %s, whose servers are on localhost: drop --domain, or name the hosts in the file", c.Path)
	}
	p.notes = append(p.notes, c.Notes...)
	return nil
}

// matchQuorum refuses a flink-conf.yaml quorum that is not the zoo.cfg's ensemble.
func (p *plan) matchQuorum(f upFlags, quorum []string) error {
	want := p.cfg.Quorum(p.env.TLS, p.tlsOnClientPort())
	norm := func(list []string) []string {
		out := make([]string, len(list))
		for i, a := range list {
			a = strings.ToLower(a)
			for _, lo := range []string{"127.0.0.1:", "[::1]:"} {
				if r, ok := strings.CutPrefix(a, lo); ok {
					a = "localhost:" + r
				}
			}
			if !strings.Contains(a, ":") {
				a += ":2181"
			}
			out[i] = a
		}
		slices.Sort(out)
		return out
	}
	if slices.Equal(norm(quorum), norm(want)) {
		return nil
	}
	which := "client ports"
	if p.env.TLS {
		which = "TLS client ports"
	}
	return fmt.Errorf("%s: %s is %s, but the members of %s serve %s (their %s): make the two name the same hosts and ports",
		f.flinkConf, flinkconf.KeyQuorum, strings.Join(quorum, ","), f.zooCfg, strings.Join(want, ","), which)
}

func slashed(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "/") {
		return "/" + s
	}
	return s
}
