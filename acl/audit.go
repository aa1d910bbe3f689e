package acl

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/zkwalk"
)

// Identity is one authenticated id of a session, as the server records it ("sasl",
// "client@EXAMPLE.COM"). A session may have several (sasl and x509).
type Identity struct{ Scheme, ID string }

func (i Identity) String() string { return i.Scheme + ":" + i.ID }

// Kind classifies a finding.
type Kind string

const (
	WorldReadable Kind = "world-readable" // anyone may read (leader addresses, HA pointers)
	WorldWritable Kind = "world-writable" // anyone may change or delete
	OtherOwner    Kind = "other-owner"    // administered by ids that are not ours
	Unusable      Kind = "unusable"       // our ids lack permissions the HA services need
	Unreadable    Kind = "unreadable"     // the ACL itself could not be read
)

// Finding is one problem found on one node.
type Finding struct {
	Path    string
	Kind    Kind
	ACL     []zk.ACL
	Message string
	Fix     string
}

// Tree is what the auditor needs from a session; *zk.Conn implements it.
type Tree interface {
	Children(path string) ([]string, *zk.Stat, error)
	GetACL(path string) ([]zk.ACL, *zk.Stat, error)
}

// AuditOptions bound the walk.
type AuditOptions struct {
	// MaxNodes stops the walk after this many nodes; zero means 10000.
	MaxNodes int
	// NeedPerms are the permissions our ids need on every node; zero means read, write, create,
	// delete (what leader election and HA metadata need). Admin is not required.
	NeedPerms int32
}

// Audit walks each node of paths (typically the root, then the cluster-id node) and every descendant
// of the last one, and reports problems. self are the session's authenticated ids (empty for an
// unauthenticated session). Missing nodes are skipped.
func Audit(ctx context.Context, t Tree, self []Identity, opts AuditOptions, paths ...string) ([]Finding, error) {
	if opts.MaxNodes <= 0 {
		opts.MaxNodes = 10000
	}
	if opts.NeedPerms == 0 {
		opts.NeedPerms = zk.PermRead | zk.PermWrite | zk.PermCreate | zk.PermDelete
	}
	var out []Finding
	seen := 0
	for i, p := range paths {
		err := zkwalk.Walk(ctx, t, p, i == len(paths)-1, opts.MaxNodes-seen, func(n zkwalk.Node) error {
			seen++
			if n.ACLErr != nil {
				out = append(out, Finding{Path: n.Path, Kind: Unreadable, Message: fmt.Sprintf("cannot read the ACL of %s: %v", n.Path, n.ACLErr),
					Fix: "run the audit with an identity that has READ on the HA tree"})
				return nil
			}
			out = append(out, Check(n.Path, n.ACL, self, opts.NeedPerms)...)
			if n.ChildrenErr != nil {
				out = append(out, Finding{Path: n.Path, Kind: Unreadable, ACL: n.ACL, Message: fmt.Sprintf("cannot list the children of %s: %v", n.Path, n.ChildrenErr),
					Fix: "grant READ on " + n.Path + " to the HA identity"})
			}
			return nil
		})
		if le := (*zkwalk.LimitError)(nil); errors.As(err, &le) {
			return out, nil // MaxNodes: the audit stops there
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Check reports the problems of one node's ACL for a session with ids self.
func Check(p string, acl []zk.ACL, self []Identity, need int32) []Finding {
	var out []Finding
	var world int32
	var ours int32
	var others []string
	for _, a := range acl {
		switch {
		case a.Scheme == "world" && a.ID == "anyone":
			world |= a.Perms
			ours |= a.Perms
		case matches(a, self):
			ours |= a.Perms
		default:
			if a.Perms&zk.PermAdmin != 0 || a.Perms&zk.PermWrite != 0 {
				others = append(others, a.Scheme+":"+a.ID)
			}
		}
	}
	if world&(zk.PermWrite|zk.PermDelete|zk.PermCreate|zk.PermAdmin) != 0 {
		out = append(out, Finding{Path: p, Kind: WorldWritable, ACL: acl,
			Message: fmt.Sprintf("%s is writable by anyone (world:anyone:%s): any client can replace the leader's address or delete HA state", p, Perms(world)),
			Fix:     "set high-availability.zookeeper.client.acl: creator (with SASL or a TLS client certificate) and restrict the existing node, e.g. setAcl " + p + " sasl:<principal>:cdrwa"})
	} else if world&zk.PermRead != 0 {
		out = append(out, Finding{Path: p, Kind: WorldReadable, ACL: acl,
			Message: fmt.Sprintf("%s is readable by anyone (world:anyone:r)", p),
			Fix:     "if leader addresses and HA pointers are sensitive here, restrict READ to the HA identities"})
	}
	if len(others) > 0 && ours&zk.PermAdmin == 0 {
		out = append(out, Finding{Path: p, Kind: OtherOwner, ACL: acl,
			Message: fmt.Sprintf("%s is administered by %v, not by this identity %v", p, others, self),
			Fix:     "if another JobManager principal owns it, make the principals map to one id (kerberos.removeHostFromPrincipal=true on the servers) or add this identity to the ACL"})
	}
	if missing := need &^ ours; missing != 0 {
		out = append(out, Finding{Path: p, Kind: Unusable, ACL: acl,
			Message: fmt.Sprintf("this identity %v lacks %s on %s (ACL: %s)", self, Perms(missing), p, Format(acl)),
			Fix:     "grant " + Perms(need) + " on " + p + " to the identity the JobManagers use, or run them with the identity that owns it"})
	}
	return out
}

func matches(a zk.ACL, self []Identity) bool {
	for _, id := range self {
		if a.Scheme == id.Scheme && a.ID == id.ID {
			return true
		}
	}
	return false
}
