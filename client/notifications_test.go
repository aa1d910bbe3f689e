package client_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/client"
)

// Notifications gives the watch events of separate watches in the order the server sent them (what
// the per-call watch channels cannot tell), with paths relative to the namespace, and closes with
// the client.
func TestNotificationsKeepTheServersOrder(t *testing.T) {
	requireEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := client.Config{Members: members(zk34.ConnectString()), ClusterID: "/notifications"}
	w := connect(t, cfg)
	other := connect(t, cfg)
	notes, stop := w.Notifications()
	defer stop()
	names := []string{"/a", "/b", "/c", "/d"}
	for _, p := range names {
		if _, err := other.Create(ctx, p, nil, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Watched in one order, deleted in the reverse order: two single deletes, then one multi.
	for _, p := range names {
		if _, _, _, err := w.GetW(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"/d", "/c"} {
		if err := other.Delete(ctx, p, -1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Multi(ctx, &zk.DeleteRequest{Path: "/b", Version: -1}, &zk.DeleteRequest{Path: "/a", Version: -1}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < len(names) {
		select {
		case ev := <-notes:
			if ev.Type == zk.EventNodeDeleted {
				got = append(got, ev.Path)
			} else if ev.Type != zk.EventSession {
				t.Errorf("unexpected notification %+v", ev)
			}
		case <-ctx.Done():
			t.Fatalf("deletions notified: %v", got)
		}
	}
	if want := []string{"/d", "/c", "/b", "/a"}; !slices.Equal(got, want) {
		t.Errorf("deletions notified in the order %v, want %v", got, want)
	}
	w.Close()
	for range notes { // closes after Close
	}
}
