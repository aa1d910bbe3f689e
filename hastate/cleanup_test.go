package hastate_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zksecure/zksecure/election"
	"github.com/zksecure/zksecure/hastate"
)

// Cleaning one cluster written by this project's election and by Curator, under creator ACLs:
// refused for another principal (it may not even read the nodes) and while the cluster runs (live
// latch contenders); once its JobManagers are gone, the owning principal deletes every node,
// deepest first, and nothing of the neighbour cluster.
func TestCleanup(t *testing.T) {
	testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	const root, cluster = "/cln", "/gone"
	jm := connect(t, config("flink/jm1", root, cluster))
	e, _ := election.New(jm, election.Options{})
	l, err := e.Campaign(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Publish(ctx, "dispatcher", "pekko.tcp://flink@jm1:6123/user/rpc/dispatcher_0"); err != nil {
		t.Fatal(err)
	}
	job := strings.ReplaceAll(uuid.NewString(), "-", "")
	flinkJob(t, ctx, jm, job)
	cur := javaPeer(t, ctx, "flink/jm2")
	if err := cur.CuratorLatchCreator(ctx, server.ConnectString(), root+cluster, "/leader/latch", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := cur.CuratorSetCounter(ctx, server.ConnectString(), root+cluster, "/jobs/"+job+"/checkpoint_id_counter", 4, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Curator contender", func() bool { cs, err := e.Contenders(ctx); return err == nil && len(cs) == 2 })
	keep := connect(t, config("flink/jm1", root, "/keep"))
	if err := keep.CreateAll(ctx, "/jobgraphs"); err != nil {
		t.Fatal(err)
	}

	// Another principal: refused, with the reason.
	other := connect(t, config("other", root, cluster))
	if _, err := hastate.Identities(ctx, other.Conn(), root); err == nil {
		t.Error("other may create a node in the creator-only root")
	}
	p, err := hastate.PlanCleanup(ctx, other.Conn(), root+cluster, hastate.CleanupOptions{})
	if !errors.Is(err, hastate.ErrRefused) || p == nil || !strings.Contains(p.Refused, "cannot read "+root+cluster) ||
		!strings.Contains(p.Refused, "not authenticated") || !strings.Contains(p.Refused, "hidden from this identity") {
		t.Fatalf("cleanup as another principal: %v", err)
	}
	t.Logf("as another principal: %v", err)
	if _, err := p.Apply(ctx, other.Conn(), nil); !errors.Is(err, hastate.ErrRefused) {
		t.Fatalf("applying a refused plan: %v", err)
	}

	// The owning principal, while the cluster runs: refused.
	cleaner := connect(t, config("flink/jm1", root, cluster))
	self := identities(t, ctx, cleaner, root)
	p, err = hastate.PlanCleanup(ctx, cleaner.Conn(), root+cluster, hastate.CleanupOptions{Self: self})
	if !errors.Is(err, hastate.ErrRefused) || !strings.Contains(p.Refused, "2 latch contender(s) have live sessions") || len(p.Live) != 4 {
		t.Fatalf("cleanup of a running cluster: %v (live %+v)", err, p.Live)
	}
	t.Logf("while running: %v", err)

	// The JobManagers stop (a resign, a process exit): now it goes.
	l.Resign(ctx)
	jm.Close()
	if _, err := cur.Do(ctx, "latch-stop"); err != nil {
		t.Fatal(err)
	}
	p, err = hastate.PlanCleanup(ctx, cleaner.Conn(), root+cluster, hastate.CleanupOptions{Self: self})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	p.WriteText(&text)
	t.Logf("plan:\n%s", text.String())
	if last := p.Nodes[len(p.Nodes)-1].Path; last != root+cluster {
		t.Fatalf("the cluster's node must go last, not %s", last)
	}
	var got []string
	removed, err := p.Apply(ctx, cleaner.Conn(), func(p string) { got = append(got, p) })
	if err != nil || len(removed) != len(p.Nodes) || len(got) != len(removed) {
		t.Fatalf("cleanup: removed %d of %d: %v", len(removed), len(p.Nodes), err)
	}
	for _, want := range []string{"/leader/latch", "/leader/dispatcher", "/jobs/" + job + "/checkpoint_id_counter", "/jobgraphs/" + job} {
		if !strings.Contains(strings.Join(removed, " "), root+cluster+want+" ") {
			t.Errorf("%s was not removed: %v", want, removed)
		}
	}
	if ok, _, err := cleaner.Conn().Exists(root + cluster); ok || err != nil {
		t.Errorf("the cluster node is still there (%v)", err)
	}
	if ok, _, err := cleaner.Conn().Exists(root + "/keep/jobgraphs"); !ok || err != nil {
		t.Errorf("the neighbour cluster lost a node (%v)", err)
	}
	if p, err := hastate.PlanCleanup(ctx, cleaner.Conn(), root+cluster, hastate.CleanupOptions{Self: self}); err != nil || len(p.Nodes) != 0 {
		t.Errorf("a second cleanup finds nothing: %+v %v", p, err)
	}
	if _, err := hastate.PlanCleanup(ctx, cleaner.Conn(), root, hastate.CleanupOptions{}); err == nil {
		t.Error("a cleanup of a root was accepted")
	}
}
