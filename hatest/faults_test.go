package hatest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/internal/hacheck"
	"github.com/zksecure/zksecure/testenv"
)

// harness is the election under test, shared by the fault tests and the soak: three contenders in
// three processes (two Go, one Curator) and a writer, on the shared ensemble.
type harness struct {
	env *haEnv
	cs  *contenders
	w   *writer
}

var (
	harnessOnce sync.Once
	theHarness  *harness
	harnessErr  error
)

func getHarness(t *testing.T) *harness {
	t.Helper()
	e := sharedEnv(t)
	harnessOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		h := &harness{env: e, cs: newContenders(e, clusterID)}
		for i := 0; i < 2; i++ {
			if _, err := h.cs.startGo(ctx); err != nil {
				harnessErr = err
				h.cs.close()
				return
			}
		}
		if _, err := h.cs.startCurator(ctx); err != nil {
			harnessErr = err
			h.cs.close()
			return
		}
		w, err := startWriter(ctx, e, h.cs.hist)
		if err != nil {
			harnessErr = err
			h.cs.close()
			return
		}
		h.w = w
		if _, err := h.cs.waitLeader(ctx); err != nil {
			harnessErr = err
			h.close()
			return
		}
		theHarness = h
	})
	if harnessErr != nil {
		t.Fatalf("starting the contenders: %v", harnessErr)
	}
	return theHarness
}

func (h *harness) close() {
	if h.w != nil {
		h.w.stop()
	}
	h.cs.close()
}

// closeHarness ends the shared harness after the tests (from TestMain).
func closeHarness() {
	if theHarness != nil {
		theHarness.close()
	}
}

// fault is one kind of fault the election must survive.
type fault struct {
	name string
	// inject starts the fault and returns how to end it.
	inject func(ctx context.Context, h *harness) (heal func(context.Context) error, err error)
	// hold is how long the fault stays in force (zero: inject does the whole fault itself).
	hold time.Duration
	// quorumKept says a quorum stays reachable for the other contenders during the fault: then the
	// election must not wait for the fault to end — no leaderless gap longer than recoveryBound
	// while the fault lasts (such faults are held for holdQuorum, longer than that).
	quorumKept bool
}

// holdQuorum is how long a fault that leaves a quorum is held: long enough that an election that
// waits for the fault to end shows a gap longer than recoveryBound.
const holdQuorum = 3 * sessionTimeout

// longer than the session timeout, so that sessions expire (or would, without quorum).
const hold = 2*sessionTimeout + time.Second

func faults() []fault {
	return []fault{
		{name: "leader-client-partitioned", hold: holdQuorum, quorumKept: true, inject: func(ctx context.Context, h *harness) (func(context.Context) error, error) {
			name, err := h.cs.waitLeader(ctx)
			if err != nil {
				return nil, err
			}
			f, err := h.env.net.DropUser(h.cs.userOf(name))
			return healFault(f), err
		}},
		{name: "zk-leader-partitioned", hold: holdQuorum, quorumKept: true, inject: func(ctx context.Context, h *harness) (func(context.Context) error, error) {
			m, err := h.env.zk.Leader(ctx)
			if err != nil {
				return nil, err
			}
			f, err := m.Partition()
			return healFault(f), err
		}},
		{name: "follower-partitioned", hold: holdQuorum, quorumKept: true, inject: func(ctx context.Context, h *harness) (func(context.Context) error, error) {
			fs, err := h.env.zk.Followers(ctx)
			if err != nil || len(fs) == 0 {
				return nil, errors.Join(err, errors.New("no follower"))
			}
			f, err := fs[0].Partition()
			return healFault(f), err
		}},
		{name: "member-frozen", hold: holdQuorum, quorumKept: true, inject: func(ctx context.Context, h *harness) (func(context.Context) error, error) {
			m, err := h.env.zk.Leader(ctx)
			if err != nil {
				return nil, err
			}
			if err := m.Freeze(); err != nil {
				return nil, err
			}
			return func(context.Context) error { return m.Thaw() }, nil
		}},
		{name: "quorum-lost", hold: hold, inject: func(ctx context.Context, h *harness) (func(context.Context) error, error) {
			fs, err := h.env.zk.Followers(ctx)
			if err != nil || len(fs) < 2 {
				return nil, errors.Join(err, errors.New("fewer than two followers"))
			}
			for _, m := range fs {
				if err := m.Freeze(); err != nil {
					return nil, err
				}
			}
			return func(context.Context) error { return errors.Join(fs[0].Thaw(), fs[1].Thaw()) }, nil
		}},
		{name: "rolling-restart", inject: func(ctx context.Context, h *harness) (func(context.Context) error, error) {
			return nil, h.env.zk.RollingRestart(ctx, time.Second)
		}},
		{name: "member-down-before-connect", inject: func(ctx context.Context, h *harness) (func(context.Context) error, error) {
			m := h.env.zk.Members[len(h.env.zk.Members)-1]
			if err := m.Stop(); err != nil {
				return nil, err
			}
			p, err := h.cs.startGo(ctx) // a JobManager starting while one member of three is down
			if serr := m.Start(ctx); serr != nil {
				err = errors.Join(err, serr)
			}
			if p != nil { // it joined; now it leaves again, gracefully, so the contenders stay three
				err = errors.Join(err, p.quit(ctx))
			}
			return nil, err
		}},
		{name: "kdc-down-during-reconnect", inject: func(ctx context.Context, h *harness) (func(context.Context) error, error) {
			if err := h.env.kdc.Stop(); err != nil {
				return nil, err
			}
			// Take away the member the leading Go contender is on: it must reconnect elsewhere
			// with the service ticket it has, while the KDC is down.
			m := h.memberOfLeader(ctx)
			if err := m.Kill(); err != nil {
				return nil, err
			}
			return func(ctx context.Context) error {
				// The KDC first: a kerberized server logs in to it before it serves.
				if err := h.env.kdc.Start(ctx); err != nil {
					return err
				}
				return m.Start(ctx)
			}, nil
		}, hold: sessionTimeout},
	}
}

