// Package zkwalk is the one walk of a ZooKeeper tree that the ACL audit and the HA-state tools
// share: pre-order, children sorted by name, bounded, every call bound to a context.
package zkwalk

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/ctxcall"
)

// Tree is what a walk reads; *zk.Conn implements it.
type Tree interface {
	Children(path string) ([]string, *zk.Stat, error)
	GetACL(path string) ([]zk.ACL, *zk.Stat, error)
}

// Node is one node met by a walk.
type Node struct {
	Path string
	ACL  []zk.ACL
	Stat *zk.Stat // as GetACL returned it; nil when the ACL could not be read
	// ACLErr is why the ACL could not be read (NoAuth, ...); ChildrenErr why the children could
	// not be listed. A node with either is not descended into.
	ACLErr, ChildrenErr error
}

// Err is the node's first error: ACLErr, else ChildrenErr.
func (n Node) Err() error {
	if n.ACLErr != nil {
		return n.ACLErr
	}
	return n.ChildrenErr
}

// LimitError is returned when a walk meets more nodes than its bound.
type LimitError struct {
	Limit int    // the bound
	Path  string // the first node past it
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("zkwalk: more than %d nodes under %s", e.Limit, e.Path)
}

// Walk visits p and, with descend, every descendant in pre-order (children sorted by name), at most
// limit nodes (a node deleted meanwhile counts too): the next one is a *LimitError. A node deleted
// meanwhile is skipped; one whose ACL or children cannot be read is visited with the error set. An
// error from visit, or the context's, ends the walk.
func Walk(ctx context.Context, t Tree, p string, descend bool, limit int, visit func(Node) error) error {
	seen := 0
	var rec func(p string, descend bool) error
	rec = func(p string, descend bool) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if seen++; seen > limit {
			return &LimitError{Limit: limit, Path: p}
		}
		type aclStat struct {
			acl []zk.ACL
			st  *zk.Stat
		}
		r, err := ctxcall.Value(ctx, func() (aclStat, error) { a, st, err := t.GetACL(p); return aclStat{a, st}, err })
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := Node{Path: p, ACL: r.acl, Stat: r.st, ACLErr: err}
		if err != nil || !descend || (r.st != nil && r.st.NumChildren == 0) {
			return visit(n)
		}
		kids, err := ctxcall.Value(ctx, func() ([]string, error) { k, _, err := t.Children(p); return k, err })
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			n.ChildrenErr = err
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
