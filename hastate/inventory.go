package hastate

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/election"
)

// InventoryOptions say what to list. The zero value lists every cluster under the root with
// Flink's default node names.
type InventoryOptions struct {
	// Clusters limits the inventory to these cluster ids ("/analytics"); empty means every child of
	// the root.
	Clusters []string
	// JobGraphsPath is high-availability.zookeeper.path.jobgraphs; empty means "/jobgraphs".
	JobGraphsPath string
	// MaxNodes bounds the nodes read per cluster; zero means DefaultMaxNodes.
	MaxNodes int
}

// Inventory is the HA state under one root.
type Inventory struct {
	Root     string    `json:"root"`
	Clusters []Cluster `json:"clusters"`
}

// Cluster is the HA state of one cluster id.
type Cluster struct {
	// ID is the cluster id ("/analytics"); Path is <root><id>.
	ID   string `json:"cluster_id"`
	Path string `json:"path"`
	// Nodes counts the cluster's nodes, itself included.
	Nodes int `json:"nodes"`
	// Latches are the leader latches (Flink 1.15+: one, leader/latch).
	Latches []Latch `json:"latches"`
	// Leaders are the leader records (leader/<component>/connection_info).
	Leaders []LeaderRecord `json:"leaders"`
	// JobGraphs are the submitted job graphs (jobgraphs/<job-id>), by name and size.
	JobGraphs []Node `json:"job_graphs"`
	// Jobs are the per-job checkpoint nodes (jobs/<job-id>).
	Jobs []Job `json:"jobs"`
	// Other are the cluster's other top-level nodes, by name and size.
	Other []Node `json:"other"`
	// ACLs counts the cluster's nodes by ACL, most common first.
	ACLs []ACLCount `json:"acls"`
	// Owners counts ephemeral nodes by owning session.
	Owners []OwnerCount `json:"owners"`
	// Unreadable are nodes whose ACL or children could not be read, with the error.
	Unreadable []Unreadable `json:"unreadable"`
}

// Node is one node, listed by name and size.
type Node struct {
	Path string `json:"path"`
	Name string `json:"name"`
	// Size is the data length in bytes.
	Size int32 `json:"size"`
	// Descendants counts the nodes below it (e.g. a job graph's locks).
	Descendants int `json:"descendants"`
	// Owner is the session owning an ephemeral node ("" for a persistent one).
	Owner string `json:"owner,omitempty"`
}

// Latch is a leader latch and its contenders, leader first.
type Latch struct {
	Path       string      `json:"path"`
	Contenders []Contender `json:"contenders"`
	// LiveSessions counts the distinct sessions owning a contender. ZooKeeper deletes an ephemeral
	// node when its session ends, so each of these sessions is alive (or expiring right now).
	LiveSessions int `json:"live_sessions"`
	// Leader names the contender that leads (the lowest sequence number); "" when there is none.
	Leader string `json:"leader"`
}

// Contender is one latch node.
type Contender struct {
	Node  string `json:"node"`
	Owner string `json:"owner"`
	Size  int32  `json:"size"`
	Leads bool   `json:"leads"`
}

// LeaderRecord is one published leader record, decoded.
type LeaderRecord struct {
	Component string `json:"component"`
	Path      string `json:"path"`
	Address   string `json:"address"`
	// LeaderSessionID is the leader session id (a UUID) the leader published.
	LeaderSessionID string `json:"leader_session_id"`
	// Owner is the ZooKeeper session owning the node ("" for a persistent node); OwnerAlive
	// reports whether it is alive (an ephemeral node exists only while its session does).
	Owner      string `json:"owner"`
	OwnerAlive bool   `json:"owner_alive"`
	// OwnerLeads reports whether that session also owns the leading contender of a latch of the
	// cluster: false means a stale record or a leader without a latch node.
	OwnerLeads bool `json:"owner_leads"`
	// Error says why the record could not be decoded ("" when it was).
	Error string `json:"error,omitempty"`
}

// Job is one job's checkpoint nodes.
type Job struct {
	ID          string `json:"job_id"`
	Path        string `json:"path"`
	Checkpoints []Node `json:"checkpoints"`
	// CheckpointIDCounter is the counter's value (nil when the node is missing or undecodable,
	// CounterError then says which).
	CheckpointIDCounter *int32 `json:"checkpoint_id_counter"`
	CounterError        string `json:"counter_error,omitempty"`
}

