package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// BenchmarkFullCheck: the wall time of a complete zk-secure-check run as an operator runs it — the
// built binary, a process of its own (every check, 3 members, Kerberos + TLS with an encrypted key,
// creator ACL) — against one Java zkCli call ("ls /" with the same JAAS and TLS settings, a fresh
// JVM) on the same warm ensemble, alternating in one loop so both see the same machine. Reported:
// p50 of each, zkCli ÷ check (goal ≥ 10), the checker's peak resident set (goal ≤ 20 MiB) and its
// CPU time (user + system, p50), and the CPU time the three servers spent during a check (p50).
// With ZK_SECURE_CHECK_BENCH_DEBUG=FILE one more run's debug log (each check's and phase's timing)
// is written to FILE. With ZK_SECURE_CHECK_BENCH_BASELINE=BINARY that binary (an earlier build)
// runs in the same loop too, and baseline ÷ check is reported (of the p50s, and the median of each
// loop's pair), with the servers' CPU during the baseline's runs: a before/after comparison that holds
// on a loaded machine. The server-side operations of one more run, counted in the servers' logs
// (srv-*: TLS connections, srvr commands, sessions, SASL logins, closes), are reported last.
func BenchmarkFullCheck(b *testing.B) {
	if probeRun(b) {
		return
	}
	testenv.Require(b) // it starts an environment of its own
	ctx := context.Background()
	bin := buildBinary(b)
	env, err := testenv.StartEnv(ctx, testenv.EnvOptions{Members: 3, EnforceSASL: true, RemoveHostFromPrincipal: true, TLS: true})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close()
	args := []string{"--quorum", env.ZooKeeper.SecureConnectString(), "--principal", env.JobManagerPrincipals[0],
		"--keytab", env.JobManagerKeytabs[0], "--krb5-conf", env.KDC.Krb5Conf, "--tls-ca", env.PKI.CAFile,
		"--tls-cert", env.PKI.Client.CertFile, "--tls-key", env.PKI.Client.EncryptedKeyFile,
		"--tls-key-password-file", env.PKI.Client.PasswordFile, "--acl", "creator", "--cluster-id", "/bench",
		"--jobmanager-principals", strings.Join(env.JobManagerPrincipals, ",")}
	debugLog := os.Getenv("ZK_SECURE_CHECK_BENCH_DEBUG")
	var lastLog string
	var cpus, srvCPUs []time.Duration
	serversCPU := func() time.Duration {
		var sum time.Duration
		for _, m := range env.ZooKeeper.Members {
			sum += m.CPUTime()
		}
		return sum
	}
	baseline := os.Getenv("ZK_SECURE_CHECK_BENCH_BASELINE")
	var baseRuns, baseSrvCPUs []time.Duration
	baseOnce := func() {
		s0 := serversCPU()
		t0 := time.Now()
		if out, err := exec.CommandContext(ctx, baseline, args...).CombinedOutput(); err != nil {
			b.Fatalf("baseline check failed: %v\n%s", err, out)
		}
		baseRuns = append(baseRuns, time.Since(t0))
		baseSrvCPUs = append(baseSrvCPUs, serversCPU()-s0)
	}
	checkOnce := func(withDebug bool) (time.Duration, int64) {
		a := args
		if withDebug {
			a = append(slices.Clone(args), "--debug")
		}
		cmd := exec.CommandContext(ctx, bin, a...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		s0 := serversCPU()
		t0 := time.Now()
		err := cmd.Run()
		took := time.Since(t0)
		srvCPUs = append(srvCPUs, serversCPU()-s0)
		if err != nil {
			b.Fatalf("check failed: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		lastLog = stderr.String()
		var rss int64
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss << 10 // KiB on Linux
			cpus = append(cpus, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()))
		}
		return took, rss
	}
	jaas := filepath.Join(b.TempDir(), "jaas.conf")
	os.WriteFile(jaas, []byte(testenv.JAASSection("Client", env.JobManagerKeytabs[0], env.JobManagerPrincipals[0])), 0o644)
	zkcli := testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: env.KDC.Krb5Conf, TLS: &testenv.JavaTLS{
		KeyStore: env.PKI.Client.KeystorePEM, TrustStore: env.PKI.CAFile}}
	cliOnce := func() time.Duration {
		out, d, err := testenv.RunZkCli(ctx, zkcli, env.ZooKeeper.Members[0].SecureAddr(), "ls", "/")
		if err != nil || !strings.Contains(out, "zookeeper") {
			b.Fatalf("zkCli: %v\n%s", err, out)
		}
		return d
	}
	for i := 0; i < 3; i++ { // warm the servers' JIT for both
		checkOnce(false)
		cliOnce()
	}
	var checks, clis []time.Duration
	var rsss []int64
	cpus, srvCPUs = nil, nil
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate which goes first, so neither always follows the other.
		if i%2 == 1 {
			b.StopTimer()
			clis = append(clis, cliOnce())
			b.StartTimer()
		}
		if baseline != "" {
			b.StopTimer()
			baseOnce()
			b.StartTimer()
		}
		d, rss := checkOnce(false)
		checks, rsss = append(checks, d), append(rsss, rss)
		if i%2 == 0 {
			b.StopTimer()
			clis = append(clis, cliOnce())
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(med(checks).Microseconds())/1000, "check-p50-ms")
	b.ReportMetric(float64(med(clis).Microseconds())/1000, "zkcli-p50-ms")
	b.ReportMetric(med(clis).Seconds()/med(checks).Seconds(), "zkcli/check")
	b.ReportMetric(float64(slices.Max(rsss))/(1<<20), "check-maxrss-MiB")
	b.ReportMetric(float64(med(cpus).Microseconds())/1000, "check-cpu-ms")
	b.ReportMetric(float64(med(srvCPUs).Microseconds())/1000, "check-servers-cpu-ms")
	b.Logf("load %s; check %v, zkCli %v per run", testenv.LoadAverage(), rounded(checks), rounded(clis))
	if baseline != "" {
		b.ReportMetric(float64(med(baseRuns).Microseconds())/1000, "baseline-p50-ms")
		b.ReportMetric(med(baseRuns).Seconds()/med(checks).Seconds(), "baseline/check")
		b.ReportMetric(float64(med(baseSrvCPUs).Microseconds())/1000, "baseline-servers-cpu-ms")
		ratios := make([]float64, len(baseRuns))
		for i := range baseRuns {
			ratios[i] = baseRuns[i].Seconds() / checks[i].Seconds()
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "baseline/check-pairs") // the median of each loop's pair
		b.Logf("baseline %s: %v per run", baseline, rounded(baseRuns))
	}
	// One more run, its server-side operations counted in the servers' logs.
	before := serverLogSizes(env.ZooKeeper)
	checkOnce(false)
	time.Sleep(time.Second) // the closes' commits reach every member's log
	ops := countServerOps(env.ZooKeeper, before)
	for _, o := range serverOps {
		b.ReportMetric(float64(ops[o.metric]), o.metric)
	}
	b.Logf("server operations of one run: %v", ops)
	if debugLog != "" {
		d, _ := checkOnce(true)
		if err := os.WriteFile(debugLog, []byte(fmt.Sprintf("%s(the process took %v)\n", lastLog, d)), 0o644); err != nil {
			b.Error(err)
		}
	}
}

