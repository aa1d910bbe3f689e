package client_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
	"github.com/zksecure/zksecure/version"
)

// restore makes sure, after the test, that the KDC and every member of ens run again (the KDC first:
// a kerberized member logs in at start).
func restore(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := kdc.Start(ctx); err != nil {
			t.Errorf("restarting the KDC: %v", err)
		}
		for _, m := range ens.Members {
			if err := m.Start(ctx); err != nil {
				t.Errorf("restarting member %d: %v", m.ID, err)
			}
		}
	})
}

// stateLog records every state event of a client (Config.OnState).
type stateLog struct {
	mu     sync.Mutex
	events []client.Event
}

func (l *stateLog) add(e client.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// authFailed returns the AuthFailed events seen.
func (l *stateLog) authFailed() []client.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []client.Event
	for _, e := range l.events {
		if e.State == client.AuthFailed {
			out = append(out, e)
		}
	}
	return out
}

// logRecords is a slog.Handler that keeps every record, for assertions on warnings.
type logRecords struct {
	mu      *sync.Mutex
	records *[]string
	attrs   []slog.Attr
}

func newLogRecords() logRecords { return logRecords{mu: &sync.Mutex{}, records: new([]string)} }

func (h logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h logRecords) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range h.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	h.mu.Lock()
	*h.records = append(*h.records, b.String())
	h.mu.Unlock()
	return nil
}
func (h logRecords) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(slices.Clip(h.attrs), as...)
	return h
}
func (h logRecords) WithGroup(string) slog.Handler { return h }

func (h logRecords) find(sub ...string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
next:
	for _, r := range *h.records {
		for _, s := range sub {
			if !strings.Contains(r, s) {
				continue next
			}
		}
		return r
	}
	return ""
}

// poll calls f until it returns nil or ctx ends; it returns f's last error.
func poll(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitServing waits until every member given serves (a quorum formed after a member left).
func waitServing(t *testing.T, ms ...*testenv.Member) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range ms {
		if err := poll(ctx, func() error {
			mode, err := m.Mode(ctx)
			if err == nil && mode != "leader" && mode != "follower" {
				err = fmt.Errorf("mode %s", mode)
			}
			return err
		}); err != nil {
			t.Fatalf("member %d does not serve: %v", m.ID, err)
		}
	}
}

func memberAt(addr string) *testenv.Member {
	for _, m := range ens.Members {
		if m.Addr() == addr || m.SecureAddr() == addr {
			return m
		}
	}
	return nil
}

