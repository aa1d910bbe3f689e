package client_test

import (
	"crypto/tls"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/zksecure/zksecure/internal/wire"
	"github.com/zksecure/zksecure/testenv"
)

// BenchmarkConnectResponseAfterHandshake tells the server's share of a session over TLS: on one
// member of the warm ensemble, the time from the ConnectRequest to its ConnectResponse after plain
// TCP, right after a full TLS handshake, right after a resumed one, and 30 ms after each handshake
// (the server checks the client's chain again when its handshake completes: work that a
// ConnectRequest sent at once waits for, and one sent later does not). The variants alternate in
// one loop. Reported: p50 of each in ms, and of the dial with its handshake.
func BenchmarkConnectResponseAfterHandshake(b *testing.B) {
	requireEnv(b)
	tc, err := tlsWith(pki.Client).Load()
	if err != nil {
		b.Fatal(err)
	}
	m := ens.Members[0]
	cache := tls.NewLRUClientSessionCache(8)
	type variant struct {
		name           string
		tls, resume    bool
		delay          time.Duration
		dial, response []time.Duration
	}
	vs := []*variant{
		{name: "plain"}, {name: "full", tls: true}, {name: "resumed", tls: true, resume: true},
		{name: "full-late", tls: true, delay: 30 * time.Millisecond},
		{name: "resumed-late", tls: true, resume: true, delay: 30 * time.Millisecond},
	}
	one := func(v *variant) {
		addr := m.PlainAddr()
		if v.tls {
			addr = m.SecureAddr()
		}
		t0 := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if v.tls {
			cfg := tc.ConfigFor(addr, net.IPv4(127, 0, 0, 1))
			cfg.ClientSessionCache = nil
			if v.resume {
				cfg.ClientSessionCache = cache
			}
			tcn := tls.Client(c, cfg)
			if err := tcn.Handshake(); err != nil {
				b.Fatal(err)
			}
			c = tcn
		}
		t1 := time.Now()
		time.Sleep(v.delay)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		t2 := time.Now()
		if _, err := c.Write(wire.AppendConnectRequest(nil, 10000)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := wire.ReadFrame(c); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		c.Write(wire.AppendRequest(nil, 1, wire.OpCloseSession)) // no session left to expire
		wire.ReadFrame(c)
		v.dial = append(v.dial, t1.Sub(t0))
		v.response = append(v.response, t3.Sub(t2))
	}
	for i := range 5 { // warm the servers' TLS paths
		for j := range vs {
			one(vs[(i+j)%len(vs)])
		}
	}
	for _, v := range vs {
		v.dial, v.response = nil, nil
	}
	b.ResetTimer()
	for i := range b.N {
		for j := range vs {
			one(vs[(i+j)%len(vs)])
		}
	}
	b.StopTimer()
	p50 := func(d []time.Duration) float64 {
		d = slices.Clone(d)
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	for _, v := range vs {
		b.ReportMetric(p50(v.response), v.name+"-response-ms")
		if v.tls && v.delay == 0 {
			b.ReportMetric(p50(v.dial), v.name+"-handshake-ms")
		}
	}
	b.Logf("load %s", testenv.LoadAverage())
}
