package election

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"

	"github.com/zksecure/zksecure/client"
)

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
	notes, cancelNotes := e.c.Notifications()
	defer cancelNotes()
	cp := &campaign{e: e, info: info, notes: notes}
	defer cp.abandon()
	for {
		l, wait, err := cp.step(ctx)
		if l != nil {
			return l, nil
		}
		if err == nil && wait {
			var leads bool
			if leads, err = cp.await(ctx, states); leads {
				cp.led = true
				e.quickLeads.Add(1)
				return e.lead(cp.node, cp.owner), nil
			}
		}
		if err != nil {
			if stop := e.campaignErr(ctx, err); stop != nil {
				return nil, stop
			}
		}
	}
}

// campaign is the state of one Campaign call.
type campaign struct {
	e     *Election
	info  []byte
	notes <-chan zk.Event // the session's notifications, in order (client.Notifications)
	node  string          // our latch node, "" before joining
	owner int64           // the session that owns node, once read
	led   bool

	// What the hand-over without a read (see await) rests on.
	pred      string // the node we watch: our predecessor
	predFirst bool   // pred is the lowest node: at our last read, or since pp's deletion
	pp        string // the node before pred, also watched; "" when none
	ppFirst   bool   // at our last read, pp was the lowest node
	ownWatch  bool   // our node is watched on the current connection (no session event since)
	quiet     bool   // no session event since the current step began
}

// step looks at the latch once: it joins when we have no node, leads when our node is first, and
// otherwise watches our predecessor and the node before it. It returns the leadership, or whether
// to await a notification (false: look again at once), or the error that stopped it.
func (cp *campaign) step(ctx context.Context) (*Leadership, bool, error) {
	e := cp.e
	cp.quiet, cp.pred, cp.predFirst, cp.pp, cp.ppFirst = true, "", false, "", false
	if cp.node == "" {
		node, err := e.join(ctx, cp.info)
		if err != nil {
			return nil, false, err
		}
		cp.node, cp.owner, cp.ownWatch = node, 0, false
	}
	kids, _, err := e.c.Children(ctx, e.latch)
	if errors.Is(err, zk.ErrNoNode) {
		kids, err = nil, nil // the latch itself was deleted, and our node with it
	}
	if err != nil {
		return nil, false, e.readErr(err)
	}
	sortNodes(kids)
	idx := slices.Index(kids, cp.node)
	if idx >= 0 && (cp.owner == 0 || !cp.ownWatch) {
		// A watch on our own node: its deletion is then notified before any later one (await).
		ok, st, _, err := e.c.ExistsW(ctx, e.latch+"/"+cp.node)
		if err != nil {
			return nil, false, e.readErr(err)
		}
		if !ok {
			idx = -1
		} else {
			cp.owner, cp.ownWatch = st.EphemeralOwner, true
		}
	}
	if idx >= 0 && cp.owner != e.c.SessionID() {
		// A node of a previous session: the servers drop it (if they have not yet), it must not
		// make us leader, and waiting behind it would wait for nothing.
		e.log.Debug("contender node belongs to a previous session; joining again", "node", cp.node,
			"owner", fmt.Sprintf("0x%x", cp.owner), "session", fmt.Sprintf("0x%x", e.c.SessionID()))
		e.discard(cp.node, 0)
		idx = -1
	}
	switch {
	case idx < 0:
		// Our node is gone (session lost, or deleted by someone): join again.
		e.log.Debug("contender node vanished; joining again", "node", cp.node)
		cp.node, cp.owner, cp.ownWatch = "", 0, false
		return nil, false, nil
	case idx == 0:
		cp.led = true
		return e.lead(cp.node, cp.owner), false, nil
	}
	// getData rather than exists: no watch is left behind when the predecessor is already gone. Its
	// notification comes on cp.notes (the channel is not needed).
	if _, _, _, err := e.c.GetW(ctx, e.latch+"/"+kids[idx-1]); err != nil {
		if errors.Is(err, zk.ErrNoNode) {
			return nil, false, nil
		}
		return nil, false, e.readErr(err)
	}
	cp.pred, cp.predFirst = kids[idx-1], idx == 1
	if idx >= 2 {
		// The node before our predecessor: when it is the lowest, its deletion tells us, with no
		// read, that our predecessor now is (await).
		if _, _, _, err := e.c.GetW(ctx, e.latch+"/"+kids[idx-2]); err != nil {
			if errors.Is(err, zk.ErrNoNode) {
				return nil, false, nil
			}
			return nil, false, e.readErr(err)
		}
		cp.pp, cp.ppFirst = kids[idx-2], idx == 2
	}
	return nil, true, nil
}

