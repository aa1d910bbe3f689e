package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

// A member that accepts connections but does not answer (a frozen process: the kernel still
// completes the TCP handshake) is given up on within the Java client's connect timeout — the
// session timeout divided among the members — so that the session reaches a healthy member before
// it expires. Before, a TLS handshake with it was allowed 10 s (and go-zookeeper allows ten read
// timeouts for a ConnectResponse), longer than the whole session.
func TestFrozenMemberIsGivenUpInTime(t *testing.T) {
	requireEnv(t)
	restore(t)
	m2, m3 := ens.Members[1], ens.Members[2]
	p2 := testenv.NewProxy(t, m2.SecureAddr())
	p3 := testenv.NewProxy(t, m3.SecureAddr())
	proxies := map[string]*testenv.Proxy{p2.Addr: p2, p3.Addr: p3}
	behind := map[string]*testenv.Member{p2.Addr: m2, p3.Addr: m3}
	c := connect(t, client.Config{Members: []string{p2.Addr, p3.Addr}, SessionTimeout: 4 * time.Second,
		TLS: tlsWith(pki.Client), SASL: client.SASLKerberos, Kerberos: kerberos(t, "client")})
	states, stop := c.States()
	defer stop()
	first := <-states
	on := first.Member
	var other string
	for a := range proxies {
		if a != on {
			other = a
		}
	}
	if proxies[on] == nil || other == "" {
		t.Fatalf("connected to %q, not to one of the proxies", on)
	}
	sid := c.SessionID()

	// The member behind the other proxy freezes; then the session's own path is cut for a second.
	frozen := behind[other]
	if err := frozen.Freeze(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		frozen.Thaw()
		waitServing(t, frozen)
	}()
	proxies[on].Block()
	time.Sleep(time.Second) // the cut lasts a second: the client tries the frozen member meanwhile
	proxies[on].Unblock()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		select {
		case ev := <-states:
			switch ev.State {
			case client.Reconnected:
				if ev.NewSession || ev.SessionID != sid {
					t.Fatalf("reconnected on a new session 0x%x (was 0x%x): the frozen member held the client past the session timeout", ev.SessionID, sid)
				}
				if ev.Member != on {
					t.Fatalf("reconnected through %s, which is frozen", ev.Member)
				}
				return
			case client.Lost, client.AuthFailed:
				t.Fatalf("%v while a healthy member was reachable: the frozen member held the client too long (%v)", ev.State, ev.Err)
			}
		case <-ctx.Done():
			t.Fatalf("no reconnection: %v (last attempt: %v)", ctx.Err(), c.LastConnectError())
		}
	}
}
