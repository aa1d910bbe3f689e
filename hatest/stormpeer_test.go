package hatest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
)

// stormEnv carries the configuration (JSON) of a storm peer into a re-executed test binary: many
// zksecure sessions in one process of their own, so that its CPU time and memory are its own.
const stormEnv = "HATEST_STORM"

// stormOpening is how many sessions a storm peer opens at a time (as the Java peer).
const stormOpening = 10

type stormConfig struct {
	Principal, Keytab, Krb5Conf string
	CAFile, CertFile, KeyFile   string // empty CAFile: no TLS
	LogFile                     string
	Debug                       bool // log at Debug (HATEST_STORM_DEBUG=1): the clients' phase timings
}

// runStormPeer speaks the storm commands of the Java peer (testenv/java/Storm.java), one reply line
// each, "ok <result>" or "err EXCEPTION <message>":
//
//	storm-open <connect> <n> <sessionMs> sasl   n client.Connect, 10 at a time, each then Exists("/")
//	storm-where                                 ok <host:port>=<sessions>,...: where the sessions are connected
//	storm-arm                                   the storm starts: forget what happened so far
//	storm-wait <timeoutMs> <n>                  ok <cpu ns> <expired> <µs,...>: once at least n sessions lost
//	                                            their connection and each of them is usable again
//	                                            (Reconnected, then Exists answered), the unix µs of each; CPU
//	                                            time (getrusage) since arm
//	storm-stats                                 ok <rss KiB> <heap bytes in use after a GC> <cpu ns>
//	storm-close                                 close every session
//	quit                                        exit
func runStormPeer(raw string) int {
	var cfg stormConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Printf("err EXCEPTION bad %s: %v\n", stormEnv, err)
		return 1
	}
	logger := slog.New(slog.DiscardHandler)
	if cfg.LogFile != "" {
		if f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			defer f.Close()
			level := slog.LevelInfo
			if cfg.Debug {
				level = slog.LevelDebug
			}
			logger = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level}))
		}
	}
	os.Setenv("KRB5_CONFIG", cfg.Krb5Conf)
	p := &stormGoPeer{cfg: cfg, log: logger}
	defer p.closeAll()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "quit" {
			fmt.Println("ok bye")
			return 0
		}
		res, err := p.handle(f)
		if err != nil {
			fmt.Printf("err EXCEPTION %s\n", oneLine(err))
		} else {
			fmt.Printf("ok %s\n", res)
		}
	}
	return 0
}

type stormGoPeer struct {
	cfg      stormConfig
	log      *slog.Logger
	sessions []*stormSession
	armCPU   time.Duration
}

// stormSession is one client and what its connection went through since the storm was armed.
type stormSession struct {
	c *client.Client

	mu      sync.Mutex
	member  string // connected to, from the latest Connected or Reconnected
	down    bool
	expired bool
	usable  int64 // unix µs
	probing bool
}

func (p *stormGoPeer) handle(f []string) (string, error) {
	switch f[0] {
	case "storm-open":
		if len(f) != 5 {
			return "", errors.New("storm-open <connect> <n> <sessionMs> <sasl|nosasl>")
		}
		n, err1 := strconv.Atoi(f[2])
		ms, err2 := strconv.Atoi(f[3])
		if err := errors.Join(err1, err2); err != nil {
			return "", err
		}
		return p.open(client.SplitMembers(f[1]), n, time.Duration(ms)*time.Millisecond, f[4] == "sasl")
	case "storm-arm":
		for _, s := range p.sessions {
			s.mu.Lock()
			s.down, s.expired, s.usable = false, false, 0
			s.mu.Unlock()
		}
		p.armCPU = cpuTime()
		return "armed", nil
	case "storm-wait":
		if len(f) != 3 {
			return "", errors.New("storm-wait <timeoutMs> <n>")
		}
		ms, err1 := strconv.Atoi(f[1])
		want, err2 := strconv.Atoi(f[2])
		if err := errors.Join(err1, err2); err != nil {
			return "", err
		}
		return p.wait(time.Duration(ms)*time.Millisecond, want)
	case "storm-where":
		on := map[string]int{}
		for _, s := range p.sessions {
			s.mu.Lock()
			if s.down {
				on["-"]++
			} else {
				on[s.member]++
			}
			s.mu.Unlock()
		}
		var out []string
		for m, n := range on {
			out = append(out, fmt.Sprintf("%s=%d", m, n))
		}
		slices.Sort(out)
		return strings.Join(out, ","), nil
	case "storm-stats":
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return fmt.Sprintf("%d %d %d", rssKiB(), ms.HeapAlloc, cpuTime().Nanoseconds()), nil
	case "storm-close":
		p.closeAll()
		return "closed", nil
	}
	return "", fmt.Errorf("unknown command %s", f[0])
}

