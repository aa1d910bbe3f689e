package election

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"

	"github.com/zksecure/zksecure/client"
)

// Layout constants shared with Curator's LeaderLatch and Flink.
const (
	// DefaultLatchPath is Flink's latch path within the cluster namespace.
	DefaultLatchPath = "/leader/latch"
	// LockName is the node name prefix LeaderLatch uses before the sequence number.
	LockName = "latch-"
	// ProtectedPrefix starts the protection id Curator puts in front of the node name.
	ProtectedPrefix = "_c_"
)

var (
	// ErrNoLeader: no contender (or no published leader).
	ErrNoLeader = errors.New("election: no leader")
	// ErrResigned: leadership ended by Resign.
	ErrResigned = errors.New("election: resigned")
	// ErrSuspended: leadership revoked because the connection was suspended (default policy).
	ErrSuspended = errors.New("election: connection suspended; leadership revoked")
	// ErrSessionLost: the session (and with it the latch node) is gone.
	ErrSessionLost = errors.New("election: session lost")
	// ErrNodeDeleted: the latch node was deleted by someone else.
	ErrNodeDeleted = errors.New("election: latch node deleted")
	// ErrNotLeader: Publish after leadership ended.
	ErrNotLeader = errors.New("election: not the leader")
)

// Options configures New. The zero value uses DefaultLatchPath and the client's connection policy.
type Options struct {
	// LatchPath is the latch's path within the client's namespace; empty means DefaultLatchPath.
	LatchPath string
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Election is one latch path on one client. It is safe for concurrent use; several campaigns may run
// on one client (each its own contender node).
type Election struct {
	c        *client.Client
	latch    string
	tolerate bool
	log      *slog.Logger

	watchEvents atomic.Uint64
}

// New returns an election on the latch path of opts within c's namespace.
func New(c *client.Client, opts Options) (*Election, error) {
	latch := opts.LatchPath
	if latch == "" {
		latch = DefaultLatchPath
	}
	if !strings.HasPrefix(latch, "/") || latch == "/" || path.Clean(latch) != latch {
		return nil, fmt.Errorf("election: latch path %q must be a clean absolute path below the namespace root", latch)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Election{c: c, latch: latch, tolerate: c.Config().TolerateSuspendedConnections,
		log: log.With("component", "zksecure/election", "latch", c.Namespace()+latch)}, nil
}

// WatchNotifications counts the watch events this election's campaigns have received — one per
// leadership change that concerns them (a contender watches only its predecessor).
func (e *Election) WatchNotifications() uint64 { return e.watchEvents.Load() }

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
		data, st, err := e.c.Get(ctx, e.latch+"/"+k)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Contender{Node: k, Info: data, Owner: st.EphemeralOwner})
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
		data, st, err := e.c.Get(ctx, e.latch+"/"+kids[0])
		if errors.Is(err, zk.ErrNoNode) {
			continue // the leader just left: look again
		}
		if err != nil {
			return Contender{}, err
		}
		return Contender{Node: kids[0], Info: data, Owner: st.EphemeralOwner}, nil
	}
}

// Observe reports leader changes: the current leader first, then every change (a Contender with an
// empty Node means there is no leader). The channel closes when ctx ends or the client closes.
func (e *Election) Observe(ctx context.Context) <-chan Contender {
	out := make(chan Contender)
	go func() {
		defer close(out)
		last, first := "", true
		for ctx.Err() == nil {
			kids, _, ch, err := e.c.ChildrenW(ctx, e.latch)
			if errors.Is(err, zk.ErrNoNode) {
				var ok bool
				ok, _, ch, err = e.c.ExistsW(ctx, e.latch)
				if err == nil && ok {
					continue
				}
				kids = nil
			}
			if err != nil {
				if !e.pause(ctx) {
					return
				}
				continue
			}
			sortNodes(kids)
			cur := Contender{}
			if len(kids) > 0 {
				cur.Node = kids[0]
				if data, st, err := e.c.Get(ctx, e.latch+"/"+kids[0]); err == nil {
					cur.Info, cur.Owner = data, st.EphemeralOwner
				}
			}
			if first || cur.Node != last {
				first, last = false, cur.Node
				select {
				case out <- cur:
				case <-ctx.Done():
					return
				case <-e.c.Done():
					return
				}
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return
			case <-e.c.Done():
				return
			}
		}
	}()
	return out
}

