package election_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
	"github.com/zksecure/zksecure/testenv"
)

// freeze stops a member's JVM with SIGSTOP (a long GC pause, as the servers see it) and returns the
// function that resumes it; the test's cleanup resumes it in any case.
func freeze(t *testing.T, m *testenv.Member) (thaw func()) {
	t.Helper()
	pid := m.PID()
	if pid == 0 {
		t.Fatalf("member %d is not running", m.ID)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("freezing member %d: %v", m.ID, err)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Errorf("thawing member %d: %v", m.ID, err)
			}
		})
	}
	t.Cleanup(thaw)
	return thaw
}

// waitUntil polls cond until it holds, or fails the test when ctx ends.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// awaitWithin is await with a bound of d.
func awaitWithin(t *testing.T, ch <-chan *election.Leadership, d time.Duration, what string) *election.Leadership {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok || l == nil {
			t.Fatalf("%s: campaign failed", what)
		}
		return l
	case <-time.After(d):
		t.Fatalf("%s: did not become leader within %v", what, d)
	}
	return nil
}

// noNodeOf waits until no contender of the latch is owned by session sid.
func noNodeOf(t *testing.T, ctx context.Context, e *election.Election, sid int64, what string) {
	t.Helper()
	var last []election.Contender
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		cs, err := e.Contenders(ctx)
		if err == nil {
			left := false
			for _, c := range cs {
				left = left || c.Owner == sid
			}
			if !left {
				return
			}
			last = cs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: a node of session 0x%x remains: %+v", what, sid, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func uniqueCluster(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

// A quorum loss longer than the session timeout: the two followers of a 3-member ensemble are frozen,
// the leader loses its quorum and expires nothing, the clients declare their sessions Lost by their
// timers — and after the thaw come back on the same sessions, their ephemeral nodes intact. The old
// leader's latch node must not keep the latch leaderless: under both policies exactly one contender
// leads again, soon, and never two at once.
func TestQuorumLossLostThenSameSession(t *testing.T) {
	requireEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	const sessionTimeout, tick = 4 * time.Second, 250 * time.Millisecond
	const syncLimit = 10 // testenv's: the leader gives up on silent followers after syncLimit ticks
	members := strings.Split(ensemble.ConnectString(), ",")
	type contender struct {
		name   string
		c      *client.Client
		e      *election.Election
		leader atomic.Pointer[election.Leadership]
	}
	var pairs [][]*contender
	var all []*contender
	for _, tolerate := range []bool{false, true} {
		cluster := uniqueCluster(fmt.Sprintf("quorum-loss-tolerate-%v", tolerate))
		var pair []*contender
		for i := 0; i < 2; i++ {
			// Unauthenticated clients: a SASL exchange that meets a member dropping its connections
			// as it loses quorum fails the client closed (AuthFailed; see the report on auth/sasl),
			// which is not what this test is about.
			cfg := setups[1].config(cluster, members...)
			cfg.SessionTimeout, cfg.RetryWait = sessionTimeout, 200*time.Millisecond
			name := fmt.Sprintf("tolerate-%v-%d", tolerate, i)
			cfg.OnState = func(ev client.Event) { t.Logf("%s: %s", name, ev) } // shown when the test fails
			c := connect(t, cfg)
			k := &contender{name: name, c: c, e: newElectionWith(t, c, election.Options{TolerateSuspendedConnections: tolerate})}
			pair, all = append(pair, k), append(all, k)
		}
		pairs = append(pairs, pair)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, k := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				l, err := k.e.Campaign(ctx, []byte(k.name))
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(50 * time.Millisecond):
					}
					continue
				}
				k.leader.Store(l)
				select {
				case <-l.Done():
				case <-ctx.Done():
				}
				k.leader.Store(nil)
			}
		}()
	}
	leaders := func(pair []*contender) (n int, who *election.Leadership) {
		for _, k := range pair {
			if l := k.leader.Load(); l != nil && l.Err() == nil {
				n, who = n+1, l
			}
		}
		return n, who
	}
	var violations atomic.Int32
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			for _, p := range pairs {
				if n, _ := leaders(p); n > 1 {
					violations.Add(1)
				}
			}
		}
	}()
	oneLeaderEach := func() bool {
		for _, p := range pairs {
			if n, _ := leaders(p); n != 1 {
				return false
			}
		}
		return true
	}
	waitUntil(t, ctx, "one leader per latch before the fault", oneLeaderEach)
	var before []*election.Leadership
	for _, p := range pairs {
		_, l := leaders(p)
		before = append(before, l)
	}
	sessions := map[*contender]int64{}
	for _, k := range all {
		sessions[k] = k.c.SessionID()
	}

	zkLeader, err := ensemble.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var thaws []func()
	for _, m := range ensemble.Members {
		if m != zkLeader {
			thaws = append(thaws, freeze(t, m))
			t.Logf("froze member %d (pid %d); member %d leads", m.ID, m.PID(), zkLeader.ID)
		}
	}
	states := func() string {
		var b strings.Builder
		for _, k := range all {
			fmt.Fprintf(&b, " %s=%v", k.name, k.c.State())
		}
		return b.String()
	}
	lctx, lcancel := context.WithTimeout(ctx, 3*sessionTimeout+syncLimit*tick)
	defer lcancel()
	for lost := false; !lost; {
		lost = true
		for _, k := range all {
			lost = lost && k.c.State() == client.Lost
		}
		select {
		case <-lctx.Done():
			t.Fatalf("not every client declared its session lost within %v of the freeze:%s", 3*sessionTimeout+syncLimit*tick, states())
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, thaw := range thaws {
		thaw()
	}
	t.Logf("thawed; states:%s", states())
	waitUntil(t, ctx, "every client reconnects", func() bool {
		for _, k := range all {
			if st := k.c.State(); st != client.Reconnected && st != client.Connected {
				return false
			}
		}
		return true
	})
	back := time.Now()
	for _, k := range all {
		if sid := k.c.SessionID(); sid != sessions[k] {
			t.Fatalf("precondition not met: %s came back on a new session 0x%x (was 0x%x), so the same-session path was not exercised",
				k.name, sid, sessions[k])
		}
	}
	for i, l := range before {
		select {
		case <-l.Done():
		default:
			t.Fatalf("leadership %d survived a session the client declared lost", i)
		}
	}
	if !errors.Is(before[0].Err(), election.ErrSuspended) || !errors.Is(before[1].Err(), election.ErrSessionLost) {
		t.Errorf("leaderships ended with %v (default policy) and %v (tolerant), want ErrSuspended and ErrSessionLost", before[0].Err(), before[1].Err())
	}
	// A leader again within a session timeout, two ticks and some slack from the reconnection.
	bound := sessionTimeout + 2*tick + 2*time.Second
	bctx, bcancel := context.WithTimeout(ctx, bound)
	waitUntil(t, bctx, fmt.Sprintf("one leader per latch again within %v of the reconnection", bound), oneLeaderEach)
	bcancel()
	t.Logf("one leader per latch again %v after the reconnection", time.Since(back).Round(time.Millisecond))
	for i, p := range pairs {
		// Exactly one node per contender: the old leader's node is gone, nothing is left over.
		cs, err := p[0].e.Contenders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Node == before[i].Node()[len(election.DefaultLatchPath)+1:] {
				t.Errorf("latch %d: the ended leadership's node %s is still there", i, c.Node)
			}
		}
	}
	close(stop)
	<-sampled
	if v := violations.Load(); v > 0 {
		t.Errorf("%d samples saw two leaders of one latch", v)
	}
}

