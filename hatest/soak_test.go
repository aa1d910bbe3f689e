package hatest

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/zksecure/zksecure/internal/hacheck"
)

// soakDuration is how long TestSoak runs: HATEST_SOAK (a Go duration; `make soak` sets 5m), else a
// 60 s slice, which `make test` runs.
func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("HATEST_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("HATEST_SOAK=%q is not a positive duration", v)
		}
		return d
	}
	return 60 * time.Second
}

// The nemesis: random faults from the list, for random times, against the running election and
// writer, until the duration is up; then the whole history is checked. It prints the counts an
// operator would ask for.
func TestSoak(t *testing.T) {
	h := getHarness(t)
	dur := soakDuration(t)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("HATEST_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("soak: %v, seed %d (HATEST_SEED=%d repeats the choice of faults)", dur, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	all := faults()
	ctx, cancel := context.WithTimeout(context.Background(), dur+3*time.Minute)
	defer cancel()
	if err := h.settle(ctx); err != nil {
		t.Fatal(err)
	}
	from := time.Now()
	deadline := from.Add(dur)
	injected := map[string]int{}
	var worst time.Duration
	for time.Now().Before(deadline) {
		f := all[rng.IntN(len(all))]
		if f.hold > 0 { // between half and three session timeouts
			f.hold = sessionTimeout/2 + time.Duration(rng.Int64N(int64(5*sessionTimeout/2)))
		}
		start, end, err := h.runFault(ctx, f)
		if err != nil {
			t.Fatalf("injecting %s: %v", f.name, err)
		}
		if f.quorumKept {
			h.checkDuring(t, f, start, end)
		}
		injected[f.name]++
		d, err := h.checkRecovery(ctx, end)
		if err != nil {
			t.Errorf("%s (held %v): %v", f.name, f.hold, err)
		}
		worst = max(worst, d)
		if err := h.settle(ctx); err != nil {
			t.Fatalf("after %s: %v", f.name, err)
		}
		select {
		case <-time.After(time.Duration(rng.Int64N(int64(2 * time.Second)))):
		case <-ctx.Done():
		}
	}
	to := time.Now()
	h.cs.pollCurators()
	ivs := h.cs.hist.Intervals()
	var longest time.Duration
	for _, g := range hacheck.Gaps(trusted(ivs), from, to) {
		longest = max(longest, g.Duration())
	}
	var overlaps, stale []hacheck.Overlap
	for _, o := range hacheck.Overlaps(ivs, to) {
		if h.staleCurator(ivs, o) {
			stale = append(stale, o)
		} else {
			overlaps = append(overlaps, o)
		}
	}
	lost, verr := h.w.verify(ctx)
	total := 0
	for _, n := range injected {
		total += n
	}
	t.Logf("soak summary: %v, %d faults injected %v; %d leader changes; longest leaderless gap %v; "+
		"slowest recovery after a fault %v; overlaps %d (and %d of a Curator leader that kept believing after its node was gone); AuthFailed %d; acknowledged writes %d, lost %d",
		to.Sub(from).Round(time.Second), total, injected, hacheck.Changes(ivs, from, to), longest.Round(time.Millisecond),
		worst.Round(time.Millisecond), len(overlaps), len(stale), len(h.cs.hist.AuthFailures()), len(h.w.hist.Acked()), len(lost))
	if verr != nil {
		t.Errorf("reading back the writes: %v", verr)
	}
	if len(lost) > 0 {
		t.Errorf("acknowledged writes lost: %v", lost)
	}
	h.checkInvariants(t)
}
