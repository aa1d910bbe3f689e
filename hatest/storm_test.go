package hatest

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// stormSessions is how many sessions each side holds in one process (HATEST_STORM_SESSIONS
// overrides it, for a quick look).
func stormSessions() int {
	if n, err := strconv.Atoi(os.Getenv("HATEST_STORM_SESSIONS")); err == nil && n > 0 {
		return n
	}
	return 200
}

// BenchmarkReconnectStorm: 200 Kerberos sessions in one process on the shared 3-member ensemble
// (on its plaintext ports: "sasl"; on its TLS ports: "tls+sasl"), spread over the members as the
// client spreads them (go-zookeeper and the Java client both shuffle the members). The follower
// holding the most of them is killed (SIGKILL); the figure is the time from the kill until each of
// its sessions is re-authenticated and has answered a request (p50 and p100 over those sessions),
// the KDC requests of the process's principal during the storm (target 0: service tickets are
// cached per member), and the process's CPU time from the kill until the last of them is usable.
// The same with 200 Java ZooKeeper 3.8 client sessions in one JVM (ZkPeer's storm mode), in the
// same round, one after the other (which goes first alternates): Java ÷ zksecure per round.
// Memory: the resident set of the process holding the 200 idle sessions (and the Go heap in use
// after a GC) before the kill. Each side runs in a process of its own. Run with -benchtime=Nx: N
// rounds per mode.
func BenchmarkReconnectStorm(b *testing.B) {
	e := sharedEnv(b)
	if e.zk.PlainConnectString() == "" {
		b.Fatal("the shared ensemble has no plaintext port")
	}
	n := stormSessions()
	for _, mode := range []struct {
		name string
		tls  bool
	}{{"sasl", false}, {"tls+sasl", true}} {
		b.Run(mode.name, func(b *testing.B) {
			if probeRun(b) {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			var goR, javaR []stormRound
			for i := 0; i < b.N; i++ {
				sides := []string{"go", "java"}
				if i%2 == 1 {
					sides = []string{"java", "go"}
				}
				var g, j stormRound
				for _, side := range sides {
					r := runStorm(ctx, b, e, side, mode.tls, n)
					if side == "go" {
						g = r
					} else {
						j = r
					}
				}
				goR, javaR = append(goR, g), append(javaR, j)
				b.Logf("round %d (%s first, load %s): zksecure %d sessions on the killed member: p50 %v p100 %v, %d KDC requests, CPU %v (servers %v), RSS %.1f MiB (heap %.1f MiB), opened in %v; "+
					"Java %d sessions: p50 %v p100 %v, %d KDC requests, CPU %v (servers %v), RSS %.1f MiB, opened in %v; Java ÷ zksecure: p50 %.2f, p100 %.2f, CPU %.2f, RSS %.2f",
					i+1, sides[0], testenv.LoadAverage(), g.sessions, ms(g.p50), ms(g.p100), g.kdc, ms(g.cpu), ms(g.serverCPU), mib(g.rss), mib(g.heap), ms(g.open),
					j.sessions, ms(j.p50), ms(j.p100), j.kdc, ms(j.cpu), ms(j.serverCPU), mib(j.rss), ms(j.open),
					ratio(j.p50, g.p50), ratio(j.p100, g.p100), ratio(j.cpu, g.cpu), float64(j.rss)/float64(g.rss))
			}
			med := func(rs []stormRound, f func(stormRound) float64) float64 {
				v := make([]float64, len(rs))
				for i, r := range rs {
					v[i] = f(r)
				}
				return medianF(v)
			}
			b.ReportMetric(med(goR, func(r stormRound) float64 { return msF(r.p50) }), "zksecure-p50-ms")
			b.ReportMetric(med(goR, func(r stormRound) float64 { return msF(r.p100) }), "zksecure-p100-ms")
			b.ReportMetric(med(javaR, func(r stormRound) float64 { return msF(r.p50) }), "java-p50-ms")
			b.ReportMetric(med(javaR, func(r stormRound) float64 { return msF(r.p100) }), "java-p100-ms")
			b.ReportMetric(med(goR, func(r stormRound) float64 { return float64(r.kdc) }), "zksecure-kdc-requests")
			b.ReportMetric(med(javaR, func(r stormRound) float64 { return float64(r.kdc) }), "java-kdc-requests")
			b.ReportMetric(med(goR, func(r stormRound) float64 { return msF(r.cpu) }), "zksecure-cpu-ms")
			b.ReportMetric(med(javaR, func(r stormRound) float64 { return msF(r.cpu) }), "java-cpu-ms")
			b.ReportMetric(med(goR, func(r stormRound) float64 { return msF(r.serverCPU) }), "zksecure-server-cpu-ms")
			b.ReportMetric(med(javaR, func(r stormRound) float64 { return msF(r.serverCPU) }), "java-server-cpu-ms")
			b.ReportMetric(med(goR, func(r stormRound) float64 { return mib(r.rss) }), "zksecure-rss-MiB")
			b.ReportMetric(med(goR, func(r stormRound) float64 { return mib(r.heap) }), "zksecure-heap-MiB")
			b.ReportMetric(med(javaR, func(r stormRound) float64 { return mib(r.rss) }), "java-rss-MiB")
			// Ratios per round, then their median: each round's two sides saw the same machine.
			rat := func(f func(g, j stormRound) float64) float64 {
				v := make([]float64, len(goR))
				for i := range goR {
					v[i] = f(goR[i], javaR[i])
				}
				return medianF(v)
			}
			b.ReportMetric(rat(func(g, j stormRound) float64 { return ratio(j.p50, g.p50) }), "java/zksecure-p50")
			b.ReportMetric(rat(func(g, j stormRound) float64 { return ratio(j.p100, g.p100) }), "java/zksecure-p100")
			b.ReportMetric(rat(func(g, j stormRound) float64 { return ratio(j.cpu, g.cpu) }), "java/zksecure-cpu")
			b.ReportMetric(rat(func(g, j stormRound) float64 { return float64(j.rss) / float64(g.rss) }), "java/zksecure-rss")
		})
	}
}

// probeRun reports whether this is the testing package's first call with b.N = 1, made before the
// real one of -benchtime=Nx (N > 1) and discarded: a benchmark whose rounds take minutes skips it.
func probeRun(b *testing.B) bool {
	f := flag.Lookup("test.benchtime")
	if b.N != 1 || f == nil {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(f.Value.String(), "x"))
	return strings.HasSuffix(f.Value.String(), "x") && err == nil && n > 1
}

// stormRound is one side's storm.
type stormRound struct {
	open      time.Duration // opening the sessions
	p50, p100 time.Duration // kill → usable, over the sessions
	kdc       int           // KDC requests of the side's principal during the storm
	cpu       time.Duration // the process's CPU time from the kill until every session is usable
	serverCPU time.Duration // the surviving members' CPU time in that span
	rss, heap int64         // bytes, with the sessions idle before the kill (heap: Go only)
	sessions  int           // on the killed member
	expired   int
}

// runStorm opens n sessions in a new process of side ("go" or "java") on a follower, kills that
// follower, measures, and starts it again.
func runStorm(ctx context.Context, b *testing.B, e *haEnv, side string, tls bool, n int) stormRound {
	b.Helper()
	connect := e.zk.PlainConnectString()
	if tls {
		connect = e.zk.SecureConnectString()
	}
	var p stormer
	var principal string
	var err error
	if side == "go" {
		p, principal, err = startGoStormer(ctx, e, tls)
	} else {
		p, principal, err = startJavaStormer(ctx, e, tls)
	}
	if err != nil {
		b.Fatalf("%s storm peer: %v", side, err)
	}
	defer p.Close()
	sessionMs := strconv.Itoa(int((30 * time.Second).Milliseconds()))
	out, err := p.Do(ctx, "storm-open", connect, strconv.Itoa(n), sessionMs, "sasl")
	if err != nil {
		b.Fatalf("%s: opening %d sessions: %v\n%s", side, n, err, p.logTail())
	}
	var r stormRound
	openNs, _ := strconv.ParseInt(out, 10, 64)
	r.open = time.Duration(openNs)
	// Both clients spread their sessions over the members at random: the storm is on the follower
	// that holds the most (a leader's loss would add an election to every session's time).
	target, on := stormTarget(ctx, b, p, e, tls)
	r.sessions = on
	sleepCtx(ctx, 2*time.Second) // idle
	out, err = p.Do(ctx, "storm-stats")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(out)
	rssK, _ := strconv.ParseInt(f[0], 10, 64)
	r.rss = rssK << 10
	r.heap, _ = strconv.ParseInt(f[1], 10, 64)
	before, err := e.kdc.Issued(principal)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Do(ctx, "storm-arm"); err != nil {
		b.Fatal(err)
	}
	srvBefore := serversCPU(e)
	t0 := time.Now()
	if err := target.Kill(); err != nil {
		b.Fatal(err)
	}
	out, err = p.Do(ctx, "storm-wait", "120000", strconv.Itoa(on))
	if err != nil {
		b.Fatalf("%s: storm: %v\n%s", side, err, p.logTail())
	}
	for m, c := range serversCPU(e) {
		if m != target {
			r.serverCPU += c - srvBefore[m]
		}
	}
	after, err := e.kdc.Issued(principal)
	if err != nil {
		b.Fatal(err)
	}
	var by string
	if r.kdc, by = issuedSince(before, after); r.kdc > 0 {
		b.Logf("%s: KDC requests during the storm: %s", side, by)
	}
	f = strings.Fields(out)
	if len(f) != 3 {
		b.Fatalf("%s: storm-wait: %q", side, out)
	}
	cpuNs, _ := strconv.ParseInt(f[0], 10, 64)
	r.cpu = time.Duration(cpuNs)
	r.expired, _ = strconv.Atoi(f[1])
	var ds []time.Duration
	for _, s := range strings.Split(f[2], ",") {
		us, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("%s: storm-wait: %q", side, out)
		}
		ds = append(ds, time.UnixMicro(us).Sub(t0))
	}
	r.p50, r.p100 = percentile(ds, 0.5), percentile(ds, 1)
	if r.expired > 0 {
		b.Logf("%s: %d sessions expired during the storm", side, r.expired)
	}
	if _, err := p.Do(ctx, "storm-close"); err != nil {
		b.Logf("%s: storm-close: %v", side, err)
	}
	if err := target.Start(ctx); err != nil {
		b.Fatalf("restarting %s: %v", target.Host.Name, err)
	}
	return r
}