// holdProxy forwards a client's connections to a member and can hold back the client's requests:
// the first request a predicate picks, and everything the client sends after it (a session's order
// is kept), reach the server only on release — a request delayed in the network, whose caller may
// have given up meanwhile. It reads ZooKeeper's framing, so it works with plaintext connections only.
type holdProxy struct {
	Addr   string
	target string
	l      net.Listener

	mu      sync.Mutex
	match   func(op int32, body []byte) bool
	held    chan struct{}
	release chan struct{}
	dark    chan struct{} // non-nil while blackholed: closed to let traffic through again
	conns   map[net.Conn]struct{}
	closed  chan struct{}
	wg      sync.WaitGroup
}

// ZooKeeper opcodes the tests hold.
const (
	opCreate = 1
	opMulti  = 14
)

func newHoldProxy(t *testing.T, target string) *holdProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{Addr: "localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), target: target, l: l,
		conns: map[net.Conn]struct{}{}, closed: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// hold arms the proxy: held is closed when the first request match picks arrives; it and what
// follows wait until release is called.
func (p *holdProxy) hold(match func(op int32, body []byte) bool) (held <-chan struct{}, release func()) {
	h, r := make(chan struct{}), make(chan struct{})
	p.mu.Lock()
	p.match, p.held, p.release = match, h, r
	p.mu.Unlock()
	var once sync.Once
	return h, func() { once.Do(func() { close(r) }) }
}

// blackhole holds everything every connection of the client sends, ConnectRequests included, until
// release: the server hears nothing from the client, while the client's reconnects hang unanswered.
func (p *holdProxy) blackhole() (release func()) {
	d := make(chan struct{})
	p.mu.Lock()
	p.dark = d
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.dark = nil
			p.mu.Unlock()
			close(d)
		})
	}
}

