package session

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// Handshake is what the ConnectResponse of a session's latest connection said (go-zookeeper
// exposes neither value when its events fire). Its zero value is ready; it is safe for concurrent
// use.
type Handshake struct {
	timeout   atomic.Int64 // negotiated session timeout, ns
	sessionID atomic.Int64
}

// Timeout is the negotiated session timeout (0 before the first ConnectResponse).
func (h *Handshake) Timeout() time.Duration { return time.Duration(h.timeout.Load()) }

// SessionID is the session id of the latest ConnectResponse (0: none yet, or expired).
func (h *Handshake) SessionID() int64 { return h.sessionID.Load() }

// observe wraps a dialer so that the negotiated session timeout and the session id of every
// ConnectResponse are recorded in h. It reads nothing itself: it watches the first frame
// go-zookeeper reads. failed is told of every attempt that fails before go-zookeeper has its
// ConnectResponse: the dial (TCP, TLS, service ticket) or the handshake (ConnectResponse, SASL).
//
// Until the ConnectResponse is in, no deadline go-zookeeper sets may pass setup after the dial began
// (go-zookeeper allows ten read timeouts for it): a member that accepts connections but does not
// answer — a frozen process, a machine whose kernel still completes the TCP handshake — is given up
// on as fast as the Java client gives up on it, and the next member is tried.
//
// At Debug, log receives how long the attempt took from the dial to the ConnectResponse handed to
// go-zookeeper (after the SASL exchange, with SASL).
func observe(d zk.Dialer, setup time.Duration, h *Handshake, failed func(member string, err error), log *slog.Logger) zk.Dialer {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		start := time.Now()
		c, err := d(network, address, timeout)
		if err != nil {
			failed(address, err)
			return nil, err
		}
		oc := &observedConn{Conn: c, h: h, member: address, failed: failed, start: start, limit: start.Add(setup)}
		if log.Enabled(context.Background(), slog.LevelDebug) {
			oc.log = log
		}
		return oc, nil
	}
}

// BoundedDial dials TCP within limit and sets the connection's deadline to the end of limit, so
// that a TLS handshake with a member that accepted but does not answer ends then too.
func BoundedDial(limit time.Duration) zk.Dialer {
	return func(network, address string, _ time.Duration) (net.Conn, error) {
		c, err := net.DialTimeout(network, address, limit)
		if err != nil {
			return nil, err
		}
		c.SetDeadline(time.Now().Add(limit))
		return c, nil
	}
}

type observedConn struct {
	net.Conn
	h      *Handshake
	member string
	failed func(member string, err error)
	head   []byte // bytes of the first frame seen so far
	done   bool
	start  time.Time
	limit  time.Time    // no deadline beyond this until the ConnectResponse is in
	log    *slog.Logger // nil: Debug is off
}

func (c *observedConn) capped(t time.Time) time.Time {
	if !c.done && (t.IsZero() || t.After(c.limit)) {
		return c.limit
	}
	return t
}

// SetDeadline and SetReadDeadline keep go-zookeeper's deadlines within the attempt's limit until
// the ConnectResponse is in. (go-zookeeper reads only from one goroutine, so done needs no lock.)
func (c *observedConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.capped(t)) }

func (c *observedConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.capped(t)) }

func (c *observedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.done && err != nil {
		c.failed(c.member, err)
	}
	if !c.done && n > 0 {
		c.head = append(c.head, p[:n]...)
		// ConnectResponse: int32 len, int32 protocolVersion, int32 timeOut, int64 sessionId, ...
		if len(c.head) >= 20 {
			if to := int32(binary.BigEndian.Uint32(c.head[8:12])); to > 0 {
				c.h.timeout.Store(int64(to) * int64(time.Millisecond))
			}
			c.h.sessionID.Store(int64(binary.BigEndian.Uint64(c.head[12:20])))
			c.done, c.head = true, nil
			if c.log != nil {
				c.log.Debug("ConnectResponse in", "member", c.member, "session", fmt.Sprintf("0x%x", c.h.SessionID()),
					"since_dial", time.Since(c.start))
			}
		}
	}
	return n, err
}
