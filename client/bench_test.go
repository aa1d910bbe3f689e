package client_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/testenv"
)

// BenchmarkWrapperOverhead compares get, set and create through client (namespaced, with a context
// that has a deadline, the path that hands each call to a worker goroutine) against raw go-zookeeper
// on the same plaintext server, interleaved in one loop so both see the same server and machine
// state. Reported: p50/p99 latency of each and the throughput ratio client/raw (goal ≥ 0.97): the
// median over pairs of back-to-back blocks of sequential ops; and the same ratio for the client
// with a context that cannot end (its calls run on the caller's goroutine), whose block is beside
// the raw one too: the difference between the two ratios is the hand-off's cost.
func BenchmarkWrapperOverhead(b *testing.B) {
	requireEnv(b)
	c := connect(b, client.Config{Members: members(zkMain.PlainConnectString()), Root: "/bench", ClusterID: "/wrapper"})
	raw, ev, err := zk.Connect(members(zkMain.PlainConnectString()), 10*time.Second, zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogInfo(false))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	for e := range ev {
		if e.State == zk.StateHasSession {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	payload := make([]byte, 256)
	if _, err := c.Create(ctx, "/node", payload, 0, nil); err != nil {
		b.Fatal(err)
	}
	rawNode := "/bench/wrapper/raw-node"
	if _, err := raw.Create(rawNode, payload, 0, zk.WorldACL(zk.PermAll)); err != nil {
		b.Fatal(err)
	}
	n := 0
	bg := context.Background()
	ops := []struct {
		name      string
		wrapped   func(context.Context) error
		unwrapped func() error
	}{
		{"get", func(ctx context.Context) error { _, _, err := c.Get(ctx, "/node"); return err },
			func() error { _, _, err := raw.Get(rawNode); return err }},
		{"set", func(ctx context.Context) error { _, err := c.Set(ctx, "/node", payload, -1); return err },
			func() error { _, err := raw.Set(rawNode, payload, -1); return err }},
		{"create", func(ctx context.Context) error {
			n++
			_, err := c.Create(ctx, fmt.Sprintf("/c-%d", n), payload, zk.FlagEphemeral, nil)
			return err
		}, func() error {
			n++
			_, err := raw.Create(fmt.Sprintf("/bench/wrapper/r-%d", n), payload, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
			return err
		}},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			// Sequential ops in blocks of block: a client block and a raw block back to back (which goes
			// first alternates), the ratio taken per pair of blocks. The median of those ratios is the
			// throughput ratio: on a loaded machine a stall of the scheduler lands in one block and moves
			// the median little, where it would dominate a ratio of the total times. The block of the
			// context that cannot end goes on the raw block's other side.
			const block = 50
			w := make([]time.Duration, 0, b.N)
			u := make([]time.Duration, 0, b.N)
			wrapped := func() error { return op.wrapped(ctx) }
			noDeadline := func() error { return op.wrapped(bg) }
			runBlock := func(f func() error, into *[]time.Duration, n int) time.Duration {
				t0 := time.Now()
				for range n {
					t := time.Now()
					if err := f(); err != nil {
						b.Fatal(err)
					}
					*into = append(*into, time.Since(t))
				}
				return time.Since(t0)
			}
			var warm []time.Duration
			for range 300 / block { // warm the paths (and the server's)
				runBlock(wrapped, &warm, block)
				runBlock(op.unwrapped, &warm, block)
				runBlock(noDeadline, &warm, block)
			}
			var ratios, bgRatios []float64
			b.ResetTimer()
			for done, i := 0, 0; done < b.N; i++ {
				n := min(block, b.N-done)
				var tw, tu, tb time.Duration
				if i%2 == 0 {
					tw = runBlock(wrapped, &w, n)
					tu = runBlock(op.unwrapped, &u, n)
					tb = runBlock(noDeadline, &warm, n) // its latencies are not reported
				} else {
					tb = runBlock(noDeadline, &warm, n) // its latencies are not reported
					tu = runBlock(op.unwrapped, &u, n)
					tw = runBlock(wrapped, &w, n)
				}
				ratios = append(ratios, tu.Seconds()/tw.Seconds())
				bgRatios = append(bgRatios, tu.Seconds()/tb.Seconds())
				done += n
			}
			b.StopTimer()
			slices.Sort(ratios)
			slices.Sort(bgRatios)
			b.ReportMetric(pct(w, 0.5), "client-p50-µs")
			b.ReportMetric(pct(w, 0.99), "client-p99-µs")
			b.ReportMetric(pct(u, 0.5), "raw-p50-µs")
			b.ReportMetric(pct(u, 0.99), "raw-p99-µs")
			b.ReportMetric(ratios[len(ratios)/2], "client/raw-throughput")
			b.ReportMetric(bgRatios[len(bgRatios)/2], "client-no-deadline/raw-throughput")
			b.Logf("load %s", testenv.LoadAverage())
		})
	}
}

func pct(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))].Nanoseconds()) / 1000
}

