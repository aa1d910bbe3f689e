package election

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
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
	// ErrInvalidComponent: a component name that is not one path segment (or is "latch"), returned
	// at once by Publish, ReadLeader and ObserveLeader.
	ErrInvalidComponent = errors.New("election: invalid component")
)

// Options configures New. The zero value uses DefaultLatchPath and the default connection policy
// (a Suspended connection revokes leadership).
type Options struct {
	// LatchPath is the latch's path within the client's namespace; empty means DefaultLatchPath.
	LatchPath string
	// TolerateSuspendedConnections is Flink's
	// high-availability.zookeeper.client.tolerate-suspended-connections (flinkconf.Result.Election
	// carries it from a Flink configuration). False (the default): a Suspended connection revokes
	// leadership at once. True: only Lost does.
	//
	// Warning: with true, for up to the session timeout after a partition two processes may both
	// believe they lead (see "Connection policy" in the package documentation).
	TolerateSuspendedConnections bool
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

	watchEvents atomic.Uint64 // watch events received; read by the benchmarks (export_test.go)
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
	return &Election{c: c, latch: latch, tolerate: opts.TolerateSuspendedConnections,
		log: log.With("component", "zksecure/election", "latch", c.Namespace()+latch)}, nil
}

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

// abandonWait bounds how long Campaign, when it returns without leadership, waits for its node to be
// deleted while the client is connected; the deletion goes on in the background after that.
const abandonWait = time.Second

// Campaign joins the election with info as the node's data and blocks until this contender leads,
// ctx ends or the client closes. It never leaves a node behind when it returns without leadership:
// its node is deleted (in the background when the connection is down, until the client closes), and
// so is the node of a create whose reply was lost or that was still in flight when ctx ended. While
// it waits it survives suspensions and keeps its node; when the session is lost it joins again with
// a new node. It leads only with a node owned by the current session (as Curator does since
// CURATOR-696).
func (e *Election) Campaign(ctx context.Context, info []byte) (*Leadership, error) {
	states, cancel := e.c.States()
	defer cancel()
	node, err := e.join(ctx, info)
	if err != nil {
		return nil, err
	}
	var owner int64 // the session that owns node, once read
	leader := false
	defer func() {
		if !leader && node != "" {
			e.discard(node, abandonWait)
		}
	}()
	for {
		kids, _, err := e.c.Children(ctx, e.latch)
		if errors.Is(err, zk.ErrNoNode) {
			kids, err = nil, nil // the latch itself was deleted, and our node with it
		}
		if err != nil {
			if stop := e.campaignErr(ctx, err); stop != nil {
				return nil, stop
			}
			continue
		}
		sortNodes(kids)
		idx := slices.Index(kids, node)
		if idx >= 0 && owner == 0 {
			ok, st, err := e.c.Exists(ctx, e.latch+"/"+node)
			if err != nil {
				if stop := e.campaignErr(ctx, err); stop != nil {
					return nil, stop
				}
				continue
			}
			if !ok {
				idx = -1
			} else {
				owner = st.EphemeralOwner
			}
		}
		if idx >= 0 && owner != e.c.SessionID() {
			// A node of a previous session: the servers drop it (if they have not yet), it must
			// not make us leader, and waiting behind it would wait for nothing.
			e.log.Debug("contender node belongs to a previous session; joining again", "node", node,
				"owner", fmt.Sprintf("0x%x", owner), "session", fmt.Sprintf("0x%x", e.c.SessionID()))
			e.discard(node, 0)
			idx = -1
		}
		switch {
		case idx < 0:
			// Our node is gone (session lost, or deleted by someone): join again.
			e.log.Debug("contender node vanished; joining again", "node", node)
			node, owner = "", 0
			if node, err = e.join(ctx, info); err != nil {
				return nil, err
			}
			continue
		case idx == 0:
			leader = true
			return e.lead(node, owner), nil
		}
		pred := e.latch + "/" + kids[idx-1]
		// getData rather than exists: no watch is left behind when the predecessor is already gone.
		_, _, watch, err := e.c.GetW(ctx, pred)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			if stop := e.campaignErr(ctx, err); stop != nil {
				return nil, stop
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
					break wait // re-check: our node may be gone, or be of a previous session
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-e.c.Done():
				return nil, e.closedErr()
			}
		}
	}
}

