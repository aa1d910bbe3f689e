package election_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/election"
)

// line is contenders of one latch on sessions of their own, in line: a leads, b waits behind it,
// c behind b, and so on.
type line struct {
	es     []*election.Election
	lead   *election.Leadership
	ch     []<-chan *election.Leadership // of each campaign; ch[0] is spent (lead)
	bc, cc <-chan *election.Leadership   // ch[1], ch[2]
	nodes  []string                      // latch paths, in line order
}

func lineUp(t *testing.T, ctx context.Context, cluster string, n int) *line {
	t.Helper()
	s := setups[0]
	ln := &line{}
	names := []string{"a", "b", "c", "d", "e"}[:n]
	for range names {
		ln.es = append(ln.es, newElection(t, connect(t, s.config(cluster))))
	}
	for i, name := range names {
		ln.ch = append(ln.ch, campaignAsync(t, ln.es[i], ctx, name))
		if i == 0 {
			ln.lead = await(t, ln.ch[0], "a")
		}
		waitContenders(t, ctx, ln.es[0], i+1)
	}
	ln.bc, ln.cc = ln.ch[1], ln.ch[2]
	cs := waitContenders(t, ctx, ln.es[0], n)
	if got := infos(cs); !slices.Equal(got, names) {
		t.Fatalf("contenders %v, want %v", got, names)
	}
	for _, c := range cs {
		ln.nodes = append(ln.nodes, election.DefaultLatchPath+"/"+c.Node)
	}
	time.Sleep(50 * time.Millisecond) // let the waiting contenders set their watches
	return ln
}

// A waiting contender leads on its predecessor's deletion without reading the latch again (the
// hand-over's round trip saved) only where that notification proves it leads: its predecessor was
// the lowest node (at its last read, or since the node before it went), and its own node is still
// there. An operator deleting the waiting contender's node just before its predecessor goes — in
// two requests, or in one multi that deletes it first — must not make it lead beside the
// contender behind it: it joins again, behind that contender, which leads; nor, when it is second
// in line after a hand-over, make it lead on the node that is gone. A predecessor that was not the
// lowest node going away makes no one lead while the leader stays.
func TestHandoverWithoutRead(t *testing.T) {
	requireEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("resign", func(t *testing.T) {
		ln := lineUp(t, ctx, uniqueCluster("quick-resign"), 3)
		if err := ln.lead.Resign(ctx); err != nil {
			t.Fatal(err)
		}
		b := await(t, ln.bc, "b after a resigned")
		notYet(t, ln.cc, "c")
		if n := ln.es[1].QuickLeads(); n != 1 {
			t.Errorf("b led after %d quick hand-overs, want 1 (no read after the notification)", n)
		}
		b.Resign(ctx)
		await(t, ln.cc, "c after b resigned").Resign(ctx)
	})

	t.Run("resign twice", func(t *testing.T) {
		ln := lineUp(t, ctx, uniqueCluster("quick-twice"), 3)
		ln.lead.Resign(ctx)
		b := await(t, ln.bc, "b after a resigned")
		b.Resign(ctx)
		c := await(t, ln.cc, "c after b resigned")
		if n := ln.es[2].QuickLeads(); n != 1 {
			t.Errorf("c led after %d quick hand-overs, want 1 (it watched a too)", n)
		}
		c.Resign(ctx)
	})

	t.Run("own node deleted when second in line", func(t *testing.T) {
		ln := lineUp(t, ctx, uniqueCluster("quick-second"), 3)
		ln.lead.Resign(ctx)
		b := await(t, ln.bc, "b after a resigned")
		// c now knows b is the lowest node; its own node and then b's go in one multi.
		if _, err := ln.es[0].Client().Multi(ctx, &zk.DeleteRequest{Path: ln.nodes[2], Version: -1},
			&zk.DeleteRequest{Path: ln.nodes[1], Version: -1}); err != nil {
			t.Fatal(err)
		}
		<-b.Done()
		c := await(t, ln.cc, "c, on a node of its own")
		if c.Node() == ln.nodes[2] || ln.es[2].QuickLeads() != 0 {
			t.Errorf("c leads on %s (its deleted node: %s) after %d quick hand-overs, want a new node after a read",
				c.Node(), ln.nodes[2], ln.es[2].QuickLeads())
		}
		c.Resign(ctx)
	})

	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprintf("own node deleted first, multi=%v", multi), func(t *testing.T) {
			ln := lineUp(t, ctx, uniqueCluster("quick-deleted"), 3)
			admin := ln.es[2].Client()
			var err error
			if multi {
				_, err = admin.Multi(ctx, &zk.DeleteRequest{Path: ln.nodes[1], Version: -1}, &zk.DeleteRequest{Path: ln.nodes[0], Version: -1})
			} else if err = admin.Delete(ctx, ln.nodes[1], -1); err == nil {
				err = admin.Delete(ctx, ln.nodes[0], -1)
			}
			if err != nil {
				t.Fatal(err)
			}
			<-ln.lead.Done()
			if !errors.Is(ln.lead.Err(), election.ErrNodeDeleted) {
				t.Errorf("a's leadership ended with %v, want ErrNodeDeleted", ln.lead.Err())
			}
			c := await(t, ln.cc, "c, the only contender left with its node")
			notYet(t, ln.bc, "b, whose node was deleted")
			// b joined again, behind c.
			if got := infos(waitContenders(t, ctx, ln.es[0], 2)); !slices.Equal(got, []string{"c", "b"}) {
				t.Errorf("contenders %v, want c, b", got)
			}
			if n := ln.es[1].QuickLeads(); n != 0 {
				t.Errorf("b: %d quick hand-overs, want 0", n)
			}
			c.Resign(ctx)
			await(t, ln.bc, "b after c resigned").Resign(ctx)
		})
	}

	t.Run("middle contenders leave", func(t *testing.T) {
		// d watches c and b; neither was the lowest node: their deletions must not make d lead.
		ln := lineUp(t, ctx, uniqueCluster("quick-middle"), 4)
		admin := ln.es[0].Client()
		for _, p := range []string{ln.nodes[1], ln.nodes[2]} {
			if err := admin.Delete(ctx, p, -1); err != nil {
				t.Fatal(err)
			}
		}
		notYet(t, ln.ch[3], "d, while a leads")
		notYet(t, ln.cc, "c, while a leads")
		if got := infos(waitContenders(t, ctx, ln.es[0], 4)); got[0] != "a" || got[1] != "d" {
			t.Errorf("contenders %v, want a, d, then b and c again", got)
		}
		ln.lead.Resign(ctx)
		await(t, ln.ch[3], "d after a resigned").Resign(ctx)
		for bc, cc := ln.bc, ln.cc; bc != nil || cc != nil; {
			var l *election.Leadership
			select {
			case l = <-bc:
				bc = nil
			case l = <-cc:
				cc = nil
			case <-ctx.Done():
				t.Fatal("b and c did not lead in turn after d resigned")
			}
			if l == nil {
				t.Fatal("a campaign of b or c failed")
			}
			l.Resign(ctx)
		}
	})
}