// ACLCount is how many nodes carry one ACL.
type ACLCount struct {
	ACL   string `json:"acl"`
	Nodes int    `json:"nodes"`
}

// OwnerCount is how many ephemeral nodes one session owns.
type OwnerCount struct {
	Session string `json:"session"`
	Nodes   int    `json:"nodes"`
}

// Unreadable is a node whose ACL or children could not be read.
type Unreadable struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// TakeInventory lists the HA state under root ("/flink"): every cluster under it, or those of
// opts.Clusters. A missing root is an empty inventory.
func TakeInventory(ctx context.Context, c Conn, root string, opts InventoryOptions) (*Inventory, error) {
	root = path.Clean("/" + root)
	inv := &Inventory{Root: root, Clusters: []Cluster{}}
	ids := opts.Clusters
	if len(ids) == 0 {
		kids, err := children(ctx, c, root)
		if errors.Is(err, zk.ErrNoNode) {
			return inv, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: listing the clusters under %s: %w", ErrHAState, root, err)
		}
		sort.Strings(kids)
		for _, k := range kids {
			ids = append(ids, "/"+k)
		}
	}
	for _, id := range ids {
		cl, err := takeCluster(ctx, c, root, path.Clean("/"+id), opts)
		if err != nil {
			return nil, err
		}
		if cl != nil {
			inv.Clusters = append(inv.Clusters, *cl)
		}
	}
	return inv, nil
}

