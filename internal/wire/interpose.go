package wire

import (
	"net"
	"time"
)

// Interpose returns c wrapped so that its first Read first runs first on c itself. first gets the
// read deadline last set through the wrapper (zero if none: go-zookeeper sets one before its
// handshake's Read), reads the ConnectResponse frame itself (ReadFrame), makes whatever exchange
// it makes after it, and returns that frame. The wrapper then hands the frame to the reader before
// anything else read from c, having cleared the write deadline and restored the read deadline that
// first may have changed. An error from first closes c and fails every Read with it.
//
// This is how a layer speaks on a session's connection between the ConnectResponse and
// go-zookeeper's first request: go-zookeeper sends nothing until its handshake's Read returns the
// ConnectResponse, so nothing of its can leave before first is done. Reads must come from one
// goroutine at a time (go-zookeeper's handshake, then its receive loop), so the wrapper needs no
// lock.
func Interpose(c net.Conn, first func(raw net.Conn, readDeadline time.Time) (frame []byte, err error)) net.Conn {
	return &interposed{Conn: c, first: first}
}

type interposed struct {
	net.Conn
	first    func(net.Conn, time.Time) ([]byte, error)
	started  bool
	err      error
	replay   []byte    // the ConnectResponse frame, handed to the reader after first
	deadline time.Time // the reader's read deadline, restored after first
}

func (c *interposed) SetReadDeadline(t time.Time) error {
	c.deadline = t
	return c.Conn.SetReadDeadline(t)
}

func (c *interposed) SetDeadline(t time.Time) error {
	c.deadline = t
	return c.Conn.SetDeadline(t)
}

func (c *interposed) Read(p []byte) (int, error) {
	if !c.started {
		c.started = true
		c.replay, c.err = c.first(c.Conn, c.deadline)
		if c.err == nil {
			c.Conn.SetWriteDeadline(time.Time{})
			c.err = c.Conn.SetReadDeadline(c.deadline)
		}
		if c.err != nil {
			c.Conn.Close()
		}
	}
	if c.err != nil {
		return 0, c.err
	}
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