// A TLS client starts while one member of three is down: TLS is decided from the members that
// answer, the report names the one that did not, and once it is back the session can use it.
func TestTLSConnectWithOneMemberDown(t *testing.T) {
	requireEnv(t)
	restore(t)
	// A follower: stopping the leader would start an election, and the probes would find the
	// others "not currently serving" for a moment.
	fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
	followers, err := ens.Followers(fctx)
	fcancel()
	if err != nil || len(followers) == 0 {
		t.Fatalf("followers: %v, %v", followers, err)
	}
	down := followers[len(followers)-1]
	// A Connect while every member is up: the process remembers what its probes found (each member
	// speaks TLS, its version). The report of the next Connect must still say which member is down.
	connect(t, client.Config{Members: members(ens.SecureConnectString()), TLS: tlsWith(pki.Client), Root: "/tls-down"}).Close()
	if err := down.Stop(); err != nil {
		t.Fatal(err)
	}
	var up []*testenv.Member
	for _, m := range ens.Members {
		if m != down {
			up = append(up, m)
		}
	}
	waitServing(t, up...)
	var states stateLog
	c := connect(t, client.Config{Members: members(ens.SecureConnectString()), TLS: tlsWith(pki.Client), Root: "/tls-down",
		SessionTimeout: 8 * time.Second, OnState: states.add})
	if !c.UsesTLS() {
		t.Fatal("not over TLS")
	}
	for _, r := range c.Members() {
		switch {
		case r.Member == down.SecureAddr() && !errors.Is(r.Err, version.ErrUnreachable):
			t.Errorf("report of the stopped member %s: %+v, want unreachable", r.Member, r)
		case r.Member != down.SecureAddr() && (r.Err != nil || r.Mode != version.TLS):
			t.Errorf("report of %s: %+v, want TLS", r.Member, r)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.Create(ctx, "/eph-"+strconv.FormatInt(time.Now().UnixNano(), 36), nil, zk.FlagEphemeral, nil); err != nil {
		t.Fatal(err)
	}
	if err := down.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Move the session off its member: it must reconnect over TLS to one of the two others (one of
	// them the member that was down), on the same session.
	sid := c.SessionID()
	ch, stop := c.States()
	defer stop()
	first := expect(t, ch, client.Connected, false)
	cur := memberAt(first.Member)
	if err := cur.Stop(); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, client.Suspended, false)
	ev := expect(t, ch, client.Reconnected, false)
	if ev.SessionID != sid || ev.Member == cur.SecureAddr() {
		t.Errorf("after moving: %v, want session 0x%x on another member", ev, sid)
	}
	if _, _, err := c.Get(ctx, "/"); err != nil {
		t.Errorf("read after the move: %v", err)
	}
	if fs := states.authFailed(); len(fs) > 0 {
		t.Errorf("AuthFailed: %v", fs)
	}
}

// A member that could not be reached at Connect and later answers in plaintext is refused when the
// session dials it (a warning names it), and the session goes on over TLS to another member.
func TestMemberSpeakingPlaintextLaterIsRefused(t *testing.T) {
	requireEnv(t)
	restore(t)
	// A port that refuses connections now, and forwards to a plaintext ZooKeeper port later.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	impostor := "localhost:" + strconv.Itoa(port)
	// The other two: member 1 directly, member 2 through a proxy that can hold it back.
	first := ens.Members[0]
	second := testenv.NewProxy(t, ens.Members[1].SecureAddr())
	logs := newLogRecords()
	c := connect(t, client.Config{Members: []string{first.SecureAddr(), impostor, second.Addr}, TLS: tlsWith(pki.Client),
		Root: "/impostor", SessionTimeout: 10 * time.Second, Logger: slog.New(logs)})
	if !c.UsesTLS() {
		t.Fatal("not over TLS")
	}
	if r := c.Members()[1]; !errors.Is(r.Err, version.ErrUnreachable) {
		t.Errorf("report of %s: %+v, want unreachable", impostor, r)
	}
	ch, stop := c.States()
	defer stop()
	expect(t, ch, client.Connected, false)
	// Now the impostor's port speaks plaintext ZooKeeper (member 3's clientPort).
	fw, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("listening on the impostor's port again: %v", err)
	}
	t.Cleanup(func() { fw.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := fw.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", ens.Members[2].PlainAddr())
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	// Only the impostor is left for a while: the session must refuse it.
	second.Block()
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, client.Suspended, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := poll(ctx, func() error {
		if logs.find("WARN", "member refused", impostor) == "" {
			return errors.New("no warning names the impostor " + impostor)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("warning: %s", logs.find("WARN", "member refused", impostor))
	if c.State() != client.Suspended {
		t.Fatalf("state %v while only the impostor answers, want Suspended", c.State())
	}
	second.Unblock()
	ev := expect(t, ch, client.Reconnected, false)
	if ev.Member != second.Addr {
		t.Errorf("reconnected to %s, want %s", ev.Member, second.Addr)
	}
	if accepted.Load() == 0 {
		t.Error("the impostor was never dialed")
	}
	if _, _, err := c.Get(ctx, "/"); err != nil {
		t.Errorf("read after the move: %v", err)
	}
}

// fault is what saslFaultProxy does to a connection after forwarding the server's first SASL reply.
type fault int

const (
	faultReset fault = iota // RST to the client
	faultClose              // FIN to the client (EOF)
	faultStall              // forward nothing more (the client's exchange times out)
)

// saslFaultProxy forwards real connections to a real server and, for the next connections that
// reach the SASL exchange, breaks them right after the server's first SASL reply (the second frame
// from the server, after the ConnectResponse), one armed fault per connection.
type saslFaultProxy struct {
	addr   string
	target string
	l      net.Listener

	mu       sync.Mutex
	faults   []fault
	injected []fault
	conns    map[net.Conn]struct{}
}

func newSASLFaultProxy(t *testing.T, target string) *saslFaultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &saslFaultProxy{addr: "localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), target: target, l: l, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() { l.Close(); p.cut() })
	return p
}

func (p *saslFaultProxy) arm(fs ...fault) {
	p.mu.Lock()
	p.faults = append(p.faults, fs...)
	p.mu.Unlock()
}

func (p *saslFaultProxy) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.faults)
}

func (p *saslFaultProxy) done() []fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.injected)
}

// cut closes every forwarded connection.
func (p *saslFaultProxy) cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

func (p *saslFaultProxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *saslFaultProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		delete(p.conns, up)
		p.mu.Unlock()
		c.Close()
		up.Close()
	}()
	clientGone := make(chan struct{})
	go func() { io.Copy(up, c); close(clientGone) }()
	hdr := make([]byte, 4)
	for frames := 1; ; frames++ {
		if _, err := io.ReadFull(up, hdr); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr)
		if n > 1<<20 { // not a ZooKeeper frame (a four-letter word's answer): just copy
			c.Write(hdr)
			io.Copy(c, up)
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(up, body); err != nil {
			return
		}
		if _, err := c.Write(append(hdr, body...)); err != nil {
			return
		}
		if frames != 2 {
			continue
		}
		p.mu.Lock()
		var f fault
		armed := len(p.faults) > 0
		if armed {
			f, p.faults = p.faults[0], p.faults[1:]
			p.injected = append(p.injected, f)
		}
		p.mu.Unlock()
		if !armed {
			io.Copy(c, up)
			return
		}
		switch f {
		case faultReset:
			c.(*net.TCPConn).SetLinger(0) // close sends RST
		case faultStall:
			<-clientGone
		}
		return
	}
}

// Connections broken during the SASL exchange (reset, closed, silent) are transient: the client
// retries with backoff, ends authenticated, and never reports AuthFailed — both at Connect and when
// reconnecting a live session.
func TestSASLExchangeFaultsAreRetried(t *testing.T) {
	requireEnv(t)
	proxy := newSASLFaultProxy(t, zkMain.Members[0].PlainAddr())
	proxy.arm(faultReset, faultClose, faultStall)
	k := kerberos(t, "client")
	k.ExchangeTimeout = time.Second
	var states stateLog
	c := connect(t, client.Config{Members: []string{proxy.addr}, SASL: client.SASLKerberos, Kerberos: k, ACL: acl.Creator(),
		Root: "/sasl-faults", ClusterID: fmt.Sprintf("/c%d", time.Now().UnixNano()), SessionTimeout: 10 * time.Second,
		ConnectionTimeout: 30 * time.Second, OnState: states.add})
	if got := proxy.done(); len(got) != 3 {
		t.Fatalf("faults injected before the session: %v, want all three", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if _, err := c.Create(ctx, "/n", nil, 0, nil); err != nil {
		t.Fatalf("creator-only write: %v", err)
	}
	// The live session's connection breaks, and so do the next two reconnections.
	ch, stop := c.States()
	defer stop()
	expect(t, ch, client.Connected, false)
	proxy.arm(faultReset, faultClose)
	sid := c.SessionID()
	proxy.cut()
	expect(t, ch, client.Suspended, false)
	ev := expect(t, ch, client.Reconnected, false)
	if ev.SessionID != sid {
		t.Errorf("reconnected on session 0x%x, want 0x%x", ev.SessionID, sid)
	}
	if proxy.pending() != 0 {
		t.Errorf("%d faults not injected", proxy.pending())
	}
	if _, _, err := c.Get(ctx, "/n"); err != nil {
		t.Errorf("reading the creator-only node after reconnecting: %v", err)
	}
	if fs := states.authFailed(); len(fs) > 0 || c.Err() != nil {
		t.Errorf("AuthFailed: %v (Err %v)", fs, c.Err())
	}
}

// A rolling restart of a kerberized 3-member ensemble while a client reads: the client never ends
// in AuthFailed and works afterwards with its identity.
func TestRollingRestartKerberized(t *testing.T) {
	requireEnv(t)
	restore(t)
	var states stateLog
	c := connect(t, client.Config{Members: members(ens.ConnectString()), SASL: client.SASLKerberos, Kerberos: kerberos(t, "client"),
		ACL: acl.Creator(), Root: "/rolling", ClusterID: fmt.Sprintf("/c%d", time.Now().UnixNano()), SessionTimeout: 8 * time.Second,
		OnState: states.add})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := c.Create(ctx, "/n", []byte("x"), 0, nil); err != nil {
		t.Fatal(err)
	}
	var reads, failures atomic.Int64
	stopReads := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stopReads:
				return
			default:
			}
			rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
			if _, _, err := c.Get(rctx, "/n"); err != nil {
				failures.Add(1)
				select {
				case <-stopReads:
				case <-time.After(20 * time.Millisecond):
				}
			} else {
				reads.Add(1)
				select {
				case <-stopReads:
				case <-time.After(5 * time.Millisecond):
				}
			}
			rcancel()
		}
	}()
	for _, m := range ens.Members {
		if err := m.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if c.Err() != nil {
			t.Fatalf("after restarting member %d: %v", m.ID, c.Err())
		}
	}
	// Reads succeed again after the last restart.
	before := reads.Load()
	if err := poll(ctx, func() error {
		if reads.Load() > before {
			return nil
		}
		return errors.New("no successful read since the restart")
	}); err != nil {
		t.Fatalf("%v (%d reads, %d failures; last attempt: %v)", err, reads.Load(), failures.Load(), c.LastConnectError())
	}
	close(stopReads)
	<-readerDone
	t.Logf("%d reads, %d failed during the restarts", reads.Load(), failures.Load())
	if _, err := c.Create(ctx, "/after", nil, 0, nil); err != nil {
		t.Errorf("creator-only write after the rolling restart: %v", err)
	}
	if fs := states.authFailed(); len(fs) > 0 || c.Err() != nil {
		t.Errorf("AuthFailed: %v (Err %v)", fs, c.Err())
	}
}

