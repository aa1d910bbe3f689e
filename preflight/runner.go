package preflight

import (
	"context"
	"slices"
	"sync"
	"time"
)

// check is one row of the checks table (checks.go). The table's order is the run and report order;
// which checks run, which are skipped and why, and --ignore all derive from it.
type check struct {
	name string
	// perMember checks run once per ensemble member: the members in parallel, each member's checks in
	// table order, the report keeping each member's results together in member order. The others run
	// once, in table order.
	perMember bool
	// when says whether the check belongs to this run (the TLS checks only with TLS, ...); nil means
	// always. A need that is not part of the run is met.
	when func(r *run) bool
	// needs are the checks that must have passed (or warned) first. When one failed, the check is
	// skipped naming it ("skipped: dns failed"); when one was skipped, it is skipped for the same
	// reason. A per-member check reads its per-member needs for its own member. A check that is not
	// per member needs its per-member needs passed for at least one member ("skipped: every member's
	// checks failed").
	needs []string
	// despite, when set, lets the check run although one of its needs failed (not skipped): it
	// reports whether that failure left what the check reads. m is nil for a check not per member.
	despite func(r *run, m *member) bool
	// run performs the check; the runner names its results (Name, Member).
	run func(ctx context.Context, r *run, m *member) []Result
}

// one adapts a check that has one result.
func one(f func(ctx context.Context, r *run, m *member) Result) func(ctx context.Context, r *run, m *member) []Result {
	return func(ctx context.Context, r *run, m *member) []Result { return []Result{f(ctx, r, m)} }
}

// outcome is what the runner remembers of a check for one member (or, member -1, globally).
type outcome struct {
	// blockedBy is empty when the check passed, warned or skipped itself; else the reason its
	// dependents are skipped: its own name when it failed (also when the failure is ignored), or the
	// reason it was skipped.
	blockedBy string
	failed    bool
}

type outcomeKey struct {
	name   string
	member int
}

// runner holds the outcomes of one run of a table.
type runner struct {
	perMember map[string]bool // the checks of this run: name → per member
	mu        sync.Mutex
	outcomes  map[outcomeKey]outcome
}

// execute runs table against r's members and returns the results in report order.
func (r *run) execute(ctx context.Context, table []check) []Result {
	rn := &runner{perMember: map[string]bool{}, outcomes: map[outcomeKey]outcome{}}
	r.runner = rn
	var active []check
	for _, c := range table {
		if c.when == nil || c.when(r) {
			active = append(active, c)
			rn.perMember[c.name] = c.perMember
		}
	}
	members := make([]*member, len(r.members))
	for i, addr := range r.members {
		members[i] = &member{index: i, addr: addr}
	}
	var out []Result
	for len(active) > 0 {
		n := 1
		for n < len(active) && active[n].perMember == active[0].perMember {
			n++
		}
		seg := active[:n]
		active = active[n:]
		if !seg[0].perMember {
			for _, c := range seg {
				out = append(out, r.runOne(ctx, c, nil)...)
			}
			continue
		}
		perMember := make([][]Result, len(members))
		var wg sync.WaitGroup
		for i, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, c := range seg {
					perMember[i] = append(perMember[i], r.runOne(ctx, c, m)...)
				}
			}()
		}
		wg.Wait()
		for _, rs := range perMember {
			out = append(out, rs...)
		}
	}
	return out
}

// runOne runs (or skips) c for m (nil: not per member), records its outcome, and names its results
// and applies Ignore to them.
func (r *run) runOne(ctx context.Context, c check, m *member) []Result {
	key := outcomeKey{c.name, -1}
	addr := ""
	if m != nil {
		key.member, addr = m.index, m.addr
	}
	var rs []Result
	var o outcome
	if reason := r.runner.blocked(r, c, m); reason != "" {
		rs = []Result{{Status: Skip, Message: "skipped: " + reason + " failed"}}
		o.blockedBy = reason
	} else {
		t0 := time.Now()
		rs = c.run(ctx, r, m)
		if r.log != nil {
			r.log.Debug("check done", "check", c.name, "member", addr, "took", time.Since(t0))
		}
		for _, res := range rs {
			if res.Status == Fail {
				o.blockedBy, o.failed = c.name, true
			}
		}
	}
	r.runner.mu.Lock()
	r.runner.outcomes[key] = o
	r.runner.mu.Unlock()
	for i := range rs {
		rs[i].Name, rs[i].Member = c.name, addr
		// An ignored failure still blocks its dependents (recorded above); only its own status changes.
		if rs[i].Status == Fail && r.ignored(c.name) {
			rs[i].Status, rs[i].Message = Warn, "(ignored) "+rs[i].Message
		}
	}
	return rs
}

// blocked returns why c cannot run for m ("" when it can). For a check not per member, it also sets
// r.passing.
func (rn *runner) blocked(r *run, c check, m *member) string {
	if m == nil {
		r.passing = rn.passing(r.members, c.needs)
	}
	for _, need := range c.needs {
		perMember, inRun := rn.perMember[need]
		var o outcome
		switch {
		case !inRun:
			continue
		case !perMember:
			o = rn.outcome(need, -1)
		case m != nil:
			o = rn.outcome(need, m.index)
		case len(r.passing) == 0:
			return "every member's checks"
		default:
			continue
		}
		if o.blockedBy != "" && !(o.failed && c.despite != nil && c.despite(r, m)) {
			return o.blockedBy
		}
	}
	return ""
}

func (rn *runner) outcome(name string, member int) outcome {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.outcomes[outcomeKey{name, member}]
}

// passing returns the members for which none of the per-member checks in needs failed or was
// skipped, in member order.
func (rn *runner) passing(members []string, needs []string) []string {
	var out []string
	for i, addr := range members {
		ok := true
		for _, need := range needs {
			if rn.perMember[need] && rn.outcome(need, i).blockedBy != "" {
				ok = false
			}
		}
		if ok {
			out = append(out, addr)
		}
	}
	return out
}

// ignored reports whether Options.Ignore turns failures of the named check into warnings.
func (r *run) ignored(name string) bool {
	return slices.Contains(r.opts.Ignore, name) || slices.Contains(r.opts.Ignore, IgnoreAll)
}
