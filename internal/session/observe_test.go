package session

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives its tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The negotiated timeout and session id are read from the ConnectResponse however go-zookeeper's
// reads split it; a read that fails before it is reported as a failed attempt.
func TestObserveRecordsTheConnectResponse(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	var failures []error
	h := &Handshake{}
	d := observe(func(string, string, time.Duration) (net.Conn, error) { return client, nil }, time.Minute, h,
		func(_ string, err error) { failures = append(failures, err) }, slog.New(slog.DiscardHandler))
	c, err := d("tcp", "zk1:2181", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	frame := binary.BigEndian.AppendUint32(nil, 36)                               // length
	frame = binary.BigEndian.AppendUint32(frame, 0)                               // protocolVersion
	frame = binary.BigEndian.AppendUint32(frame, 4000)                            // timeOut, ms
	frame = binary.BigEndian.AppendUint64(frame, 0x1234)                          // sessionId
	frame = append(binary.BigEndian.AppendUint32(frame, 16), make([]byte, 16)...) // passwd
	go func() {
		for _, part := range [][]byte{frame[:3], frame[3:15], frame[15:]} {
			server.Write(part)
		}
		server.Close()
	}()
	buf := make([]byte, 7)
	for {
		if _, err := c.Read(buf); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if h.Timeout() != 4*time.Second || h.SessionID() != 0x1234 {
		t.Errorf("Handshake = %v, 0x%x; want 4s, 0x1234", h.Timeout(), h.SessionID())
	}
	if len(failures) != 0 {
		t.Errorf("failures after the ConnectResponse: %v", failures)
	}

	c2, s2 := net.Pipe()
	s2.Close()
	oc, _ := observe(func(string, string, time.Duration) (net.Conn, error) { return c2, nil }, time.Minute, &Handshake{},
		func(_ string, err error) { failures = append(failures, err) }, slog.New(slog.DiscardHandler))("tcp", "zk2:2181", time.Second)
	if _, err := oc.Read(buf); err == nil || len(failures) != 1 {
		t.Errorf("a read failing before the ConnectResponse: err %v, %d failures reported", err, len(failures))
	}
}