// stormTarget returns the follower holding the most of the peer's sessions, and how many.
func stormTarget(ctx context.Context, b *testing.B, p stormer, e *haEnv, tls bool) (*testenv.Member, int) {
	b.Helper()
	out, err := p.Do(ctx, "storm-where")
	if err != nil {
		b.Fatal(err)
	}
	on := map[string]int{}
	for _, kv := range strings.Split(out, ",") {
		k, v, _ := strings.Cut(kv, "=")
		on[k], _ = strconv.Atoi(v)
	}
	fs, err := e.zk.Followers(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var target *testenv.Member
	most := 0
	for _, m := range fs {
		addr := m.PlainAddr()
		if tls {
			addr = m.SecureAddr()
		}
		if on[addr] > most {
			target, most = m, on[addr]
		}
	}
	if target == nil {
		b.Fatalf("no session on a follower: %s", out)
	}
	return target, most
}

// stormer is a process holding many sessions, driven by the storm-* commands.
type stormer interface {
	Do(ctx context.Context, args ...string) (string, error)
	Close() error
	logTail() string
}

type javaStormer struct{ *testenv.JavaClient }

func (j javaStormer) logTail() string { return tail(j.LogPath, 20) }

func startJavaStormer(ctx context.Context, e *haEnv, tls bool) (stormer, string, error) {
	principal, _, jaas, err := e.jobManager(ctx)
	if err != nil {
		return nil, "", err
	}
	opts := testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: e.kdc.Krb5Conf, Dir: filepath.Join(e.dir, "storm-java-"+strings.NewReplacer("/", "_", "@", "_").Replace(principal))}
	if tls {
		opts.TLS = &testenv.JavaTLS{KeyStore: e.pki.Client.KeystorePEM, TrustStore: e.pki.CAFile}
	}
	j, err := testenv.StartJavaClient(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return javaStormer{j}, principal, nil
}

// goStormer is a storm peer process (runStormPeer).
type goStormer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	log   string
	mu    sync.Mutex
}

