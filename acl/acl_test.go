package acl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestProviders(t *testing.T) {
	c := Creator(SASL("flink/jm2@EXAMPLE.COM", zk.PermRead))
	got := c.ACL("/flink")
	if len(got) != 2 || got[0].Scheme != "auth" || got[0].Perms != zk.PermAll || got[1].ID != "flink/jm2@EXAMPLE.COM" || !c.NeedsIdentity() {
		t.Fatalf("creator: %v", got)
	}
	if Open().NeedsIdentity() || Open().ACL("/")[0].Scheme != "world" {
		t.Fatal("open")
	}
	if !Explicit(zk.AuthACL(zk.PermAll)...).NeedsIdentity() || Explicit(X509("CN=a", zk.PermAll)).NeedsIdentity() {
		t.Fatal("explicit NeedsIdentity")
	}
	if s := c.String(); s != "creator+sasl:flink/jm2@EXAMPLE.COM:r" {
		t.Fatalf("String = %q", s)
	}
}

func TestParseEntry(t *testing.T) {
	a, err := ParseEntry("digest:user:hash=:cdrwa")
	if err != nil || a.Scheme != "digest" || a.ID != "user:hash=" || a.Perms != zk.PermAll {
		t.Fatalf("%+v %v", a, err)
	}
	for _, bad := range []string{"sasl", "sasl:x", "sasl:x:q", ":x:r"} {
		if _, err := ParseEntry(bad); err == nil {
			t.Errorf("ParseEntry(%q) accepted", bad)
		}
	}
}

type fakeTree map[string][]zk.ACL

func (f fakeTree) GetACL(p string) ([]zk.ACL, *zk.Stat, error) {
	a, ok := f[p]
	if !ok {
		return nil, nil, zk.ErrNoNode
	}
	if a == nil {
		return nil, nil, zk.ErrNoAuth
	}
	return a, nil, nil
}

func (f fakeTree) Children(p string) ([]string, *zk.Stat, error) {
	if _, ok := f[p]; !ok {
		return nil, nil, zk.ErrNoNode
	}
	var kids []string
	for k := range f {
		if strings.HasPrefix(k, p+"/") && !strings.Contains(k[len(p)+1:], "/") {
			kids = append(kids, k[len(p)+1:])
		}
	}
	return kids, nil, nil
}

func TestAuditFindsEachProblem(t *testing.T) {
	jm1 := Identity{"sasl", "flink/jm1@EXAMPLE.COM"}
	tree := fakeTree{
		"/flink":                         zk.WorldACL(zk.PermAll),
		"/flink/default":                 {SASL(jm1.ID, zk.PermAll)},
		"/flink/default/leader":          {SASL("flink/jm2@EXAMPLE.COM", zk.PermAll)},
		"/flink/default/leader/latch":    zk.WorldACL(zk.PermRead),
		"/flink/default/leader/private":  nil, // ACL unreadable
		"/flink/default/jobgraphs":       {SASL(jm1.ID, zk.PermAll), SASL("flink/jm2@EXAMPLE.COM", zk.PermRead)},
		"/flink/other-cluster/untouched": zk.WorldACL(zk.PermAll),
	}
	fs, err := Audit(context.Background(), tree, []Identity{jm1}, AuditOptions{}, "/flink", "/flink/default")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]Kind{}
	for _, f := range fs {
		got[f.Path] = append(got[f.Path], f.Kind)
		if f.Fix == "" || f.Message == "" {
			t.Errorf("finding without message or fix: %+v", f)
		}
	}
	want := map[string][]Kind{
		"/flink":                        {WorldWritable},
		"/flink/default/leader":         {OtherOwner, Unusable},
		"/flink/default/leader/latch":   {WorldReadable, Unusable},
		"/flink/default/leader/private": {Unreadable},
	}
	for p, kinds := range want {
		if strings.Join(kindsStr(got[p]), ",") != strings.Join(kindsStr(kinds), ",") {
			t.Errorf("%s: findings %v, want %v", p, got[p], kinds)
		}
	}
	for _, p := range []string{"/flink/default", "/flink/default/jobgraphs", "/flink/other-cluster/untouched"} {
		if len(got[p]) > 0 {
			t.Errorf("%s: unexpected findings %v", p, got[p])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Audit(ctx, tree, nil, AuditOptions{}, "/flink"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled audit: %v", err)
	}
}

func kindsStr(k []Kind) []string {
	s := make([]string, len(k))
	for i, x := range k {
		s[i] = string(x)
	}
	return s
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
