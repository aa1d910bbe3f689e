package hastate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/version"
)

// ErrLockout is returned for a target ACL that would lock out the identity running the migration
// or a JobManager principal.
var ErrLockout = fmt.Errorf("%w: the new ACL would lock out", ErrHAState)

// Target describes the ACL a migration gives every node. The zero value is not usable: Self is
// required.
type Target struct {
	// Self are the ids the servers give the session running the migration (Identities).
	Self []acl.Identity
	// JobManagerIDs are the sasl ids of every JobManager principal (PredictSASLID), which must keep
	// what HA needs (read, write, create, delete).
	JobManagerIDs []string
	// Explicit gives every JobManager id all permissions, instead of the creator-only ACL (each of
	// Self's ids with all permissions, what the servers make of Flink's acl: creator).
	Explicit bool
	// Admins are extra entries, e.g. sasl:ops@EXAMPLE.COM:cdrwa.
	Admins []zk.ACL
	// ExistsNeedsRead adds READ to every entry that lacks it: since ZooKeeper 3.7.3, 3.8.4 and
	// 3.9.2, exists() needs READ, and Curator, Flink and this project's election call it on nodes
	// of other contenders.
	ExistsNeedsRead bool
}

// ExistsNeedsRead reports whether servers of version v need READ for exists() (3.7.3+ in 3.7,
// 3.8.4+ in 3.8, 3.9.2+); a zero (unknown) version is assumed to.
func ExistsNeedsRead(v version.Version) bool {
	switch {
	case v.IsZero():
		return true
	case v.AtLeast(3, 9, 2):
		return true
	case v.AtLeast(3, 9, 0):
		return false
	case v.AtLeast(3, 8, 4):
		return true
	case v.AtLeast(3, 8, 0):
		return false
	default:
		return v.AtLeast(3, 7, 3)
	}
}

// HAPerms are the permissions the HA services of a JobManager need on every node.
const HAPerms = zk.PermRead | zk.PermWrite | zk.PermCreate | zk.PermDelete

// SelfPerms are the permissions the identity running a migration keeps, so that it can run it
// again, or undo it: read (to walk the tree) and admin (to set ACLs).
const SelfPerms = zk.PermRead | zk.PermAdmin

// ACL returns the ACL to give every node, with notes on what was added and why, or an error
// wrapping ErrLockout that names who would be locked out.
func (t Target) ACL() ([]zk.ACL, []string, error) {
	var entries []zk.ACL
	var notes []string
	if t.Explicit {
		for _, id := range t.JobManagerIDs {
			entries = append(entries, acl.SASL(id, zk.PermAll))
		}
	} else {
		for _, id := range t.Self {
			entries = append(entries, zk.ACL{Perms: zk.PermAll, Scheme: id.Scheme, ID: id.ID})
		}
	}
	entries = append(entries, t.Admins...)
	entries = merge(entries)
	if len(entries) == 0 {
		if t.Explicit {
			return nil, nil, fmt.Errorf("%w every client: explicit ids without any JobManager principal or admin id. Fix: name the JobManager principals (--jobmanager-principals) or admin ids (--admin)", ErrLockout)
		}
		return nil, nil, fmt.Errorf("%w every client: this session has no authenticated identity, so creator-only means nobody. Fix: run the migration with Kerberos or a TLS client certificate", ErrLockout)
	}
	if t.ExistsNeedsRead {
		for i := range entries {
			if entries[i].Perms&zk.PermRead == 0 {
				entries[i].Perms |= zk.PermRead
				notes = append(notes, fmt.Sprintf("READ added for %s:%s: ZooKeeper 3.7.3+, 3.8.4+ and 3.9.2+ need it for exists()", entries[i].Scheme, entries[i].ID))
			}
		}
	}
	if err := t.checkLockout(entries); err != nil {
		return nil, nil, err
	}
	return entries, notes, nil
}

// checkLockout refuses an ACL that leaves Self without SelfPerms or a JobManager without HAPerms.
func (t Target) checkLockout(entries []zk.ACL) error {
	if len(t.Self) == 0 {
		return fmt.Errorf("%w the identity running it: the session has no authenticated identity. Fix: run the migration with Kerberos or a TLS client certificate", ErrLockout)
	}
	var self int32
	for _, id := range t.Self {
		self |= permsOf(entries, id)
	}
	if missing := SelfPerms &^ self; missing != 0 {
		return fmt.Errorf("%w the identity running it (%s): it would lack %s (it needs %s to run the migration again or undo it). Fix: run it as a JobManager principal, or add --admin %s:%s:cdrwa",
			ErrLockout, joinIdentities(t.Self), acl.Perms(missing), acl.Perms(SelfPerms), t.Self[0].Scheme, t.Self[0].ID)
	}
	for _, id := range t.JobManagerIDs {
		if missing := HAPerms &^ permsOf(entries, acl.Identity{Scheme: "sasl", ID: id}); missing != 0 {
			return fmt.Errorf("%w the JobManager principal with id sasl:%s: it would lack %s (HA needs %s). Fix: give all JobManagers one id (kerberos.removeHostFromPrincipal=true on the servers), or migrate to explicit ids (--new-acl principals)",
				ErrLockout, id, acl.Perms(missing), acl.Perms(HAPerms))
		}
	}
	return nil
}

func permsOf(entries []zk.ACL, id acl.Identity) int32 {
	var p int32
	for _, e := range entries {
		if (e.Scheme == id.Scheme && e.ID == id.ID) || (e.Scheme == "world" && e.ID == "anyone") {
			p |= e.Perms
		}
	}
	return p
}

// merge folds entries of the same id into one (permissions or'ed), in first-seen order.
func merge(entries []zk.ACL) []zk.ACL {
	var out []zk.ACL
	at := map[string]int{}
	for _, e := range entries {
		k := e.Scheme + ":" + e.ID
		if i, ok := at[k]; ok {
			out[i].Perms |= e.Perms
			continue
		}
		at[k] = len(out)
		out = append(out, e)
	}
	return out
}

// sameACL compares ACLs as sets of entries.
func sameACL(a, b []zk.ACL) bool {
	return aclKey(a) == aclKey(b)
}

func aclKey(a []zk.ACL) string {
	parts := make([]string, len(a))
	for i, e := range a {
		parts[i] = fmt.Sprintf("%s:%s:%d", e.Scheme, e.ID, e.Perms)
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n")
}

func joinIdentities(ids []acl.Identity) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, " and ")
}
