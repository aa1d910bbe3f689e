package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// Each server version reports itself through srvr, the way version detection will read it.
func TestZooKeeperVersionsReportThroughSrvr(t *testing.T) {
	for _, tc := range []struct {
		version testenv.Version
		want    string
	}{
		{testenv.ZK38, "Zookeeper version: 3.8."},
		{testenv.ZK34, "Zookeeper version: 3.4.13"},
		{testenv.ZK39, "Zookeeper version: 3.9.3"},
	} {
		t.Run(string(tc.version), func(t *testing.T) {
			t.Parallel()
			z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{Version: tc.version})
			out, err := z.Members[0].Srvr(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(out, "\n")
			if !strings.HasPrefix(first, tc.want) {
				t.Errorf("srvr first line = %q, want prefix %q", first, tc.want)
			}
			if !strings.Contains(out, "Mode: standalone") {
				t.Errorf("srvr = %q, want Mode: standalone", out)
			}
		})
	}
}

// A three-member ensemble forms a quorum, and elects a new leader among the survivors when its
// leader is killed; the killed member rejoins as a follower.
func TestEnsembleElectsNewLeaderAfterKill(t *testing.T) {
	z := testenv.NewZooKeeper(t, testenv.ZooKeeperOptions{Members: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	leader, err := z.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	followers := 0
	for _, m := range z.Members {
		if mode, err := m.Mode(ctx); err == nil && mode == "follower" {
			followers++
		}
	}
	if followers != 2 {
		t.Fatalf("%d followers beside leader %d, want 2", followers, leader.ID)
	}
	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	next, err := z.Leader(ctx)
	if err != nil {
		t.Fatalf("no new leader after killing member %d: %v", leader.ID, err)
	}
	if next.ID == leader.ID {
		t.Fatalf("member %d still leads after being killed", leader.ID)
	}
	if err := leader.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if mode, err := leader.Mode(ctx); err != nil || mode != "follower" {
		t.Errorf("restarted member %d: mode %q, %v; want follower", leader.ID, mode, err)
	}
}
