package zktls

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// HostnameRules selects how the names in a server's certificate are matched to the member dialed.
type HostnameRules string

const (
	// HostnameZooKeeper (the zero value) are the rules of ZooKeeper's Java client, ZKTrustManager
	// (zookeeper.fips-mode=false, the 3.8 default): the address connected to among the IP SANs —
	// for a member given by host name too —, else the member's host name among the DNS SANs (an
	// IP member: its reverse-DNS name, only with AllowReverseDNSLookup), and for a certificate
	// without any DNS or IP SAN its common name. Wildcards: one '*' in the leftmost label, which
	// may be partial ("zk*.example.com").
	HostnameZooKeeper HostnameRules = ""
	// HostnameJDK are the JDK's HTTPS endpoint identification rules, which ZooKeeper's Java client
	// uses with zookeeper.fips-mode=true (the 3.9 default): an IP member among the IP SANs; a host
	// name among the DNS SANs, or — when the certificate has no DNS SAN — its common name. No IP
	// SAN for a host name, no reverse DNS.
	HostnameJDK HostnameRules = "jdk"
	// HostnameStrict are Go's own rules (crypto/x509 Certificate.VerifyHostname): an IP member
	// among the IP SANs, a host name among the DNS SANs; never the common name, never reverse DNS,
	// never an IP SAN for a host name. Stricter than any Java client: a certificate the Java client
	// accepts may be refused (turn it on with zksecure.ssl.strictHostnames=true or
	// zk-secure-check --tls-strict-hostnames).
	HostnameStrict HostnameRules = "strict"
)

func (h HostnameRules) valid() error {
	switch h {
	case HostnameZooKeeper, HostnameJDK, HostnameStrict:
		return nil
	}
	return fmt.Errorf("%w: HostnameRules %q: want \"\" (ZooKeeper's), \"jdk\" or \"strict\"", ErrConfig, string(h))
}

func (h HostnameRules) String() string {
	switch h {
	case HostnameZooKeeper:
		return "ZooKeeper's rules"
	case HostnameJDK:
		return "the JDK's HTTPS rules"
	case HostnameStrict:
		return "strict (Go's) rules"
	}
	return string(h)
}

// The name-matching rules, as the checker reports them.
const (
	ruleIPSAN      = "ip-san"      // the member's address among the IP SANs
	ruleDNSSAN     = "dns-san"     // the member's host name among the DNS SANs
	ruleReverseDNS = "reverse-dns" // an IP member's reverse-DNS name among the DNS SANs
	ruleCommonName = "common-name" // no SAN of the relevant kind: the subject's common name
	ruleOff        = "off"         // hostname verification is turned off
)

// nameMatch says which rule accepted a certificate's names for a member.
type nameMatch struct {
	Rule  string // one of the rule* constants
	Name  string // the name or address that matched
	Rules HostnameRules
	// Strict reports whether Go's strict rules accept the certificate as well; when false the
	// member passes only by a rule Go's crypto/x509 does not have.
	Strict bool
}

// describe says in words which rule passed.
func (m nameMatch) describe(member string) string {
	var s string
	switch m.Rule {
	case ruleIPSAN:
		s = "the address " + m.Name + " is among the certificate's IP SANs"
	case ruleDNSSAN:
		s = "the host name " + m.Name + " is among the certificate's DNS SANs"
	case ruleReverseDNS:
		s = "the reverse-DNS name " + m.Name + " of " + member + " is among the certificate's DNS SANs"
	case ruleCommonName:
		s = "the certificate has no SAN of the needed kind and its common name is " + m.Name
	case ruleOff:
		return "hostname verification is off (zookeeper.ssl.hostnameVerification=false)"
	}
	return s + " (rule " + m.Rule + ", " + m.Rules.String() + ")"
}

// zooKeeperOnly explains, for a match Go's strict rules do not accept, what makes it pass only by
// ZooKeeper's (or the JDK's) rules.
func (m nameMatch) zooKeeperOnly() string {
	switch m.Rule {
	case ruleIPSAN:
		return "an IP SAN matching the address a host name resolved to (Go requires the host name among the DNS SANs)"
	case ruleReverseDNS:
		return "the reverse-DNS name of an IP member (unauthenticated DNS decides; Go requires the IP among the IP SANs)"
	case ruleCommonName:
		return "the common name of a certificate without SANs (deprecated since RFC 2818; Go ignores the common name)"
	case ruleDNSSAN:
		return "a partial wildcard in the leftmost label (Go accepts only a whole-label '*')"
	}
	return m.Rule
}

// ipSANs and dnsSANs are what ZooKeeper's verifier counts as subject alternative names.
func hasSANs(leaf *x509.Certificate) bool { return len(leaf.DNSNames) > 0 || len(leaf.IPAddresses) > 0 }

func ipInSANs(leaf *x509.Certificate, ip net.IP) bool {
	return ip != nil && slices.ContainsFunc(leaf.IPAddresses, ip.Equal)
}

func dnsInSANs(leaf *x509.Certificate, host string) bool {
	return slices.ContainsFunc(leaf.DNSNames, func(san string) bool { return matchIdentity(host, san) })
}

// matchIdentity is ZooKeeper's matchIdentityStrict (ZKHostnameVerifier): case-insensitive; one
// '*' in the identity matches within one label only.
func matchIdentity(host, identity string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	identity = strings.TrimSuffix(strings.ToLower(identity), ".")
	i := strings.IndexByte(identity, '*')
	if i < 0 {
		return host == identity
	}
	prefix, suffix := identity[:i], identity[i+1:]
	if !strings.HasPrefix(host, prefix) || !strings.HasSuffix(host, suffix) || len(host) < len(prefix)+len(suffix) {
		return false
	}
	return !strings.Contains(host[len(prefix):len(host)-len(suffix)], ".")
}

