package hastate

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/internal/zkwalk"
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
	err := zkwalk.Walk(ctx, c, p, descend, max, func(n zkwalk.Node) error {
		return visit(node{path: n.Path, acl: n.ACL, stat: n.Stat, err: n.Err()})
	})
	if le := (*zkwalk.LimitError)(nil); errors.As(err, &le) {
		return fmt.Errorf("%w: more than %d under %s; raise the bound (MaxNodes)", ErrTooManyNodes, le.Limit, le.Path)
	}
	return err
}

// formatACL is acl.Format, naming the empty ACL a server returns to a session that may neither
// read nor administer the node (ZooKeeper never stores an empty ACL).
func formatACL(a []zk.ACL) string {
	if len(a) == 0 {
		return "hidden from this identity"
	}
	return acl.Format(a)
}
