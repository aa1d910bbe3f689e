package session

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/zksecure/zksecure/internal/wire"
)

func connectResponse(sessionID uint64) []byte {
	frame := binary.BigEndian.AppendUint32(nil, 36)
	frame = binary.BigEndian.AppendUint32(frame, 0)    // protocolVersion
	frame = binary.BigEndian.AppendUint32(frame, 4000) // timeOut, ms
	frame = binary.BigEndian.AppendUint64(frame, sessionID)
	return append(binary.BigEndian.AppendUint32(frame, 16), make([]byte, 16)...)
}

// The preamble runs once, on the first connection with a session, between the ConnectResponse and
// go-zookeeper's first read of it, which then gets the ConnectResponse whole; an expired session
// (id 0) does not count, and a failing preamble fails the connection.
func TestPreambleRunsOnceBeforeGoZookeeper(t *testing.T) {
	var ran []string
	reply := []byte{0, 0, 0, 4, 'p', 'o', 'n', 'g'}
	p := func(member string, rw io.ReadWriter) error {
		ran = append(ran, member)
		if _, err := rw.Write([]byte("ping")); err != nil {
			return err
		}
		_, body, err := wire.ReadFrame(rw)
		if err == nil && string(body) != "pong" {
			err = errors.New("unexpected reply " + string(body))
		}
		return err
	}
	servers := make(chan net.Conn, 4)
	d := withPreamble(func(string, string, time.Duration) (net.Conn, error) {
		client, server := net.Pipe()
		servers <- server
		return client, nil
	}, p, time.Minute)

	// A server that answers the ConnectResponse with sessionID, then, if asked, the preamble.
	serve := func(sessionID uint64, answer bool) {
		server := <-servers
		go func() {
			defer server.Close()
			server.Write(connectResponse(sessionID))
			if answer {
				buf := make([]byte, 4)
				io.ReadFull(server, buf)
				server.Write(reply)
			}
			server.Write([]byte("after"))
		}()
	}
	read := func(c net.Conn) []byte {
		var got bytes.Buffer
		buf := make([]byte, 7)
		for {
			n, err := c.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				return got.Bytes()
			}
		}
	}

	expired, _ := d("tcp", "zk1:2181", time.Second)
	serve(0, false)
	if got := read(expired); !bytes.Equal(got, append(connectResponse(0), "after"...)) || len(ran) != 0 {
		t.Errorf("expired session: read %q, preamble ran on %v; want the ConnectResponse and no preamble", got, ran)
	}
	first, _ := d("tcp", "zk2:2181", time.Second)
	serve(7, true)
	if got := read(first); !bytes.Equal(got, append(connectResponse(7), "after"...)) || len(ran) != 1 || ran[0] != "zk2:2181" {
		t.Errorf("first session: read %q, preamble ran on %v; want the ConnectResponse, then the rest, and the preamble on zk2", got, ran)
	}
	again, _ := d("tcp", "zk3:2181", time.Second)
	serve(7, false)
	if got := read(again); !bytes.Equal(got, append(connectResponse(7), "after"...)) || len(ran) != 1 {
		t.Errorf("reconnection: read %q, preamble ran on %v; want it not to run again", got, ran)
	}

	failing := withPreamble(func(string, string, time.Duration) (net.Conn, error) {
		client, server := net.Pipe()
		servers <- server
		return client, nil
	}, func(string, io.ReadWriter) error { return errors.New("no") }, time.Minute)
	c, _ := failing("tcp", "zk1:2181", time.Second)
	serve(9, false)
	if _, err := c.Read(make([]byte, 4)); err == nil {
		t.Error("a failing preamble: the read succeeded; want the connection failed")
	}
}
