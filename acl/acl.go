// Package acl chooses the ACLs of the nodes zksecure creates (providers: creator-only, open,
// explicit ids) and audits the ACLs of an existing HA tree: world-readable or world-writable nodes,
// nodes owned by other identities, and ACLs the current identity cannot use — each with its fix.
package acl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-zookeeper/zk"
)

// ErrNoIdentity is returned when a creator-only ACL is asked for by a session that will have no
// authenticated identity: the server would answer InvalidACL (-114) to every create.
var ErrNoIdentity = errors.New("acl: creator-only ACLs need an authenticated identity (SASL or a TLS client certificate)")

// Provider gives the ACL of every node a client creates.
type Provider interface {
	// ACL returns the ACL for a new node at the absolute path.
	ACL(path string) []zk.ACL
	// NeedsIdentity reports whether the ACL only works for an authenticated session.
	NeedsIdentity() bool
	// String names the provider in messages ("creator", "open", ...).
	String() string
}

type creator struct{ extra []zk.ACL }

// Creator returns the provider of Flink's high-availability.zookeeper.client.acl=creator: every node
// gets (ALL, auth, "") — all permissions for every authenticated id of the creating session (sasl
// and/or x509) — plus the extra entries, e.g. Read for other JobManagers' principals (needed since
// ZooKeeper 3.7.3/3.8.4/3.9.2, where exists() needs READ).
func Creator(extra ...zk.ACL) Provider { return creator{extra: extra} }

func (p creator) ACL(string) []zk.ACL { return append(zk.AuthACL(zk.PermAll), p.extra...) }
func (p creator) NeedsIdentity() bool { return true }
func (p creator) String() string {
	if len(p.extra) == 0 {
		return "creator"
	}
	return "creator+" + Format(p.extra)
}

type open struct{}

// Open returns the provider of Flink's default acl=open: world:anyone with all permissions.
func Open() Provider { return open{} }

func (open) ACL(string) []zk.ACL { return zk.WorldACL(zk.PermAll) }
func (open) NeedsIdentity() bool { return false }
func (open) String() string      { return "open" }

type explicit struct{ acl []zk.ACL }

// Explicit returns a provider that gives every node exactly acl.
func Explicit(acl ...zk.ACL) Provider { return explicit{acl: acl} }

func (p explicit) ACL(string) []zk.ACL { return p.acl }
func (p explicit) NeedsIdentity() bool {
	for _, a := range p.acl {
		if a.Scheme == "auth" {
			return true
		}
	}
	return false
}
func (p explicit) String() string { return Format(p.acl) }

// SASL is an entry for a Kerberos principal as the server names it (after any
// kerberos.removeHostFromPrincipal / removeRealmFromPrincipal stripping).
func SASL(principal string, perms int32) zk.ACL {
	return zk.ACL{Perms: perms, Scheme: "sasl", ID: principal}
}

// X509 is an entry for a TLS client certificate's subject DN as ZooKeeper prints it
// (RFC 2253, e.g. "CN=flink,OU=clients,O=Example"): copy it from an existing node's ACL or the
// server log, rather than computing it.
func X509(dn string, perms int32) zk.ACL { return zk.ACL{Perms: perms, Scheme: "x509", ID: dn} }

// Perms formats permissions as ZooKeeper's CLI does ("cdrwa").
func Perms(p int32) string {
	var b strings.Builder
	for _, x := range []struct {
		bit int32
		c   byte
	}{{zk.PermCreate, 'c'}, {zk.PermDelete, 'd'}, {zk.PermRead, 'r'}, {zk.PermWrite, 'w'}, {zk.PermAdmin, 'a'}} {
		if p&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

// ParsePerms reads "cdrwa"-style permissions.
func ParsePerms(s string) (int32, error) {
	var p int32
	for _, c := range s {
		switch c {
		case 'c':
			p |= zk.PermCreate
		case 'd':
			p |= zk.PermDelete
		case 'r':
			p |= zk.PermRead
		case 'w':
			p |= zk.PermWrite
		case 'a':
			p |= zk.PermAdmin
		default:
			return 0, fmt.Errorf("acl: permission %q in %q is not one of c, d, r, w, a", c, s)
		}
	}
	return p, nil
}

// ParseEntry reads "scheme:id:perms" (the id may itself contain colons, e.g. digest ids).
func ParseEntry(s string) (zk.ACL, error) {
	i, j := strings.Index(s, ":"), strings.LastIndex(s, ":")
	if i <= 0 || j <= i {
		return zk.ACL{}, fmt.Errorf("acl: %q is not scheme:id:perms", s)
	}
	p, err := ParsePerms(s[j+1:])
	if err != nil {
		return zk.ACL{}, err
	}
	return zk.ACL{Scheme: s[:i], ID: s[i+1 : j], Perms: p}, nil
}

// Format prints an ACL as "scheme:id:perms" entries separated by ", ".
func Format(acl []zk.ACL) string {
	parts := make([]string, len(acl))
	for i, a := range acl {
		parts[i] = a.Scheme + ":" + a.ID + ":" + Perms(a.Perms)
	}
	return strings.Join(parts, ", ")
}
