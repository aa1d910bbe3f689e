package hatest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zksecure/zksecure/internal/hacheck"
	"github.com/zksecure/zksecure/testenv"
)

// contenders is an election under test: Go contenders, each a process of its own under its own user,
// and one Curator LeaderLatch in a JVM of its own — all on one latch, each reporting its own
// timeline into one history.
type contenders struct {
	env       *haEnv
	hist      *hacheck.History
	clusterID string
	tolerate  bool // election.Options.TolerateSuspendedConnections: contenders keep leadership while Suspended (only Lost revokes)

	mu       sync.Mutex
	peers    []*goPeer
	curators []*curatorPeer
	seq      int
}

// goPeer is one Go contender process.
type goPeer struct {
	name  string
	user  testenv.User
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   string
	done  chan struct{}

	mu      sync.Mutex
	ready   bool
	leading bool
	member  string // the member it is connected to, from its last state event
	fatal   string
}

// curatorPeer is the Java peer running one Curator LeaderLatch.
type curatorPeer struct {
	name string
	user testenv.User
	java *testenv.JavaClient
	stop chan struct{}
	done chan struct{}
}

func newContenders(env *haEnv, clusterID string) *contenders {
	return &contenders{env: env, hist: &hacheck.History{}, clusterID: clusterID}
}

// startGo starts a Go contender process; it returns once the peer has connected.
func (cs *contenders) startGo(ctx context.Context) (*goPeer, error) {
	cs.mu.Lock()
	cs.seq++
	name := fmt.Sprintf("go-%d", cs.seq)
	cs.mu.Unlock()
	e := cs.env
	princ, keytab, _, err := e.jobManager(ctx)
	if err != nil {
		return nil, err
	}
	cfg := peerConfig{
		Name: name, Members: strings.Split(e.zk.SecureConnectString(), ","), ClusterID: cs.clusterID,
		Principal: princ, Keytab: keytab, Krb5Conf: e.kdc.Krb5Conf,
		CAFile: e.pki.CAFile, CertFile: e.pki.Client.CertFile, KeyFile: e.pki.Client.KeyFile,
		SessionTimeout: sessionTimeout, LogFile: filepath.Join(e.dir, name+".log"), Tolerate: cs.tolerate,
	}
	raw, _ := json.Marshal(cfg)
	p := &goPeer{name: name, user: e.net.NewUser(), log: cfg.LogFile, done: make(chan struct{})}
	argv := p.user.Argv([]string{os.Args[0], "-test.run=^$"})
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), peerEnv+"="+string(raw))
	p.cmd.Stderr = mustAppend(cfg.LogFile)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	readyCh := make(chan struct{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		var once sync.Once
		for sc.Scan() {
			cs.onPeerLine(p, sc.Text(), func() { once.Do(func() { close(readyCh) }) })
		}
		p.cmd.Wait()
		cs.endPeer(p, "process exited")
	}()
	cs.mu.Lock()
	cs.peers = append(cs.peers, p)
	cs.mu.Unlock()
	select {
	case <-readyCh:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before connecting: %s\n%s", name, p.fatalMsg(), tail(p.log, 20))
	case <-ctx.Done():
		return nil, fmt.Errorf("%s did not connect: %w\n%s", name, ctx.Err(), tail(p.log, 20))
	}
}

func (cs *contenders) onPeerLine(p *goPeer, line string, ready func()) {
	f := strings.SplitN(line, " ", 3)
	if len(f) < 2 {
		return
	}
	at := time.Now()
	if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
		at = time.UnixMicro(n)
	}
	rest := ""
	if len(f) == 3 {
		rest = f[2]
	}
	switch f[0] {
	case "ready":
		p.mu.Lock()
		p.ready = true
		p.mu.Unlock()
		ready()
	case "lead":
		p.mu.Lock()
		p.leading = true
		p.mu.Unlock()
		cs.hist.Lead(p.name, at)
	case "unlead":
		p.mu.Lock()
		p.leading = false
		p.mu.Unlock()
		cs.hist.Unlead(p.name, at, rest)
	case "state":
		if st, member, ok := strings.Cut(rest, " "); ok && st != "AuthFailed" {
			p.mu.Lock()
			p.member = member
			p.mu.Unlock()
		}
	case "authfailed":
		cs.hist.AuthFailed(p.name, fmt.Errorf("%s", rest))
	case "fatal":
		p.mu.Lock()
		p.fatal = strings.Join(f[1:], " ")
		p.mu.Unlock()
	}
}

