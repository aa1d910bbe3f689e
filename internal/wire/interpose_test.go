package wire

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// The layer's exchange runs on the first Read, before the reader sees anything: the reader gets
// the frame first returned, then the connection's later bytes; and first's error closes the
// connection and fails every Read with it.
func TestInterpose(t *testing.T) {
	t.Run("frame first, then the rest", func(t *testing.T) {
		client, server := net.Pipe()
		defer server.Close()
		go func() {
			server.Write([]byte("exchange"))
			server.Write([]byte("later"))
		}()
		var ran int
		c := Interpose(client, func(raw net.Conn, _ time.Time) ([]byte, error) {
			ran++
			b := make([]byte, len("exchange"))
			if _, err := io.ReadFull(raw, b); err != nil {
				return nil, err
			}
			raw.SetDeadline(time.Now().Add(time.Nanosecond)) // restored before the reader reads on
			return []byte("frame"), nil
		})
		defer c.Close()
		got := make([]byte, len("framelater"))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if string(got) != "framelater" || ran != 1 {
			t.Fatalf("read %q with first run %d times, want %q once", got, ran, "framelater")
		}
	})
	t.Run("an error closes the connection", func(t *testing.T) {
		client, server := net.Pipe()
		defer server.Close()
		refused := errors.New("refused")
		c := Interpose(client, func(net.Conn, time.Time) ([]byte, error) { return nil, refused })
		for range 2 {
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, refused) {
				t.Fatalf("Read: %v, want %v", err, refused)
			}
		}
		if _, err := server.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
			t.Fatalf("the other end could still write (%v): the connection was not closed", err)
		}
	})
}