func startGoStormer(ctx context.Context, e *haEnv, tls bool) (stormer, string, error) {
	principal, keytab, _, err := e.jobManager(ctx)
	if err != nil {
		return nil, "", err
	}
	cfg := stormConfig{Principal: principal, Keytab: keytab, Krb5Conf: e.kdc.Krb5Conf,
		LogFile: filepath.Join(e.dir, "storm-go-"+strings.NewReplacer("/", "_", "@", "_").Replace(principal)+".log")}
	if tls {
		cfg.CAFile, cfg.CertFile, cfg.KeyFile = e.pki.CAFile, e.pki.Client.CertFile, e.pki.Client.KeyFile
	}
	if os.Getenv("HATEST_STORM_DEBUG") != "" {
		// Kept after the run, for reading.
		cfg.Debug, cfg.LogFile = true, filepath.Join(os.TempDir(), filepath.Base(cfg.LogFile))
	}
	raw, _ := json.Marshal(cfg)
	g := &goStormer{log: cfg.LogFile, lines: make(chan string, 4)}
	g.cmd = exec.Command(os.Args[0], "-test.run=^$")
	g.cmd.Env = append(os.Environ(), stormEnv+"="+string(raw))
	g.cmd.Stderr = mustAppend(cfg.LogFile)
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := g.cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if g.stdin, err = g.cmd.StdinPipe(); err != nil {
		return nil, "", err
	}
	if err := g.cmd.Start(); err != nil {
		return nil, "", err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			g.lines <- sc.Text()
		}
		close(g.lines)
	}()
	return g, principal, nil
}