func (p *holdProxy) gate() {
	p.mu.Lock()
	d := p.dark
	p.mu.Unlock()
	if d != nil {
		select {
		case <-d:
		case <-p.closed:
		}
	}
}

func (p *holdProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		c.Close()
		return false
	default:
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *holdProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		if p.track(c) {
			p.wg.Add(1)
			go p.pipe(c)
		}
	}
}

func (p *holdProxy) pipe(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil || !p.track(up) {
		return
	}
	defer up.Close()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		io.Copy(c, up)
		c.Close()
		up.Close()
	}()
	r := bufio.NewReader(c)
	for first := true; ; first = false {
		frame := make([]byte, 4)
		if _, err := io.ReadFull(r, frame); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(frame)
		if n > 1<<24 {
			return
		}
		frame = append(frame, make([]byte, n)...)
		if _, err := io.ReadFull(r, frame[4:]); err != nil {
			return
		}
		// The first frame of a connection is the ConnectRequest; every later one starts with
		// xid and opcode.
		if !first && n >= 8 {
			p.maybeHold(int32(binary.BigEndian.Uint32(frame[8:12])), frame[4:])
		}
		p.gate()
		if _, err := up.Write(frame); err != nil {
			return
		}
	}
}

func (p *holdProxy) maybeHold(op int32, body []byte) {
	p.mu.Lock()
	match, held, release := p.match, p.held, p.release
	if match == nil || !match(op, body) {
		p.mu.Unlock()
		return
	}
	p.match = nil
	p.mu.Unlock()
	close(held)
	select {
	case <-release:
	case <-p.closed:
	}
}

func (p *holdProxy) close() {
	p.mu.Lock()
	select {
	case <-p.closed:
		p.mu.Unlock()
		return
	default:
	}
	close(p.closed)
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.l.Close()
	for c := range conns {
		c.Close()
	}
	p.wg.Wait()
}

