package sasl

import (
	"context"
	"errors"
	"net"
	"testing"
)

type fakeDNS struct {
	forward map[string][]string
	reverse map[string][]string
}

func (f fakeDNS) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	for _, s := range f.forward[host] {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

func (f fakeDNS) LookupAddr(_ context.Context, addr string) ([]string, error) {
	if n := f.reverse[addr]; len(n) > 0 {
		return n, nil
	}
	return nil, errors.New("no PTR")
}

func TestServicePrincipalFollowsJavaRules(t *testing.T) {
	dns := fakeDNS{
		forward: map[string][]string{"zk1": {"10.0.0.1"}, "zk1.example.com": {"10.0.0.1"}, "alias": {"10.0.0.2"},
			"liar.example.com": {"10.9.9.9"}, "localhost": {"127.0.0.1"}},
		reverse: map[string][]string{"10.0.0.1": {"zk1.example.com."}, "10.0.0.3": {"liar.example.com."}, "127.0.0.1": {"localhost"}},
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		rules  PrincipalRules
		member string
		want   string
	}{
		{"default canonicalizes a short name", PrincipalRules{}, "zk1:2181", "zookeeper/zk1.example.com@CLIENT.REALM"},
		{"an IP literal becomes its reverse name", PrincipalRules{}, "10.0.0.1:2181", "zookeeper/zk1.example.com@CLIENT.REALM"},
		{"no reverse name keeps the host", PrincipalRules{}, "alias:2181", "zookeeper/alias@CLIENT.REALM"},
		{"unconfirmed reverse name keeps the IP", PrincipalRules{}, "10.0.0.3:2181", "zookeeper/10.0.0.3@CLIENT.REALM"},
		{"no canonicalization keeps the host as written", PrincipalRules{NoCanonicalize: true}, "zk1:2181", "zookeeper/zk1@CLIENT.REALM"},
		{"service name", PrincipalRules{ServiceName: "zk"}, "localhost:2181", "zk/localhost@CLIENT.REALM"},
		{"server realm", PrincipalRules{ServerRealm: "ZK.REALM"}, "localhost:2181", "zookeeper/localhost@ZK.REALM"},
		{"server principal verbatim", PrincipalRules{ServerPrincipal: "zookeeper/zk-vip@OTHER"}, "zk1:2181", "zookeeper/zk-vip@OTHER"},
		{"server principal gets the realm", PrincipalRules{ServerPrincipal: "zookeeper/zk-vip"}, "zk1:2181", "zookeeper/zk-vip@CLIENT.REALM"},
		{"upper-case host is lowered", PrincipalRules{NoCanonicalize: true}, "ZK1.Example.COM:2181", "zookeeper/zk1.example.com@CLIENT.REALM"},
	} {
		got, err := tc.rules.ServicePrincipal(ctx, dns, tc.member, "CLIENT.REALM")
		if err != nil || got != tc.want {
			t.Errorf("%s: ServicePrincipal(%s) = %q, %v; want %q", tc.name, tc.member, got, err, tc.want)
		}
	}
}
