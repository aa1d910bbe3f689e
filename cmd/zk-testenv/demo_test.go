package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/preflight"
	"github.com/zksecure/zksecure/testenv"
)

// The demo's environment (3 members, Kerberos + TLS, creator ACL, two JobManager principals)
// passes every check: what `make demo` shows and the README quotes.
func TestDemoPassesEverything(t *testing.T) {
	testenv.Require(t)
	env := testenv.NewEnv(t, demoEnv)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep := preflight.Run(ctx, demoOptions(env))
	var out bytes.Buffer
	rep.WriteText(&out)
	if rep.Failed() || rep.Summary.Warn != 0 || rep.Summary.Skip != 0 || rep.Summary.Pass != 37 {
		t.Fatalf("summary %+v, want 37 passed and nothing else\n%s", rep.Summary, out.String())
	}
	ran := map[string]int{}
	for _, c := range rep.Checks {
		ran[c.Name]++
	}
	for _, name := range preflight.AllChecks {
		if ran[name] == 0 {
			t.Errorf("check %s did not run", name)
		}
	}
	if ran[preflight.CheckSASL] != 3 {
		t.Errorf("sasl ran for %d members, want 3", ran[preflight.CheckSASL])
	}
	if want := "[PASS identity] the servers know this session as sasl:flink@" + testenv.DefaultRealm; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in\n%s", want, out.String())
	}
	if !strings.HasSuffix(out.String(), "\n37 passed, 0 warnings, 0 failed, 0 skipped\n") {
		t.Errorf("the report does not end with the summary:\n%s", out.String())
	}
}
