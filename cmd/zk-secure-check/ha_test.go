package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
	"github.com/zksecure/zksecure/preflight"
)

// A test binary started with ZK_SECURE_CHECK_MAIN=1 is the command itself (for the tests that kill
// it): it runs before TestMain sets anything up.
func init() {
	if os.Getenv("ZK_SECURE_CHECK_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
}

// cli runs the command in-process.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append(args, "--timeout", "60s"), &stdout, &stderr)
	for _, s := range []string{stdout.String(), stderr.String()} {
		if strings.Contains(s, "zksecure-test-password") {
			t.Errorf("a secret in the output:\n%s", s)
		}
	}
	return code, stdout.String(), stderr.String()
}

// jmClient connects as a JobManager principal to a server's plaintext port, namespace root+cluster.
func jmClient(t *testing.T, server, principal, root, cluster string, a acl.Provider) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, client.Config{Members: []string{servers[server].Members[0].Addr()}, Root: root, ClusterID: cluster,
		SASL: client.SASLKerberos, ACL: a, SessionTimeout: 4 * time.Second,
		Kerberos: sasl.Config{Login: sasl.Login{Principal: kdc.Principal(principal), Keytab: keytabs[principal], Krb5Conf: kdc.Krb5Conf}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// A migration of an open tree of 303 nodes: the dry run prints the plan; a run killed (SIGKILL)
// after 40 nodes leaves the rest as they were; running it again finishes and verifies; the checks'
// acl-audit then passes.
func TestMigrateACLKilledHalfwayAndRerun(t *testing.T) {
	testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	root := fmt.Sprintf("/climig-%d", time.Now().UnixNano())
	open := jmClient(t, srvGood, "flink/jm2", root, "/c1", acl.Open())
	if err := open.CreateAll(ctx, "/jobgraphs"); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 3; b++ {
		var ops []any
		for i := 0; i < 100; i++ {
			ops = append(ops, &zk.CreateRequest{Path: fmt.Sprintf("/jobgraphs/job%03d", b*100+i), Data: []byte("graph")})
		}
		if _, err := open.Multi(ctx, ops...); err != nil {
			t.Fatal(err)
		}
	}
	base := args(q(srvGood, false), kerberosArgs("flink/jm1"), []string{"--root", root, "--cluster-id", "/c1", "--acl", "creator",
		"--jobmanager-principals", kdc.Principal("flink/jm1") + "," + kdc.Principal("flink/jm2")})

	code, out, stderr := cli(t, append([]string{"migrate-acl"}, base...)...)
	if code != 0 || !strings.Contains(out, root+"/c1/jobgraphs/job000  world:anyone:cdrwa  →  sasl:flink@EXAMPLE.COM:cdrwa") ||
		!strings.Contains(out, "303 node(s) to change, 0 already carry the new ACL") || !strings.Contains(out, "dry run: nothing changed") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("dry run (first lines):\n%s", firstLines(out, 6))

	// The apply, killed after 40 nodes. Its stdout pipe holds one page, so it cannot run far ahead
	// of what was read.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, r.Fd(), 1031 /* F_SETPIPE_SZ */, 4096); errno != 0 {
		t.Fatalf("F_SETPIPE_SZ: %v", errno)
	}
	cmd := exec.Command(os.Args[0], append([]string{"migrate-acl", "--apply"}, base...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(os.Environ(), "ZK_SECURE_CHECK_MAIN=1"), w, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	sc := bufio.NewScanner(r)
	for set := 0; set < 40 && sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "  set ") {
			set++
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	io.Copy(io.Discard, r)
	r.Close()

	code, out, _ = cli(t, append([]string{"migrate-acl", "--output", "json"}, base...)...)
	var plan struct {
		Changes []struct{ Path, Old, New string } `json:"changes"`
		Summary struct{ Change, Unchanged int }   `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || code != 0 {
		t.Fatalf("plan after the kill: exit %d, %v\n%s", code, err, out)
	}
	t.Logf("after the kill: %d node(s) to change, %d done", plan.Summary.Change, plan.Summary.Unchanged)
	if plan.Summary.Unchanged < 40 || plan.Summary.Change == 0 || plan.Summary.Change+plan.Summary.Unchanged != 303 {
		t.Fatalf("the killed run should have stopped halfway: %+v", plan.Summary)
	}

	code, out, stderr = cli(t, append([]string{"migrate-acl", "--apply"}, base...)...)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d node(s) changed, 0 gone meanwhile, 0 failed; verified: all 303 node(s) in scope carry sasl:flink@EXAMPLE.COM:cdrwa", plan.Summary.Change)) {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("rerun (last line): %s", lastLine(out))

	code, o, _ := check(t, append([]string{"--root", root, "--cluster-id", "/c1"}, args(q(srvGood, false), kerberosArgs("flink/jm1"),
		[]string{"--acl", "creator"})...)...)
	expect(t, o, preflight.CheckACLAudit, preflight.Pass, "ACLs match acl creator")
	if code != 0 {
		t.Errorf("checks after the migration: exit %d\n%s", code, o.dump())
	}
}

// A target ACL that would lock out a JobManager is refused before anything is read or written.
func TestMigrateACLRefusesLockout(t *testing.T) {
	testEnv.Require(t)
	root := fmt.Sprintf("/clilock-%d", time.Now().UnixNano())
	jm := jmClient(t, srvNoStrip, "flink/jm1", root, "/c1", acl.Creator())
	if err := jm.EnsureNamespace(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := cli(t, append([]string{"migrate-acl", "--apply"}, args(q(srvNoStrip, false), kerberosArgs("flink/jm1"),
		[]string{"--root", root, "--cluster-id", "/c1", "--jobmanager-principals", kdc.Principal("flink/jm1") + "," + kdc.Principal("flink/jm2")})...)...)
	if code != 1 || out != "" || !strings.Contains(stderr, "refused") || !strings.Contains(stderr, "sasl:flink/jm2@EXAMPLE.COM") || !strings.Contains(stderr, "Fix:") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("refusal: %s", stderr)
}

// inventory and cleanup of a cluster with a live Go contender: the inventory shows who leads and its
// record; cleanup is refused for another principal and while the contender lives, then (after a
// dry run) removes every node.
func TestInventoryAndCleanup(t *testing.T) {
	testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	root := fmt.Sprintf("/cliha-%d", time.Now().UnixNano())
	jm := jmClient(t, srvNoStrip, "flink/jm1", root, "/c1", acl.Creator())
	e, _ := election.New(jm, election.Options{})
	l, err := e.Campaign(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Publish(ctx, "rest_server", "http://jm1:8081"); err != nil {
		t.Fatal(err)
	}
	if err := jm.CreateAll(ctx, "/jobgraphs/0123456789abcdef0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	jm1 := args(q(srvNoStrip, false), kerberosArgs("flink/jm1"), []string{"--root", root})
	code, out, stderr := cli(t, append([]string{"inventory"}, jm1...)...)
	if code != 0 || !strings.Contains(out, "cluster /c1 ("+root+"/c1)") || !strings.Contains(out, "leader rest_server: http://jm1:8081, leader session "+l.SessionID.String()) ||
		!strings.Contains(out, "1 contender(s), 1 live session(s)") || !strings.Contains(out, "holds the latch") {
		t.Fatalf("inventory: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = cli(t, append([]string{"inventory", "--output", "json", "--cluster-id", "/c1"}, jm1...)...)
	var inv struct {
		Clusters []struct {
			ID      string `json:"cluster_id"`
			Leaders []struct {
				Address    string `json:"address"`
				OwnerAlive bool   `json:"owner_alive"`
			} `json:"leaders"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(out), &inv); err != nil || code != 0 || len(inv.Clusters) != 1 || len(inv.Clusters[0].Leaders) != 1 ||
		!inv.Clusters[0].Leaders[0].OwnerAlive {
		t.Fatalf("inventory JSON: exit %d %v\n%s", code, err, out)
	}

	if code, _, stderr := cli(t, append([]string{"cleanup"}, jm1...)...); code != 2 || !strings.Contains(stderr, "--cluster-id") {
		t.Errorf("cleanup without --cluster-id: exit %d %s", code, stderr)
	}
	// jm2 is another id on this server (no host stripping): refused, with the reason.
	code, out, _ = cli(t, append([]string{"cleanup", "--apply", "--cluster-id", "/c1"}, args(q(srvNoStrip, false), kerberosArgs("flink/jm2"), []string{"--root", root})...)...)
	if code != 1 || !strings.Contains(out, "refused: this identity (Kerberos principal flink/jm2@EXAMPLE.COM) cannot read") || !strings.Contains(out, "not authenticated") {
		t.Fatalf("cleanup as another principal: exit %d\n%s", code, out)
	}
	t.Logf("as another principal:\n%s", lastLine(out))
	code, out, _ = cli(t, append([]string{"cleanup", "--apply", "--cluster-id", "/c1"}, jm1...)...)
	if code != 1 || !strings.Contains(out, "refused: 1 latch contender(s) have live sessions") {
		t.Fatalf("cleanup of a running cluster: exit %d\n%s", code, out)
	}
	t.Logf("while running:\n%s", lastLine(out))

	l.Resign(ctx)
	jm.Close()
	code, out, _ = cli(t, append([]string{"cleanup", "--cluster-id", "/c1"}, jm1...)...)
	if code != 0 || !strings.Contains(out, "dry run: nothing deleted; run again with --apply to delete 6 node(s)") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, append([]string{"cleanup", "--apply", "--cluster-id", "/c1"}, jm1...)...)
	if code != 0 || !strings.Contains(out, "  removed "+root+"/c1\n") || !strings.Contains(out, "removed 6 node(s)") {
		t.Fatalf("cleanup: exit %d\n%s", code, out)
	}
	t.Logf("cleanup:\n%s", out)
	if code, out, _ := cli(t, append([]string{"cleanup", "--cluster-id", "/c1"}, jm1...)...); code != 0 || !strings.Contains(out, "nothing to clean") {
		t.Errorf("second cleanup: exit %d\n%s", code, out)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