// serverOps are the server-side operations of a check run that the servers log (ZooKeeper 3.8 at
// INFO), by benchmark metric: a TLS connection that completed its handshake (x509 authentication),
// a srvr command, a TLS connection that closed before its handshake, a new session (each a
// createSession through the quorum: every member logs its commit), a SASL login, a closeSession.
var serverOps = []struct {
	metric, line string
	perMember    bool // logged by every member: counted once
}{
	{"srv-tls-conns", "X509AuthenticationProvider", false},
	{"srv-srvr", "Processing srvr command", false},
	{"srv-failed-handshakes", "Unsuccessful handshake", false},
	{"srv-sessions", "Committing global session", true},
	{"srv-sasl", "Successfully authenticated client", false},
	{"srv-closes", "closeSession request", false},
}

func serverLogSizes(z *testenv.ZooKeeper) []int64 {
	var sizes []int64
	for _, m := range z.Members {
		st, err := os.Stat(m.LogPath)
		if err != nil {
			sizes = append(sizes, 0)
			continue
		}
		sizes = append(sizes, st.Size())
	}
	return sizes
}

// countServerOps counts serverOps in what the members logged since before.
func countServerOps(z *testenv.ZooKeeper, before []int64) map[string]int {
	counts := map[string]int{}
	for i, m := range z.Members {
		b, err := os.ReadFile(m.LogPath)
		if err != nil || int64(len(b)) < before[i] {
			continue
		}
		for _, line := range strings.Split(string(b[before[i]:]), "\n") {
			for _, o := range serverOps {
				if strings.Contains(line, o.line) {
					counts[o.metric]++
				}
			}
		}
	}
	for _, o := range serverOps {
		if o.perMember {
			counts[o.metric] /= len(z.Members)
		}
	}
	return counts
}

// probeRun reports whether this is the testing package's first call with b.N = 1, made before the
// real one of -benchtime=Nx (N > 1) and discarded: a benchmark that sets up servers skips it.
func probeRun(b *testing.B) bool {
	f := flag.Lookup("test.benchtime")
	if b.N != 1 || f == nil {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(f.Value.String(), "x"))
	return strings.HasSuffix(f.Value.String(), "x") && err == nil && n > 1
}

// buildBinary builds zk-secure-check (without the test's -race: the benchmark times what an
// operator runs).
func buildBinary(b *testing.B) string {
	b.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Fatalf("the go command builds zk-secure-check for this benchmark: %v", err)
	}
	path := filepath.Join(b.TempDir(), "zk-secure-check")
	if out, err := exec.Command(goTool, "build", "-o", path, "github.com/zksecure/zksecure/cmd/zk-secure-check").CombinedOutput(); err != nil {
		b.Fatalf("building zk-secure-check: %v\n%s", err, out)
	}
	return path
}

func med(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func rounded(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Round(time.Millisecond).String())
	}
	return strings.Join(s, " ")
}
