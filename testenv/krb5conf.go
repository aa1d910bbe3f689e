package testenv

import (
	"fmt"
	"strings"
	"time"
)

// krb5Conf is a client krb5.conf as testenv writes every one: TCP only, AES only (AES), no DNS
// lookups, no hostname canonicalization, no reverse DNS.
type krb5Conf struct {
	// About follows "# Written by zksecure testenv: " on the first line.
	About string
	// DefaultRealm is [libdefaults] default_realm.
	DefaultRealm string
	// TicketLifetime, if not zero, sets ticket_lifetime (and renew_lifetime 7d); zero leaves
	// both to the library.
	TicketLifetime time.Duration
	// KDCs are the [realms] entries in order: {realm, KDC address}.
	KDCs [][2]string
	// DomainRealm are the [domain_realm] entries in order: {host or ".domain", realm}.
	DomainRealm [][2]string
}

// String is the file's text; a caller may append further sections (e.g. [capaths]).
func (c krb5Conf) String() string {
	enc := strings.Join(AES, " ")
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by zksecure testenv: %s\n[libdefaults]\n", c.About)
	fmt.Fprintf(&b, "    default_realm = %s\n", c.DefaultRealm)
	b.WriteString("    dns_lookup_realm = false\n    dns_lookup_kdc = false\n    dns_canonicalize_hostname = false\n" +
		"    rdns = false\n    udp_preference_limit = 1\n")
	if c.TicketLifetime != 0 {
		fmt.Fprintf(&b, "    ticket_lifetime = %ds\n    renew_lifetime = 7d\n", int(c.TicketLifetime.Seconds()))
	}
	fmt.Fprintf(&b, "    forwardable = true\n    default_tkt_enctypes = %[1]s\n    default_tgs_enctypes = %[1]s\n    permitted_enctypes = %[1]s\n", enc)
	b.WriteString("\n[realms]\n")
	for _, k := range c.KDCs {
		fmt.Fprintf(&b, "    %s = {\n        kdc = %s\n    }\n", k[0], k[1])
	}
	b.WriteString("\n[domain_realm]\n")
	for _, d := range c.DomainRealm {
		fmt.Fprintf(&b, "    %s = %s\n", d[0], d[1])
	}
	return b.String()
}
