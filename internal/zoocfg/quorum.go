package zoocfg

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// FromQuorum describes the ensemble a Flink quorum string names (key in path, e.g.
// high-availability.zookeeper.quorum in conf/flink-conf.yaml): one server per host:port, in
// order, ids from 1, the port being the client port — the TLS client port with tls, since a
// Flink JVM with zookeeper.client.secure=true speaks TLS to every quorum address. Named hosts
// get the usual peer and leader ports (2888, 3888); loopback members get free ones.
func FromQuorum(path, key, quorum string, tls bool) (*Config, error) {
	c := &Config{Path: path, lines: map[string]int{}}
	fail := func(entry, format string, args ...any) error {
		return &LineError{Path: path, Key: key, Value: entry, Msg: fmt.Sprintf(format, args...)}
	}
	var errs []error
	seen := map[string]bool{}
	for _, raw := range strings.Split(quorum, ",") {
		entry := strings.TrimSpace(raw)
		if entry == "" {
			continue
		}
		if strings.Contains(entry, "/") {
			errs = append(errs, fail(entry, "a chroot in the quorum: Flink puts its nodes under high-availability.zookeeper.path.root and high-availability.cluster-id instead; remove the /path"))
			continue
		}
		host, portText, err := net.SplitHostPort(entry)
		port := DefaultClientPort
		if err != nil {
			host = entry // no port: ZooKeeper's client uses 2181
		} else if port, err = parsePort(portText); err != nil {
			errs = append(errs, fail(entry, "port %q: %v", portText, err))
			continue
		}
		host = strings.ToLower(host)
		if err := checkHost(host); err != nil {
			errs = append(errs, fail(entry, "%v", err))
			continue
		}
		id := strings.ToLower(entry)
		if isLoopback(host) {
			id = "loopback:" + strconv.Itoa(port)
		}
		if seen[id] {
			errs = append(errs, fail(entry, "named twice: every member needs its own address"))
			continue
		}
		seen[id] = true
		s := Server{ID: len(c.Servers) + 1, Host: host, Raw: entry}
		if !isLoopback(host) {
			s.PeerPort, s.LeaderPort = DefaultPeerPort, DefaultLeaderPort
		}
		if tls {
			s.SecurePort = port
		} else {
			s.ClientPort = port
		}
		c.Servers = append(c.Servers, s)
	}
	if len(errs) == 0 && len(c.Servers) == 0 {
		errs = append(errs, &LineError{Path: path, Key: key, Msg: "no member: write host:port,host:port,..."})
	}
	if len(errs) == 0 && len(c.Servers) > MaxServers {
		errs = append(errs, &LineError{Path: path, Key: key, Msg: fmt.Sprintf("%d members: zk-testenv starts at most %d", len(c.Servers), MaxServers)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p := &parser{c: c, path: path}
	p.checkDomains()
	if len(p.errs) > 0 {
		// Errors about servers name the key, not a line.
		for _, e := range p.errs {
			var le *LineError
			if errors.As(e, &le) {
				le.Line, le.Key = 0, key
			}
		}
		return nil, errors.Join(p.errs...)
	}
	return c, nil
}

// Quorum returns the addresses clients use, in server order: host:port with the TLS client port
// when the members serve TLS (tls), else the client port. With tlsOnClientPort the client port
// serves TLS (see Ports).
func (c *Config) Quorum(tls, tlsOnClientPort bool) []string {
	out := make([]string, 0, len(c.Servers))
	for _, s := range c.Servers {
		client, secure := c.Ports(s, tlsOnClientPort)
		port := client
		if tls {
			port = secure
		}
		out = append(out, net.JoinHostPort(s.Host, strconv.Itoa(port)))
	}
	return out
}
