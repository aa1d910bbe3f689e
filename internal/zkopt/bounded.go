package zkopt

import (
	"encoding/binary"
	"fmt"
	"net"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/wire"
)

// MaxBuffer is the largest frame a zksecure session accepts from a server: the Java client's
// jute.maxbuffer default (1 MiB) plus headers. go-zookeeper alone trusts any 32-bit length a server
// sends, up to 4 GiB.
const MaxBuffer = wire.MaxFrame

// Bounded returns the go-zookeeper options every zksecure session is built with — d wrapped by
// BoundDialer(d, connectTimeout), zk.WithMaxBufferSize(MaxBuffer) — followed by rest. withDialer is
// zk.WithDialer, passed so that the list has go-zookeeper's unexported option type:
//
//	zk.Connect(members, timeout, zkopt.Bounded(zk.WithDialer, d, connectTimeout, more...)...)
func Bounded[T ~func(*zk.Conn)](withDialer func(zk.Dialer) T, d zk.Dialer, connectTimeout time.Duration, rest ...func(*zk.Conn)) []T {
	return List(withDialer(BoundDialer(d, connectTimeout)), append([]func(*zk.Conn){zk.WithMaxBufferSize(MaxBuffer)}, rest...)...)
}

// BoundDialer wraps d (nil: net.DialTimeout) so that on every connection the server's first frame,
// the ConnectResponse, must be complete within connectTimeout of the dial and at most MaxBuffer long.
// go-zookeeper reads the ConnectResponse's length under a deadline of ten receive timeouts and its
// body with none at all, and allocates whatever length the server sends; after the ConnectResponse,
// its own deadlines and zk.WithMaxBufferSize apply.
func BoundDialer(d zk.Dialer, connectTimeout time.Duration) zk.Dialer {
	if d == nil {
		d = net.DialTimeout
	}
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		limit := time.Now().Add(connectTimeout)
		c, err := d(network, address, timeout)
		if err != nil {
			return nil, err
		}
		if err := c.SetReadDeadline(limit); err != nil {
			c.Close()
			return nil, err
		}
		return &boundConn{Conn: c, member: address, limit: limit}, nil
	}
}

// boundConn enforces the limits on the first frame read from it. go-zookeeper reads from one
// goroutine at a time, so the fields need no lock.
type boundConn struct {
	net.Conn
	member   string
	limit    time.Time
	head     [4]byte
	got      int   // bytes of the first frame seen so far, length prefix included
	frame    int64 // the first frame's length with its prefix, once known
	done     bool
	deadline time.Time // the caller's read deadline, applied once the frame is in
}

func (c *boundConn) capped(t time.Time) time.Time {
	if t.IsZero() || t.After(c.limit) {
		return c.limit
	}
	return t
}

func (c *boundConn) SetReadDeadline(t time.Time) error {
	if c.done {
		return c.Conn.SetReadDeadline(t)
	}
	c.deadline = t
	return c.Conn.SetReadDeadline(c.capped(t))
}

func (c *boundConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *boundConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.done || n == 0 {
		return n, err
	}
	seen := p[:n]
	for len(seen) > 0 && c.got < 4 {
		c.head[c.got] = seen[0]
		c.got++
		seen = seen[1:]
		if c.got == 4 {
			l := int32(binary.BigEndian.Uint32(c.head[:]))
			if l < 0 || l > MaxBuffer {
				c.Conn.Close()
				return 0, fmt.Errorf("%w: %s sent a first frame of %d bytes, not a ZooKeeper ConnectResponse (is it a TLS port dialed in plaintext, or the reverse?)", wire.ErrFrameTooLarge, c.member, l)
			}
			c.frame = 4 + int64(l)
		}
	}
	if c.got >= 4 {
		c.got += len(seen)
		if int64(c.got) >= c.frame {
			c.done = true
			if derr := c.Conn.SetReadDeadline(c.deadline); derr != nil && err == nil {
				err = derr
			}
		}
	}
	return n, err
}
