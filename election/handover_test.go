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

// line is three contenders of one latch on sessions of their own: a leads, b waits behind it, c
// behind b.
type line struct {
	es     [3]*election.Election
	lead   *election.Leadership
	bc, cc <-chan *election.Leadership
	nodes  [3]string // latch paths, in line order
}

func lineUp(t *testing.T, ctx context.Context, cluster string) *line {
	t.Helper()
	s := setups[0]
	var ln line
	for i := range ln.es {
		ln.es[i] = newElection(t, connect(t, s.config(cluster)))
	}
	ln.lead = await(t, campaignAsync(t, ln.es[0], ctx, "a"), "a")
	ln.bc = campaignAsync(t, ln.es[1], ctx, "b")
	waitContenders(t, ctx, ln.es[0], 2)
	ln.cc = campaignAsync(t, ln.es[2], ctx, "c")
	cs := waitContenders(t, ctx, ln.es[0], 3)
	if got := infos(cs); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("contenders %v, want a, b, c", got)
	}
	for i, c := range cs {
		ln.nodes[i] = election.DefaultLatchPath + "/" + c.Node
	}
	time.Sleep(50 * time.Millisecond) // let b and c set their watches
	return &ln
}

// A waiting contender leads on its predecessor's deletion without reading the latch again (the
// hand-over's round trip saved) only where that notification proves it leads: its predecessor was
// the lowest node, and its own node is still there. An operator deleting the waiting contender's
// node just before its predecessor goes — in two requests, or in one multi that deletes it first —
// must not make it lead beside the contender behind it: it joins again, behind that contender,
// which leads. A predecessor that was not the lowest node going away makes no one lead while the
// leader stays.
func TestHandoverWithoutRead(t *testing.T) {
	requireEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("resign", func(t *testing.T) {
		ln := lineUp(t, ctx, uniqueCluster("quick-resign"))
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

	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprintf("own node deleted first, multi=%v", multi), func(t *testing.T) {
			ln := lineUp(t, ctx, uniqueCluster("quick-deleted"))
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

	t.Run("middle contender leaves", func(t *testing.T) {
		ln := lineUp(t, ctx, uniqueCluster("quick-middle"))
		if err := ln.es[2].Client().Delete(ctx, ln.nodes[1], -1); err != nil {
			t.Fatal(err)
		}
		notYet(t, ln.cc, "c, while a leads")
		if got := infos(waitContenders(t, ctx, ln.es[0], 3)); !slices.Equal(got, []string{"a", "c", "b"}) {
			t.Errorf("contenders %v, want a, c, b", got)
		}
		ln.lead.Resign(ctx)
		await(t, ln.cc, "c after a resigned").Resign(ctx)
		await(t, ln.bc, "b after c resigned").Resign(ctx)
	})
}