// pause waits a little after an error; false when ctx or the client ended.
func (e *Election) pause(ctx context.Context) bool {
	select {
	case <-time.After(100 * time.Millisecond):
		return true
	case <-ctx.Done():
		return false
	case <-e.c.Done():
		return false
	}
}

// Campaign joins the election with info as the node's data and blocks until this contender leads,
// ctx ends (its node is then removed) or the client closes. While it waits it survives suspensions;
// when the session is lost it joins again with a new node.
func (e *Election) Campaign(ctx context.Context, info []byte) (*Leadership, error) {
	if err := e.c.CreateAll(ctx, e.latch); err != nil {
		return nil, fmt.Errorf("election: creating the latch path %s: %w", e.latch, err)
	}
	states, cancel := e.c.States()
	defer cancel()
	node, err := e.join(ctx, info)
	if err != nil {
		return nil, err
	}
	leader := false
	defer func() {
		if !leader && node != "" {
			e.c.Delete(context.WithoutCancel(ctx), e.latch+"/"+node, -1)
		}
	}()
	for {
		kids, _, err := e.c.Children(ctx, e.latch)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, client.ErrClosed) || e.c.Err() != nil {
				return nil, err
			}
			if !e.pause(ctx) {
				return nil, errors.Join(ctx.Err(), e.closedErr())
			}
			continue
		}
		sortNodes(kids)
		idx := -1
		for i, k := range kids {
			if k == node {
				idx = i
			}
		}
		switch {
		case idx < 0:
			// Our node is gone (session lost, or deleted by someone): join again.
			e.log.Debug("contender node vanished; joining again", "node", node)
			if node, err = e.join(ctx, info); err != nil {
				return nil, err
			}
			continue
		case idx == 0:
			leader = true
			return e.lead(node), nil
		}
		pred := e.latch + "/" + kids[idx-1]
		// getData rather than exists: no watch is left behind when the predecessor is already gone.
		_, _, watch, err := e.c.GetW(ctx, pred)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || e.c.Err() != nil {
				return nil, err
			}
			if !e.pause(ctx) {
				return nil, errors.Join(ctx.Err(), e.closedErr())
			}
			continue
		}
	wait:
		for {
			select {
			case ev, ok := <-watch:
				if ok && ev.Type != zk.EventNotWatching {
					e.watchEvents.Add(1)
				}
				break wait
			case st, ok := <-states:
				if !ok {
					return nil, e.closedErr()
				}
				if st.State == client.Lost || st.State == client.Reconnected {
					break wait // re-check: our node may be gone
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-e.c.Done():
				return nil, e.closedErr()
			}
		}
	}
}

func (e *Election) closedErr() error {
	if err := e.c.Err(); err != nil {
		return err
	}
	return client.ErrClosed
}

