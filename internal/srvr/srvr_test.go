package srvr

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives its tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Ask returns as soon as the answer is complete, without waiting for the server to close the
// connection (over TLS it closes well after the answer); an answer that is not complete is read
// until the close.
func TestAskStopsAtTheCompleteAnswer(t *testing.T) {
	answer := "Zookeeper version: 3.8.0-abc, built on 2022\nLatency min/avg/max: 0/0.0/0\nMode: follower\nNode count: 5\n"
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	go func() {
		io.ReadFull(server, make([]byte, 4)) // srvr
		server.Write([]byte(answer[:30]))
		server.Write([]byte(answer[30:])) // and the connection stays open
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := Ask(ctx, client)
	if err != nil || got != answer {
		t.Fatalf("Ask = %q, %v; want the answer at once", got, err)
	}

	notServing := "This ZooKeeper instance is not currently serving requests\n"
	client2, server2 := net.Pipe()
	defer client2.Close()
	go func() {
		io.ReadFull(server2, make([]byte, 4))
		server2.Write([]byte(notServing))
		server2.Close()
	}()
	if _, err := Ask(ctx, client2); err == nil || !strings.Contains(err.Error(), "not currently serving") {
		t.Errorf("a member that does not serve: %v", err)
	}
}
