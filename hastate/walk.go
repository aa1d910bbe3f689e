package hastate

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
)

// DefaultMaxNodes bounds every walk of a tree when the options say nothing.
const DefaultMaxNodes = 100000

// ErrTooManyNodes: a walk met more nodes than its bound.
var ErrTooManyNodes = fmt.Errorf("%w: too many nodes", ErrHAState)

// node is one node met by a walk.
type node struct {
	path string
	acl  []zk.ACL
	stat *zk.Stat // nil when the ACL could not be read
	err  error    // reading the ACL or the children failed (NoAuth, ...)
}

// walk visits p and, with descend, every descendant in pre-order (children sorted by name). A node
// deleted meanwhile is skipped; one whose ACL or children cannot be read is visited with err set
// (and not descended into). More than max nodes is ErrTooManyNodes.
func walk(ctx context.Context, c Conn, p string, descend bool, max int, visit func(n node) error) error {
	if max <= 0 {
		max = DefaultMaxNodes
	}
	seen := 0
	var rec func(p string, descend bool) error
	rec = func(p string, descend bool) error {
		if seen++; seen > max {
			return fmt.Errorf("%w: more than %d under %s; raise the bound (MaxNodes)", ErrTooManyNodes, max, p)
		}
		acl, st, err := getACL(ctx, c, p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := node{path: p, acl: acl, stat: st, err: err}
		if err != nil || !descend || st.NumChildren == 0 {
			return visit(n)
		}
		kids, err := children(ctx, c, p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			n.err = err
			return visit(n)
		}
		if err := visit(n); err != nil {
			return err
		}
		sort.Strings(kids)
		for _, k := range kids {
			if err := rec(path.Join(p, k), true); err != nil {
				return err
			}
		}
		return nil
	}
	return rec(p, descend)
}

// formatACL is acl.Format, naming the empty ACL a server returns to a session that may neither
// read nor administer the node (ZooKeeper never stores an empty ACL).
func formatACL(a []zk.ACL) string {
	if len(a) == 0 {
		return "hidden from this identity"
	}
	return acl.Format(a)
}
