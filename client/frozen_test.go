package client_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

// heldConns forwards to a target and records when each connection opened and when the client
// closed it; kick closes the open ones.
type heldConns struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []*heldConn
	wg     sync.WaitGroup
}

type heldConn struct {
	c          net.Conn
	start, end time.Time
}

func newHeldConns(t *testing.T, target string) *heldConns {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &heldConns{l: l, target: target}
	h.wg.Add(1)
	go h.accept()
	t.Cleanup(func() { l.Close(); h.kick(); h.wg.Wait() })
	return h
}

func (h *heldConns) addr() string {
	_, p, _ := net.SplitHostPort(h.l.Addr().String())
	return "localhost:" + p
}

func (h *heldConns) accept() {
	defer h.wg.Done()
	for {
		c, err := h.l.Accept()
		if err != nil {
			return
		}
		hc := &heldConn{c: c, start: time.Now()}
		h.mu.Lock()
		h.conns = append(h.conns, hc)
		h.mu.Unlock()
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			if up, err := net.Dial("tcp", h.target); err == nil {
				go func() { io.Copy(c, up); c.Close() }()
				io.Copy(up, c) // returns when the client closes its side
				up.Close()
			}
			c.Close()
			h.mu.Lock()
			hc.end = time.Now()
			h.mu.Unlock()
		}()
	}
}

func (h *heldConns) kick() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, hc := range h.conns {
		hc.c.Close()
	}
}

// heldSince returns how long each connection opened after t was (or is still) held.
func (h *heldConns) heldSince(t time.Time) []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []time.Duration
	for _, hc := range h.conns {
		if hc.start.Before(t) {
			continue
		}
		end := hc.end
		if end.IsZero() {
			end = time.Now()
		}
		out = append(out, end.Sub(hc.start))
	}
	return out
}

// A member that accepts connections but does not answer (a frozen process: the kernel still
// completes the TCP handshake) is given up on within the Java client's connect timeout — the
// session timeout divided among the members — and the client goes on to a member that answers.
// Before, a TLS handshake with it was allowed 10 s, and go-zookeeper allows ten read timeouts for a
// ConnectResponse: both longer than the session.
func TestFrozenMemberIsGivenUpInTime(t *testing.T) {
	requireEnv(t)
	restore(t)
	frozen, healthy := ens.Members[1], ens.Members[2]
	toFrozen := newHeldConns(t, frozen.SecureAddr())
	toHealthy := testenv.NewProxy(t, healthy.SecureAddr())
	const session = 4 * time.Second
	attempt := session / 2 // two members
	// Connect while both answer; the session lands on either.
	c := connect(t, client.Config{Members: []string{toFrozen.addr(), toHealthy.Addr}, SessionTimeout: session,
		TLS: tlsWith(pki.Client), SASL: client.SASLKerberos, Kerberos: kerberos(t, "client")})
	states, stop := c.States()
	defer stop()
	first := <-states
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if first.Member == toFrozen.addr() { // move the session to the healthy path first
		toFrozen.kick()
		for moved := false; !moved; {
			select {
			case ev := <-states:
				moved = ev.State == client.Reconnected && ev.Member == toHealthy.Addr
			case <-ctx.Done():
				t.Fatalf("the session did not move to %s: %v", toHealthy.Addr, ctx.Err())
			}
		}
	}

	frozenAt := time.Now()
	if err := frozen.Freeze(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		frozen.Thaw()
		waitServing(t, frozen)
	}()
	// Cut the healthy path for a moment: the client now tries the frozen member.
	toHealthy.Block()
	time.Sleep(attempt / 2)
	toHealthy.Unblock()

	reconnected := false
	for !reconnected {
		select {
		case ev := <-states:
			switch ev.State {
			case client.Reconnected:
				if ev.Member != toHealthy.Addr {
					t.Fatalf("reconnected through %s, which is frozen", ev.Member)
				}
				reconnected = true
			case client.AuthFailed:
				t.Fatalf("AuthFailed because a member froze: %v", ev.Err)
			}
		case <-ctx.Done():
			t.Fatalf("no reconnection: %v (last attempt: %v)", ctx.Err(), c.LastConnectError())
		}
	}
	// The client did try the frozen member (else this test proved nothing), and gave up every
	// attempt on it within the attempt timeout, plus a second of slack for a loaded machine.
	held := toFrozen.heldSince(frozenAt)
	if len(held) == 0 {
		t.Fatal("the client never tried the frozen member: the test did not exercise the attempt limit")
	}
	for _, d := range held {
		if d > attempt+time.Second {
			t.Errorf("an attempt on the frozen member was held %v (the limit is %v)", d.Round(time.Millisecond), attempt)
		}
	}
}