func healFault(f *testenv.Fault) func(context.Context) error {
	return func(context.Context) error {
		if f == nil {
			return nil
		}
		return f.Heal()
	}
}

// memberOfLeader returns the member a Go contender (the leader if it is one) is connected to.
func (h *harness) memberOfLeader(ctx context.Context) *testenv.Member {
	_, p := h.cs.leader()
	if p == nil {
		h.cs.mu.Lock()
		for _, q := range h.cs.peers {
			if q.alive() {
				p = q
				break
			}
		}
		h.cs.mu.Unlock()
	}
	if p != nil {
		addr := p.connectedTo()
		for _, m := range h.env.zk.Members {
			if m.Addr() == addr || m.SecureAddr() == addr {
				return m
			}
		}
	}
	m, _ := h.env.zk.Leader(ctx)
	return m
}

// runFault injects f, holds it, heals it and returns when it ended.
func (h *harness) runFault(ctx context.Context, f fault) (start, end time.Time, err error) {
	start = time.Now()
	heal, err := f.inject(ctx, h)
	if err == nil && f.hold > 0 {
		select {
		case <-time.After(f.hold):
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if heal != nil {
		err = errors.Join(err, heal(context.WithoutCancel(ctx)))
	}
	end = time.Now()
	h.cs.hist.Fault(f.name, start, end)
	return start, end, err
}

// settle waits until every member serves in one quorum and one contender leads.
func (h *harness) settle(ctx context.Context) error {
	for _, m := range h.env.zk.Members {
		if !m.Running() {
			if err := m.Start(ctx); err != nil {
				return err
			}
		}
	}
	for {
		serving := 0
		for _, m := range h.env.zk.Members {
			if mode, err := m.Mode(ctx); err == nil && (mode == "leader" || mode == "follower") {
				serving++
			}
		}
		if serving == len(h.env.zk.Members) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the ensemble did not settle: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	_, err := h.cs.waitLeader(ctx)
	return err
}

// checkRecovery waits for a leader after a fault ended at end and says how long it took.
func (h *harness) checkRecovery(ctx context.Context, end time.Time) (time.Duration, error) {
	deadline := end.Add(recoveryBound + 5*time.Second)
	for {
		if d, ok := hacheck.Recovery(h.cs.trustedIntervals(), end, time.Now()); ok {
			if d > recoveryBound {
				return d, fmt.Errorf("a leader again %v after the fault ended, more than the bound %v", d.Round(time.Millisecond), recoveryBound)
			}
			return d, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no leader %v after the fault ended (bound %v)", time.Since(end).Round(time.Millisecond), recoveryBound)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkDuring fails t when the election stayed leaderless, during a fault that left a quorum, for
// longer than recoveryBound.
func (h *harness) checkDuring(t *testing.T, f fault, start, end time.Time) {
	t.Helper()
	for _, g := range hacheck.Gaps(h.cs.trustedIntervals(), start, end) {
		if g.Duration() > recoveryBound {
			t.Errorf("%s: no leader for %v during the fault although a quorum was there (bound %v)", f.name,
				g.Duration().Round(time.Millisecond), recoveryBound)
		}
	}
}

// checkInvariants fails t for every broken invariant in the whole history so far.
func (h *harness) checkInvariants(t *testing.T) {
	t.Helper()
	h.cs.pollCurators()
	ivs := h.cs.hist.Intervals()
	for _, o := range hacheck.Overlaps(ivs, time.Now()) {
		if h.staleCurator(ivs, o) {
			// A zksecure contender leads only once its node is first in the latch and owned by its
			// session: every earlier node, the Curator leader's included, was gone. Curator 5.4's
			// LeaderLatch does not watch its own node, so it goes on believing until a connection
			// event (the class of CURATOR-696, fixed after 5.4). Reported, and counted by the soak.
			t.Logf("Curator kept leading without its node: %v", o)
			continue
		}
		t.Errorf("two leaders at once: %v", o)
	}
	for _, f := range h.cs.hist.AuthFailures() {
		t.Errorf("a transient fault ended in AuthFailed: %s", f)
	}
	h.cs.mu.Lock()
	for _, p := range h.cs.peers {
		if msg := p.fatalMsg(); msg != "" {
			t.Errorf("contender %s gave up: %s", p.name, msg)
		}
	}
	h.cs.mu.Unlock()
	if t.Failed() {
		h.dumpLogs(t)
	}
}

// staleCurator reports whether an overlap is a Curator leader that went on believing after a
// zksecure contender took over (the Curator interval started first).
func (h *harness) staleCurator(ivs []hacheck.Interval, o hacheck.Overlap) bool {
	var first hacheck.Interval
	for _, iv := range ivs {
		if (iv.Contender == o.A || iv.Contender == o.B) && !iv.Start.After(o.Start) && (iv.End.IsZero() || iv.End.After(o.Start)) {
			if first.Start.IsZero() || iv.Start.Before(first.Start) {
				first = iv
			}
		}
	}
	other := o.A
	if other == first.Contender {
		other = o.B
	}
	return strings.HasPrefix(first.Contender, "curator") && strings.HasPrefix(other, "go-")
}

// dumpLogs prints the history and the contenders' logs, for a failing test.
func (h *harness) dumpLogs(t *testing.T) {
	t.Logf("history:\n%s", h.cs.hist.Log())
	h.cs.mu.Lock()
	defer h.cs.mu.Unlock()
	for _, p := range h.cs.peers {
		t.Logf("--- %s (%s):\n%s", p.name, p.log, tail(p.log, 40))
	}
	for _, c := range h.cs.curators {
		t.Logf("--- %s (%s):\n%s", c.name, c.java.LogPath, tail(c.java.LogPath, 40))
	}
}

// Every fault HA exists for, one after another on one running election: after each, the
// invariants hold — never two leaders at once (by each contender's own timeline), a leader again
// within session timeout + 2 ticks + 2 s after the fault ends, no AuthFailed, no contender gives
// up — and at the end every acknowledged write is readable.
func TestFaults(t *testing.T) {
	h := getHarness(t)
	for _, f := range faults() {
		if !t.Run(f.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := h.settle(ctx); err != nil {
				t.Fatalf("before the fault: %v\n%s", err, h.cs.hist.Log())
			}
			start, end, err := h.runFault(ctx, f)
			if err != nil {
				t.Fatalf("injecting %s: %v", f.name, err)
			}
			if f.quorumKept {
				h.checkDuring(t, f, start, end)
			}
			d, err := h.checkRecovery(ctx, end)
			if err != nil {
				t.Errorf("%s: %v", f.name, err)
			} else {
				t.Logf("%s: a leader %v after the fault ended", f.name, d.Round(time.Millisecond))
			}
			if err := h.settle(ctx); err != nil {
				t.Errorf("after the fault: %v", err)
			}
			h.checkInvariants(t)
		}) {
			break // the election is in an unknown state: later faults would report noise
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if lost, err := h.w.verify(ctx); err != nil {
		t.Errorf("reading back the writes: %v", err)
	} else if len(lost) > 0 {
		t.Errorf("%d acknowledged writes lost: %v", len(lost), lost)
	}
}

// writer writes persistent sequential nodes, one every 100 ms, and records the acknowledged ones.
type writer struct {
	c      *client.Client
	hist   *hacheck.History
	cancel func()
	done   chan struct{}
	failed int
}

func startWriter(ctx context.Context, e *haEnv, hist *hacheck.History) (*writer, error) {
	c, err := client.Connect(ctx, client.Config{
		Members: strings.Split(e.zk.SecureConnectString(), ","), ClusterID: clusterID, SessionTimeout: sessionTimeout,
		ConnectionTimeout: 30 * time.Second,
		TLS:               &zktls.Config{CAFile: e.pki.CAFile, CertFile: e.pki.Client.CertFile, KeyFile: e.pki.Client.KeyFile},
		SASL:              client.SASLKerberos,
		Kerberos:          sasl.Config{Login: sasl.Login{Principal: e.kdc.Principal("flink"), Keytab: e.keytab, Krb5Conf: e.kdc.Krb5Conf}},
	})
	if err != nil {
		return nil, fmt.Errorf("writer: %w", err)
	}
	if err := c.CreateAll(ctx, "/writes"); err != nil {
		c.Close()
		return nil, fmt.Errorf("writer: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	w := &writer{c: c, hist: hist, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for n := 0; wctx.Err() == nil; n++ {
			octx, ocancel := context.WithTimeout(wctx, 2*time.Second)
			p, err := c.Create(octx, "/writes/w-", []byte(fmt.Sprint(n)), zk.FlagSequence, nil)
			ocancel()
			if err == nil {
				hist.Ack(strings.TrimPrefix(p, "/writes/"))
			} else {
				w.failed++
			}
			select {
			case <-wctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return w, nil
}

// verify returns the acknowledged writes that are not there.
func (w *writer) verify(ctx context.Context) ([]string, error) {
	kids, _, err := w.c.Children(ctx, "/writes")
	if err != nil {
		return nil, err
	}
	lost := hacheck.Missing(w.hist.Acked(), kids)
	sort.Strings(lost)
	return lost, nil
}

func (w *writer) stop() {
	w.cancel()
	<-w.done
	w.c.Close()
}