// endPeer closes the timeline of a peer whose process ended (a crash ends its leadership too).
func (cs *contenders) endPeer(p *goPeer, why string) {
	p.mu.Lock()
	leading := p.leading
	p.leading = false
	p.mu.Unlock()
	if leading {
		cs.hist.Unlead(p.name, time.Now(), why)
	}
}

func (p *goPeer) fatalMsg() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fatal
}

func (p *goPeer) connectedTo() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.member
}

func (p *goPeer) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// quit asks the peer to close its client gracefully and waits for it to exit.
func (p *goPeer) quit(ctx context.Context) error {
	fmt.Fprintln(p.stdin, "quit")
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.kill()
		return fmt.Errorf("%s did not quit: %w", p.name, ctx.Err())
	}
}

// kill crashes the peer (SIGKILL).
func (p *goPeer) kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// startCurator starts a Java peer (a JVM of its own) with one Curator LeaderLatch on the same latch.
func (cs *contenders) startCurator(ctx context.Context) (*curatorPeer, error) {
	e := cs.env
	cs.mu.Lock()
	cs.seq++
	name := fmt.Sprintf("curator-%d", cs.seq)
	cs.mu.Unlock()
	c := &curatorPeer{name: name, user: e.net.NewUser(), stop: make(chan struct{}), done: make(chan struct{})}
	_, _, jaas, err := e.jobManager(ctx)
	if err != nil {
		return nil, err
	}
	c.java, err = testenv.StartJavaClient(ctx, testenv.JavaClientOptions{
		JAASFile: jaas, Krb5Conf: e.kdc.Krb5Conf, User: c.user, Dir: filepath.Join(e.dir, strings.TrimPrefix(cs.clusterID, "/")+"-"+name),
		TLS: &testenv.JavaTLS{KeyStore: e.pki.Client.KeystorePEM, TrustStore: e.pki.CAFile},
	})
	if err != nil {
		return nil, err
	}
	if err := c.java.CuratorLatch(ctx, e.zk.SecureConnectString(), "/flink"+cs.clusterID, "/leader/latch", 1, sessionTimeout); err != nil {
		c.java.Close()
		return nil, fmt.Errorf("curator latch: %w\n%s", err, tail(c.java.LogPath, 20))
	}
	cs.mu.Lock()
	cs.curators = append(cs.curators, c)
	cs.mu.Unlock()
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				cs.pollCurator(c)
				return
			case <-time.After(50 * time.Millisecond):
				cs.pollCurator(c)
			}
		}
	}()
	return c, nil
}

// pollCurators reads every Curator peer's latest leadership changes into the history.
func (cs *contenders) pollCurators() {
	cs.mu.Lock()
	cur := append([]*curatorPeer(nil), cs.curators...)
	cs.mu.Unlock()
	for _, c := range cur {
		select {
		case <-c.done:
		default:
			cs.pollCurator(c)
		}
	}
}

// killCurator crashes a Curator peer's JVM (SIGKILL) and closes its timeline.
func (cs *contenders) killCurator(c *curatorPeer) {
	cs.pollCurator(c)
	close(c.stop)
	<-c.done
	c.java.Kill()
	cs.hist.Unlead(c.name, time.Now(), "process killed")
	cs.mu.Lock()
	for i, o := range cs.curators {
		if o == c {
			cs.curators = append(cs.curators[:i], cs.curators[i+1:]...)
			break
		}
	}
	cs.mu.Unlock()
	c.java.Close()
}