// join creates this contender's protected EPHEMERAL_SEQUENTIAL node. When the reply to the create is
// lost, the protection id finds the node the server may have created, so no orphan is left behind.
func (e *Election) join(ctx context.Context, info []byte) (string, error) {
	prot := ProtectedPrefix + uuid.NewString() + "-"
	name := e.latch + "/" + prot + LockName
	for attempt := 0; ; attempt++ {
		created, err := e.c.Create(ctx, name, info, zk.FlagEphemeral|zk.FlagSequence, nil)
		if err == nil {
			return path.Base(created), nil
		}
		if !errors.Is(err, zk.ErrConnectionClosed) && !errors.Is(err, zk.ErrNoServer) || attempt >= 5 {
			return "", fmt.Errorf("election: joining %s: %w", e.latch, err)
		}
		// The create may have happened: look for our protection id before trying again.
		for ctx.Err() == nil {
			kids, _, lerr := e.c.Children(ctx, e.latch)
			if lerr == nil {
				for _, k := range kids {
					if strings.HasPrefix(k, prot) {
						return k, nil
					}
				}
				break
			}
			if !e.pause(ctx) {
				break
			}
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
}

// Leadership is held from a successful Campaign until Done is closed.
type Leadership struct {
	e    *Election
	node string
	// SessionID is the leader session id (a random UUID per leadership), which Flink publishes with
	// the address and followers use to fence stale leaders.
	SessionID uuid.UUID

	done      chan struct{}
	once      sync.Once
	mu        sync.Mutex
	err       error
	published map[string]bool // components whose connection_info we wrote
	cancel    func()
}

func (e *Election) lead(node string) *Leadership {
	l := &Leadership{e: e, node: node, SessionID: uuid.New(), done: make(chan struct{}), published: map[string]bool{}}
	states, cancel := e.c.States()
	l.cancel = cancel
	go l.monitor(states)
	e.log.Debug("leading", "node", node, "leader_session", l.SessionID.String())
	return l
}

// Node is the latch node (relative to the namespace) that holds the leadership.
func (l *Leadership) Node() string { return l.e.latch + "/" + l.node }

// Done is closed when leadership ends; Err then says why (ErrResigned, ErrSuspended, ErrSessionLost,
// ErrNodeDeleted, or the client's error).
func (l *Leadership) Done() <-chan struct{} { return l.done }

// Err is nil while leading, then the reason leadership ended.
func (l *Leadership) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *Leadership) revoke(err error) {
	l.once.Do(func() {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		close(l.done)
		l.e.log.Debug("leadership ended", "node", l.node, "reason", err.Error())
	})
}

// monitor ends the leadership on the connection policy, on deletion of our node, or client close.
func (l *Leadership) monitor(states <-chan client.Event) {
	defer l.cancel()
	ctx := context.Background()
	nodeGone := make(chan struct{})
	go func() {
		for {
			ok, _, w, err := l.e.c.ExistsW(ctx, l.Node())
			if err == nil && !ok {
				close(nodeGone)
				return
			}
			if err != nil {
				select {
				case <-l.done:
					return
				case <-l.e.c.Done():
					return
				case <-time.After(100 * time.Millisecond):
					continue
				}
			}
			select {
			case <-w:
			case <-l.done:
				return
			}
		}
	}()
	for {
		select {
		case <-l.done:
			return
		case <-nodeGone:
			l.revoke(ErrNodeDeleted)
			return
		case <-l.e.c.Done():
			l.revoke(l.e.closedErr())
			return
		case ev, ok := <-states:
			if !ok {
				l.revoke(l.e.closedErr())
				return
			}
			switch ev.State {
			case client.Suspended:
				if !l.e.tolerate {
					l.revoke(ErrSuspended)
					l.cleanupAfterRevoke(states)
					return
				}
			case client.Lost:
				l.revoke(fmt.Errorf("%w: %v", ErrSessionLost, ev.Err))
				return
			case client.Reconnected:
				if ev.NewSession {
					l.revoke(ErrSessionLost)
					return
				}
			case client.AuthFailed:
				l.revoke(ev.Err)
				return
			}
		}
	}
}

// cleanupAfterRevoke removes our latch node (and records) once the connection is back, so that the
// next contender takes over, as Curator does.
func (l *Leadership) cleanupAfterRevoke(states <-chan client.Event) {
	for {
		select {
		case ev, ok := <-states:
			if !ok {
				return
			}
			switch ev.State {
			case client.Reconnected:
				if !ev.NewSession {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					l.removeNodes(ctx)
					cancel()
				}
				return
			case client.Lost, client.AuthFailed:
				return
			}
		case <-l.e.c.Done():
			return
		}
	}
}

func (l *Leadership) removeNodes(ctx context.Context) error {
	l.mu.Lock()
	comps := make([]string, 0, len(l.published))
	for c := range l.published {
		comps = append(comps, c)
	}
	l.mu.Unlock()
	var errs []error
	sid := l.e.c.SessionID()
	for _, comp := range comps {
		p := infoPath(comp)
		if _, st, err := l.e.c.Get(ctx, p); err == nil && st.EphemeralOwner == sid {
			if err := l.e.c.Delete(ctx, p, st.Version); err != nil && !errors.Is(err, zk.ErrNoNode) {
				errs = append(errs, err)
			}
		}
	}
	if err := l.e.c.Delete(ctx, l.Node(), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Resign gives up leadership: the connection_info records this leadership published and its latch
// node are deleted, so the next contender takes over at once. Done is closed even when a deletion
// fails (the error is returned; the session's end removes the nodes anyway).
func (l *Leadership) Resign(ctx context.Context) error {
	select {
	case <-l.done:
		return nil
	default:
	}
	l.revoke(ErrResigned)
	return l.removeNodes(ctx)
}

// infoPath is where Flink keeps a component's leader record.
func infoPath(component string) string { return "/leader/" + component + "/connection_info" }

func validComponent(c string) error {
	if c == "" || strings.ContainsAny(c, "/\x00") || c == "." || c == ".." || c == "latch" {
		return fmt.Errorf("election: component %q must be one path segment (rest_server, dispatcher, resource_manager, a job id) and not \"latch\"", c)
	}
	return nil
}

// Publish writes the leader record of component (address and this leadership's SessionID, in
// Flink's format) as an ephemeral node owned by this session — atomically with a check that this
// leadership's latch node still exists, so a revoked leader cannot publish. A record of another
// session is replaced.
func (l *Leadership) Publish(ctx context.Context, component, address string) error {
	if err := validComponent(component); err != nil {
		return err
	}
	rec, err := EncodeLeaderRecord(LeaderInfo{Address: address, SessionID: l.SessionID})
	if err != nil {
		return err
	}
	p := infoPath(component)
	if err := l.e.c.CreateAll(ctx, "/leader/"+component); err != nil {
		return err
	}
	for attempt := 0; attempt < 5; attempt++ {
		if l.Err() != nil {
			return fmt.Errorf("%w: %v", ErrNotLeader, l.Err())
		}
		_, st, err := l.e.c.Get(ctx, p)
		switch {
		case errors.Is(err, zk.ErrNoNode):
			_, err = l.e.c.Multi(ctx, &zk.CheckVersionRequest{Path: l.Node(), Version: -1},
				&zk.CreateRequest{Path: p, Data: rec, Flags: zk.FlagEphemeral})
		case err != nil:
			return err
		case st.EphemeralOwner == l.e.c.SessionID():
			_, err = l.e.c.Multi(ctx, &zk.CheckVersionRequest{Path: l.Node(), Version: -1},
				&zk.SetDataRequest{Path: p, Data: rec, Version: st.Version})
		default:
			// A record of another session (a previous leader): replace it.
			_, err = l.e.c.Multi(ctx, &zk.CheckVersionRequest{Path: l.Node(), Version: -1},
				&zk.DeleteRequest{Path: p, Version: st.Version},
				&zk.CreateRequest{Path: p, Data: rec, Flags: zk.FlagEphemeral})
		}
		if err == nil {
			l.mu.Lock()
			l.published[component] = true
			l.mu.Unlock()
			return nil
		}
		if errors.Is(err, zk.ErrNoNode) && l.nodeGone(ctx) {
			l.revoke(ErrNodeDeleted)
			return fmt.Errorf("%w: the latch node is gone", ErrNotLeader)
		}
		if !errors.Is(err, zk.ErrNodeExists) && !errors.Is(err, zk.ErrBadVersion) && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return fmt.Errorf("election: publishing %s: too much contention", p)
}

func (l *Leadership) nodeGone(ctx context.Context) bool {
	ok, _, err := l.e.c.Exists(ctx, l.Node())
	return err == nil && !ok
}

// ReadLeader returns the leader record Flink (or a Leadership) published for component, or
// ErrNoLeader.
func ReadLeader(ctx context.Context, c *client.Client, component string) (LeaderInfo, error) {
	if err := validComponent(component); err != nil {
		return LeaderInfo{}, err
	}
	data, _, err := c.Get(ctx, infoPath(component))
	if errors.Is(err, zk.ErrNoNode) {
		return LeaderInfo{}, ErrNoLeader
	}
	if err != nil {
		return LeaderInfo{}, err
	}
	return DecodeLeaderRecord(data)
}

// ObserveLeader reports component's leader record: the current one first (zero LeaderInfo when there
// is none), then every change. The channel closes when ctx ends or the client closes.
func ObserveLeader(ctx context.Context, c *client.Client, component string) <-chan LeaderInfo {
	out := make(chan LeaderInfo)
	go func() {
		defer close(out)
		if validComponent(component) != nil {
			return
		}
		p := infoPath(component)
		var last []byte
		first := true
		for ctx.Err() == nil {
			data, _, ch, err := c.GetW(ctx, p)
			if errors.Is(err, zk.ErrNoNode) {
				var ok bool
				ok, _, ch, err = c.ExistsW(ctx, p)
				if err == nil && ok {
					continue
				}
				data = nil
			}
			if err != nil {
				select {
				case <-time.After(100 * time.Millisecond):
					continue
				case <-ctx.Done():
					return
				case <-c.Done():
					return
				}
			}
			if first || !bytes.Equal(data, last) {
				first, last = false, data
				info, derr := DecodeLeaderRecord(data)
				if derr != nil && !errors.Is(derr, ErrNoLeader) {
					info = LeaderInfo{}
				}
				select {
				case out <- info:
				case <-ctx.Done():
					return
				case <-c.Done():
					return
				}
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return
			case <-c.Done():
				return
			}
		}
	}()
	return out
}

// Client returns the client the election runs on.
func (e *Election) Client() *client.Client { return e.c }
