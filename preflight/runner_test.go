package preflight

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fake is a check function whose outcome, per member ("" for a check not per member), is the
// status in want (Pass when missing). It records that it ran.
type fake struct {
	want map[string]Status
	mu   sync.Mutex
	ran  []string
}

func (f *fake) check(name string) func(context.Context, *run, *member) []Result {
	return func(_ context.Context, _ *run, m *member) []Result {
		key := name
		if m != nil {
			key += " " + m.addr
		}
		f.mu.Lock()
		f.ran = append(f.ran, key)
		f.mu.Unlock()
		st, ok := f.want[key]
		if !ok {
			st = Pass
		}
		res := Result{Status: st, Message: name + " " + string(st)}
		if st == Warn || st == Fail {
			res.Fix = "fix " + name
		}
		return []Result{res}
	}
}

func runFake(t *testing.T, table []check, members []string, ignore ...string) (*run, *Report) {
	t.Helper()
	r := &run{members: members, opts: Options{Ignore: ignore}}
	rep := &Report{Header: "fake run: " + strings.Join(members, ",")}
	for _, res := range r.execute(context.Background(), table) {
		rep.add(res)
	}
	return r, rep
}

func text(t *testing.T, rep *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The runner derives order, skipping and its reasons, and --ignore from the table alone: a failure
// skips its dependents naming it, transitively; a per-member failure skips only that member's
// dependents; despite lets a check read what a failure left; an ignored failure warns but still
// blocks; checks not in the run are met needs; a global check after the members runs on the members
// whose checks all passed, and is skipped when there are none.
func TestRunnerDerivesSkipsFromTheTable(t *testing.T) {
	f := &fake{want: map[string]Status{
		"krb":             Fail,
		"reach zk2:2181":  Fail,
		"probe zk3:2181":  Fail, // but it leaves what chain reads, for zk3
		"chain zk3:2181":  Fail,
		"strict zk1:2181": Fail, // ignored: a warning, yet its dependent is skipped
		"lint":            Warn,
	}}
	table := []check{
		{name: "lint", run: f.check("lint")},
		{name: "krb", run: f.check("krb")},
		{name: "login", needs: []string{"krb"}, run: f.check("login")},
		{name: "tls-only", when: func(*run) bool { return false }, run: f.check("tls-only")},
		{name: "reach", perMember: true, run: f.check("reach")},
		{name: "probe", perMember: true, needs: []string{"reach"}, run: f.check("probe")},
		{name: "chain", perMember: true, needs: []string{"probe", "tls-only"}, run: f.check("chain"),
			despite: func(_ *run, m *member) bool { return m.addr == "zk3:2181" }},
		{name: "names", perMember: true, needs: []string{"chain"}, run: f.check("names")},
		{name: "strict", perMember: true, needs: []string{"names"}, run: f.check("strict")},
		{name: "after-strict", perMember: true, needs: []string{"strict"}, run: f.check("after-strict")},
		{name: "kerberized", perMember: true, needs: []string{"names", "login"}, run: f.check("kerberized")},
		{name: "session", needs: []string{"lint", "names"}, run: func(_ context.Context, r *run, _ *member) []Result {
			return []Result{{Status: Pass, Message: "session on " + strings.Join(r.passing, ",")}}
		}},
		{name: "on-every-member", needs: []string{"kerberized"}, run: f.check("on-every-member")},
	}
	_, rep := runFake(t, table, []string{"zk1:2181", "zk2:2181", "zk3:2181"}, "strict")
	golden(t, "runner.golden", text(t, rep))
	if slices.Contains(f.ran, "tls-only") || slices.Contains(f.ran, "chain zk2:2181") || !slices.Contains(f.ran, "chain zk3:2181") {
		t.Errorf("ran %v: want tls-only never, chain for zk3 (despite) but not zk2", f.ran)
	}
	if rep.Failed() != true || rep.Summary.Skip == 0 {
		t.Errorf("summary %+v", rep.Summary)
	}
}

// A check may report several results (config-lint: one per finding); one failure among them
// fails the check for its dependents. Ignore "all" turns every failure into a warning.
func TestRunnerMultipleResultsAndIgnoreAll(t *testing.T) {
	table := []check{
		{name: "lint", run: func(context.Context, *run, *member) []Result {
			return []Result{{Status: Warn, Message: "a warning", Fix: "w"}, {Status: Fail, Message: "a failure", Fix: "f"}}
		}},
		{name: "after-lint", needs: []string{"lint"}, run: (&fake{}).check("after-lint")},
		{name: "dns", perMember: true, run: (&fake{want: map[string]Status{"dns zk1:2181": Fail}}).check("dns")},
		{name: "sasl", perMember: true, needs: []string{"dns"}, run: (&fake{}).check("sasl")},
		{name: "session", needs: []string{"sasl"}, run: (&fake{}).check("session")},
	}
	_, rep := runFake(t, table, []string{"zk1:2181"}, IgnoreAll)
	golden(t, "runner-ignore-all.golden", text(t, rep))
	if rep.Failed() {
		t.Errorf("with Ignore all the report fails: %+v", rep.Summary)
	}
}

// The real table: unique names, AllChecks in table order, and every need names an earlier check
// (a later one would never have run when it is read).
func TestTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range table {
		if seen[c.name] {
			t.Errorf("%s twice", c.name)
		}
		for _, n := range c.needs {
			if !seen[n] {
				t.Errorf("%s needs %s, which is not an earlier check", c.name, n)
			}
		}
		seen[c.name] = true
	}
	if !slices.Equal(AllChecks, checkNames(table)) || len(AllChecks) != 19 {
		t.Errorf("AllChecks %v", AllChecks)
	}
}

func TestOptionsValidateIgnore(t *testing.T) {
	if err := (Options{Ignore: []string{CheckKDCReach, IgnoreAll}}).Validate(); err != nil {
		t.Errorf("valid names: %v", err)
	}
	err := (Options{Ignore: []string{"kdc-rech"}}).Validate()
	if !errors.Is(err, ErrUnknownCheck) || !strings.Contains(err.Error(), `"kdc-rech"`) || !strings.Contains(err.Error(), CheckKDCReach) {
		t.Errorf("unknown name: %v, want ErrUnknownCheck naming it and listing the checks", err)
	}
}