// With the KDC down: Connect fails quickly with an error naming the KDC (not an authentication
// failure); a live session loses its member and reconnects to another one with the cached service
// ticket.
func TestKDCOutageCachedTickets(t *testing.T) {
	requireEnv(t)
	restore(t)
	var states stateLog
	c := connect(t, client.Config{Members: members(ens.ConnectString()), SASL: client.SASLKerberos, Kerberos: kerberos(t, "client"),
		ACL: acl.Creator(), Root: "/kdc-outage", ClusterID: fmt.Sprintf("/c%d", time.Now().UnixNano()), SessionTimeout: 8 * time.Second,
		OnState: states.add})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.Create(ctx, "/n", nil, zk.FlagEphemeral, nil); err != nil {
		t.Fatal(err)
	}
	if err := kdc.Stop(); err != nil {
		t.Fatal(err)
	}

	t.Run("Connect with the KDC down", func(t *testing.T) {
		start := time.Now()
		_, err := client.Connect(ctx, client.Config{Members: members(ens.ConnectString()), SASL: client.SASLKerberos,
			Kerberos: kerberos(t, "client"), ConnectionTimeout: 5 * time.Second})
		took := time.Since(start)
		if err == nil {
			t.Fatal("connected without a KDC")
		}
		t.Logf("error after %v: %v", took.Round(time.Millisecond), err)
		if took > 5*time.Second+2*time.Second {
			t.Errorf("took %v, beyond the connection timeout of 5s", took)
		}
		if !errors.Is(err, sasl.ErrKDCUnreachable) || errors.Is(err, sasl.ErrAuthFailed) || strings.Contains(err.Error(), "AuthFailed") {
			t.Errorf("err = %v, want ErrKDCUnreachable and not an authentication failure", err)
		}
		if !strings.Contains(err.Error(), kdc.Addr) {
			t.Errorf("err = %v does not name the KDC %s", err, kdc.Addr)
		}
	})

	ch, stop := c.States()
	defer stop()
	first := expect(t, ch, client.Connected, false)
	victim := memberAt(first.Member)
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, client.Suspended, false)
	ev := expect(t, ch, client.Reconnected, false)
	if ev.SessionID != first.SessionID || ev.Member == first.Member {
		t.Errorf("after the failover: %v (was %v)", ev, first)
	}
	if ok, _, err := c.Exists(ctx, "/n"); err != nil || !ok {
		t.Errorf("ephemeral node after the failover: %v %v", ok, err)
	}
	if fs := states.authFailed(); len(fs) > 0 || c.Err() != nil {
		t.Errorf("AuthFailed: %v (Err %v)", fs, c.Err())
	}
}