// abandon deletes the node of a campaign that returns without leadership.
func (cp *campaign) abandon() {
	if !cp.led && cp.node != "" {
		cp.e.discard(cp.node, abandonWait)
	}
}

// await waits for the notification of a change to the nodes we watch or to our own node, or for
// the connection to come back or be lost (our node may be gone, or be of a previous session: look
// again); an error when ctx ends or the client closes. It returns true when the notification
// proves that we lead, without another read of the latch:
//
//   - Our predecessor is the lowest node — it was at our last read, or the node before it was and
//     its deletion came first — and the notification is of its deletion. A node created after that
//     read has a higher sequence number than ours (the servers number a parent's children in zxid
//     order), so nothing sorts before our node now.
//   - Our node still exists, and is of this session: it is watched, and no notification of it came
//     first — one server sends a session's notifications in zxid order, go-zookeeper passes them on
//     in that order (client.Notifications), and no session event came in between. After a
//     reconnect the servers re-fire the watches in no particular order, so a session event since
//     the step began (quiet false) means: read again.
//
// Anything else (a change that is not a deletion, a predecessor that was not the lowest, a session
// event) returns false: step reads the latch again, as Curator's LeaderLatch always does. So does
// the deletion of the node before our predecessor when it was not the lowest: that read comes
// while the contender ahead of us takes over, not when we do. Each deletion is so notified to two
// contenders (its successor and the next), not one.
//
// What this cannot see is one transaction deleting our predecessor and then our node (a multi,
// such as zkCli's deleteall): the two notifications share a zxid and come in the multi's order.
// Then we lead until the leadership's own watch finds the node gone (one read later), as a leader
// whose node someone deletes does; Publish, fenced by the node, writes nothing meanwhile.
func (cp *campaign) await(ctx context.Context, states <-chan client.Event) (bool, error) {
	e := cp.e
	pred, own, pp := e.latch+"/"+cp.pred, e.latch+"/"+cp.node, ""
	if cp.pp != "" {
		pp = e.latch + "/" + cp.pp
	}
	for {
		select {
		case ev, ok := <-cp.notes:
			if !ok {
				return false, e.closedErr()
			}
			switch {
			case ev.Type == zk.EventSession || ev.Type == zk.EventNotWatching:
				cp.quiet, cp.ownWatch = false, false
			case ev.Path == own:
				cp.ownWatch = false // fired: not watched any more
				return false, nil
			case ev.Path == pred:
				e.watchEvents.Add(1)
				return ev.Type == zk.EventNodeDeleted && cp.predFirst && cp.ownWatch && cp.quiet, nil
			case ev.Path == pp && pp != "":
				e.watchEvents.Add(1)
				if ev.Type != zk.EventNodeDeleted || !cp.ppFirst || !cp.quiet {
					return false, nil
				}
				cp.predFirst, pp = true, "" // our predecessor is the lowest node now
			}
		case st, ok := <-states:
			if !ok {
				return false, e.closedErr()
			}
			if st.State == client.Lost || st.State == client.Reconnected {
				return false, nil
			}
		case <-ctx.Done():
			return false, e.ended(ctx)
		case <-e.c.Done():
			return false, e.ended(ctx)
		}
	}
}

// readErr names the latch in a refused read (the others are retried or are ctx's or the client's).
func (e *Election) readErr(err error) error {
	if refused(err) {
		return fmt.Errorf("election: reading the latch %s: %w", e.latch, err)
	}
	return err
}

// campaignErr is the one place a campaign decides what an error means: nil to look again (after a
// pause), or the error to return — ctx's end, the client's, or a refusal by the server.
func (e *Election) campaignErr(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, client.ErrClosed) ||
		e.c.Err() != nil || refused(err) {
		return err
	}
	e.log.Debug("campaign: looking at the latch again after an error", "error", err)
	if !pause(ctx, e.c, err) {
		return e.ended(ctx)
	}
	return nil
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
	var found string
	err := e.retry(ctx, func() error {
		// Sync first: the member we are connected to now may lag behind the one that took the create.
		if err := e.c.Sync(ctx, e.latch); err != nil {
			return err
		}
		kids, _, err := e.c.Children(ctx, e.latch)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if strings.HasPrefix(k, prot) {
				found = k
				break
			}
		}
		return nil
	})
	if errors.Is(err, zk.ErrNoNode) {
		return "", nil
	}
	return found, err
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
	err := e.retry(ctx, func() error { return e.c.Delete(ctx, p, -1) })
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}
