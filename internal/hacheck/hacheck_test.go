package hacheck

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestOverlapsOnlyBetweenDifferentContenders(t *testing.T) {
	var h History
	h.Lead("a", at(0))
	h.Unlead("a", at(2), "suspended")
	h.Lead("b", at(2)) // hand-over at the same instant: no overlap
	h.Lead("a", at(3)) // a leads again while b still does: overlap 3..4
	h.Unlead("b", at(4), "resigned")
	h.Unlead("a", at(5), "closed")
	ov := Overlaps(h.Intervals(), at(10))
	if len(ov) != 1 || ov[0].Start != at(3) || ov[0].End != at(4) || ov[0].Duration() != time.Second {
		t.Fatalf("overlaps = %v, want one of 1s from 3s", ov)
	}
	if !strings.Contains(ov[0].String(), "both led for 1s") {
		t.Errorf("String() = %q", ov[0])
	}
}

func TestOpenIntervalRunsToNow(t *testing.T) {
	var h History
	h.Lead("a", at(0))
	h.Lead("b", at(5))
	if ov := Overlaps(h.Intervals(), at(4)); len(ov) != 0 {
		t.Fatalf("before b started: %v", ov)
	}
	if ov := Overlaps(h.Intervals(), at(6)); len(ov) != 1 || ov[0].End != at(6) {
		t.Fatalf("open intervals must overlap up to now: %v", ov)
	}
	if got := LeaderAt(h.Intervals(), at(5.5)); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("LeaderAt = %v", got)
	}
}

func TestLeadTwiceClosesTheFirst(t *testing.T) {
	var h History
	h.Lead("a", at(0))
	h.Lead("a", at(1))
	ivs := h.Intervals()
	if len(ivs) != 2 || ivs[0].End != at(1) || !ivs[1].End.IsZero() {
		t.Fatalf("intervals = %+v", ivs)
	}
	if ov := Overlaps(ivs, at(2)); len(ov) != 0 {
		t.Fatalf("a contender never overlaps itself: %v", ov)
	}
	h.Unlead("nobody", at(3), "x") // ignored
	if len(h.Intervals()) != 2 {
		t.Fatal("Unlead without Lead added an interval")
	}
}

func TestRecoveryAndGaps(t *testing.T) {
	var h History
	h.Lead("a", at(0))
	h.Unlead("a", at(2), "suspended")
	h.Lead("b", at(7))
	ivs := h.Intervals()
	if d, ok := Recovery(ivs, at(1), at(10)); !ok || d != 0 {
		t.Errorf("Recovery while leading = %v, %v; want 0", d, ok)
	}
	if d, ok := Recovery(ivs, at(3), at(10)); !ok || d != 4*time.Second {
		t.Errorf("Recovery = %v, %v; want 4s", d, ok)
	}
	if _, ok := Recovery(ivs, at(3), at(6)); ok {
		t.Error("Recovery found a leader that started after now")
	}
	gaps := Gaps(ivs, at(-1), at(10))
	if len(gaps) != 2 || gaps[0].Duration() != time.Second || gaps[1].Start != at(2) || gaps[1].Duration() != 5*time.Second {
		t.Fatalf("gaps = %+v", gaps)
	}
	if n := Changes(ivs, at(-1), at(10)); n != 2 {
		t.Errorf("Changes = %d", n)
	}
}

func TestMissingAndRecords(t *testing.T) {
	var h History
	h.Ack("w1")
	h.Ack("w2")
	h.Ack("w3")
	if m := Missing(h.Acked(), []string{"w1", "w3", "w9"}); !reflect.DeepEqual(m, []string{"w2"}) {
		t.Fatalf("Missing = %v", m)
	}
	h.AuthFailed("go-1", errors.New("AuthFailed"))
	if f := h.AuthFailures(); len(f) != 1 || !strings.Contains(f[0], "go-1") {
		t.Fatalf("AuthFailures = %v", f)
	}
	h.Fault("freeze", at(1), at(3))
	if f := h.Faults(); len(f) != 1 || f[0].End.Sub(f[0].Start) != 2*time.Second {
		t.Fatalf("Faults = %v", f)
	}
	if !strings.Contains(h.Log(), "fault freeze (2s)") {
		t.Errorf("Log = %q", h.Log())
	}
}