// A campaign must never leave a node behind, even when it cannot know whether its create happened:
// (1) its context ends while the create is still on its way (the request reaches the server after
// Campaign returned); (2) its context ends while it waits in line and the connection is down. In
// both cases the node is removed once the connection allows, and the next contender leads.
func TestAbandonedCampaignLeavesNoNode(t *testing.T) {
	requireEnv(t)
	s := setups[1] // open: the hold proxy reads the protocol in the clear
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	t.Run("create-in-flight", func(t *testing.T) {
		cluster := uniqueCluster("abandoned-create")
		hp := newHoldProxy(t, zk38.Members[0].Addr())
		ca := connect(t, s.config(cluster, hp.Addr))
		a, b := newElection(t, ca), newElection(t, connect(t, s.config(cluster)))
		if err := ca.CreateAll(ctx, election.DefaultLatchPath); err != nil {
			t.Fatal(err)
		}
		sid := ca.SessionID()
		held, release := hp.hold(func(op int32, body []byte) bool {
			return op == opCreate && bytes.Contains(body, []byte(election.ProtectedPrefix))
		})
		defer release()
		short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := a.Campaign(short, []byte("abandoned"))
		cancelShort()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("campaign with a held create: %v, want context.DeadlineExceeded", err)
		}
		select {
		case <-held:
		default:
			t.Fatal("precondition not met: no create of a contender node was held, so its outcome was never unknown")
		}
		release()
		// The create reaches the server now. A later request of the same session is answered after it.
		if _, _, err := ca.Exists(ctx, election.DefaultLatchPath); err != nil {
			t.Fatal(err)
		}
		lb := awaitWithin(t, campaignAsync(t, b, ctx, "b"), 10*time.Second, "b after an abandoned create")
		noNodeOf(t, ctx, b, sid, "after an abandoned create")
		if ca.SessionID() != sid {
			t.Fatalf("precondition not met: the session changed (0x%x, was 0x%x)", ca.SessionID(), sid)
		}
		lb.Resign(ctx)
	})

	t.Run("waiting-while-suspended", func(t *testing.T) {
		cluster := uniqueCluster("abandoned-wait")
		proxy := testenv.NewProxy(t, zk38.Members[0].Addr())
		cfg := s.config(cluster, proxy.Addr)
		cfg.SessionTimeout, cfg.RetryWait = 6*time.Second, 200*time.Millisecond
		cx := connect(t, cfg)
		x := newElection(t, cx)
		first, third := newElection(t, connect(t, s.config(cluster))), newElection(t, connect(t, s.config(cluster)))
		l := await(t, campaignAsync(t, first, ctx, "first"), "first")
		xctx, xcancel := context.WithCancel(ctx)
		defer xcancel()
		xres := make(chan error, 1)
		go func() { _, err := x.Campaign(xctx, []byte("x")); xres <- err }()
		waitContenders(t, ctx, first, 2)
		sid := cx.SessionID()
		proxy.Block()
		waitUntil(t, ctx, "x suspended", func() bool { return cx.State() == client.Suspended })
		xcancel()
		select {
		case err := <-xres:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled campaign: %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("Campaign ignored its context while the connection was down")
		}
		c3 := campaignAsync(t, third, ctx, "third") // behind x's node, which cannot be deleted yet
		waitContenders(t, ctx, first, 3)
		proxy.Unblock()
		waitUntil(t, ctx, "x reconnects", func() bool { return cx.State() == client.Reconnected })
		if cx.SessionID() != sid {
			t.Fatalf("precondition not met: x came back on a new session 0x%x (was 0x%x)", cx.SessionID(), sid)
		}
		noNodeOf(t, ctx, first, sid, "after a campaign abandoned while suspended")
		if err := l.Resign(ctx); err != nil {
			t.Fatal(err)
		}
		awaitWithin(t, c3, 10*time.Second, "third after first resigned").Resign(ctx)
	})

	// The subtests' clients are closed: no background cleanup of this package may outlive them.
	noElectionGoroutines(t, ctx)
}