// BenchmarkConnect times client.Connect the way a service connects: a fresh Config each time,
// Connect, then one Exists (the session is usable), sequential, against the warm 3-member ensemble,
// for plaintext, Kerberos SASL, TLS (client certificate) and TLS + SASL; and TLS + SASL with ready
// credentials (Config.Authenticator and Config.TLSClient, whose session cache lets the handshakes
// resume). Close is not timed. Reported: p50 and p99 in ms.
//
// The first four modes time the Java ZooKeeper 3.8 client in the same run, alternating with ours
// sample by sample (which goes first alternates too, so both see the same machine): a fresh
// new ZooKeeper() each time — each session doing its own full keytab login, Java's default — until
// the session is connected, SaslAuthenticated with SASL, and has answered one exists("/"), timed
// inside the warm JVM (java-p50-ms, java-p99-ms) and java/zksecure-p50, this run's ratio of the
// p50s. Run with -benchtime 30x or more.
func BenchmarkConnect(b *testing.B) {
	requireEnv(b)
	ctx := context.Background()
	krb := kerberos(b, "client")
	root, err := sasl.New(krb)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	tc, err := tlsWith(pki.Client).Load()
	if err != nil {
		b.Fatal(err)
	}
	jaas := javaJAAS(b, krb.Login.Keytab)
	javaTLS := &testenv.JavaTLS{KeyStore: pki.Client.KeystorePEM, TrustStore: pki.CAFile}
	cases := []struct {
		name string
		cfg  func() client.Config
		// java is the Java client's configuration for the same mode (nil: none), javaServers its
		// connect string and javaSASL whether it waits for SaslAuthenticated.
		java        *testenv.JavaClientOptions
		javaServers string
		javaSASL    bool
	}{
		{"plaintext", func() client.Config {
			return client.Config{Members: members(ens.PlainConnectString()), Transport: client.TransportPlaintext}
		}, &testenv.JavaClientOptions{}, ens.PlainConnectString(), false},
		{"sasl", func() client.Config {
			return client.Config{Members: members(ens.PlainConnectString()), SASL: client.SASLKerberos, Kerberos: krb}
		}, &testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: kdc.Krb5Conf}, ens.PlainConnectString(), true},
		{"tls", func() client.Config {
			return client.Config{Members: members(ens.SecureConnectString()), TLS: tlsWith(pki.Client)}
		}, &testenv.JavaClientOptions{TLS: javaTLS}, ens.SecureConnectString(), false},
		{"tls-sasl", func() client.Config {
			return client.Config{Members: members(ens.SecureConnectString()), TLS: tlsWith(pki.Client), SASL: client.SASLKerberos, Kerberos: krb}
		}, &testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: kdc.Krb5Conf, TLS: javaTLS}, ens.SecureConnectString(), true},
		{"tls-sasl-ready", func() client.Config {
			return client.Config{Members: members(ens.SecureConnectString()), TLSClient: tc, Authenticator: root}
		}, nil, "", false},
	}
	// connectOnce connects with cfg, answers one Exists and closes: what every sample times.
	connectOnce := func(cfg client.Config) time.Duration {
		t0 := time.Now()
		cfg.SessionTimeout = 10 * time.Second
		c, err := client.Connect(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Exists(ctx, "/"); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		c.Close()
		return d
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			goOne := func() time.Duration { return connectOnce(bc.cfg()) }
			var javaOne func() time.Duration
			if bc.java != nil {
				opts := *bc.java
				opts.Dir = b.TempDir()
				j := testenv.NewJavaClient(b, opts)
				defer j.Do(ctx, "close")
				javaOne = func() time.Duration {
					d, err := j.ConnectUsable(ctx, bc.javaServers, 10*time.Second, bc.javaSASL) // timed inside the JVM
					if err != nil {
						b.Fatal(err)
					}
					return d
				}
			}
			serversWarm.Do(func() { // once per process: every mode's server paths, before any is timed
				for range serverWarmup {
					for _, m := range cases {
						connectOnce(m.cfg())
					}
				}
			})
			for range 30 { // warm this process, the JVM and this mode's server paths again
				goOne()
				if javaOne != nil {
					javaOne()
				}
			}
			ours := make([]time.Duration, 0, b.N)
			var java []time.Duration
			b.ResetTimer()
			for i := range b.N {
				if javaOne != nil && i%2 == 1 {
					b.StopTimer()
					java = append(java, javaOne())
					b.StartTimer()
				}
				ours = append(ours, goOne())
				if javaOne != nil && i%2 == 0 {
					b.StopTimer()
					java = append(java, javaOne())
					b.StartTimer()
				}
			}
			b.StopTimer()
			b.ReportMetric(pct(ours, 0.5)/1000, "p50-ms")
			b.ReportMetric(pct(ours, 0.99)/1000, "p99-ms")
			if len(java) > 0 {
				b.ReportMetric(pct(java, 0.5)/1000, "java-p50-ms")
				b.ReportMetric(pct(java, 0.99)/1000, "java-p99-ms")
				b.ReportMetric(pct(java, 0.5)/pct(ours, 0.5), "java/zksecure-p50")
			}
			b.Logf("load %s", testenv.LoadAverage())
		})
	}
}

// javaJAAS writes a JAAS configuration whose "Client" section logs the client principal in from
// keytab (no ticket cache: every Java session does its own login).
func javaJAAS(b *testing.B, keytab string) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "jaas.conf")
	if err := os.WriteFile(p, []byte(testenv.JAASSection("Client", keytab, kdc.Principal("client"))), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// serversWarm warms the ensemble's servers once per process for BenchmarkConnect: their JIT compiles
// the TLS, SASL and session paths over the first hundreds of connections, and a mode timed before
// that (the sub-benchmarks and their -count runs follow one another) was slower by 20-30% than the
// same mode later in the run. serverWarmup connections per mode do it.
var serversWarm sync.Once

const serverWarmup = 60