func (p *stormGoPeer) open(members []string, n int, sessionTimeout time.Duration, useSASL bool) (string, error) {
	t0 := time.Now()
	out := make([]*stormSession, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	// At most stormOpening sessions connect (and log in) at once: a burst of hundreds of logins
	// overruns a KDC; the storm is what is measured.
	slots := make(chan struct{}, stormOpening)
	for i := range out {
		s := &stormSession{}
		out[i] = s
		cfg := client.Config{
			Members: members, ClusterID: "/storm", SessionTimeout: sessionTimeout, ConnectionTimeout: 2 * time.Minute,
			RetryWait: 100 * time.Millisecond, Transport: client.TransportPlaintext, Logger: p.log,
			OnState: s.event,
		}
		if useSASL {
			cfg.SASL = client.SASLKerberos
			cfg.Kerberos = sasl.Config{Login: sasl.Login{Principal: p.cfg.Principal, Keytab: p.cfg.Keytab, Krb5Conf: p.cfg.Krb5Conf}}
		}
		if p.cfg.CAFile != "" {
			cfg.Transport = client.TransportTLS
			cfg.TLS = &zktls.Config{CAFile: p.cfg.CAFile, CertFile: p.cfg.CertFile, KeyFile: p.cfg.KeyFile}
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c, err := client.Connect(ctx, cfg)
			if err != nil {
				errs[i] = fmt.Errorf("session %d: %w", i, err)
				return
			}
			s.mu.Lock()
			s.c = c
			s.mu.Unlock()
			if _, _, err := c.Exists(ctx, "/"); err != nil {
				errs[i] = fmt.Errorf("session %d: exists: %w", i, err)
			}
		}()
	}
	wg.Wait()
	p.sessions = append(p.sessions, out...)
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return strconv.FormatInt(time.Since(t0).Nanoseconds(), 10), nil
}

// event follows the session's connection: usable again is Reconnected (authenticated: the dialer
// authenticates before go-zookeeper sees the session) and one request answered.
func (s *stormSession) event(ev client.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev.State {
	case client.Connected:
		s.member = ev.Member
	case client.Suspended:
		s.down, s.usable = true, 0
	case client.Lost:
		s.down, s.expired = true, true
	case client.Reconnected:
		s.member = ev.Member
		if s.c == nil || s.probing {
			return
		}
		s.probing = true
		go s.probe()
	}
}

func (s *stormSession) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	for {
		if _, _, err = s.c.Exists(ctx, "/"); err == nil || ctx.Err() != nil || s.c.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond) // lost again before it answered: the next connection is tried
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probing = false
	if err == nil && s.down && s.usable == 0 {
		s.usable = time.Now().UnixMicro()
	}
}

func (p *stormGoPeer) wait(timeout time.Duration, want int) (string, error) {
	until := time.Now().Add(timeout)
	for {
		pending, down := 0, 0
		for _, s := range p.sessions {
			s.mu.Lock()
			if s.down {
				down++
				if s.usable == 0 {
					pending++
				}
			}
			s.mu.Unlock()
		}
		if down >= want && pending == 0 {
			break
		}
		if time.Now().After(until) {
			return "", fmt.Errorf("%d of %d sessions lost their connection (%d expected), %d of them not usable again within %v", down, len(p.sessions), want, pending, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cpu := cpuTime() - p.armCPU
	var at []string
	expired := 0
	for _, s := range p.sessions {
		s.mu.Lock()
		if s.down {
			at = append(at, strconv.FormatInt(s.usable, 10))
			if s.expired {
				expired++
			}
		}
		s.mu.Unlock()
	}
	return fmt.Sprintf("%d %d %s", cpu.Nanoseconds(), expired, strings.Join(at, ",")), nil
}

func (p *stormGoPeer) closeAll() {
	var wg sync.WaitGroup
	for _, s := range p.sessions {
		s.mu.Lock()
		c := s.c
		s.mu.Unlock()
		if c != nil {
			wg.Add(1)
			go func() { defer wg.Done(); c.Close() }()
		}
	}
	wg.Wait()
	p.sessions = nil
}

// cpuTime is the process's user + system CPU time (getrusage RUSAGE_SELF).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssKiB is the process's resident set (VmRSS of /proc/self/status), -1 when unknown.
func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}
