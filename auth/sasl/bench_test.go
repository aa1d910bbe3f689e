package sasl_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/testenv"
)

// BenchmarkConnect measures connect-to-usable-session latency (from the dial to an authenticated
// session; the Java client is timed in its JVM from new ZooKeeper() to SaslAuthenticated) for a plain
// session, a SASL session with a cached service ticket, SASL over TLS, and the
// Java client's SASL connect in a warm JVM, all in one run against the same testenv servers. Run with
// -benchtime 50x or more; p50 and p99 are reported per sub-benchmark.
func BenchmarkConnect(b *testing.B) {
	requireEnv(b)
	ctx := context.Background()
	plain := strings.Split(servers[zk38].ConnectString(), ",")
	tlsMembers := strings.Split(servers[zk38TLS].ConnectString(), ",")

	b.Run("plain", func(b *testing.B) {
		var plainConn *zk.Conn
		measure(b, func() {
			c, ev, err := zk.Connect(plain, 10*time.Second, zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogInfo(false))
			if err != nil {
				b.Fatal(err)
			}
			waitSession(b, ev)
			plainConn = c
		}, func() {
			if _, _, err := plainConn.Exists("/"); err != nil { // usable, checked untimed
				b.Fatal(err)
			}
			plainConn.Close()
		})
	})
	saslBench := func(members []string, base zk.Dialer) func(b *testing.B) {
		return func(b *testing.B) {
			a := newAuth(b, keytabLogin(b, "client"))
			if err := a.Login(ctx); err != nil {
				b.Fatal(err)
			}
			var c *zk.Conn
			measure(b, func() {
				var err error
				if c, _, err = sasl.Connect(ctx, a, members, 10*time.Second, base); err != nil {
					b.Fatal(err)
				}
			}, func() {
				if _, _, err := c.Exists("/"); err != nil { // usable, checked untimed
					b.Fatal(err)
				}
				c.Close()
			})
		}
	}
	b.Run("sasl", saslBench(plain, nil))
	b.Run("sasl-tls", saslBench(tlsMembers, tlsDialer(b)))
	b.Run("java-sasl", func(b *testing.B) {
		jaas := filepath.Join(b.TempDir(), "jaas.conf")
		if err := os.WriteFile(jaas, []byte(testenv.JAASSection("Client", keytab(b, "client"), kdc.Principal("client"))), 0o644); err != nil {
			b.Fatal(err)
		}
		j := testenv.NewJavaClient(b, testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: kdc.Krb5Conf})
		cs := servers[zk38].ConnectString()
		for i := 0; i < warmup; i++ { // warm both JVMs
			if _, _, err := j.Connect(ctx, cs, 10*time.Second, true); err != nil {
				b.Fatal(err)
			}
		}
		var samples []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, d, err := j.Connect(ctx, cs, 10*time.Second, true) // timed inside the JVM
			if err != nil {
				b.Fatal(err)
			}
			samples = append(samples, d)
		}
		b.StopTimer()
		if _, err := j.Do(ctx, "close"); err != nil {
			b.Fatal(err)
		}
		report(b, samples)
	})
}

// warmup is how many untimed operations precede every measurement, so that the server's JIT has
// compiled the code paths (GSSAPI acceptor, TLS) before any variant is timed.
const warmup = 30

// measure times op b.N times (after warm-up), running after between iterations untimed.
func measure(b *testing.B, op, after func()) {
	for i := 0; i < warmup; i++ {
		op()
		after()
	}
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		op()
		samples = append(samples, time.Since(start))
		b.StopTimer()
		after()
		b.StartTimer()
	}
	b.StopTimer()
	report(b, samples)
}

func report(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	pct := func(p float64) float64 {
		return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func waitSession(b *testing.B, ev <-chan zk.Event) {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return
			}
		case <-timeout:
			b.Fatal("no session")
		}
	}
}
