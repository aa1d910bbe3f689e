package zkopt

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/internal/wire"
)

// hostile accepts connections, reads the ConnectRequest, sends first (a frame prefix) and then
// nothing; each connection's closing by the client is reported on the returned channel.
func hostile(t *testing.T, first []byte) (addr string, closed <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan struct{}, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				if _, _, err := wire.ReadFrame(c); err != nil {
					return
				}
				c.Write(first)
				if _, err := io.Copy(io.Discard, c); err == nil { // EOF: the client closed
					ch <- struct{}{}
				}
			}()
		}
	}()
	return l.Addr().String(), ch
}

func connect(t *testing.T, addr string) {
	t.Helper()
	c, _, err := zk.Connect([]string{addr}, 10*time.Second, Bounded(zk.WithDialer, nil, 300*time.Millisecond,
		zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogInfo(false), zk.WithLogger(discard{}))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
}

type discard struct{}

func (discard) Printf(string, ...any) {}

// A server that claims a 4 GiB ConnectResponse is dropped at once: go-zookeeper alone would allocate
// what it claims.
func TestHugeConnectResponseIsRefused(t *testing.T) {
	addr, closed := hostile(t, []byte{0xff, 0xff, 0xff, 0xf0})
	connect(t, addr)
	select {
	case <-closed:
	case <-time.After(15 * time.Second):
		t.Fatal("the client kept a connection whose ConnectResponse claims 4 GiB")
	}
}

// A server that sends the ConnectResponse's length and then stalls is dropped at the connect
// timeout: go-zookeeper alone reads the body with no deadline at all.
func TestStalledConnectResponseTimesOut(t *testing.T) {
	addr, closed := hostile(t, binary.BigEndian.AppendUint32(nil, 37))
	connect(t, addr)
	select {
	case <-closed:
	case <-time.After(15 * time.Second):
		t.Fatal("the client waited for the rest of a ConnectResponse past its connect timeout")
	}
}

// Byte by byte, the first frame is checked as it arrives, and after it the caller's deadline is back.
func TestBoundConnCountsTheFirstFrame(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	d := BoundDialer(func(string, string, time.Duration) (net.Conn, error) { return a, nil }, time.Minute)
	c, err := d("tcp", "member:2181", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	go func() { b.Write([]byte{0, 0, 0, 2, 7, 7, 0xff, 0xff, 0xff, 0xff}) }()
	buf := make([]byte, 1)
	for i := 0; i < 6; i++ {
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
	if !c.(*boundConn).done {
		t.Fatal("first frame not recognised as complete")
	}
	// The next frame claims 4 GiB too, but only the first is the guard's business.
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	c2, _ := BoundDialer(func(string, string, time.Duration) (net.Conn, error) { return b, nil }, time.Minute)("tcp", "m", time.Second)
	go func() { a.Write([]byte{0x80, 0, 0, 0}) }()
	if _, err := io.ReadFull(c2, make([]byte, 4)); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("negative length: %v", err)
	}
}
