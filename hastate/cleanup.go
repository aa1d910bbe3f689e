package hastate

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
)

// ErrRefused is wrapped by the errors of a cleanup that may not run.
var ErrRefused = fmt.Errorf("%w: cleanup refused", ErrHAState)

// CleanupOptions configure PlanCleanup. The zero value checks nothing about permissions in
// advance (the deletes then report them).
type CleanupOptions struct {
	// Self are the session's ids (Identities); when set, a node whose parent does not give them
	// DELETE refuses the cleanup before anything is deleted.
	Self []acl.Identity
	// Name names the session in messages when Self is unknown (e.g. "Kerberos principal
	// flink/jm2@EXAMPLE.COM"); empty means "this identity".
	Name string
	// MaxNodes bounds the walk; zero means DefaultMaxNodes.
	MaxNodes int
}

// CleanupPlan is what a cleanup of one cluster would delete.
type CleanupPlan struct {
	// Path is the cluster's node, <root>/<cluster-id>.
	Path string `json:"path"`
	// Nodes are the nodes to delete, deepest first, the cluster's node last.
	Nodes []Node `json:"nodes"`
	// Live are the nodes owned by live sessions (latch contenders first): any refuses the cleanup.
	Live []Node `json:"live"`
	// Refused says why the cleanup may not run; "" when it may.
	Refused string `json:"refused,omitempty"`
}

// PlanCleanup lists the nodes of the cluster at clusterPath, deepest first, and whether they may be
// deleted. The plan is refused (the error wraps ErrRefused, and the plan says why) while a session
// that owns one of its nodes is alive — a latch contender, a leader record, a lock: a running
// JobManager —, when a node cannot be read, or when Self lacks DELETE on a node's parent. A missing
// cluster is an empty plan.
func PlanCleanup(ctx context.Context, c Conn, clusterPath string, opts CleanupOptions) (*CleanupPlan, error) {
	clusterPath = path.Clean("/" + clusterPath)
	if strings.Count(clusterPath, "/") < 2 {
		return nil, fmt.Errorf("%w: %s is not <root>/<cluster-id>: refusing to delete a root", ErrHAState, clusterPath)
	}
	p := &CleanupPlan{Path: clusterPath, Nodes: []Node{}, Live: []Node{}}
	var pre []node
	if err := walk(ctx, c, clusterPath, true, opts.MaxNodes, func(n node) error { pre = append(pre, n); return nil }); err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrHAState, clusterPath, err)
	}
	if len(pre) == 0 {
		return p, nil
	}
	aclOf := map[string][]zk.ACL{}
	var unreadable []string
	var contenders, ephemeral []Node
	for _, n := range pre {
		if n.err != nil {
			what := fmt.Sprintf("%s (%v)", n.path, n.err)
			if n.stat != nil {
				what = fmt.Sprintf("%s (listing its children: %v; its ACL is %s)", n.path, n.err, formatACL(n.acl))
			}
			unreadable = append(unreadable, what)
		}
		if n.stat == nil {
			continue
		}
		aclOf[n.path] = n.acl
		if o := n.stat.EphemeralOwner; o != 0 {
			nd := Node{Path: n.path, Name: path.Base(n.path), Size: n.stat.DataLength, Owner: SessionID(o)}
			if strings.Contains(nd.Name, LockName) {
				contenders = append(contenders, nd)
			} else {
				ephemeral = append(ephemeral, nd)
			}
		}
	}
	for i := len(pre) - 1; i >= 0; i-- {
		n := pre[i]
		nd := Node{Path: n.path, Name: path.Base(n.path)}
		if n.stat != nil {
			nd.Size = n.stat.DataLength
			if n.stat.EphemeralOwner != 0 {
				nd.Owner = SessionID(n.stat.EphemeralOwner)
			}
		}
		p.Nodes = append(p.Nodes, nd)
	}
	p.Live = append(contenders, ephemeral...)
	who := "this identity"
	switch {
	case len(opts.Self) > 0:
		who += " (" + joinIdentities(opts.Self) + ")"
	case opts.Name != "":
		who += " (" + opts.Name + ")"
	}
	switch {
	case len(unreadable) > 0:
		p.Refused = fmt.Sprintf("%s cannot read %s, so it cannot delete it. Fix: run the cleanup as the principal that owns the cluster's nodes",
			who, strings.Join(unreadable, ", "))
	case len(contenders) > 0:
		p.Refused = fmt.Sprintf("%d latch contender(s) have live sessions (%s): the cluster is running. Fix: stop its JobManagers (their sessions end with them, or expire after the session timeout) and run the cleanup again",
			len(contenders), describeLive(contenders))
	case len(ephemeral) > 0:
		p.Refused = fmt.Sprintf("%d node(s) are owned by live sessions (%s): a JobManager of the cluster is running. Fix: stop it and run the cleanup again",
			len(ephemeral), describeLive(ephemeral))
	case len(opts.Self) > 0:
		parentACL, _, err := getACL(ctx, c, path.Dir(clusterPath))
		if err == nil {
			aclOf[path.Dir(clusterPath)] = parentACL
		}
		for _, n := range p.Nodes {
			parent := path.Dir(n.Path)
			a, ok := aclOf[parent]
			if !ok {
				p.Refused = fmt.Sprintf("%s cannot read the ACL of %s (%v), so it cannot delete %s. Fix: run the cleanup as the principal that owns %s", who, parent, err, n.Path, parent)
				break
			}
			var perms int32
			for _, id := range opts.Self {
				perms |= permsOf(a, id)
			}
			if perms&zk.PermDelete == 0 {
				p.Refused = fmt.Sprintf("%s lacks DELETE on %s (its ACL is %s), so it cannot delete %s. Fix: run the cleanup as the principal that owns %s",
					who, parent, formatACL(a), n.Path, parent)
				break
			}
		}
	}
	if p.Refused != "" {
		return p, fmt.Errorf("%w: %s", ErrRefused, p.Refused)
	}
	return p, nil
}