func (g *goStormer) Do(ctx context.Context, args ...string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, err := fmt.Fprintln(g.stdin, strings.Join(args, " ")); err != nil {
		return "", err
	}
	select {
	case line, ok := <-g.lines:
		if !ok {
			return "", fmt.Errorf("storm peer exited during %s", args[0])
		}
		if rest, ok := strings.CutPrefix(line, "ok "); ok {
			return rest, nil
		}
		return "", fmt.Errorf("storm peer: %s: %s", args[0], line)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (g *goStormer) Close() error {
	g.mu.Lock()
	fmt.Fprintln(g.stdin, "quit")
	g.stdin.Close()
	g.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
		return <-done
	}
}

func (g *goStormer) logTail() string { return tail(g.log, 20) }

// issuedSince is the number of tickets in after beyond before, and which services they were for.
func issuedSince(before, after map[string]int) (int, string) {
	n := 0
	var by []string
	for svc, a := range after {
		if d := a - before[svc]; d > 0 {
			n += d
			by = append(by, fmt.Sprintf("%s %d", svc, d))
		}
	}
	slices.Sort(by)
	return n, strings.Join(by, ", ")
}

// serversCPU is the CPU time the running members have used so far.
func serversCPU(e *haEnv) map[*testenv.Member]time.Duration {
	out := map[*testenv.Member]time.Duration{}
	for _, m := range e.zk.Members {
		if m.Running() {
			out[m] = m.CPUTime()
		}
	}
	return out
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return a.Seconds() / b.Seconds()
}

func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
func msF(d time.Duration) float64      { return float64(d.Microseconds()) / 1000 }
func mib(n int64) float64              { return float64(n) / (1 << 20) }
