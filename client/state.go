package client

import (
	"context"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
)

// State is a connection state, named as Curator names them.
type State int

const (
	// Connected: the first session exists (authenticated, when SASL is on). Fired once, first.
	Connected State = iota + 1
	// Suspended: the connection was lost; the session may still live on the servers. Ephemeral
	// nodes and leadership may be lost at any moment. Fired once per outage.
	Suspended
	// Reconnected: a connection is back. With Event.NewSession false the session survived (its
	// ephemeral nodes and watches are intact); with NewSession true it follows Lost and everything
	// session-bound must be re-created.
	Reconnected
	// Lost: the session is gone — the server reported it expired, or the client stayed Suspended for
	// longer than the negotiated session timeout (after which the servers have surely expired it).
	Lost
	// AuthFailed: a connection failed to authenticate (Event.Err says why). The client closes
	// itself: it never continues unauthenticated. Always the last event.
	AuthFailed
)

func (s State) String() string {
	switch s {
	case Connected:
		return "CONNECTED"
	case Suspended:
		return "SUSPENDED"
	case Reconnected:
		return "RECONNECTED"
	case Lost:
		return "LOST"
	case AuthFailed:
		return "AUTH_FAILED"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// onZKEvent is go-zookeeper's event callback: it runs for every event, in order, and must not block.
func (c *Client) onZKEvent(e zk.Event) {
	c.notify(e)
	if e.Type != zk.EventSession {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	now := time.Now()
	switch e.State {
	case zk.StateHasSession:
		c.attemptErr = nil
		sid := c.hs.SessionID()
		switch c.state {
		case 0:
			c.state, c.sessionID, c.member = Connected, sid, e.Server
			c.setSessionLocked(true)
			c.emitLocked(Event{State: Connected, SessionID: sid, Member: e.Server, At: now})
		case Suspended, Lost:
			newSession := sid != c.sessionID
			if newSession && !c.lostSent {
				c.emitLocked(Event{State: Lost, SessionID: c.sessionID, Err: zk.ErrSessionExpired, At: now})
			}
			c.stopLossTimerLocked()
			c.state, c.sessionID, c.member, c.lostSent = Reconnected, sid, e.Server, false
			c.setSessionLocked(true)
			c.emitLocked(Event{State: Reconnected, SessionID: sid, NewSession: newSession, Member: e.Server, At: now})
		}
	case zk.StateDisconnected:
		if c.state == Connected || c.state == Reconnected {
			c.state = Suspended
			c.setSessionLocked(false)
			c.emitLocked(Event{State: Suspended, SessionID: c.sessionID, Member: c.member, At: now})
			c.startLossTimerLocked()
		}
	case zk.StateExpired:
		if c.state != 0 && !c.lostSent {
			c.stopLossTimerLocked()
			c.state, c.lostSent = Lost, true
			c.emitLocked(Event{State: Lost, SessionID: c.sessionID, Err: zk.ErrSessionExpired, At: now})
		}
	}
}

// sessionLocked returns a channel that is closed while the client has a session (Connected or
// Reconnected, until the next Suspended).
func (c *Client) sessionLocked() chan struct{} {
	if c.hasSession == nil {
		c.hasSession = make(chan struct{})
	}
	return c.hasSession
}

// setSessionLocked closes sessionLocked's channel when the client has a session again, and gives it a
// new open one when the client loses it.
func (c *Client) setSessionLocked(has bool) {
	ch := c.sessionLocked()
	select {
	case <-ch:
		if !has {
			c.hasSession = make(chan struct{})
		}
	default:
		if has {
			close(ch)
		}
	}
}

// awaitSession is the pause before retrying a read that failed with connection loss (err) for
// the attempts-th time: it ends as soon as the client has a session again — at once when it has
// one already — or after RetryWait<<attempts, whichever comes first. go-zookeeper reports the loss
// (the client is then Suspended) before it fails the calls in flight, so a read that failed waits
// here for the reconnection, not for the RetryWait that follows it; and while the client stays
// Suspended it waits without spinning, bounded by the backoff and by MaxRetryAttempts as before. It
// returns ctx's error when ctx ends first and the closing error when the client closes.
func (c *Client) awaitSession(ctx context.Context, attempts int, err error) error {
	wait := c.cfg.RetryWait << attempts
	c.mu.Lock()
	up := c.sessionLocked()
	c.mu.Unlock()
	c.log.Debug("retrying after connection loss", "attempt", attempts+1, "wait at most", wait, "error", err)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-up:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.wrap(zk.ErrClosing)
	}
}

// startLossTimerLocked fires Lost when Suspended lasts longer than the negotiated session timeout.
func (c *Client) startLossTimerLocked() {
	timeout := c.hs.Timeout()
	if timeout <= 0 {
		timeout = c.cfg.SessionTimeout
	}
	sid := c.sessionID
	c.lossTimer = time.AfterFunc(timeout, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed || c.state != Suspended || c.sessionID != sid || c.lostSent {
			return
		}
		c.state, c.lostSent = Lost, true
		err := fmt.Errorf("client: no connection for %v, the session timeout: the servers have expired session 0x%x", timeout, sid)
		if c.attemptErr != nil {
			err = fmt.Errorf("client: no connection for %v, the session timeout: the servers have expired session 0x%x; the last attempt failed: %w", timeout, sid, c.attemptErr)
		}
		c.emitLocked(Event{State: Lost, SessionID: sid, At: time.Now(), Err: err})
	})
}

func (c *Client) stopLossTimerLocked() {
	if c.lossTimer != nil {
		c.lossTimer.Stop()
		c.lossTimer = nil
	}
}

// authFailed is the authenticator's failure hook: report, then close (fail-closed).
func (c *Client) authFailed(err error) {
	c.mu.Lock()
	if c.authErr == nil {
		c.authErr = err
		c.state = AuthFailed
		c.emitLocked(Event{State: AuthFailed, SessionID: c.sessionID, Err: err, At: time.Now()})
	}
	c.mu.Unlock()
	go c.Close() // not on go-zookeeper's goroutine, which Close waits for
}
