package zoocfg

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

var labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// server parses server.X=host[:peerPort[:leaderPort]][:participant][;[clientAddress:]clientPort].
// A host alone, or host:peerPort, gets Flink's default ports, as Flink's quorum peer fills them in.
func (p *parser) server(e entry) {
	idText := strings.TrimPrefix(e.key, "server.")
	id, err := strconv.Atoi(idText)
	if err != nil || idText == "" || strings.HasPrefix(idText, "+") || strings.HasPrefix(idText, "-") {
		p.fail(e, "the server id %q is not a number: write server.1=host:2888:3888", idText)
		return
	}
	if id < 1 || id > 255 {
		p.fail(e, "server id %d: zk-testenv takes ids from 1 to 255", id)
		return
	}
	if first, dup := p.ids[id]; dup {
		p.fail(e, "server id %d is defined twice (first on line %d): every server.X line needs its own id", id, first)
		return
	}
	p.ids[id] = e.line
	s := Server{ID: id, Line: e.line, Raw: e.value}
	if e.value == "" {
		p.fail(e, "no address: write %s=host:2888:3888", e.key)
		return
	}
	if strings.Contains(e.value, "|") {
		p.fail(e, "several addresses per server (ZooKeeper 3.6 multi-address) cannot be honoured: zk-testenv gives each member one host; keep one address")
		return
	}
	addrPart, clientPart, hasClient := strings.Cut(e.value, ";")
	host, rest, err := splitHost(addrPart)
	if err != nil {
		p.fail(e, "%v: write %s=host:2888:3888", err, e.key)
		return
	}
	var fields []string
	if rest != "" {
		fields = strings.Split(rest, ":")
	}
	if n := len(fields); n > 0 && (fields[n-1] == "participant" || fields[n-1] == "observer") {
		if fields[n-1] == "observer" {
			p.fail(e, "observers cannot be honoured: zk-testenv starts voting members only; drop :observer (or the line)")
			return
		}
		fields = fields[:n-1]
	}
	if len(fields) > 2 {
		p.fail(e, "%q has %d ports; write %s=host:peerPort:leaderPort", addrPart, len(fields), e.key)
		return
	}
	s.PeerPort, s.LeaderPort = DefaultPeerPort, DefaultLeaderPort
	for i, f := range fields {
		port, err := parsePort(f)
		if err != nil {
			which := "peer"
			if i == 1 {
				which = "leader"
			}
			p.fail(e, "%s port %q: %v", which, f, err)
			return
		}
		if i == 0 {
			s.PeerPort = port
		} else {
			s.LeaderPort = port
		}
	}
	if len(fields) < 2 {
		p.note("%s has no leader port (line %d): it gets %d:%d, as Flink's quorum peer fills it in", e.key, e.line, s.PeerPort, s.LeaderPort)
	}
	if hasClient {
		cp := clientPart
		if i := strings.LastIndex(clientPart, ":"); i >= 0 {
			cp = clientPart[i+1:]
			p.note("%s's client address %q (line %d) is replaced: zk-testenv binds every member to its own address", e.key, clientPart[:i], e.line)
		}
		port, err := parsePort(cp)
		if err != nil {
			p.fail(e, "client port %q after ';': %v", cp, err)
			return
		}
		s.ClientPort = port
	}
	lower := strings.ToLower(host)
	if lower != host {
		p.note("%s: host %s is used as %s (line %d): zk-testenv names hosts in lower case", e.key, host, lower, e.line)
	}
	s.Host = lower
	if err := checkHost(s.Host); err != nil {
		p.fail(e, "%v", err)
		return
	}
	p.c.Servers = append(p.c.Servers, s)
}

// splitHost separates the host (possibly a bracketed IPv6 address) from the ports after it.
func splitHost(s string) (host, rest string, err error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", "", fmt.Errorf("unclosed [ in %q", s)
		}
		host, rest = s[1:end], s[end+1:]
		if rest != "" && !strings.HasPrefix(rest, ":") {
			return "", "", fmt.Errorf("%q after the address", rest)
		}
		return host, strings.TrimPrefix(rest, ":"), nil
	}
	host, rest, _ = strings.Cut(s, ":")
	if host == "" {
		return "", "", fmt.Errorf("no host in %q", s)
	}
	return host, rest, nil
}

// checkHost accepts loopback and DNS names; other IP addresses cannot be given to members here.
func checkHost(h string) error {
	if isLoopback(h) {
		return nil
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return fmt.Errorf("the address %s cannot be honoured: zk-testenv gives members named hosts with loopback addresses of its own (or localhost); write a host name, as the flink-conf.yaml quorum should", a)
	}
	if len(h) > 253 {
		return fmt.Errorf("host name longer than 253 characters")
	}
	for _, l := range strings.Split(h, ".") {
		if !labelRE.MatchString(l) {
			return fmt.Errorf("%q is not a host name (letters, digits and '-' in dot-separated labels)", h)
		}
	}
	return nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("not a port (1 to 65535)")
	}
	return n, nil
}
