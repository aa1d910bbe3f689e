package zktls_test

import (
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/hostprovider"
)

func pcts(samples []time.Duration) (p50, p99 float64) {
	slices.Sort(samples)
	at := func(p float64) float64 { return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000 }
	return at(0.5), at(0.99)
}

func session(b *testing.B, members string, d zk.Dialer) *zk.Conn {
	if d == nil {
		d = net.DialTimeout
	}
	c, ev, err := zk.Connect(strings.Split(members, ","), 10*time.Second, zk.WithDialer(d),
		zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogInfo(false))
	if err != nil {
		b.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c
			}
		case <-timeout:
			b.Fatal("no session")
		}
	}
}

// BenchmarkTLSConnect: connect-to-session latency over TLS with a full handshake every time (no
// session resumption; RSA-2048 server certificate, client certificate, clientAuth=need), beside
// plaintext to the same server.
func BenchmarkTLSConnect(b *testing.B) {
	requireEnv(b)
	z := servers[srvNeed]
	cl, err := withCert().Load()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		members string
		d       zk.Dialer
	}{{"plain", z.PlainConnectString(), nil}, {"tls", z.SecureConnectString(), cl.Dialer(nil)}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < 30; i++ { // warm the server's JIT
				session(b, tc.members, tc.d).Close()
			}
			samples := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				c := session(b, tc.members, tc.d)
				samples = append(samples, time.Since(t0))
				b.StopTimer()
				c.Close()
				b.StartTimer()
			}
			p50, p99 := pcts(samples)
			b.ReportMetric(p50, "p50-ms")
			b.ReportMetric(p99, "p99-ms")
		})
	}
}

// BenchmarkThroughputTLSvsPlain runs get and set on a plaintext and a TLS session to the same server
// in the same loop (sequential: one request in flight, as a JobManager does; parallel: 16 in flight)
// and reports each transport's operations per second and the TLS/plaintext ratio.
func BenchmarkThroughputTLSvsPlain(b *testing.B) {
	requireEnv(b)
	z := servers[srvNeed]
	cl, err := withCert().Load()
	if err != nil {
		b.Fatal(err)
	}
	plain := session(b, z.PlainConnectString(), nil)
	defer plain.Close()
	secure := session(b, z.SecureConnectString(), cl.Dialer(nil))
	defer secure.Close()
	payload := make([]byte, 512)
	for _, c := range []*zk.Conn{plain, secure} {
		c.Create("/bench-"+pathOf(c, plain), payload, 0, zk.WorldACL(zk.PermAll))
	}
	ops := map[string]func(c *zk.Conn, p string) error{
		"get": func(c *zk.Conn, p string) error { _, _, err := c.Get(p); return err },
		"set": func(c *zk.Conn, p string) error { _, err := c.Set(p, payload, -1); return err },
	}
	for _, opName := range []string{"get", "set"} {
		op := ops[opName]
		for _, par := range []int{1, 16} {
			b.Run(opName+"/inflight-"+itoa(par), func(b *testing.B) {
				var tPlain, tTLS time.Duration
				run := func(c *zk.Conn) time.Duration {
					p := "/bench-" + pathOf(c, plain)
					t0 := time.Now()
					var wg sync.WaitGroup
					for g := 0; g < par; g++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							if err := op(c, p); err != nil {
								b.Error(err)
							}
						}()
					}
					wg.Wait()
					return time.Since(t0)
				}
				for i := 0; i < 200; i++ { // warm-up
					run(plain)
					run(secure)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					tPlain += run(plain)
					tTLS += run(secure)
				}
				n := float64(b.N * par)
				b.ReportMetric(n/tPlain.Seconds(), "plain-ops/s")
				b.ReportMetric(n/tTLS.Seconds(), "tls-ops/s")
				b.ReportMetric(tPlain.Seconds()/tTLS.Seconds(), "tls/plain")
			})
		}
	}
}

func pathOf(c, plain *zk.Conn) string {
	if c == plain {
		return "plain"
	}
	return "tls"
}

func itoa(i int) string {
	if i == 1 {
		return "1"
	}
	return "16"
}
