package client_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/internal/hostprovider"
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
// resume). Close is not timed. Reported: p50 and p99 in ms. Run with -benchtime 30x or more.
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
	for _, bc := range []struct {
		name string
		cfg  func() client.Config
	}{
		{"plaintext", func() client.Config {
			return client.Config{Members: members(ens.PlainConnectString()), Transport: client.TransportPlaintext}
		}},
		{"sasl", func() client.Config {
			return client.Config{Members: members(ens.PlainConnectString()), SASL: client.SASLKerberos, Kerberos: krb}
		}},
		{"tls", func() client.Config {
			return client.Config{Members: members(ens.SecureConnectString()), TLS: tlsWith(pki.Client)}
		}},
		{"tls-sasl", func() client.Config {
			return client.Config{Members: members(ens.SecureConnectString()), TLS: tlsWith(pki.Client), SASL: client.SASLKerberos, Kerberos: krb}
		}},
		{"tls-sasl-ready", func() client.Config {
			return client.Config{Members: members(ens.SecureConnectString()), TLSClient: tc, Authenticator: root}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			one := func() (time.Duration, *client.Client) {
				t0 := time.Now()
				cfg := bc.cfg()
				cfg.SessionTimeout = 10 * time.Second
				c, err := client.Connect(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.Exists(ctx, "/"); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0), c
			}
			for range 20 { // warm the servers (the JIT of their TLS and SASL paths) and this process
				_, c := one()
				c.Close()
			}
			samples := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				d, c := one()
				b.StopTimer()
				samples = append(samples, d)
				c.Close()
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(pct(samples, 0.5)/1000, "p50-ms")
			b.ReportMetric(pct(samples, 0.99)/1000, "p99-ms")
		})
	}
}