func (cs *contenders) pollCurator(c *curatorPeer) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := c.java.CuratorHistory(ctx)
	if err != nil {
		return
	}
	for _, ev := range evs {
		if ev.Leader {
			cs.hist.Lead(c.name, ev.At)
		} else {
			cs.hist.Unlead(c.name, ev.At, "curator notLeader")
		}
	}
}

// leader returns the name of the contender that believes it leads now (several: an invariant is
// broken, which the checks report), and the peer when it is a Go contender.
func (cs *contenders) leader() (string, *goPeer) {
	names := hacheck.LeaderAt(cs.trustedIntervals(), time.Now())
	if len(names) != 1 {
		return "", nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, p := range cs.peers {
		if p.name == names[0] {
			return p.name, p
		}
	}
	return names[0], nil
}

// jobManager makes the next JobManager host jmN.<domain> with its own principal flink/jmN.<domain>,
// keytab and JAAS Client section (for a Java peer).
func (e *haEnv) jobManager(ctx context.Context) (principal, keytab, jaas string, err error) {
	e.mu.Lock()
	e.jms++
	n := e.jms
	e.mu.Unlock()
	h, err := e.net.AddHost(fmt.Sprintf("jm%d", n), testenv.RoleClient)
	if err != nil {
		return "", "", "", err
	}
	short := "flink/" + h.Name
	if err := e.kdc.AddPrincipals(ctx, short); err != nil {
		return "", "", "", err
	}
	if keytab, err = e.kdc.Keytab(ctx, short); err != nil {
		return "", "", "", err
	}
	principal = e.kdc.Principal(short)
	jaas = filepath.Join(e.dir, fmt.Sprintf("jaas-jm%d.conf", n))
	err = os.WriteFile(jaas, []byte(testenv.JAASSection("Client", keytab, principal)), 0o644)
	return principal, keytab, jaas, err
}

// trusted returns the leaderships with every Curator one cut short where a zksecure contender that
// began later took over: a zksecure contender leads only when its node heads the latch and is its
// session's, so from then on the Curator leader's node was gone and its belief stale (see
// staleCurator). Gaps, recovery and "who leads" are judged on these; overlaps on the raw history.
func trusted(ivs []hacheck.Interval) []hacheck.Interval {
	out := append([]hacheck.Interval(nil), ivs...)
	for i := range out {
		if !strings.HasPrefix(out[i].Contender, "curator") {
			continue
		}
		for _, g := range ivs {
			if strings.HasPrefix(g.Contender, "go-") && g.Start.After(out[i].Start) &&
				(out[i].End.IsZero() || g.Start.Before(out[i].End)) {
				out[i].End, out[i].Reason = g.Start, "stale: a zksecure contender took over"
			}
		}
	}
	return out
}

// trustedIntervals is trusted of the history so far.
func (cs *contenders) trustedIntervals() []hacheck.Interval {
	cs.pollCurators()
	return trusted(cs.hist.Intervals())
}

// userOf returns the process user of a contender.
func (cs *contenders) userOf(name string) testenv.User {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.curators {
		if c.name == name {
			return c.user
		}
	}
	for _, p := range cs.peers {
		if p.name == name {
			return p.user
		}
	}
	return testenv.User{}
}

// waitLeader waits until exactly one contender leads.
func (cs *contenders) waitLeader(ctx context.Context) (string, error) {
	for {
		if name, _ := cs.leader(); name != "" {
			return name, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no single leader: %w\n%s", ctx.Err(), cs.hist.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// close ends every contender (gracefully) and the Curator peer.
func (cs *contenders) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs.mu.Lock()
	peers := append([]*goPeer(nil), cs.peers...)
	cs.mu.Unlock()
	for _, p := range peers {
		if p.alive() {
			p.quit(ctx)
		}
	}
	cs.mu.Lock()
	cur := cs.curators
	cs.curators = nil
	cs.mu.Unlock()
	for _, c := range cur {
		close(c.stop)
		<-c.done
		c.java.Close()
	}
}

func mustAppend(path string) *os.File {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil
	}
	return f
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
