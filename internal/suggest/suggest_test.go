package suggest

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClosest(t *testing.T) {
	keys := []string{"high-availability.zookeeper.quorum", "high-availability.cluster-id", "tickTime", "initLimit"}
	for _, c := range []struct {
		k    string
		max  int
		want string
	}{
		{"high-availability.zookeeper.quorom", 3, "high-availability.zookeeper.quorum"}, // one substitution
		{"ticktime", 3, "tickTime"}, // case is ignored
		{"TICKTIM", 3, "tickTime"},  // and a deletion
		{"syncLimit", 3, ""},        // 4 edits from initLimit: too far
		{"syncLimit", 4, "initLimit"},
		{"", 3, ""},
	} {
		if got := Closest(c.k, keys, c.max); got != c.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", c.k, c.max, got, c.want)
		}
	}
	// A tie goes to the lexically smallest candidate, whatever the order given.
	if got := Closest("ab", []string{"ac", "aa"}, 1); got != "aa" {
		t.Errorf("tie: %q, want aa", got)
	}
}