// Tickets that expire while the KDC is down: reconnections fail transiently (the error names the
// KDC), never AuthFailed; once the KDC is back the client authenticates by itself.
func TestTicketsExpireDuringKDCOutage(t *testing.T) {
	requireEnv(t)
	restore(t)
	const life = 4 * time.Second
	// The same KDC, asked for short tickets: the client's krb5.conf says so.
	conf, err := os.ReadFile(kdc.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(t.TempDir(), "krb5.conf")
	conf = regexp.MustCompile(`ticket_lifetime = \d+s`).ReplaceAll(conf, []byte("ticket_lifetime = "+strconv.Itoa(int(life.Seconds()))+"s"))
	if err := os.WriteFile(short, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	k := kerberos(t, "client")
	k.Krb5Conf = short
	var states stateLog
	c := connect(t, client.Config{Members: members(ens.ConnectString()), SASL: client.SASLKerberos, Kerberos: k,
		ACL: acl.Creator(), Root: "/tkt-expiry", ClusterID: fmt.Sprintf("/c%d", time.Now().UnixNano()), SessionTimeout: 20 * time.Second,
		OnState: states.add})
	loggedIn := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := c.Create(ctx, "/n", nil, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := kdc.Stop(); err != nil {
		t.Fatal(err)
	}
	// Ticket expiry is wall-clock time: nothing to poll.
	time.Sleep(time.Until(loggedIn.Add(life + time.Second)))

	ch, stop := c.States()
	defer stop()
	first := expect(t, ch, client.Connected, false)
	if err := memberAt(first.Member).Kill(); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, client.Suspended, false)
	// Reconnections fail for want of a service ticket, naming the KDC.
	if err := poll(ctx, func() error {
		if err := c.LastConnectError(); errors.Is(err, sasl.ErrKDCUnreachable) {
			return nil
		}
		return fmt.Errorf("last attempt: %v", c.LastConnectError())
	}); err != nil {
		t.Fatalf("no reconnection failed for the KDC: %v", err)
	}
	last := c.LastConnectError()
	t.Logf("while the KDC is down: %v", last)
	if !strings.Contains(last.Error(), kdc.Addr) || errors.Is(last, sasl.ErrAuthFailed) {
		t.Errorf("the error does not name the KDC %s, or calls itself an authentication failure: %v", kdc.Addr, last)
	}
	if fs := states.authFailed(); len(fs) > 0 || c.Err() != nil {
		t.Fatalf("AuthFailed while the KDC is down: %v (Err %v)", fs, c.Err())
	}
	if err := kdc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for back := false; !back; {
		select {
		case ev := <-ch:
			switch ev.State {
			case client.Reconnected:
				t.Logf("back: %v", ev)
				back = true
			case client.AuthFailed:
				t.Fatalf("AuthFailed after the KDC came back: %v", ev)
			}
		case <-ctx.Done():
			t.Fatalf("no reconnection after the KDC came back; last attempt: %v", c.LastConnectError())
		}
	}
	if _, err := c.Create(ctx, "/after", nil, 0, nil); err != nil {
		t.Errorf("creator-only write after the outage: %v", err)
	}
	if fs := states.authFailed(); len(fs) > 0 || c.Err() != nil {
		t.Errorf("AuthFailed: %v (Err %v)", fs, c.Err())
	}
}
