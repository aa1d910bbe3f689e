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
	cp := &campaign{e: e, info: info}
	defer cp.abandon()
	for {
		l, watch, err := cp.step(ctx)
		if l != nil {
			return l, nil
		}
		if err == nil && watch != nil {
			err = e.await(ctx, watch, states)
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
	node  string // our latch node, "" before joining
	owner int64  // the session that owns node, once read
	led   bool
}

// step looks at the latch once: it joins when we have no node, leads when our node is first, and
// otherwise watches our predecessor. It returns the leadership, or the watch to wait on (nil: look
// again at once), or the error that stopped it.
func (cp *campaign) step(ctx context.Context) (*Leadership, <-chan zk.Event, error) {
	e := cp.e
	if cp.node == "" {
		node, err := e.join(ctx, cp.info)
		if err != nil {
			return nil, nil, err
		}
		cp.node, cp.owner = node, 0
	}
	kids, _, err := e.c.Children(ctx, e.latch)
	if errors.Is(err, zk.ErrNoNode) {
		kids, err = nil, nil // the latch itself was deleted, and our node with it
	}
	if err != nil {
		return nil, nil, e.readErr(err)
	}
	sortNodes(kids)
	idx := slices.Index(kids, cp.node)
	if idx >= 0 && cp.owner == 0 {
		ok, st, err := e.c.Exists(ctx, e.latch+"/"+cp.node)
		if err != nil {
			return nil, nil, e.readErr(err)
		}
		if !ok {
			idx = -1
		} else {
			cp.owner = st.EphemeralOwner
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
		cp.node, cp.owner = "", 0
		return nil, nil, nil
	case idx == 0:
		cp.led = true
		return e.lead(cp.node, cp.owner), nil, nil
	}
	// getData rather than exists: no watch is left behind when the predecessor is already gone.
	_, _, watch, err := e.c.GetW(ctx, e.latch+"/"+kids[idx-1])
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, e.readErr(err)
	}
	return nil, watch, nil
}

// abandon deletes the node of a campaign that returns without leadership.
func (cp *campaign) abandon() {
	if !cp.led && cp.node != "" {
		cp.e.discard(cp.node, abandonWait)
	}
}

// await waits until the watch fires, or the connection comes back or is lost (our node may be gone,
// or be of a previous session: look again); an error when ctx ends or the client closes.
func (e *Election) await(ctx context.Context, watch <-chan zk.Event, states <-chan client.Event) error {
	for {
		select {
		case ev, ok := <-watch:
			if ok && ev.Type != zk.EventNotWatching {
				e.watchEvents.Add(1)
			}
			return nil
		case st, ok := <-states:
			if !ok {
				return e.closedErr()
			}
			if st.State == client.Lost || st.State == client.Reconnected {
				return nil
			}
		case <-ctx.Done():
			return e.ended(ctx)
		case <-e.c.Done():
			return e.ended(ctx)
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
	if !pause(ctx, e.c) {
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
