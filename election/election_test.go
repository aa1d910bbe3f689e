package election_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
	"github.com/zksecure/zksecure/testenv"
)

func newElection(t testing.TB, c *client.Client) *election.Election {
	t.Helper()
	return newElectionWith(t, c, election.Options{})
}

func newElectionWith(t testing.TB, c *client.Client, opts election.Options) *election.Election {
	t.Helper()
	e, err := election.New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// campaignAsync starts a campaign and returns a channel with its leadership (closed without one when
// the campaign fails, after logging why).
func campaignAsync(t testing.TB, e *election.Election, ctx context.Context, info string) <-chan *election.Leadership {
	ch := make(chan *election.Leadership, 1)
	go func() {
		l, err := e.Campaign(ctx, []byte(info))
		if err == nil {
			ch <- l
		} else if ctx.Err() == nil {
			t.Logf("campaign %s: %v", info, err)
		}
		close(ch)
	}()
	return ch
}

func await(t *testing.T, ch <-chan *election.Leadership, what string) *election.Leadership {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok || l == nil {
			t.Fatalf("%s: campaign failed", what)
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: did not become leader", what)
	}
	return nil
}

func notYet(t *testing.T, ch <-chan *election.Leadership, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s became leader while another leads", what)
	case <-time.After(200 * time.Millisecond):
	}
}

// The same election, secured or open, on 3.8 and 3.4: one leader, order kept, resign hands over,
// Observe and Leader agree, nodes carry the client's ACL, published records are read back.
func TestElectionAcrossSetups(t *testing.T) {
	requireEnv(t)
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cluster := "election-" + s.name
			var es []*election.Election
			for i := 0; i < 3; i++ {
				es = append(es, newElection(t, connect(t, s.config(cluster))))
			}
			obs := es[2].Observe(ctx)
			if first := <-obs; first.Node != "" {
				t.Fatalf("observed leader %q before any campaign", first.Node)
			}
			l0 := await(t, campaignAsync(t, es[0], ctx, "jm-0"), "first contender")
			c1 := campaignAsync(t, es[1], ctx, "jm-1")
			time.Sleep(100 * time.Millisecond) // make the join order certain
			c2 := campaignAsync(t, es[2], ctx, "jm-2")
			notYet(t, c1, "second contender")
			if ev := <-obs; string(ev.Info) != "jm-0" {
				t.Fatalf("observed %q, want jm-0", ev.Info)
			}
			cs := waitContenders(t, ctx, es[0], 3)
			if !strings.HasPrefix(cs[0].Node, election.ProtectedPrefix) || !strings.Contains(cs[0].Node, "-"+election.LockName) ||
				!slices.Equal(infos(cs), []string{"jm-0", "jm-1", "jm-2"}) {
				t.Fatalf("contenders %+v", cs)
			}
			// Every node the election made carries the client's ACL.
			a, _, err := es[0].Client().GetACL(ctx, l0.Node())
			if err != nil {
				t.Fatal(err)
			}
			wantACL := "world:anyone:cdrwa"
			if s.secure {
				wantACL = "sasl:" + kdc.Principal("client") + ":cdrwa"
			}
			if got := acl.Format(a); got != wantACL {
				t.Errorf("latch node ACL %s, want %s", got, wantACL)
			}
			if err := l0.Publish(ctx, "rest_server", "http://jm-0:8081"); err != nil {
				t.Fatal(err)
			}
			info, err := election.ReadLeader(ctx, es[2].Client(), "rest_server")
			if err != nil || info.Address != "http://jm-0:8081" || info.SessionID != l0.SessionID {
				t.Fatalf("ReadLeader = %+v, %v", info, err)
			}
			leaderRecords, err := election.ObserveLeader(ctx, es[2].Client(), "rest_server")
			if err != nil {
				t.Fatal(err)
			}
			if got := <-leaderRecords; got.Address != "http://jm-0:8081" {
				t.Fatalf("ObserveLeader first %+v", got)
			}
			if err := l0.Resign(ctx); err != nil {
				t.Fatal(err)
			}
			<-l0.Done()
			if !errors.Is(l0.Err(), election.ErrResigned) {
				t.Errorf("Err after resign: %v", l0.Err())
			}
			if err := l0.Publish(ctx, "rest_server", "stale"); !errors.Is(err, election.ErrNotLeader) {
				t.Errorf("publish after resign: %v", err)
			}
			l1 := await(t, c1, "second contender")
			notYet(t, c2, "third contender")
			if got := <-leaderRecords; got.Address != "" {
				t.Errorf("record after resign %+v, want none", got)
			}
			if ev := <-obs; string(ev.Info) != "jm-1" {
				t.Fatalf("observed %q after resign, want jm-1", ev.Info)
			}
			if err := l1.Publish(ctx, "rest_server", "http://jm-1:8081"); err != nil {
				t.Fatal(err)
			}
			if got := <-leaderRecords; got.Address != "http://jm-1:8081" || got.SessionID != l1.SessionID {
				t.Errorf("record after handover %+v", got)
			}
			lead, err := es[0].Leader(ctx)
			if err != nil || string(lead.Info) != "jm-1" {
				t.Errorf("Leader = %+v, %v", lead, err)
			}
			// Closing the leader's client (a clean stop) hands over at once.
			es[1].Client().Close()
			l2 := await(t, c2, "third contender")
			select {
			case <-l1.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("leadership of a closed client did not end")
			}
			if !errors.Is(l1.Err(), client.ErrClosed) {
				t.Errorf("leadership of a closed client ended with %v", l1.Err())
			}
			l2.Resign(ctx)
		})
	}
}

