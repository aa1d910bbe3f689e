package election_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zksecure/zksecure/election"
	"github.com/zksecure/zksecure/testenv"
)

// Flink's connection_info bytes, as a real JVM writes and reads them, round-trip through our codec
// in both directions, byte for byte.
func TestLeaderRecordMatchesJVM(t *testing.T) {
	requireEnv(t)
	j := testenv.NewJavaClient(t, testenv.JavaClientOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, addr := range []string{"http://jm1.example.com:8081", "pekko.tcp://flink@10.0.0.7:6123/user/rpc/resourcemanager_0",
		"", "ünïcödé", "emoji 😀", strings.Repeat("long-address-", 30), strings.Repeat("z", 2000)} {
		id := uuid.New()
		javaBytes, err := j.EncodeFlinkRecord(ctx, addr, id.String())
		if err != nil {
			t.Fatal(err)
		}
		got, err := election.DecodeLeaderRecord(javaBytes)
		if err != nil || got.Address != addr || got.SessionID != id {
			t.Errorf("decoding the JVM's record for %.30q: %+v, %v", addr, got, err)
		}
		ours, err := election.EncodeLeaderRecord(election.LeaderInfo{Address: addr, SessionID: id})
		if err != nil {
			t.Fatal(err)
		}
		if string(ours) != string(javaBytes) {
			t.Errorf("%.30q: our bytes differ from the JVM's\n ours %x\n java %x", addr, ours, javaBytes)
		}
		ja, ju, err := j.DecodeFlinkRecord(ctx, ours)
		if err != nil || ja != addr || ju != id.String() {
			t.Errorf("the JVM reading our record for %.30q: %q %q %v", addr, ja, ju, err)
		}
	}
}

// Through ZooKeeper: a record a JVM writes where Flink does is read by ReadLeader, and one we publish
// is read by the JVM from the node's bytes.
func TestLeaderRecordThroughZooKeeper(t *testing.T) {
	requireEnv(t)
	s := setups[1] // open
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := connect(t, s.config("records"))
	if err := c.CreateAll(ctx, "/leader/dispatcher"); err != nil {
		t.Fatal(err)
	}
	j := testenv.NewJavaClient(t, testenv.JavaClientOptions{})
	if _, _, err := j.Connect(ctx, zk38.ConnectString(), 10*time.Second, false); err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	if _, err := j.Do(ctx, "record-put", c.Namespace()+"/leader/dispatcher/connection_info", "pekko.tcp%3A%2F%2Fflink%40jm1%3A6123%2Fuser%2Frpc%2Fdispatcher_1", id.String()); err != nil {
		t.Fatal(err)
	}
	info, err := election.ReadLeader(ctx, c, "dispatcher")
	if err != nil || info.Address != "pekko.tcp://flink@jm1:6123/user/rpc/dispatcher_1" || info.SessionID != id {
		t.Fatalf("ReadLeader of the JVM's record: %+v, %v", info, err)
	}
	l := await(t, campaignAsync(t, newElection(t, c), ctx, "go"), "go")
	defer l.Resign(ctx)
	if err := l.Publish(ctx, "dispatcher", "pekko.tcp://flink@go:6123/user/rpc/dispatcher_0"); err != nil {
		t.Fatal(err) // replaces the JVM session's record
	}
	raw, err := j.GetRaw(ctx, c.Namespace()+"/leader/dispatcher/connection_info")
	if err != nil {
		t.Fatal(err)
	}
	addr, u, err := j.DecodeFlinkRecord(ctx, raw)
	if err != nil || addr != "pekko.tcp://flink@go:6123/user/rpc/dispatcher_0" || u != l.SessionID.String() {
		t.Fatalf("the JVM reading our published record: %q %q %v", addr, u, err)
	}
}

// Go contenders and Curator LeaderLatch contenders share one latch: at every sampled instant at most
// one of them believes it leads, and leadership moves between the two worlds in both directions, on
// resign and when a contender dies.
func TestMixedContendersWithCurator(t *testing.T) {
	requireEnv(t)
	s := setups[0] // 3.8 with SASL: Curator authenticates with the same principal (JAAS Client section)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	const cluster = "mixed"
	cfg := s.config(cluster)
	j := testenv.NewJavaClient(t, testenv.JavaClientOptions{JAASFile: jaasFile, Krb5Conf: kdc.Krb5Conf})
	proxy := testenv.NewProxy(t, zk38.Members[0].Addr())
	goA := newElection(t, connect(t, s.config(cluster, proxy.Addr))) // can be "killed" by cutting it off
	goB := newElection(t, connect(t, cfg))
	namespace := cfg.Root + "/" + cluster

	var goLeaders atomic.Int32
	var goA0 atomic.Pointer[election.Leadership]
	violations := atomic.Int32{}
	var javaPeer atomic.Pointer[testenv.JavaClient]
	javaPeer.Store(j)
	javaLeaders := func() int {
		idx, err := javaPeer.Load().CuratorLeaders(ctx)
		if err != nil {
			return -1
		}
		return len(idx)
	}
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			// Java, Go, Java again: a handover between the samples cannot count as two leaders.
			j1 := javaLeaders()
			g := int(goLeaders.Load())
			j2 := javaLeaders()
			if j1 < 0 || j2 < 0 {
				continue
			}
			if min(j1, j2)+g > 1 || j1 > 1 || g > 1 {
				violations.Add(1)
			}
		}
	}()
	track := func(l *election.Leadership) {
		goLeaders.Add(1)
		go func() { <-l.Done(); goLeaders.Add(-1) }()
	}

	// 1. Go leads first; two Curator contenders join behind it.
	la := await(t, campaignAsync(t, goA, ctx, "go-a"), "go-a")
	goA0.Store(la)
	track(la)
	if err := j.CuratorLatch(ctx, zk38.ConnectString(), namespace, "/leader/latch", 2, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	waitContenders(t, ctx, goA, 3)
	cb := campaignAsync(t, goB, ctx, "go-b")
	waitContenders(t, ctx, goA, 4)

	// 2. Go resigns: a Curator contender (next in line) leads.
	la.Resign(ctx)
	waitJava(t, ctx, j, 1)

	// 3. Curator's leader dies with its JVM: the second Curator contender is in the same JVM, so
	//    after the kill the only live contender is go-b, which must take over once the sessions expire.
	if err := j.Kill(); err != nil {
		t.Fatal(err)
	}
	lb := await(t, cb, "go-b after the Curator process died")
	track(lb)

	// 4. Curator contenders again (a new JVM), behind go-b; go-b's process "dies" (cut off until its
	//    session expires): Curator takes over.
	j2 := testenv.NewJavaClient(t, testenv.JavaClientOptions{JAASFile: jaasFile, Krb5Conf: kdc.Krb5Conf})
	javaPeer.Store(j2)
	if err := j2.CuratorLatch(ctx, zk38.ConnectString(), namespace, "/leader/latch", 1, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	waitContenders(t, ctx, goB, 2)                  // Curator creates its node in the background: let it land first
	la2 := campaignAsync(t, goA, ctx, "go-a-again") // through the proxy
	waitContenders(t, ctx, goB, 3)
	lb.Resign(ctx) // go-b resigns: Curator (joined before go-a-again) leads
	waitJava(t, ctx, j2, 1)
	if _, err := j2.Do(ctx, "latch-close", "0"); err != nil { // Curator resigns: Go leads again
		t.Fatal(err)
	}
	la3 := await(t, la2, "go-a after Curator resigned")
	track(la3)
	if _, err := j2.Do(ctx, "latch-restart", "0"); err != nil { // Curator queues behind go-a
		t.Fatal(err)
	}
	waitContenders(t, ctx, goB, 2)
	proxy.Block() // go-a is cut off: suspended (revoked at once), then its session expires
	waitJava(t, ctx, j2, 1)
	close(stop)
	<-sampled
	if v := violations.Load(); v > 0 {
		t.Errorf("%d samples saw more than one leader", v)
	}
}

func waitJava(t *testing.T, ctx context.Context, j *testenv.JavaClient, n int) {
	t.Helper()
	for {
		idx, err := j.CuratorLeaders(ctx)
		if err == nil && len(idx) == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Curator leaders %v (%v), want %d", idx, err, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
