package client_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/internal/tlsresume"
	"github.com/zksecure/zksecure/testenv"
)

// BenchmarkReconnectResumption times a TLS + Kerberos SASL session's reconnection after the member it
// is on goes away — its proxy cuts the connection and refuses new ones, as a partition or a stopped
// member would, the fastest and most reproducible of the faults — until the session is back on
// another member, re-authenticated and has answered one Exists; with the TLS session cache (the
// default: the handshake resumes the session the probe or an earlier connection left) and without it
// (internal/tlsresume: a full handshake), alternating in one session. Reported: p50 and p99 in ms of
// each, resumed/full-p50 (this run's ratio of the p50s) and the share of handshakes that resumed in
// each mode (1 and 0 when the comparison is what it says); and where the time goes, from the
// client's debug log: the p50 of the reconnection's TLS dial (TCP + handshake) and of its dial →
// ConnectResponse (dial, ConnectRequest, SASL) in each mode, and of its SASL exchange.
func BenchmarkReconnectResumption(b *testing.B) {
	requireEnv(b)
	ctx := context.Background()
	defer tlsresume.Disabled.Store(false)
	byAddr := map[string]*testenv.Proxy{}
	var addrs []string
	for _, m := range ens.Members {
		p := testenv.NewProxy(b, m.SecureAddr())
		byAddr[p.Addr] = p
		addrs = append(addrs, p.Addr)
	}
	logs := newLogRecords()
	c := connect(b, client.Config{Members: addrs, TLS: tlsWith(pki.Client), SASL: client.SASLKerberos, Kerberos: kerberos(b, "client"),
		SessionTimeout: 10 * time.Second, Logger: slog.New(logs)})
	events, stop := c.States()
	defer stop()
	member := ""
	next := func(want client.State) client.Event {
		for {
			select {
			case ev := <-events:
				if ev.State == want {
					return ev
				}
				if ev.State != client.Suspended && ev.State != client.Connected && ev.State != client.Reconnected {
					b.Fatalf("event %v while waiting for %v", ev, want)
				}
			case <-time.After(30 * time.Second):
				b.Fatalf("no %v event", want)
			}
		}
	}
	member = next(client.Connected).Member
	// phases are the TLS dial (TCP + handshake) and SASL times of the reconnection, from the debug log.
	// session is from the dial to the ConnectResponse (after SASL): the rest of the reconnection is
	// noticing the cut, picking the next member, the event and the Exists.
	type phases struct{ dial, sasl, session time.Duration }
	one := func(resume bool) (time.Duration, bool, phases) {
		tlsresume.Disabled.Store(!resume)
		p := byAddr[member]
		if p == nil {
			b.Fatalf("session on %q, not one of the proxies %v", member, addrs)
		}
		before := logs.count("TLS handshake", "resumed=true")
		from := logs.len()
		t0 := time.Now()
		p.Block()
		ev := next(client.Reconnected)
		if ev.NewSession {
			b.Fatal("the session was lost")
		}
		if _, _, err := c.Exists(ctx, "/"); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		p.Unblock()
		member = ev.Member
		var ph phases
		for _, r := range logs.since(from) {
			switch {
			case strings.HasPrefix(r, "DEBUG dialed ") && strings.Contains(r, "layers=tcp+tls") && strings.Contains(r, "ok=true"):
				ph.dial = took(r)
			case strings.HasPrefix(r, "DEBUG authenticated ") && strings.Contains(r, "service_principal="):
				ph.sasl = took(r)
			case strings.HasPrefix(r, "DEBUG ConnectResponse in "):
				ph.session = attrDuration(r, "since_dial")
			}
		}
		return d, logs.count("TLS handshake", "resumed=true") > before, ph
	}
	for i := range 10 { // warm the servers' TLS and SASL paths, and fill the session cache
		one(i%2 == 0)
	}
	var resumed, full, resumedDial, fullDial, resumedSession, fullSession, saslTimes []time.Duration
	var resumedHits, fullHits int
	b.ResetTimer()
	for i := range b.N {
		for _, resume := range []bool{i%2 == 0, i%2 == 1} {
			d, did, ph := one(resume)
			saslTimes = append(saslTimes, ph.sasl)
			if resume {
				resumed, resumedDial, resumedSession = append(resumed, d), append(resumedDial, ph.dial), append(resumedSession, ph.session)
				resumedHits += btoi(did)
			} else {
				full, fullDial, fullSession = append(full, d), append(fullDial, ph.dial), append(fullSession, ph.session)
				fullHits += btoi(did)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(pct(resumed, 0.5)/1000, "resumed-p50-ms")
	b.ReportMetric(pct(resumed, 0.99)/1000, "resumed-p99-ms")
	b.ReportMetric(pct(full, 0.5)/1000, "full-p50-ms")
	b.ReportMetric(pct(full, 0.99)/1000, "full-p99-ms")
	b.ReportMetric(pct(resumed, 0.5)/pct(full, 0.5), "resumed/full-p50")
	b.ReportMetric(pct(resumedDial, 0.5)/1000, "resumed-dial-p50-ms")
	b.ReportMetric(pct(fullDial, 0.5)/1000, "full-dial-p50-ms")
	b.ReportMetric(pct(resumedSession, 0.5)/1000, "resumed-session-p50-ms")
	b.ReportMetric(pct(fullSession, 0.5)/1000, "full-session-p50-ms")
	b.ReportMetric(pct(saslTimes, 0.5)/1000, "sasl-p50-ms")
	b.ReportMetric(float64(resumedHits)/float64(len(resumed)), "resumed-share")
	b.ReportMetric(float64(fullHits)/float64(len(full)), "full-resumed-share")
	b.Logf("load %s", testenv.LoadAverage())
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

// took is the duration of a record's took= attribute (0 without one).
func took(r string) time.Duration { return attrDuration(r, "took") }

// attrDuration is the duration of a record's key= attribute (0 without one).
func attrDuration(r, key string) time.Duration {
	_, v, ok := strings.Cut(r, " "+key+"=")
	if !ok {
		return 0
	}
	v, _, _ = strings.Cut(v, " ")
	d, _ := time.ParseDuration(v)
	return d
}

func (h logRecords) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(*h.records)
}

// since returns the records from the i-th on.
func (h logRecords) since(i int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone((*h.records)[i:])
}

// count is how many records contain every sub.
func (h logRecords) count(sub ...string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
next:
	for _, r := range *h.records {
		for _, s := range sub {
			if !strings.Contains(r, s) {
				continue next
			}
		}
		n++
	}
	return n
}