// matchName checks leaf's names for member by the configured rules. host is the name to verify
// (the member's host, or ServerName), remoteIP the address connected to (nil: resolved from host).
func (cl *Client) matchName(ctx context.Context, member, host string, remoteIP net.IP, leaf *x509.Certificate) (nameMatch, error) {
	rules := cl.cfg.HostnameRules
	if cl.cfg.NoHostnameVerification {
		return nameMatch{Rule: ruleOff, Rules: rules, Strict: true}, nil
	}
	strict := leaf.VerifyHostname(host) == nil
	hostIP := net.ParseIP(strings.Trim(host, "[]"))
	m := nameMatch{Rules: rules, Strict: strict}
	switch rules {
	case HostnameStrict:
		if strict {
			m.Rule, m.Name = ruleDNSSAN, host
			if hostIP != nil {
				m.Rule = ruleIPSAN
			}
			return m, nil
		}
		return m, cl.nameError(member, host, remoteIP, nil, leaf)
	case HostnameJDK:
		if hostIP != nil {
			if ipInSANs(leaf, hostIP) {
				m.Rule, m.Name = ruleIPSAN, hostIP.String()
				return m, nil
			}
			return m, cl.nameError(member, host, remoteIP, nil, leaf)
		}
		if len(leaf.DNSNames) > 0 {
			if dnsInSANs(leaf, host) {
				m.Rule, m.Name = ruleDNSSAN, host
				return m, nil
			}
		} else if leaf.Subject.CommonName != "" && matchIdentity(host, leaf.Subject.CommonName) {
			m.Rule, m.Name = ruleCommonName, leaf.Subject.CommonName
			return m, nil
		}
		return m, cl.nameError(member, host, remoteIP, nil, leaf)
	}
	// ZooKeeper's ZKTrustManager: the address first, then the host name.
	addr := remoteIP
	if addr == nil {
		addr = hostIP
	}
	if addr == nil {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := net.DefaultResolver.LookupIPAddr(rctx, host)
		cancel()
		if err == nil && len(addrs) > 0 {
			addr = addrs[0].IP
		}
	}
	if addr != nil {
		if hasSANs(leaf) {
			if ipInSANs(leaf, addr) {
				m.Rule, m.Name = ruleIPSAN, addr.String()
				return m, nil
			}
		} else if matchIdentity(addr.String(), leaf.Subject.CommonName) {
			m.Rule, m.Name = ruleCommonName, leaf.Subject.CommonName
			return m, nil
		}
	}
	names := []string{host}
	rule := ruleDNSSAN
	var reverse []string
	if hostIP != nil {
		// An IP member has no host name: Java looks its address up in reverse DNS, if allowed.
		names, rule = nil, ruleReverseDNS
		if cl.cfg.AllowReverseDNSLookup {
			reverse = cl.reverseNames(ctx, hostIP)
			names = reverse
		}
	}
	for _, n := range names {
		if hasSANs(leaf) {
			if dnsInSANs(leaf, n) {
				m.Rule, m.Name = rule, n
				return m, nil
			}
		} else if matchIdentity(n, leaf.Subject.CommonName) {
			m.Rule, m.Name = ruleCommonName, leaf.Subject.CommonName
			return m, nil
		}
	}
	return m, cl.nameError(member, host, remoteIP, reverse, leaf)
}

// reverseNames returns the reverse-DNS names of ip that resolve back to it, as Java's
// InetAddress.getHostName does; with a Config.LookupAddr its answers are taken as confirmed.
func (cl *Client) reverseNames(ctx context.Context, ip net.IP) []string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	lookup := cl.cfg.LookupAddr
	if lookup == nil {
		lookup = net.DefaultResolver.LookupAddr
	}
	rev, err := lookup(ctx, ip.String())
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range rev {
		n = strings.TrimSuffix(n, ".")
		if cl.cfg.LookupAddr == nil {
			addrs, err := net.DefaultResolver.LookupIPAddr(ctx, n)
			if err != nil || !slices.ContainsFunc(addrs, func(a net.IPAddr) bool { return a.IP.Equal(ip) }) {
				continue
			}
		}
		out = append(out, n)
	}
	return out
}

// nameError is ErrHostname naming what the certificate holds and what was wanted.
func (cl *Client) nameError(member, host string, remoteIP net.IP, reverse []string, leaf *x509.Certificate) error {
	var holds []string
	holds = append(holds, leaf.DNSNames...)
	for _, s := range leaf.IPAddresses {
		holds = append(holds, s.String())
	}
	if len(holds) == 0 {
		holds = append(holds, "CN="+leaf.Subject.CommonName)
	}
	wanted := host
	if remoteIP != nil && remoteIP.String() != host {
		wanted += " (" + remoteIP.String() + ")"
	}
	if len(reverse) > 0 {
		wanted += ", reverse DNS " + strings.Join(reverse, ", ")
	}
	hint := "connect by a name the certificate holds, or have the server's certificate reissued with this name"
	switch {
	case cl.cfg.HostnameRules == HostnameStrict:
		hint += " (strict hostname rules: host names only among the DNS SANs, IP addresses only among the IP SANs, no common name)"
	case net.ParseIP(strings.Trim(host, "[]")) != nil && !cl.cfg.AllowReverseDNSLookup && cl.cfg.HostnameRules == HostnameZooKeeper:
		hint += " (reverse DNS is not used: zookeeper.ssl.allowReverseDnsLookup=false, the default)"
	}
	return fmt.Errorf("%w: the certificate of %s is for %s, not for %s; %s", ErrHostname, member, strings.Join(holds, ", "), wanted, hint)
}