// noElectionGoroutines waits until no goroutine runs code of package election (tests aside).
func noElectionGoroutines(t *testing.T, ctx context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var left []string
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		left = left[:0]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "zksecure/election.") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d goroutines of package election outlived their clients:\n%s", len(left), strings.Join(left, "\n\n"))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Publish never succeeds once Done is closed: a write still in flight when leadership ends is undone
// and reported as ErrNotLeader, and no record outlives the leadership; while the connection is down
// nothing is sent at all.
func TestPublishNeverSucceedsAfterDone(t *testing.T) {
	requireEnv(t)
	s := setups[1] // open: the hold proxy reads the protocol in the clear
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("write-in-flight-during-resign", func(t *testing.T) {
		cluster := uniqueCluster("publish-race")
		hp := newHoldProxy(t, zk38.Members[0].Addr())
		e := newElection(t, connect(t, s.config(cluster, hp.Addr)))
		reader := connect(t, s.config(cluster))
		next := newElection(t, reader)
		l := await(t, campaignAsync(t, e, ctx, "leader"), "leader")
		cn := campaignAsync(t, next, ctx, "next")
		waitContenders(t, ctx, next, 2)
		held, release := hp.hold(func(op int32, _ []byte) bool { return op == opMulti })
		defer release()
		pub := make(chan error, 1)
		go func() { pub <- l.Publish(ctx, "rest_server", "http://stale:8081") }()
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("precondition not met: Publish's write never reached the proxy")
		}
		resigned := make(chan error, 1)
		go func() { resigned <- l.Resign(ctx) }()
		select {
		case <-l.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("Resign did not end the leadership")
		}
		release() // the write reaches the server after Done closed
		select {
		case err := <-pub:
			if !errors.Is(err, election.ErrNotLeader) {
				t.Errorf("Publish whose write landed after Done closed returned %v, want ErrNotLeader", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Publish did not return")
		}
		if err := <-resigned; err != nil {
			t.Errorf("Resign: %v", err)
		}
		if info, err := election.ReadLeader(ctx, reader, "rest_server"); !errors.Is(err, election.ErrNoLeader) {
			t.Errorf("a record outlived its leadership: %+v, %v", info, err)
		}
		awaitWithin(t, cn, 10*time.Second, "next").Resign(ctx)
	})

	t.Run("not-sent-while-suspended", func(t *testing.T) {
		cluster := uniqueCluster("publish-suspended")
		proxy := testenv.NewProxy(t, zk38.Members[0].Addr())
		cfg := s.config(cluster, proxy.Addr)
		cfg.SessionTimeout = 6 * time.Second
		c := connect(t, cfg)
		reader := connect(t, s.config(cluster))
		l := await(t, campaignAsync(t, newElectionWith(t, c, election.Options{TolerateSuspendedConnections: true}), ctx, "leader"), "leader")
		sid := c.SessionID()
		proxy.Block()
		waitUntil(t, ctx, "suspended", func() bool { return c.State() == client.Suspended })
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		err := l.Publish(pctx, "rest_server", "http://while-suspended:8081")
		pcancel()
		if err == nil || errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, zk.ErrConnectionClosed) {
			t.Errorf("Publish while suspended: %v, want a refusal (zk.ErrConnectionClosed) before sending", err)
		}
		proxy.Unblock()
		waitUntil(t, ctx, "reconnected", func() bool { return c.State() == client.Reconnected })
		if c.SessionID() != sid {
			t.Fatalf("precondition not met: new session 0x%x (was 0x%x)", c.SessionID(), sid)
		}
		if l.Err() != nil {
			t.Fatalf("tolerant leadership ended on a short suspension: %v", l.Err())
		}
		if info, err := election.ReadLeader(ctx, reader, "rest_server"); !errors.Is(err, election.ErrNoLeader) {
			t.Errorf("a refused Publish wrote a record after all: %+v, %v", info, err)
		}
		if err := l.Publish(ctx, "rest_server", "http://back:8081"); err != nil {
			t.Errorf("Publish once reconnected: %v", err)
		}
		l.Resign(ctx)
	})
}

// A session the servers expire ends the leadership with a cause that says so: errors.Is finds both
// ErrSessionLost and zk.ErrSessionExpired. The server must expire the session before the client's
// own timer declares it lost: the client's traffic is blackholed (its reconnects hang) until the
// server has dropped the session's ephemeral node, then let through.
func TestSessionExpiryIsTheCause(t *testing.T) {
	requireEnv(t)
	s := setups[1] // open: the hold proxy reads the protocol in the clear
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cluster := uniqueCluster("expired")
	hp := newHoldProxy(t, zk38.Members[0].Addr())
	cfg := s.config(cluster, hp.Addr)
	cfg.SessionTimeout = 3 * time.Second
	c := connect(t, cfg)
	watcher := newElection(t, connect(t, s.config(cluster)))
	tolerant := newElectionWith(t, c, election.Options{TolerateSuspendedConnections: true}) // only Lost revokes
	l := await(t, campaignAsync(t, tolerant, ctx, "leader"), "leader")
	release := hp.blackhole()
	defer release()
	waitUntil(t, ctx, "the server expires the session", func() bool {
		cs, err := watcher.Contenders(ctx)
		return err == nil && len(cs) == 0
	})
	if st := c.State(); st != client.Suspended {
		t.Fatalf("precondition not met: the client is %v, not Suspended, when the server has expired its session", st)
	}
	release() // the pending reconnect now learns that the session expired
	select {
	case <-l.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("leadership survived an expired session")
	}
	if err := l.Err(); !errors.Is(err, election.ErrSessionLost) || !errors.Is(err, zk.ErrSessionExpired) {
		t.Errorf("leadership ended with %v, want errors.Is ErrSessionLost and zk.ErrSessionExpired", err)
	}
}