func describeLive(ns []Node) string {
	var parts []string
	for i, n := range ns {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ns)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s of session %s", n.Path, n.Owner))
	}
	return strings.Join(parts, ", ")
}

// Apply deletes the planned nodes, deepest first, calling removed (if not nil) with each node
// deleted. A node that is gone already is skipped; one that got a child meanwhile is emptied
// first (its new children deleted the same way). It stops at ctx's end or at the first failure,
// returning what it removed; running the cleanup again continues. A refused plan is not applied.
func (p *CleanupPlan) Apply(ctx context.Context, c Conn, removed func(path string)) ([]string, error) {
	if p.Refused != "" {
		return nil, fmt.Errorf("%w: %s", ErrRefused, p.Refused)
	}
	var done []string
	var del func(p string, depth int) error
	del = func(p string, depth int) error {
		err := deleteNode(ctx, c, p)
		switch {
		case err == nil:
			done = append(done, p)
			if removed != nil {
				removed(p)
			}
			return nil
		case errors.Is(err, zk.ErrNoNode):
			return nil
		case errors.Is(err, zk.ErrNotEmpty) && depth < 3:
			kids, kerr := children(ctx, c, p)
			if kerr != nil {
				return fmt.Errorf("%w: deleting %s: %w", ErrHAState, p, err)
			}
			slices.Sort(kids)
			for _, k := range kids {
				if err := del(path.Join(p, k), depth+1); err != nil {
					return err
				}
			}
			return del(p, depth+1)
		default:
			return fmt.Errorf("%w: deleting %s: %w", ErrHAState, p, err)
		}
	}
	for _, n := range p.Nodes {
		if err := del(n.Path, 0); err != nil {
			return done, err
		}
	}
	return done, nil
}
