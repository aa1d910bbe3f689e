package client

import (
	"encoding/binary"
	"net"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// handshake is what the ConnectResponse of the latest connection said.
type handshake struct {
	timeout   atomic.Int64 // negotiated session timeout, ns
	sessionID atomic.Int64
}

// observeDialer wraps a dialer so that the negotiated session timeout and the session id of every
// ConnectResponse are recorded (go-zookeeper exposes neither when its events fire). It reads nothing
// itself: it watches the first frame go-zookeeper reads. failed is told of every attempt that fails
// before go-zookeeper has its ConnectResponse: the dial (TCP, TLS, service ticket) or the handshake
// (ConnectResponse, SASL exchange).
func observeDialer(d zk.Dialer, h *handshake, failed func(member string, err error)) zk.Dialer {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		c, err := d(network, address, timeout)
		if err != nil {
			failed(address, err)
			return nil, err
		}
		return &observedConn{Conn: c, h: h, member: address, failed: failed}, nil
	}
}

type observedConn struct {
	net.Conn
	h      *handshake
	member string
	failed func(member string, err error)
	head   []byte // bytes of the first frame seen so far
	done   bool
}

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
		}
	}
	return n, err
}