func takeCluster(ctx context.Context, c Conn, root, id string, opts InventoryOptions) (*Cluster, error) {
	base := path.Join(root, id)
	jobgraphs := strings.Trim(opts.JobGraphsPath, "/")
	if jobgraphs == "" {
		jobgraphs = JobGraphsNode
	}
	var nodes []node
	byPath := map[string]*node{}
	err := walk(ctx, c, base, true, opts.MaxNodes, func(n node) error {
		nodes = append(nodes, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrHAState, base, err)
	}
	if len(nodes) == 0 {
		return nil, nil // gone meanwhile, or never there
	}
	for i := range nodes {
		byPath[nodes[i].path] = &nodes[i]
	}
	cl := &Cluster{ID: id, Path: base, Nodes: len(nodes), Latches: []Latch{}, Leaders: []LeaderRecord{}, JobGraphs: []Node{},
		Jobs: []Job{}, Other: []Node{}, ACLs: []ACLCount{}, Owners: []OwnerCount{}, Unreadable: []Unreadable{}}
	descendants := map[string]int{}
	kids := map[string][]string{} // parent → children, sorted (nodes come in pre-order)
	acls := map[string]int{}
	owners := map[int64]int{}
	for _, n := range nodes {
		if n.err != nil {
			cl.Unreadable = append(cl.Unreadable, Unreadable{Path: n.path, Error: n.err.Error()})
		}
		if n.stat != nil {
			acls[formatACL(n.acl)]++
			if o := n.stat.EphemeralOwner; o != 0 {
				owners[o]++
			}
		}
		if n.path != base {
			kids[path.Dir(n.path)] = append(kids[path.Dir(n.path)], n.path)
			for p := path.Dir(n.path); len(p) >= len(base); p = path.Dir(p) {
				descendants[p]++
				if p == base {
					break
				}
			}
		}
	}
	mk := func(p string) Node {
		n := byPath[p]
		out := Node{Path: p, Name: path.Base(p), Descendants: descendants[p]}
		if n.stat != nil {
			out.Size = n.stat.DataLength
			if n.stat.EphemeralOwner != 0 {
				out.Owner = SessionID(n.stat.EphemeralOwner)
			}
		}
		return out
	}

	// Latches: any node whose children are ephemeral "...latch-<seq>" nodes.
	leaderOwners := map[int64]bool{}
	for _, n := range nodes {
		var cs []string
		for _, k := range kids[n.path] {
			if kn := byPath[k]; kn.stat != nil && kn.stat.EphemeralOwner != 0 && strings.Contains(path.Base(k), LockName) {
				cs = append(cs, k)
			}
		}
		if len(cs) == 0 {
			continue
		}
		sort.SliceStable(cs, func(i, j int) bool { return latchSortKey(path.Base(cs[i])) < latchSortKey(path.Base(cs[j])) })
		l := Latch{Path: n.path, Contenders: []Contender{}}
		sessions := map[int64]bool{}
		for i, k := range cs {
			st := byPath[k].stat
			sessions[st.EphemeralOwner] = true
			l.Contenders = append(l.Contenders, Contender{Node: path.Base(k), Owner: SessionID(st.EphemeralOwner), Size: st.DataLength, Leads: i == 0})
		}
		l.Leader = l.Contenders[0].Node
		l.LiveSessions = len(sessions)
		leaderOwners[byPath[cs[0]].stat.EphemeralOwner] = true
		cl.Latches = append(cl.Latches, l)
	}

	// Leader records: every connection_info node.
	for _, n := range nodes {
		if path.Base(n.path) != ConnectionInfoNode || n.stat == nil {
			continue
		}
		r := LeaderRecord{Component: path.Base(path.Dir(n.path)), Path: n.path}
		if o := n.stat.EphemeralOwner; o != 0 {
			r.Owner, r.OwnerAlive, r.OwnerLeads = SessionID(o), true, leaderOwners[o]
		}
		data, err := getData(ctx, c, n.path)
		switch {
		case errors.Is(err, zk.ErrNoNode):
			continue // the leader went away meanwhile
		case err != nil:
			r.Error = err.Error()
		default:
			info, err := election.DecodeLeaderRecord(data)
			switch {
			case errors.Is(err, election.ErrNoLeader):
				r.Error = "empty record (no leader)"
			case err != nil:
				r.Error = err.Error()
			default:
				r.Address, r.LeaderSessionID = info.Address, info.SessionID.String()
			}
		}
		cl.Leaders = append(cl.Leaders, r)
	}

	// Job graphs, jobs and the other top-level nodes.
	for _, top := range kids[base] {
		switch name := path.Base(top); {
		case name == LeaderNode:
		case name == jobgraphs:
			for _, g := range kids[top] {
				cl.JobGraphs = append(cl.JobGraphs, mk(g))
			}
		case name == JobsNode:
			for _, jp := range kids[top] {
				cl.Jobs = append(cl.Jobs, takeJob(ctx, c, jp, kids, mk))
			}
		default:
			cl.Other = append(cl.Other, mk(top))
		}
	}
	if jg := path.Join(base, jobgraphs); strings.Contains(jobgraphs, "/") && byPath[jg] != nil {
		for _, g := range kids[jg] {
			cl.JobGraphs = append(cl.JobGraphs, mk(g))
		}
	}

	for a, n := range acls {
		cl.ACLs = append(cl.ACLs, ACLCount{ACL: a, Nodes: n})
	}
	sort.Slice(cl.ACLs, func(i, j int) bool {
		if cl.ACLs[i].Nodes != cl.ACLs[j].Nodes {
			return cl.ACLs[i].Nodes > cl.ACLs[j].Nodes
		}
		return cl.ACLs[i].ACL < cl.ACLs[j].ACL
	})
	for o, n := range owners {
		cl.Owners = append(cl.Owners, OwnerCount{Session: SessionID(o), Nodes: n})
	}
	sort.Slice(cl.Owners, func(i, j int) bool { return cl.Owners[i].Session < cl.Owners[j].Session })
	return cl, nil
}

func takeJob(ctx context.Context, c Conn, jp string, kids map[string][]string, mk func(string) Node) Job {
	j := Job{ID: path.Base(jp), Path: jp, Checkpoints: []Node{}}
	for _, k := range kids[jp] {
		switch path.Base(k) {
		case CheckpointsNode:
			for _, cp := range kids[k] {
				j.Checkpoints = append(j.Checkpoints, mk(cp))
			}
		case CheckpointIDCounterNode:
			data, err := getData(ctx, c, k)
			if err == nil {
				var v int32
				v, err = DecodeCheckpointIDCounter(data)
				if err == nil {
					j.CheckpointIDCounter = &v
				}
			}
			if err != nil && !errors.Is(err, zk.ErrNoNode) {
				j.CounterError = err.Error()
			}
		}
	}
	return j
}
