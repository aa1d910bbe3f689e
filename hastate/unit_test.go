package hastate

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/version"
)

func TestDecodeCheckpointIDCounter(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want int32
		err  bool
	}{
		{[]byte{0, 0, 0, 1}, 1, false},
		{[]byte{0, 0, 1, 0}, 256, false},
		{[]byte{0x7f, 0xff, 0xff, 0xff}, 1<<31 - 1, false},
		{nil, 0, true},
		{[]byte{0, 0, 0, 0, 1}, 0, true},
		{[]byte("7"), 0, true},
	} {
		got, err := DecodeCheckpointIDCounter(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%x: %d, %v; want %d (error %v)", c.in, got, err, c.want, c.err)
		}
		if err != nil && !errors.Is(err, ErrCounter) {
			t.Errorf("%x: error %v does not wrap ErrCounter", c.in, err)
		}
	}
}

// Contenders sort by the sequence after "latch-", whatever comes before it (Curator's protection
// prefix, or none): the leader is the lowest sequence.
func TestLatchOrder(t *testing.T) {
	names := []string{"_c_ffff-latch-0000000003", "latch-0000000001", "_c_0000-latch-0000000002", "_c_aaaa-latch-0000000000"}
	sort.SliceStable(names, func(i, j int) bool { return latchSortKey(names[i]) < latchSortKey(names[j]) })
	if names[0] != "_c_aaaa-latch-0000000000" || names[3] != "_c_ffff-latch-0000000003" {
		t.Fatalf("order %v", names)
	}
}

func TestPredictSASLID(t *testing.T) {
	for _, c := range []struct{ self, selfID, p, want string }{
		{"flink/jm1@EXAMPLE.COM", "flink@EXAMPLE.COM", "flink/jm2@EXAMPLE.COM", "flink@EXAMPLE.COM"},
		{"flink/jm1@EXAMPLE.COM", "flink/jm1@EXAMPLE.COM", "flink/jm2@EXAMPLE.COM", "flink/jm2@EXAMPLE.COM"},
		{"flink/jm1@EXAMPLE.COM", "flink", "flink/jm2@OTHER.COM", "flink"},
		{"flink/jm1@EXAMPLE.COM", "flink@EXAMPLE.COM", "other", "other@EXAMPLE.COM"},
	} {
		if got := PredictSASLID(c.self, c.selfID, c.p); got != c.want {
			t.Errorf("PredictSASLID(%s, %s, %s) = %s, want %s", c.self, c.selfID, c.p, got, c.want)
		}
	}
}

func TestExistsNeedsRead(t *testing.T) {
	for v, want := range map[string]bool{"3.4.13": false, "3.7.2": false, "3.7.3": true, "3.8.0": false, "3.8.3": false,
		"3.8.4": true, "3.9.0": false, "3.9.1": false, "3.9.2": true, "3.9.5": true} {
		ver, err := version.Parse(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := ExistsNeedsRead(ver); got != want {
			t.Errorf("ExistsNeedsRead(%s) = %v, want %v", v, got, want)
		}
	}
	if !ExistsNeedsRead(version.Version{}) {
		t.Error("an unknown version must be assumed to need READ")
	}
}

var (
	selfIDs = []acl.Identity{{Scheme: "sasl", ID: "flink@EXAMPLE.COM"}, {Scheme: "x509", ID: "CN=client,OU=clients,O=zksecure"}}
)

func TestTargetACL(t *testing.T) {
	// creator-only: every id of the session, all permissions.
	got, notes, err := Target{Self: selfIDs, JobManagerIDs: []string{"flink@EXAMPLE.COM"}}.ACL()
	if err != nil || acl.Format(got) != "sasl:flink@EXAMPLE.COM:cdrwa, x509:CN=client,OU=clients,O=zksecure:cdrwa" || len(notes) != 0 {
		t.Fatalf("creator: %s %v %v", acl.Format(got), notes, err)
	}
	// explicit ids with an admin lacking READ on a server that needs it for exists().
	got, notes, err = Target{Self: selfIDs[:1], JobManagerIDs: []string{"flink@EXAMPLE.COM", "flink2@EXAMPLE.COM"}, Explicit: true,
		Admins: []zk.ACL{{Scheme: "sasl", ID: "ops@EXAMPLE.COM", Perms: zk.PermAdmin}}, ExistsNeedsRead: true}.ACL()
	if err != nil || acl.Format(got) != "sasl:flink@EXAMPLE.COM:cdrwa, sasl:flink2@EXAMPLE.COM:cdrwa, sasl:ops@EXAMPLE.COM:ra" ||
		len(notes) != 1 || !strings.Contains(notes[0], "exists()") {
		t.Fatalf("explicit: %s %v %v", acl.Format(got), notes, err)
	}
}

// A target that would lock out the running identity or a JobManager is refused, naming whom.
func TestTargetLockout(t *testing.T) {
	for name, c := range map[string]struct {
		target Target
		who    string
	}{
		"jobmanager with another id": {Target{Self: selfIDs[:1], JobManagerIDs: []string{"flink@EXAMPLE.COM", "flink/jm2@EXAMPLE.COM"}}, "sasl:flink/jm2@EXAMPLE.COM"},
		"explicit without self":      {Target{Self: selfIDs[:1], JobManagerIDs: []string{"jm@EXAMPLE.COM"}, Explicit: true}, "the identity running it (sasl:flink@EXAMPLE.COM)"},
		"admin-only self":            {Target{Self: selfIDs[:1], Explicit: true, Admins: []zk.ACL{{Scheme: "sasl", ID: "flink@EXAMPLE.COM", Perms: zk.PermRead}}}, "lack a"},
		"no identity":                {Target{}, "no authenticated identity"},
	} {
		_, _, err := c.target.ACL()
		if !errors.Is(err, ErrLockout) || !strings.Contains(err.Error(), c.who) || !strings.Contains(err.Error(), "Fix:") {
			t.Errorf("%s: %v; want ErrLockout naming %q with a fix", name, err, c.who)
		}
	}
}
