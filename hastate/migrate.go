package hastate

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
)

// Scope says which nodes a migration touches.
type Scope string

const (
	// ScopeCluster is the root node itself (not its other children), <root>/<cluster-id> and
	// everything below it.
	ScopeCluster Scope = "cluster"
	// ScopeRoot is the root and everything below it: every cluster.
	ScopeRoot Scope = "root"
)

// MigrationOptions say what to migrate. Root and ACL are required; with ScopeCluster (the zero
// Scope), so is ClusterID.
type MigrationOptions struct {
	// Root is the HA root ("/flink"); ClusterID the cluster id ("/analytics").
	Root, ClusterID string
	Scope           Scope
	// ACL is the new ACL of every node (Target.ACL).
	ACL []zk.ACL
	// MaxNodes bounds the walk; zero means DefaultMaxNodes.
	MaxNodes int
}

// MigrationPlan is what a migration would change, top-down.
type MigrationPlan struct {
	Root  string `json:"root"`
	Scope Scope  `json:"scope"`
	// Path is the subtree migrated below the root: <root>/<cluster-id>, or the root.
	Path string `json:"path"`
	// ACL is the new ACL, formatted ("sasl:flink@EXAMPLE.COM:cdrwa").
	ACL string `json:"acl"`
	// Notes say what the target ACL got beyond the obvious and why.
	Notes []string `json:"notes"`
	// Changes are the nodes whose ACL differs, in the order Apply changes them.
	Changes []ACLChange `json:"changes"`
	// Unchanged counts the nodes that already carry the new ACL.
	Unchanged int `json:"unchanged"`
	// Unreadable are nodes whose ACL could not be read: they cannot be migrated by this identity.
	Unreadable []Unreadable `json:"unreadable"`

	acl []zk.ACL
}

// ACLChange is one node's ACL, before and after.
type ACLChange struct {
	Path string `json:"path"`
	Old  string `json:"old"`
	New  string `json:"new"`

	version int32 // the ACL version the plan saw
}

// PlanMigration walks the scope and lists every node whose ACL is not opts.ACL. It changes nothing.
func PlanMigration(ctx context.Context, c Conn, opts MigrationOptions) (*MigrationPlan, error) {
	if len(opts.ACL) == 0 {
		return nil, fmt.Errorf("%w: PlanMigration without a new ACL", ErrHAState)
	}
	root := path.Clean("/" + opts.Root)
	p := &MigrationPlan{Root: root, Scope: opts.Scope, Path: root, ACL: acl.Format(opts.ACL), Notes: []string{},
		Changes: []ACLChange{}, Unreadable: []Unreadable{}, acl: opts.ACL}
	if p.Scope == "" {
		p.Scope = ScopeCluster
	}
	visit := func(n node) error {
		switch {
		case n.stat == nil:
			p.Unreadable = append(p.Unreadable, Unreadable{Path: n.path, Error: n.err.Error()})
		case len(n.acl) == 0:
			p.Unreadable = append(p.Unreadable, Unreadable{Path: n.path, Error: "its ACL is hidden from this identity (it has neither READ nor ADMIN)"})
		case sameACL(n.acl, opts.ACL):
			p.Unchanged++
		default:
			p.Changes = append(p.Changes, ACLChange{Path: n.path, Old: formatACL(n.acl), New: p.ACL, version: n.stat.Aversion})
		}
		if n.stat != nil && n.err != nil { // ACL read, children not
			p.Unreadable = append(p.Unreadable, Unreadable{Path: n.path, Error: "listing its children: " + n.err.Error()})
		}
		return nil
	}
	switch p.Scope {
	case ScopeRoot:
		if err := walk(ctx, c, root, true, opts.MaxNodes, visit); err != nil {
			return nil, fmt.Errorf("%w: planning %s: %w", ErrHAState, root, err)
		}
	case ScopeCluster:
		if opts.ClusterID == "" || path.Clean("/"+opts.ClusterID) == "/" {
			return nil, fmt.Errorf("%w: scope cluster without a cluster id", ErrHAState)
		}
		p.Path = path.Join(root, opts.ClusterID)
		if err := walk(ctx, c, root, false, opts.MaxNodes, visit); err != nil {
			return nil, fmt.Errorf("%w: planning %s: %w", ErrHAState, root, err)
		}
		if err := walk(ctx, c, p.Path, true, opts.MaxNodes, visit); err != nil {
			return nil, fmt.Errorf("%w: planning %s: %w", ErrHAState, p.Path, err)
		}
	default:
		return nil, fmt.Errorf("%w: scope %q is not cluster or root", ErrHAState, p.Scope)
	}
	return p, nil
}

// MigrationResult counts what Apply did.
type MigrationResult struct {
	// Changed nodes got the new ACL; Gone nodes were deleted meanwhile; Failed could not be changed.
	Changed int          `json:"changed"`
	Gone    int          `json:"gone"`
	Failed  []Unreadable `json:"failed"`
}

// Apply sets the new ACL on every planned node, top-down, calling progress (if not nil) after each
// one with the node and its outcome (nil, zk.ErrNoNode for a node deleted meanwhile, or the
// failure). A node whose ACL changed since the plan is read again: left alone if it now carries the
// new ACL, else set. Apply stops at once when ctx ends; nodes already changed keep their new ACL
// and a new plan skips them, so running the migration again finishes it. The error is ctx's, or
// one naming the nodes that failed.
func (p *MigrationPlan) Apply(ctx context.Context, c Conn, progress func(ACLChange, error)) (MigrationResult, error) {
	res := MigrationResult{Failed: []Unreadable{}}
	for _, ch := range p.Changes {
		err := setACL(ctx, c, ch.Path, p.acl, ch.version)
		if errors.Is(err, zk.ErrBadVersion) {
			var cur []zk.ACL
			var st *zk.Stat
			cur, st, err = getACL(ctx, c, ch.Path)
			if err == nil && !sameACL(cur, p.acl) {
				err = setACL(ctx, c, ch.Path, p.acl, st.Aversion)
			}
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		switch {
		case err == nil:
			res.Changed++
		case errors.Is(err, zk.ErrNoNode):
			res.Gone++
		default:
			res.Failed = append(res.Failed, Unreadable{Path: ch.Path, Error: err.Error()})
		}
		if progress != nil {
			progress(ch, err)
		}
	}
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("%w: %d node(s) could not be changed, the first %s: %s", ErrHAState, len(res.Failed), res.Failed[0].Path, res.Failed[0].Error)
	}
	return res, nil
}
