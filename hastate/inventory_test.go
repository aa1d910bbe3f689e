package hastate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"

	"github.com/zksecure/zksecure/election"
	"github.com/zksecure/zksecure/hastate"
)

// waitFor polls cond until it holds (every 50ms, for at most 20s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// flinkJob writes what a Flink JobManager keeps for one running job: the job graph pointer (with an
// ephemeral lock, as ZooKeeperStateHandleStore holds one), a completed checkpoint pointer, and —
// through a real Curator SharedCount — the checkpoint id counter.
func flinkJob(t *testing.T, ctx context.Context, c interface {
	CreateAll(context.Context, string) error
	Create(context.Context, string, []byte, int32, []zk.ACL) (string, error)
}, job string) {
	t.Helper()
	if err := c.CreateAll(ctx, "/jobgraphs"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "/jobgraphs/"+job, bytes.Repeat([]byte{0xac}, 1134), 0, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/jobgraphs/" + job + "/locks", "/jobs/" + job + "/checkpoints"} {
		if err := c.CreateAll(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create(ctx, "/jobgraphs/"+job+"/locks/"+uuid.NewString(), nil, zk.FlagEphemeral, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "/jobs/"+job+"/checkpoints/0000000000000000007", bytes.Repeat([]byte{0xac}, 210), 0, nil); err != nil {
		t.Fatal(err)
	}
}

// The inventory of a running cluster — a Go contender that leads and published its record, a
// Curator LeaderLatch contender behind it, a job with a checkpoint and a counter Curator wrote — and
// of a dead one that left a job graph behind, read as a JobManager.
func TestInventory(t *testing.T) {
	testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const root = "/inv"
	c := connect(t, config("flink/jm1", root, "/running"))
	e, err := election.New(c, election.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := e.Campaign(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Resign(context.WithoutCancel(ctx))
	if err := l.Publish(ctx, "rest_server", "http://jm1.example.com:8081"); err != nil {
		t.Fatal(err)
	}
	job := strings.ReplaceAll(uuid.NewString(), "-", "")
	flinkJob(t, ctx, c, job)
	j := javaPeer(t, ctx, "flink/jm2")
	if err := j.CuratorLatchCreator(ctx, server.ConnectString(), root+"/running", "/leader/latch", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	defer j.Do(context.WithoutCancel(ctx), "latch-stop")
	if err := j.CuratorSetCounter(ctx, server.ConnectString(), root+"/running", "/jobs/"+job+"/checkpoint_id_counter", 8, true); err != nil {
		t.Fatal(err)
	}
	dead := connect(t, config("flink/jm1", root, "/dead"))
	if err := dead.CreateAll(ctx, "/jobgraphs"); err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Create(ctx, "/jobgraphs/"+strings.Repeat("0", 32), make([]byte, 412), 0, nil); err != nil {
		t.Fatal(err)
	}

	var inv *hastate.Inventory
	waitFor(t, "the Curator contender", func() bool {
		inv, err = hastate.TakeInventory(ctx, c.Conn(), root, hastate.InventoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(inv.Clusters) == 2 && len(inv.Clusters[1].Latches) == 1 && len(inv.Clusters[1].Latches[0].Contenders) == 2
	})
	var text bytes.Buffer
	inv.WriteText(&text)
	t.Logf("inventory:\n%s", text.String())

	d, r := inv.Clusters[0], inv.Clusters[1]
	if d.ID != "/dead" || len(d.Latches) != 0 || len(d.Leaders) != 0 || len(d.JobGraphs) != 1 || d.JobGraphs[0].Size != 412 {
		t.Errorf("dead cluster: %+v", d)
	}
	if r.ID != "/running" || r.Path != "/inv/running" {
		t.Fatalf("running cluster: %+v", r)
	}
	lt := r.Latches[0]
	self := hastate.SessionID(c.SessionID())
	if lt.Path != "/inv/running/leader/latch" || lt.LiveSessions != 2 || !lt.Contenders[0].Leads || lt.Contenders[0].Owner != self ||
		lt.Leader != lt.Contenders[0].Node || lt.Contenders[1].Leads || lt.Contenders[1].Owner == self ||
		!strings.HasPrefix(lt.Contenders[1].Node, "_c_") {
		t.Errorf("latch: %+v", lt)
	}
	if len(r.Leaders) != 1 {
		t.Fatalf("leader records: %+v", r.Leaders)
	}
	rec := r.Leaders[0]
	if rec.Component != "rest_server" || rec.Address != "http://jm1.example.com:8081" || rec.LeaderSessionID != l.SessionID.String() ||
		rec.Owner != self || !rec.OwnerAlive || !rec.OwnerLeads || rec.Error != "" {
		t.Errorf("leader record: %+v", rec)
	}
	if len(r.JobGraphs) != 1 || r.JobGraphs[0].Name != job || r.JobGraphs[0].Size != 1134 || r.JobGraphs[0].Descendants != 2 {
		t.Errorf("job graphs: %+v", r.JobGraphs)
	}
	if len(r.Jobs) != 1 || r.Jobs[0].ID != job || len(r.Jobs[0].Checkpoints) != 1 || r.Jobs[0].Checkpoints[0].Size != 210 ||
		r.Jobs[0].CheckpointIDCounter == nil || *r.Jobs[0].CheckpointIDCounter != 8 {
		t.Errorf("jobs: %+v", r.Jobs)
	}
	if len(r.ACLs) != 1 || r.ACLs[0].ACL != "sasl:flink@EXAMPLE.COM:cdrwa" || r.ACLs[0].Nodes != r.Nodes {
		t.Errorf("ACLs (every node creator-only, Curator's included): %+v", r.ACLs)
	}
	owners := map[string]int{}
	for _, o := range r.Owners {
		owners[o.Session] = o.Nodes
	}
	if owners[self] != 3 || len(owners) != 2 { // latch node, record, job graph lock; Curator's latch node
		t.Errorf("owners: %+v", r.Owners)
	}
	for _, want := range []string{"leads", "rest_server: http://jm1.example.com:8081", "holds the latch", "checkpoint_id_counter 8"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	var back hastate.Inventory
	var js bytes.Buffer
	if err := inv.WriteJSON(&js); err != nil || json.Unmarshal(js.Bytes(), &back) != nil || len(back.Clusters) != 2 {
		t.Errorf("JSON output: %v\n%s", err, js.String())
	}
}
