package probed

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/version"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A probe travels only for its own member, and a second member's is added beside the first.
func TestWithCarriesEachMembersProbe(t *testing.T) {
	ctx := With(context.Background(), version.Member{Addr: "zk1:2281", Mode: version.TLS})
	ctx = With(ctx, version.Member{Addr: "zk2:2281", Mode: version.TLS})
	for _, m := range []string{"zk1:2281", "zk2:2281"} {
		if d, ok := Lookup(ctx, m); !ok || d.Addr != m || d.Mode != version.TLS {
			t.Fatalf("Lookup(%s) = %+v, %v", m, d, ok)
		}
	}
	if _, ok := Lookup(ctx, "zk3:2281"); ok {
		t.Fatal("a member that was not probed has a probe")
	}
	if _, ok := Lookup(context.Background(), "zk1:2281"); ok {
		t.Fatal("a plain context carries a probe")
	}
}