// campaignErr decides what a failed read means for a campaign: nil to look again (after a pause),
// or the error to return.
func (e *Election) campaignErr(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, client.ErrClosed) || e.c.Err() != nil {
		return err
	}
	if errors.Is(err, zk.ErrNoAuth) {
		return fmt.Errorf("election: reading the latch %s: %w", e.latch, err)
	}
	if !e.pause(ctx) {
		return errors.Join(ctx.Err(), e.closedErr())
	}
	return nil
}

func (e *Election) closedErr() error {
	if err := e.c.Err(); err != nil {
		return err
	}
	return client.ErrClosed
}

// lifetime returns a context that ends when the client closes (or cancel is called): what work
// that must finish after its caller has gone is bounded by.
func (e *Election) lifetime() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-e.c.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func isConnected(s client.State) bool { return s == client.Connected || s == client.Reconnected }

// awaitConnected returns once the client is connected, or with an error when ctx ends or the client
// closes.
func (e *Election) awaitConnected(ctx context.Context) error {
	if isConnected(e.c.State()) {
		return nil
	}
	states, cancel := e.c.States()
	defer cancel()
	for {
		select {
		case ev, ok := <-states:
			if !ok {
				return e.closedErr()
			}
			if isConnected(ev.State) {
				return nil
			}
			if ev.State == client.AuthFailed {
				return errors.Join(ev.Err, e.closedErr())
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// refused reports whether err is a server's answer that proves a write was not applied. Connection
// loss, timeouts and cancellations leave the outcome unknown.
func refused(err error) bool {
	for _, r := range []error{zk.ErrNoNode, zk.ErrNoAuth, zk.ErrBadVersion, zk.ErrNodeExists, zk.ErrNotEmpty,
		zk.ErrInvalidACL, zk.ErrBadArguments, zk.ErrNoChildrenForEphemerals, zk.ErrInvalidPath, zk.ErrInvalidFlags,
		zk.ErrAuthFailed, client.ErrPath} {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// join creates this contender's protected EPHEMERAL_SEQUENTIAL node (and the latch path when it is
// missing). The create runs on the client's lifetime, not on ctx: a go-zookeeper request goes on
// after its caller's context ends (and one queued during an outage is sent on reconnect), so only
// its own result says whether a node was made. When ctx ends first, the create's outcome is still
// awaited in the background and whatever node it made is deleted; when a reply is lost, the
// protection id finds the node the server may have made.
func (e *Election) join(ctx context.Context, info []byte) (string, error) {
	prot := ProtectedPrefix + uuid.NewString() + "-"
	type result struct {
		node string
		err  error
	}
	res := make(chan result)
	gone := make(chan struct{}) // closed when the caller stopped waiting
	life, cancel := e.lifetime()
	go func() {
		defer cancel()
		node, err := e.create(life, gone, prot, info)
		select {
		case res <- result{node, err}:
		case <-gone:
			if node != "" {
				e.log.Debug("deleting the node of an abandoned join", "node", node)
				if err := e.deleteNode(life, e.latch+"/"+node); err != nil {
					e.log.Debug("could not delete the node of an abandoned join", "node", node, "error", err)
				}
			}
		}
	}()
	select {
	case r := <-res:
		return r.node, r.err
	case <-ctx.Done():
		close(gone)
		return "", ctx.Err()
	}
}

// create makes the node of join and resolves unknown outcomes by the protection id. Once gone is
// closed it only finds out what happened, without trying again.
func (e *Election) create(ctx context.Context, gone <-chan struct{}, prot string, info []byte) (string, error) {
	name := e.latch + "/" + prot + LockName
	madeParents := false
	for attempt := 0; ; attempt++ {
		created, err := e.c.Create(ctx, name, info, zk.FlagEphemeral|zk.FlagSequence, nil)
		if err == nil {
			return path.Base(created), nil
		}
		if errors.Is(err, zk.ErrNoNode) && !madeParents {
			madeParents = true
			if err := e.c.CreateAll(ctx, e.latch); err != nil {
				return "", fmt.Errorf("election: creating the latch path %s: %w", e.latch, err)
			}
			continue
		}
		if refused(err) || ctx.Err() != nil || errors.Is(err, client.ErrClosed) {
			// Refused: nothing was made. Client closed: its session, and any node, are gone.
			return "", fmt.Errorf("election: joining %s: %w", e.latch, err)
		}
		e.log.Debug("create of a contender node has an unknown outcome; looking for it", "protection", prot, "error", err)
		node, ferr := e.findProtected(ctx, prot)
		if node != "" {
			return node, nil
		}
		if ferr != nil {
			return "", fmt.Errorf("election: joining %s: %w", e.latch, errors.Join(err, ferr))
		}
		select {
		case <-gone:
			return "", fmt.Errorf("election: joining %s: %w", e.latch, err)
		default:
		}
		if attempt >= 5 {
			return "", fmt.Errorf("election: joining %s: %w", e.latch, err)
		}
	}
}

// findProtected waits for a connection and returns the latch child with the protection id prot, or
// "" when there is none.
func (e *Election) findProtected(ctx context.Context, prot string) (string, error) {
	for {
		if err := e.awaitConnected(ctx); err != nil {
			return "", err
		}
		// Sync first: the member we are connected to now may lag behind the one that took the create.
		err := e.c.Sync(ctx, e.latch)
		var kids []string
		if err == nil {
			kids, _, err = e.c.Children(ctx, e.latch)
		}
		if errors.Is(err, zk.ErrNoNode) {
			return "", nil
		}
		if err == nil {
			for _, k := range kids {
				if strings.HasPrefix(k, prot) {
					return k, nil
				}
			}
			return "", nil
		}
		if refused(err) || ctx.Err() != nil {
			return "", err
		}
		if !e.pause(ctx) {
			return "", e.closedErr()
		}
	}
}

// discard deletes a node of ours that no campaign uses any more, in the background until it is gone
// or the client closes; while the client is connected it waits up to wait for that.
func (e *Election) discard(node string, wait time.Duration) {
	done := make(chan struct{})
	life, cancel := e.lifetime()
	go func() {
		defer close(done)
		defer cancel()
		if err := e.deleteNode(life, e.latch+"/"+node); err != nil {
			e.log.Debug("could not delete an abandoned contender node", "node", node, "error", err)
		}
	}()
	if wait <= 0 || !isConnected(e.c.State()) {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// deleteNode deletes p, retrying across connection loss, until it is gone, the server refuses, or
// ctx ends.
func (e *Election) deleteNode(ctx context.Context, p string) error {
	for {
		if err := e.awaitConnected(ctx); err != nil {
			return err
		}
		err := e.c.Delete(ctx, p, -1)
		if err == nil || errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if refused(err) || ctx.Err() != nil {
			return err
		}
		if !e.pause(ctx) {
			return e.closedErr()
		}
	}
}

// Leadership is held from a successful Campaign until Done is closed. When it ends, its latch node
// and the records it published are deleted as soon as the connection allows (they are ephemeral
// nodes of a session that may well survive, for instance a quorum loss longer than the session
// timeout): Resign does it at once, otherwise it happens in the background until it succeeds or the
// client closes.
type Leadership struct {
	e     *Election
	node  string
	owner int64 // the session that owns node
	// SessionID is the leader session id (a random UUID per leadership), which Flink publishes with
	// the address and followers use to fence stale leaders.
	SessionID uuid.UUID

	done      chan struct{}
	mu        sync.Mutex
	err       error           // set, and done closed, by revoke
	published map[string]bool // components whose connection_info we wrote or are writing
	writes    int             // Publish writes not yet resolved
	idle      chan struct{}   // closed when writes drops to 0, made by a waiter
	cancel    func()

	cleanMu sync.Mutex
	cleaned bool // latch node and records deleted (under cleanMu)
}

func (e *Election) lead(node string, owner int64) *Leadership {
	l := &Leadership{e: e, node: node, owner: owner, SessionID: uuid.New(), done: make(chan struct{}), published: map[string]bool{}}
	states, cancel := e.c.States()
	l.cancel = cancel
	go l.monitor(states)
	e.log.Debug("leading", "node", node, "leader_session", l.SessionID.String(), "session", fmt.Sprintf("0x%x", owner))
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

// revoke ends the leadership (once). Done is closed under mu, so that a Publish write either counts
// as in flight before it or sees it.
func (l *Leadership) revoke(err error) {
	if err == nil {
		err = ErrSessionLost
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	l.err = err
	close(l.done)
	l.e.log.Debug("leadership ended", "node", l.node, "reason", err.Error())
}

func sessionLost(cause error) error {
	if cause == nil {
		return ErrSessionLost
	}
	return fmt.Errorf("%w: %w", ErrSessionLost, cause)
}

// monitor ends the leadership on the connection policy, on deletion of our node, or client close,
// then removes what the leadership left once the connection allows.
func (l *Leadership) monitor(states <-chan client.Event) {
	defer l.cancel()
	nodeGone := make(chan struct{})
	go func() {
		ctx := context.Background()
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
	connected := true // Campaign just read the latch on this connection
lead:
	for {
		select {
		case <-l.done: // Resign
			break lead
		case <-nodeGone:
			l.revoke(ErrNodeDeleted)
			break lead
		case <-l.e.c.Done():
			l.revoke(l.e.closedErr())
			return
		case ev, ok := <-states:
			if !ok {
				l.revoke(l.e.closedErr())
				return
			}
			connected = isConnected(ev.State)
			switch ev.State {
			case client.Suspended:
				if !l.e.tolerate {
					l.revoke(ErrSuspended)
					break lead
				}
			case client.Lost:
				l.revoke(sessionLost(ev.Err))
				break lead
			case client.Reconnected:
				if ev.NewSession {
					l.revoke(sessionLost(zk.ErrSessionExpired))
					break lead
				}
			case client.AuthFailed:
				if ev.Err == nil {
					ev.Err = l.e.closedErr()
				}
				l.revoke(ev.Err)
				return
			}
		}
	}
	l.cleanup(states, connected)
}

// cleanup deletes the leadership's records and latch node whenever the connection is back, until
// that succeeds or the client closes — whether or not Lost came first: after a quorum loss the
// servers keep sessions that the client, by its timer, declared lost (Curator resets its node on
// every RECONNECTED for the same reason).
func (l *Leadership) cleanup(states <-chan client.Event, connected bool) {
	ctx, cancel := l.e.lifetime()
	defer cancel()
	for {
		if connected {
			err := l.removeNodes(ctx)
			if err == nil || ctx.Err() != nil {
				return
			}
			if refused(err) {
				l.e.log.Debug("could not delete the nodes of an ended leadership; the session's end will", "node", l.node, "error", err)
				return
			}
			l.e.log.Debug("deleting the nodes of an ended leadership failed; trying again", "node", l.node, "error", err)
		}
		var retry <-chan time.Time
		if connected {
			retry = time.After(500 * time.Millisecond)
		}
		select {
		case ev, ok := <-states:
			if !ok || ev.State == client.AuthFailed {
				return
			}
			connected = isConnected(ev.State)
		case <-retry:
		case <-l.e.c.Done():
			return
		}
	}
}

// waitWrites waits until no Publish write is in flight. After revoke no new write starts.
func (l *Leadership) waitWrites(ctx context.Context) error {
	l.mu.Lock()
	if l.writes == 0 {
		l.mu.Unlock()
		return nil
	}
	if l.idle == nil {
		l.idle = make(chan struct{})
	}
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.e.c.Done():
		return l.e.closedErr()
	}
}

// removeNodes deletes, once every Publish write in flight is resolved (none starts after revoke),
// the records this leadership published and then its latch node — each only if it is this
// leadership's. Call it after revoke.
func (l *Leadership) removeNodes(ctx context.Context) error {
	if err := l.waitWrites(ctx); err != nil {
		return err
	}
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	if l.cleaned {
		return nil
	}
	l.mu.Lock()
	comps := make([]string, 0, len(l.published))
	for c := range l.published {
		comps = append(comps, c)
	}
	l.mu.Unlock()
	sort.Strings(comps)
	var errs []error
	for _, comp := range comps {
		if err := l.unpublish(ctx, comp); err != nil {
			errs = append(errs, fmt.Errorf("election: deleting the record %s: %w", infoPath(comp), err))
		}
	}
	if err := l.deleteLatchNode(ctx); err != nil {
		errs = append(errs, fmt.Errorf("election: deleting the latch node %s: %w", l.Node(), err))
	}
	if len(errs) == 0 {
		l.cleaned = true
		l.e.log.Debug("deleted the nodes of an ended leadership", "node", l.node)
	}
	return errors.Join(errs...)
}

// unpublish deletes component's record if it is this leadership's (it carries our SessionID). While
// our latch node exists no other contender can lead, so the record is deleted together with a check
// of it: a newer leader's record is never touched. Without it (someone deleted our node), the delete
// is only version-checked.
func (l *Leadership) unpublish(ctx context.Context, component string) error {
	p := infoPath(component)
	for attempt := 0; ; attempt++ {
		data, st, err := l.e.c.Get(ctx, p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		if info, derr := DecodeLeaderRecord(data); derr != nil || info.SessionID != l.SessionID {
			return nil // not ours
		}
		_, err = l.e.c.Multi(ctx, &zk.CheckVersionRequest{Path: l.Node(), Version: -1}, &zk.DeleteRequest{Path: p, Version: st.Version})
		if errors.Is(err, zk.ErrNoNode) {
			err = l.e.c.Delete(ctx, p, st.Version)
		}
		if err == nil || errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if !errors.Is(err, zk.ErrBadVersion) || attempt >= 5 {
			return err
		}
	}
}

// deleteLatchNode deletes our latch node if our session owns it.
func (l *Leadership) deleteLatchNode(ctx context.Context) error {
	ok, st, err := l.e.c.Exists(ctx, l.Node())
	if err != nil || !ok || st.EphemeralOwner != l.owner {
		return err
	}
	err = l.e.c.Delete(ctx, l.Node(), st.Version)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

// Resign gives up leadership: the connection_info records this leadership published and its latch
// node are deleted, so the next contender takes over at once. Done is closed even when a deletion
// fails (the error is returned; the deletion goes on in the background until it succeeds or the
// client closes). After Done has closed for another reason, Resign deletes what is left.
func (l *Leadership) Resign(ctx context.Context) error {
	l.revoke(ErrResigned)
	return l.removeNodes(ctx)
}

// infoPath is where Flink keeps a component's leader record.
func infoPath(component string) string { return "/leader/" + component + "/connection_info" }

func validComponent(c string) error {
	if c == "" || strings.ContainsAny(c, "/\x00") || c == "." || c == ".." || c == "latch" {
		return fmt.Errorf("%w: %q must be one path segment (rest_server, dispatcher, resource_manager, a job id) and not \"latch\"", ErrInvalidComponent, c)
	}
	return nil
}

// Publish writes the leader record of component (address and this leadership's SessionID, in
// Flink's format) as an ephemeral node owned by this session — atomically with a check that this
// leadership's latch node still exists. A record of another session is replaced. Publish never
// succeeds once Done is closed: it refuses (ErrNotLeader) after that, and before sending anything
// while the connection is not up; a write that lands while leadership ends is undone and reported
// as ErrNotLeader. An invalid component is an error wrapping ErrInvalidComponent.
func (l *Leadership) Publish(ctx context.Context, component, address string) error {
	if err := validComponent(component); err != nil {
		return err
	}
	rec, err := EncodeLeaderRecord(LeaderInfo{Address: address, SessionID: l.SessionID})
	if err != nil {
		return err
	}
	p := infoPath(component)
	if err := l.usable(); err != nil {
		return err
	}
	if err := l.e.c.CreateAll(ctx, "/leader/"+component); err != nil {
		return err
	}
	for attempt := 0; attempt < 5; attempt++ {
		_, st, err := l.e.c.Get(ctx, p)
		check := &zk.CheckVersionRequest{Path: l.Node(), Version: -1}
		switch {
		case errors.Is(err, zk.ErrNoNode):
			err = l.write(ctx, component, check, &zk.CreateRequest{Path: p, Data: rec, Flags: zk.FlagEphemeral})
		case err != nil:
			return err
		case st.EphemeralOwner == l.owner:
			err = l.write(ctx, component, check, &zk.SetDataRequest{Path: p, Data: rec, Version: st.Version})
		default:
			// A record of another session (a previous leader): replace it.
			err = l.write(ctx, component, check, &zk.DeleteRequest{Path: p, Version: st.Version},
				&zk.CreateRequest{Path: p, Data: rec, Flags: zk.FlagEphemeral})
		}
		if err == nil {
			if lerr := l.Err(); lerr != nil {
				// Leadership ended while the write was in flight: take the record back.
				uerr := l.unpublish(ctx, component)
				return errors.Join(fmt.Errorf("%w: leadership ended while publishing %s: %w", ErrNotLeader, p, lerr), uerr)
			}
			return nil
		}
		if errors.Is(err, ErrNotLeader) {
			return err
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

// usable returns nil when a write may be sent: still leading, connected, on the leading session.
func (l *Leadership) usable() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.usableLocked()
}

func (l *Leadership) usableLocked() error {
	if err := l.err; err != nil {
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	}
	if st := l.e.c.State(); !isConnected(st) {
		if l.e.tolerate && st == client.Suspended {
			// Still leading under this policy, but a write now would be sent whenever the
			// connection comes back, by which time leadership may be gone.
			return fmt.Errorf("election: not publishing while the connection is %s: %w", st, zk.ErrConnectionClosed)
		}
		return fmt.Errorf("%w: the connection is %s", ErrNotLeader, st)
	}
	if sid := l.e.c.SessionID(); sid != l.owner {
		return fmt.Errorf("%w: the session 0x%x that leads is gone", ErrNotLeader, l.owner)
	}
	return nil
}

// write sends one Publish write unless the leadership has ended or the connection is not up,
// counted as in flight until go-zookeeper resolves it (it may outlive ctx), so that the removal after
// revoke waits for it.
func (l *Leadership) write(ctx context.Context, component string, ops ...any) error {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	l.published[component] = true // before the write: the removal must consider it
	l.writes++
	l.mu.Unlock()
	res := make(chan error, 1)
	life, cancel := l.e.lifetime()
	go func() {
		defer cancel()
		_, err := l.e.c.Multi(life, ops...)
		l.mu.Lock()
		if l.writes--; l.writes == 0 && l.idle != nil {
			close(l.idle)
			l.idle = nil
		}
		l.mu.Unlock()
		res <- err
	}()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Leadership) nodeGone(ctx context.Context) bool {
	ok, _, err := l.e.c.Exists(ctx, l.Node())
	return err == nil && !ok
}

// ReadLeader returns the leader record Flink (or a Leadership) published for component, or
// ErrNoLeader. An invalid component is an error wrapping ErrInvalidComponent.
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
// is none), then every change. The channel closes when ctx ends or the client closes. An invalid
// component is reported as ReadLeader reports it: an error wrapping ErrInvalidComponent, returned
// at once (with a nil channel, and nothing started).
func ObserveLeader(ctx context.Context, c *client.Client, component string) (<-chan LeaderInfo, error) {
	if err := validComponent(component); err != nil {
		return nil, err
	}
	out := make(chan LeaderInfo)
	go func() {
		defer close(out)
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
	return out, nil
}
