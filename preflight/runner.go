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
	// done is closed for a check (and member) once its outcome is recorded.
	done    map[outcomeKey]chan struct{}
	members int
}

// execute runs table against r's members and returns the results in report order.
//
// The checks that are not per member run in table order, one after the other; each member's
// checks run in table order on a goroutine of their own, the members in parallel. Each check
// waits for its needs only: the members' dns, tcp and version checks run beside the Kerberos
// checks before them in the table, a member's service-principal waits for login, identity for
// every member's sasl. (Every need names an earlier check, so nothing waits in a circle.)
func (r *run) execute(ctx context.Context, table []check) []Result {
	rn := &runner{perMember: map[string]bool{}, outcomes: map[outcomeKey]outcome{}, done: map[outcomeKey]chan struct{}{},
		members: len(r.members)}
	r.runner = rn
	var active []check
	for _, c := range table {
		if c.when == nil || c.when(r) {
			active = append(active, c)
			rn.perMember[c.name] = c.perMember
			if !c.perMember {
				rn.done[outcomeKey{c.name, -1}] = make(chan struct{})
				continue
			}
			for i := range r.members {
				rn.done[outcomeKey{c.name, i}] = make(chan struct{})
			}
		}
	}
	members := make([]*member, len(r.members))
	for i, addr := range r.members {
		members[i] = &member{index: i, addr: addr}
	}
	// Segments of consecutive checks of one kind, each with its results in report order.
	var segs [][]check
	for len(active) > 0 {
		n := 1
		for n < len(active) && active[n].perMember == active[0].perMember {
			n++
		}
		segs = append(segs, active[:n])
		active = active[n:]
	}
	results := make([][]Result, len(segs))
	perMember := make([][][]Result, len(segs))
	var wg sync.WaitGroup
	for si, seg := range segs {
		if !seg[0].perMember {
			continue
		}
		perMember[si] = make([][]Result, len(members))
		for i, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, c := range seg {
					perMember[si][i] = append(perMember[si][i], r.runOne(ctx, c, m)...)
				}
			}()
		}
	}
	for si, seg := range segs {
		if seg[0].perMember {
			continue
		}
		for _, c := range seg {
			results[si] = append(results[si], r.runOne(ctx, c, nil)...)
		}
	}
	wg.Wait()
	var out []Result
	for si := range segs {
		out = append(out, results[si]...)
		for _, rs := range perMember[si] {
			out = append(out, rs...)
		}
	}
	return out
}

// await waits until every need of c that is part of the run has its outcome: for m's own member
// when the need is per member and c is too, for every member when only the need is.
func (rn *runner) await(c check, m *member) {
	for _, need := range c.needs {
		perMember, inRun := rn.perMember[need]
		switch {
		case !inRun:
		case !perMember:
			<-rn.done[outcomeKey{need, -1}]
		case m != nil:
			<-rn.done[outcomeKey{need, m.index}]
		default:
			for i := 0; i < rn.members; i++ {
				<-rn.done[outcomeKey{need, i}]
			}
		}
	}
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
	r.runner.await(c, m)
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
	close(r.runner.done[key])
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
