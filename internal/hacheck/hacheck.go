// Package hacheck records the history of a leader election under faults — when each contender
// believed it led, which faults were in force, which writes were acknowledged — and checks the
// invariants high availability promises against it: never two leaders at once, a leader again
// within a bound after every fault, no acknowledged write lost.
//
// It is pure logic: the fault tests and the soak (package hatest) feed it from real contenders,
// each reporting its own timeline.
package hacheck

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Interval is one leadership as its contender saw it: from the moment it learned it leads to the
// moment it learned it no longer does. End is zero while it still leads.
type Interval struct {
	Contender  string
	Start, End time.Time
	// Reason is why it ended, as the contender said.
	Reason string
}

func (iv Interval) end(now time.Time) time.Time {
	if iv.End.IsZero() {
		return now
	}
	return iv.End
}

// Fault is one injected fault: a name and when it was in force.
type Fault struct {
	Name       string
	Start, End time.Time
}

// Overlap is a time when two contenders both believed they led.
type Overlap struct {
	A, B       string
	Start, End time.Time
}

// Duration is how long the overlap lasted.
func (o Overlap) Duration() time.Duration { return o.End.Sub(o.Start) }

func (o Overlap) String() string {
	return fmt.Sprintf("%s and %s both led for %v from %s", o.A, o.B, o.Duration().Round(time.Millisecond),
		o.Start.Format("15:04:05.000"))
}

// History is safe for concurrent use. The zero value is ready.
type History struct {
	mu        sync.Mutex
	intervals []Interval
	open      map[string]int // contender -> index of its open interval
	faults    []Fault
	acked     []string
	authFails []string
	events    []string
}

// Lead records that c learned at t that it leads. A second Lead without an Unlead in between is
// recorded as an end and a new start (the contender's own report wins).
func (h *History) Lead(c string, t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open == nil {
		h.open = map[string]int{}
	}
	if i, ok := h.open[c]; ok {
		h.intervals[i].End, h.intervals[i].Reason = t, "led again without a report of the end"
	}
	h.intervals = append(h.intervals, Interval{Contender: c, Start: t})
	h.open[c] = len(h.intervals) - 1
	h.events = append(h.events, fmt.Sprintf("%s %s leads", t.Format("15:04:05.000000"), c))
}

// Unlead records that c learned at t that it no longer leads. Without an open interval it is ignored.
func (h *History) Unlead(c string, t time.Time, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, ok := h.open[c]
	if !ok {
		return
	}
	h.intervals[i].End, h.intervals[i].Reason = t, reason
	delete(h.open, c)
	h.events = append(h.events, fmt.Sprintf("%s %s stops leading: %s", t.Format("15:04:05.000000"), c, reason))
}

// Fault records a fault that was in force from start to end.
func (h *History) Fault(name string, start, end time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, Fault{Name: name, Start: start, End: end})
	h.events = append(h.events, fmt.Sprintf("%s fault %s (%v)", start.Format("15:04:05.000000"), name,
		end.Sub(start).Round(time.Millisecond)))
}

// Ack records an acknowledged write (its key).
func (h *History) Ack(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acked = append(h.acked, key)
}

// AuthFailed records that a client ended in an authentication failure.
func (h *History) AuthFailed(who string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.authFails = append(h.authFails, fmt.Sprintf("%s: %v", who, err))
}

// Intervals returns the leaderships recorded so far, ordered by start.
func (h *History) Intervals() []Interval {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]Interval(nil), h.intervals...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Faults returns the faults recorded so far.
func (h *History) Faults() []Fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Fault(nil), h.faults...)
}

// Acked returns the keys of the acknowledged writes.
func (h *History) Acked() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.acked...)
}

// AuthFailures returns the recorded authentication failures.
func (h *History) AuthFailures() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.authFails...)
}

// Log returns the history as lines, in the order recorded, for a failing test to print.
func (h *History) Log() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.events, "\n")
}

// Overlaps returns every time two different contenders both believed they led, up to now.
func Overlaps(ivs []Interval, now time.Time) []Overlap {
	var out []Overlap
	for i := range ivs {
		for j := i + 1; j < len(ivs); j++ {
			a, b := ivs[i], ivs[j]
			if a.Contender == b.Contender {
				continue
			}
			s, e := later(a.Start, b.Start), earlier(a.end(now), b.end(now))
			if s.Before(e) {
				out = append(out, Overlap{A: a.Contender, B: b.Contender, Start: s, End: e})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// LeaderAt returns the contenders that believed they led at t.
func LeaderAt(ivs []Interval, t time.Time) []string {
	var out []string
	for _, iv := range ivs {
		if !iv.Start.After(t) && (iv.End.IsZero() || iv.End.After(t)) {
			out = append(out, iv.Contender)
		}
	}
	return out
}

// Recovery returns how long after t a contender led again: 0 when one leads at t, and false when
// none led after t up to now.
func Recovery(ivs []Interval, t, now time.Time) (time.Duration, bool) {
	if len(LeaderAt(ivs, t)) > 0 {
		return 0, true
	}
	best := time.Duration(-1)
	for _, iv := range ivs {
		if iv.Start.After(t) && !iv.Start.After(now) {
			if d := iv.Start.Sub(t); best < 0 || d < best {
				best = d
			}
		}
	}
	return best, best >= 0
}

// Gap is a time without any leader.
type Gap struct{ Start, End time.Time }

// Duration is the gap's length.
func (g Gap) Duration() time.Duration { return g.End.Sub(g.Start) }

// Gaps returns the leaderless times between from and to.
func Gaps(ivs []Interval, from, to time.Time) []Gap {
	type span struct{ s, e time.Time }
	var spans []span
	for _, iv := range ivs {
		s, e := later(iv.Start, from), earlier(iv.end(to), to)
		if s.Before(e) {
			spans = append(spans, span{s, e})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].s.Before(spans[j].s) })
	var out []Gap
	cur := from
	for _, sp := range spans {
		if sp.s.After(cur) {
			out = append(out, Gap{cur, sp.s})
		}
		if sp.e.After(cur) {
			cur = sp.e
		}
	}
	if to.After(cur) {
		out = append(out, Gap{cur, to})
	}
	return out
}

// Changes counts the leaderships that started between from and to.
func Changes(ivs []Interval, from, to time.Time) int {
	n := 0
	for _, iv := range ivs {
		if !iv.Start.Before(from) && iv.Start.Before(to) {
			n++
		}
	}
	return n
}

// Missing returns the keys of want that are not in have.
func Missing(want, have []string) []string {
	set := make(map[string]bool, len(have))
	for _, k := range have {
		set[k] = true
	}
	var out []string
	for _, k := range want {
		if !set[k] {
			out = append(out, k)
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
