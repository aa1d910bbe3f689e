package sasl

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// DefaultServiceName is the service part of ZooKeeper's Kerberos principal (the Java client's
// zookeeper.sasl.client.username; Flink's zookeeper.sasl.service-name).
const DefaultServiceName = "zookeeper"

// PrincipalRules are the settings that decide which service principal the client asks for. The zero
// value is the Java client's default: "zookeeper/<canonical host>@<client realm>".
type PrincipalRules struct {
	// ServiceName is the service part; empty means DefaultServiceName.
	ServiceName string
	// ServerPrincipal, when set, is used verbatim for every member (zookeeper.server.principal,
	// ZooKeeper 3.5.7+); a value without "@" gets the realm appended.
	ServerPrincipal string
	// ServerRealm is appended to principals without a realm (zookeeper.server.realm); empty means the
	// client principal's realm here, and for an Authenticator the realm krb5.conf's [domain_realm]
	// maps the host to, when it maps one, as the JDK takes it (Authenticator.ServicePrincipalFor).
	ServerRealm string
	// NoCanonicalize turns off replacing the host by the reverse-DNS name of its address
	// (zookeeper.sasl.client.canonicalize.hostname=false). Canonicalization is on by default, as in Java.
	NoCanonicalize bool
}

// Resolver is what canonicalization needs from DNS; *net.Resolver satisfies it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// ServicePrincipal returns the principal the Java client would ask for when connecting to member
// ("host:port" from the connect string), with clientRealm as the default realm:
//
//  1. ServerPrincipal, if set, verbatim;
//  2. else <ServiceName>/<host>, where host is the connect string's host, replaced by the reverse-DNS
//     name of its address when canonicalizing, unless that lookup gives no name (Java's
//     InetAddress.getCanonicalHostName, which then returns the IP, in which case the host is kept);
//  3. "@" + ServerRealm (or clientRealm) appended when there is no "@".
func (r PrincipalRules) ServicePrincipal(ctx context.Context, res Resolver, member, clientRealm string) (string, error) {
	realm := r.ServerRealm
	if realm == "" {
		realm = clientRealm
	}
	withRealm := func(p string) string {
		if strings.Contains(p, "@") || realm == "" {
			return p
		}
		return p + "@" + realm
	}
	if r.ServerPrincipal != "" {
		return withRealm(r.ServerPrincipal), nil
	}
	host, _, err := net.SplitHostPort(member)
	if err != nil {
		host = member
	}
	if host == "" {
		return "", fmt.Errorf("%w: member %q has no host", ErrConfig, member)
	}
	if !r.NoCanonicalize {
		if res == nil {
			res = net.DefaultResolver
		}
		host = canonicalHost(ctx, res, host)
	}
	svc := r.ServiceName
	if svc == "" {
		svc = DefaultServiceName
	}
	return withRealm(svc + "/" + strings.ToLower(host)), nil
}

// canonicalHost mirrors Java's getCanonicalHostName on the member's first address: the reverse-DNS
// name, confirmed by a forward lookup; the host unchanged when there is no such name.
func canonicalHost(ctx context.Context, res Resolver, host string) string {
	var ip net.IP
	if ip = net.ParseIP(host); ip == nil {
		addrs, err := res.LookupIPAddr(ctx, host)
		if err != nil || len(addrs) == 0 {
			return host
		}
		ip = addrs[0].IP
	}
	names, err := res.LookupAddr(ctx, ip.String())
	if err != nil || len(names) == 0 {
		return host
	}
	name := strings.TrimSuffix(names[0], ".")
	// Forward-confirm, as Java does: a name that does not resolve back to the address is not used.
	addrs, err := res.LookupIPAddr(ctx, name)
	if err != nil {
		return host
	}
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			return name
		}
	}
	return host
}