func waitContenders(t *testing.T, ctx context.Context, e *election.Election, n int) []election.Contender {
	t.Helper()
	for {
		cs, err := e.Contenders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == n {
			return cs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d contenders, want %d", len(cs), n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func infos(cs []election.Contender) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Info))
	}
	return out
}

// A campaign whose context ends leaves nothing behind.
func TestCampaignCancelRemovesNode(t *testing.T) {
	requireEnv(t)
	s := setups[0]
	ctx := context.Background()
	a, b := newElection(t, connect(t, s.config("cancel"))), newElection(t, connect(t, s.config("cancel")))
	l := await(t, campaignAsync(t, a, ctx, "a"), "a")
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := b.Campaign(cctx, []byte("b")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled campaign: %v", err)
	}
	cs, _ := a.Contenders(ctx)
	if len(cs) != 1 {
		t.Fatalf("contenders after a cancelled campaign: %+v", cs)
	}
	l.Resign(ctx)
}

// Default policy: a Suspended connection revokes leadership, and once reconnected the old node is
// removed so the next contender leads. Tolerant policy: a short suspension keeps leadership; only Lost
// revokes it.
func TestConnectionPolicies(t *testing.T) {
	requireEnv(t)
	s := setups[0]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, tolerate := range []bool{false, true} {
		t.Run(fmt.Sprintf("tolerate=%v", tolerate), func(t *testing.T) {
			cluster := fmt.Sprintf("policy-%v", tolerate)
			proxy := testenv.NewProxy(t, zk38.Members[0].Addr())
			leader := newElectionWith(t, connect(t, s.config(cluster, proxy.Addr)), election.Options{TolerateSuspendedConnections: tolerate})
			other := newElection(t, connect(t, s.config(cluster)))
			l := await(t, campaignAsync(t, leader, ctx, "behind-proxy"), "leader")
			next := campaignAsync(t, other, ctx, "other")
			notYet(t, next, "other")
			proxy.Block()
			time.Sleep(1500 * time.Millisecond) // well within the 4s session timeout
			proxy.Unblock()
			if !tolerate {
				select {
				case <-l.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("leadership survived a suspension under the default policy")
				}
				if !errors.Is(l.Err(), election.ErrSuspended) {
					t.Errorf("revoked with %v, want ErrSuspended", l.Err())
				}
				await(t, next, "other after the old leader's node was removed")
				return
			}
			select {
			case <-l.Done():
				t.Fatalf("tolerant leadership ended on a short suspension: %v", l.Err())
			case <-time.After(2 * time.Second):
			}
			notYet(t, next, "other")
			proxy.Block() // now for longer than the session timeout: Lost
			select {
			case <-l.Done():
			case <-time.After(20 * time.Second):
				t.Fatal("tolerant leadership survived a lost session")
			}
			if !errors.Is(l.Err(), election.ErrSessionLost) {
				t.Errorf("revoked with %v, want ErrSessionLost", l.Err())
			}
			await(t, next, "other after the session was lost")
		})
	}
}

// A 3-member ensemble loses a member: contenders on the other members keep exactly one leader, and at
// no sampled instant do two believe they lead.
func TestEnsembleMemberLossKeepsOneLeader(t *testing.T) {
	requireEnv(t)
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{Members: 3, SASL: &testenv.SASLServer{KDC: kdc}})
	s := setups[0]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type contender struct {
		e      *election.Election
		leader atomic.Pointer[election.Leadership]
	}
	var cs []*contender
	for _, m := range z.Members {
		cfg := s.config("ensemble", m.Addr()) // each contender on its own member
		cs = append(cs, &contender{e: newElection(t, connect(t, cfg))})
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				l, err := c.e.Campaign(ctx, []byte(fmt.Sprint(i)))
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				c.leader.Store(l)
				select {
				case <-l.Done():
				case <-ctx.Done():
				}
				c.leader.Store(nil)
			}
		}()
	}
	leaders := func() (n int, who int) {
		for i, c := range cs {
			if l := c.leader.Load(); l != nil && l.Err() == nil {
				n, who = n+1, i
			}
		}
		return
	}
	waitOne := func() int {
		for {
			if n, who := leaders(); n == 1 {
				return who
			}
			select {
			case <-ctx.Done():
				t.Fatal("no single leader")
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	var violations atomic.Int32
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if n, _ := leaders(); n > 1 {
					violations.Add(1)
				}
			}
		}
	}()
	who := waitOne()
	if err := z.Members[who].Kill(); err != nil { // the leader's own member
		t.Fatal(err)
	}
	// The old leader learns of the loss when its connection drops (Suspended revokes at once).
	for l := cs[who].leader.Load(); l != nil && l.Err() == nil; l = cs[who].leader.Load() {
		select {
		case <-l.Done():
		case <-ctx.Done():
			t.Fatal("the leader on the killed member never noticed")
		}
	}
	next := waitOne()
	close(stop)
	if next == who {
		t.Errorf("contender %d on the killed member still leads", who)
	}
	if v := violations.Load(); v > 0 {
		t.Errorf("%d samples saw two leaders", v)
	}
	cancel()
	wg.Wait()
}
