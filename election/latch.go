package election

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/go-zookeeper/zk"
)

// Contender is one node of the latch.
type Contender struct {
	// Node is the node's name ("_c_<uuid>-latch-0000000003"); empty in Observe means no leader.
	Node string
	// Info is the node's data: the participant id (Curator's LeaderLatch id, empty for Flink).
	Info []byte
	// Owner is the session that owns the node.
	Owner int64
}

// sortKey is Curator's StandardLockInternalsDriver.standardFixForSorting: what follows the last
// occurrence of the lock name.
func sortKey(node string) string {
	if i := strings.LastIndex(node, LockName); i >= 0 {
		return node[i+len(LockName):]
	}
	return node
}

func sortNodes(nodes []string) {
	sort.SliceStable(nodes, func(i, j int) bool { return sortKey(nodes[i]) < sortKey(nodes[j]) })
}

// contender reads the latch node named node.
func (e *Election) contender(ctx context.Context, node string) (Contender, error) {
	data, st, err := e.c.Get(ctx, e.latch+"/"+node)
	if err != nil {
		return Contender{}, err
	}
	return Contender{Node: node, Info: data, Owner: st.EphemeralOwner}, nil
}

// Contenders lists the contenders in order, leader first.
func (e *Election) Contenders(ctx context.Context) ([]Contender, error) {
	kids, _, err := e.c.Children(ctx, e.latch)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sortNodes(kids)
	out := make([]Contender, 0, len(kids))
	for _, k := range kids {
		c, err := e.contender(ctx, k)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Leader returns the current leader (the first contender), or ErrNoLeader.
func (e *Election) Leader(ctx context.Context) (Contender, error) {
	for {
		kids, _, err := e.c.Children(ctx, e.latch)
		if errors.Is(err, zk.ErrNoNode) || (err == nil && len(kids) == 0) {
			return Contender{}, ErrNoLeader
		}
		if err != nil {
			return Contender{}, err
		}
		sortNodes(kids)
		c, err := e.contender(ctx, kids[0])
		if errors.Is(err, zk.ErrNoNode) {
			continue // the leader just left: look again
		}
		return c, err
	}
}

// Observe reports leader changes: the current leader first, then every change (a Contender with an
// empty Node means there is no leader). The channel closes when ctx ends or the client closes.
func (e *Election) Observe(ctx context.Context) <-chan Contender {
	return watchLoop(ctx, e.c, func(ctx context.Context) (Contender, string, <-chan zk.Event, error) {
		kids, _, watch, err := readOrAwait(ctx, e.c, e.latch, e.c.ChildrenW)
		if err != nil || len(kids) == 0 {
			return Contender{}, "", watch, err
		}
		sortNodes(kids)
		cur, err := e.contender(ctx, kids[0])
		if err != nil {
			cur = Contender{Node: kids[0]} // it may just have left: the watch tells
		}
		return cur, cur.Node, watch, nil
	})
}
