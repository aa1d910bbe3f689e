package hatest

import (
	"context"
	"testing"
	"time"

	"github.com/zksecure/zksecure/internal/hacheck"
)

// With tolerate-suspended-connections a partitioned leader keeps believing until its session is
// Lost, while the servers may already have expired the session and let another contender lead: two
// leaders at once, by design. The window is measured and must stay within what the policy
// documents — at most a session timeout (plus the tick the servers expire on).
func TestTolerateSuspendedOverlapIsMeasured(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs := newContenders(e, "/tolerate")
	cs.tolerate = true
	defer cs.close()
	for i := 0; i < 2; i++ {
		if _, err := cs.startGo(ctx); err != nil {
			t.Fatal(err)
		}
	}
	leader, err := cs.waitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f, err := e.net.DropUser(cs.userOf(leader))
	if err != nil {
		t.Fatal(err)
	}
	waitNewLeader(ctx, t, cs, leader)
	sleepCtx(ctx, 2*sessionTimeout) // the old leader's Lost must come within this
	if err := f.Heal(); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.waitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	var total, longest time.Duration
	overlaps := hacheck.Overlaps(cs.hist.Intervals(), time.Now())
	for _, o := range overlaps {
		total += o.Duration()
		longest = max(longest, o.Duration())
	}
	t.Logf("tolerate-suspended, leader's client partitioned at %s: %d overlap(s), longest %v, in all %v",
		start.Format("15:04:05.000"), len(overlaps), longest.Round(time.Millisecond), total.Round(time.Millisecond))
	if longest > sessionTimeout+tickTime {
		t.Errorf("two leaders for %v, longer than the session timeout %v + a tick\n%s", longest, sessionTimeout, cs.hist.Log())
	}
	for _, f := range cs.hist.AuthFailures() {
		t.Errorf("AuthFailed: %s", f)
	}
}
