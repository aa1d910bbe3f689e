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
	"github.com/zksecure/zksecure/preflight"
	"github.com/zksecure/zksecure/testenv"
)

// openTree writes, as an unauthenticated Java client, what a Flink cluster with the default
// acl: open leaves: every node world:anyone:cdrwa.
func openTree(t *testing.T, ctx context.Context, j *testenv.JavaClient, root string, clusters ...string) int {
	t.Helper()
	n := 0
	mk := func(p, data string) {
		if _, err := j.Create(ctx, p, data, "open", "persistent"); err != nil {
			t.Fatalf("creating %s: %v", p, err)
		}
		n++
	}
	mk(root, "")
	for _, cl := range clusters {
		job := strings.ReplaceAll(uuid.NewString(), "-", "")
		base := root + cl
		for _, p := range []string{base, base + "/leader", base + "/leader/latch", base + "/leader/rest_server", base + "/jobgraphs",
			base + "/jobgraphs/" + job, base + "/jobs", base + "/jobs/" + job, base + "/jobs/" + job + "/checkpoints",
			base + "/jobs/" + job + "/checkpoints/0000000000000000003", base + "/jobs/" + job + "/checkpoint_id_counter"} {
			mk(p, "state")
		}
	}
	return n
}

// Migrating an open HA tree to creator-only: the plan lists every node with its old and new ACL;
// a run interrupted halfway is finished by running it again; then the tree is closed to an
// unauthenticated client, the checker's acl-audit passes, and every JobManager principal — Go
// contenders and a Curator LeaderLatch — still campaigns and publishes.
func TestMigration(t *testing.T) {
	testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	const root, cluster = "/mig", "/analytics"
	anon := javaPeer(t, ctx, "")
	openTree(t, ctx, anon, root, cluster, "/neighbour")
	// Before: anyone can write the root.
	if _, err := anon.Create(ctx, root+"/intruder", "x", "open", "persistent"); err != nil {
		t.Fatalf("before the migration an unauthenticated client should write the root: %v", err)
	}
	if _, err := anon.Do(ctx, "delete", root+"/intruder"); err != nil {
		t.Fatal(err)
	}

	jm := connect(t, config("flink/jm1", root, cluster))
	self := identities(t, ctx, jm, root)
	var jmIDs []string
	for _, p := range []string{"flink/jm1", "flink/jm2"} {
		jmIDs = append(jmIDs, hastate.PredictSASLID(kdc.Principal("flink/jm1"), self[0].ID, kdc.Principal(p)))
	}
	newACL, _, err := hastate.Target{Self: self, JobManagerIDs: jmIDs}.ACL()
	if err != nil {
		t.Fatal(err)
	}
	opts := hastate.MigrationOptions{Root: root, ClusterID: cluster, ACL: newACL}
	plan, err := hastate.PlanMigration(ctx, jm.Conn(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	plan.WriteText(&text)
	t.Logf("plan:\n%s", text.String())
	if len(plan.Changes) != 12 || plan.Changes[0].Path != root || plan.Changes[1].Path != root+cluster || plan.Unchanged != 0 {
		t.Fatalf("plan: the root node and the cluster's 11 nodes, top-down: %+v", plan)
	}
	for _, c := range plan.Changes {
		if c.Old != "world:anyone:cdrwa" || c.New != "sasl:flink@EXAMPLE.COM:cdrwa" || strings.Contains(c.Path, "neighbour") {
			t.Errorf("plan entry %+v", c)
		}
	}

	// Interrupted after 4 nodes: the next plan has the rest, and applying it finishes the job.
	ictx, interrupt := context.WithCancel(ctx)
	done := 0
	_, err = plan.Apply(ictx, jm.Conn(), func(hastate.ACLChange, error) {
		if done++; done == 4 {
			interrupt()
		}
	})
	interrupt()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted apply: %v", err)
	}
	rest, err := hastate.PlanMigration(ctx, jm.Conn(), opts)
	if err != nil || len(rest.Changes) != len(plan.Changes)-4 || rest.Unchanged != 4 {
		t.Fatalf("plan after the interruption: %d to change, %d unchanged, %v", len(rest.Changes), rest.Unchanged, err)
	}
	res, err := rest.Apply(ctx, jm.Conn(), nil)
	if err != nil || res.Changed != len(rest.Changes) {
		t.Fatalf("resumed apply: %+v %v", res, err)
	}
	again, err := hastate.PlanMigration(ctx, jm.Conn(), opts)
	if err != nil || len(again.Changes) != 0 || again.Unchanged != 12 {
		t.Fatalf("idempotent: a third plan changes nothing: %+v %v", again, err)
	}

	// After: an unauthenticated client may not write the root, nor the cluster; the neighbour
	// cluster (not in scope) is as it was.
	var je *testenv.JavaError
	if _, err := anon.Create(ctx, root+"/intruder", "x", "open", "persistent"); !errors.As(err, &je) || je.Code != "NOAUTH" {
		t.Errorf("unauthenticated create under the migrated root: %v, want NOAUTH", err)
	}
	if _, err := anon.Do(ctx, "set", root+cluster+"/leader", "x"); !errors.As(err, &je) || je.Code != "NOAUTH" {
		t.Errorf("unauthenticated set in the migrated cluster: %v, want NOAUTH", err)
	}
	if a, err := anon.GetACL(ctx, root+"/neighbour/leader"); err != nil || strings.Join(a, "|") != "world:anyone:cdrwa" {
		t.Errorf("the neighbour cluster's ACL changed: %v %v", a, err)
	}
	// Scope root would take the neighbour too (and nothing else: the rest is done).
	whole, err := hastate.PlanMigration(ctx, jm.Conn(), hastate.MigrationOptions{Root: root, Scope: hastate.ScopeRoot, ACL: newACL})
	if err != nil || len(whole.Changes) != 11 || whole.Unchanged != 12 || !strings.HasPrefix(whole.Changes[0].Path, root+"/neighbour") {
		t.Errorf("scope root: %d to change, %d unchanged, %v", len(whole.Changes), whole.Unchanged, err)
	}

	// The checker's acl-audit passes.
	cfg := config("flink/jm1", root, cluster)
	rep := preflight.Run(ctx, preflight.Options{Client: cfg, JobManagerPrincipals: []string{kdc.Principal("flink/jm1"), kdc.Principal("flink/jm2")}})
	for _, r := range rep.Checks {
		if r.Name == preflight.CheckACLAudit && r.Status != preflight.Pass {
			t.Errorf("acl-audit after the migration: %s %s (fix: %s)", r.Status, r.Message, r.Fix)
		}
	}

	// Every JobManager principal still campaigns and publishes: Go as flink/jm1, Curator as
	// flink/jm2 (Flink's creator ACL provider), Go as flink/jm2.
	e1, _ := election.New(jm, election.Options{})
	l1, err := e1.Campaign(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l1.Publish(ctx, "rest_server", "http://jm1:8081"); err != nil {
		t.Fatalf("jm1 publishing after the migration: %v", err)
	}
	cur := javaPeer(t, ctx, "flink/jm2")
	if err := cur.CuratorLatchCreator(ctx, server.ConnectString(), root+cluster, "/leader/latch", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	defer cur.Do(context.WithoutCancel(ctx), "latch-stop")
	contenders := func(n int) func() bool {
		return func() bool { cs, err := e1.Contenders(ctx); return err == nil && len(cs) == n }
	}
	waitFor(t, "the Curator contender", contenders(2))
	jm2 := connect(t, config("flink/jm2", root, cluster))
	e2, _ := election.New(jm2, election.Options{})
	got2 := make(chan *election.Leadership, 1)
	go func() {
		l, err := e2.Campaign(ctx, nil)
		if err != nil {
			t.Errorf("jm2 campaign: %v", err)
		}
		got2 <- l
	}()
	waitFor(t, "the second Go contender", contenders(3))
	if err := l1.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Curator to lead", func() bool { idx, err := cur.CuratorLeaders(ctx); return err == nil && len(idx) == 1 })
	// Curator's JobManager publishes as Flink does (its own ZooKeeper client, same principal).
	if _, err := cur.Create(ctx, root+cluster+"/leader/dispatcher", "", "creator", "persistent"); err != nil {
		t.Fatalf("jm2 (Java) creating under the migrated tree: %v", err)
	}
	if _, err := cur.Do(ctx, "record-put", root+cluster+"/leader/dispatcher/connection_info", "pekko%3A%2F%2Fjm2", uuid.NewString()); err != nil {
		t.Fatalf("jm2 (Java) publishing: %v", err)
	}
	if _, err := cur.Do(ctx, "latch-close", "0"); err != nil {
		t.Fatal(err)
	}
	var l2 *election.Leadership
	select {
	case l2 = <-got2:
	case <-ctx.Done():
		t.Fatal("jm2 (Go) never led")
	}
	if l2 == nil {
		t.FailNow()
	}
	if err := l2.Publish(ctx, "rest_server", "http://jm2:8081"); err != nil {
		t.Fatalf("jm2 (Go) publishing after the migration: %v", err)
	}
	if info, err := election.ReadLeader(ctx, jm, "rest_server"); err != nil || info.Address != "http://jm2:8081" {
		t.Errorf("leader record: %+v %v", info, err)
	}
	l2.Resign(ctx)
}
