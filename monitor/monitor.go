// Package monitor runs the preflight checks continuously and exposes them, with measurements the
// checks do not keep (certificate end, ticket and TGT end times, keytab and KDC key versions,
// connect and SASL latency), as Prometheus metrics: on an HTTP endpoint (/metrics, with /healthz
// for the exporter itself), or once, in node_exporter's textfile format.
//
// Every metric carries only names, members, principals and times: no secret ever.
package monitor

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/zksecure/zksecure/preflight"
)

// Options configure a Monitor. Checks is required (as for preflight.Run); the zero value of every
// other field is documented.
type Options struct {
	// Checks configure every run.
	Checks preflight.Options
	// Interval is the time from the start of one run to the start of the next; zero means 60s. A run
	// that takes longer is followed at once by the next.
	Interval time.Duration
	// Logger receives one line per run (Info) and the libraries' logs; nil discards them.
	Logger *slog.Logger
}

// Snapshot is one run: the checks' report and the measurements.
type Snapshot struct {
	Start    time.Time
	Duration time.Duration
	Report   *preflight.Report
	Probe    Probe
}

// Monitor runs the checks and holds the latest Snapshot. It is safe for concurrent use.
type Monitor struct {
	opts Options
	log  *slog.Logger

	mu   sync.Mutex
	last *Snapshot
	runs int
}

// New returns a Monitor; nothing runs until Run or RunOnce.
func New(opts Options) *Monitor {
	if opts.Interval <= 0 {
		opts.Interval = 60 * time.Second
	}
	m := &Monitor{opts: opts, log: opts.Logger}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.opts.Checks.Logger == nil {
		m.opts.Checks.Logger = m.log
	}
	return m
}

// RunOnce runs the checks and the measurements once and makes the result the latest snapshot.
func (m *Monitor) RunOnce(ctx context.Context) *Snapshot {
	s := &Snapshot{Start: time.Now()}
	s.Report = preflight.Run(ctx, m.opts.Checks)
	s.Duration = time.Since(s.Start)
	cfg := m.opts.Checks.Client
	if cfg.Logger == nil {
		cfg.Logger = m.log
	}
	timeout := m.opts.Checks.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	s.Probe = probe(pctx, cfg)
	cancel()
	m.mu.Lock()
	m.last = s
	m.runs++
	m.mu.Unlock()
	sum := s.Report.Summary
	m.log.Info("checks run", "pass", sum.Pass, "warn", sum.Warn, "fail", sum.Fail, "skip", sum.Skip, "duration", s.Duration.Round(time.Millisecond))
	return s
}

func (m *Monitor) latest() (*Snapshot, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, m.runs
}

// Latest returns the latest snapshot (nil before the first run ends).
func (m *Monitor) Latest() *Snapshot {
	s, _ := m.latest()
	return s
}

// Run runs the checks every Interval until ctx ends, and returns ctx's error. A run in progress
// when ctx ends is finished first (each is bounded by the checks' Timeout): an abandoned Kerberos
// login or session would otherwise be torn down under the goroutines still using it.
func (m *Monitor) Run(ctx context.Context) error {
	for {
		t0 := time.Now()
		m.RunOnce(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-time.After(time.Until(t0.Add(m.opts.Interval))):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Gatherer writes the zksecure_* metrics alone (for WriteTextfile).
func (m *Monitor) Gatherer() Gatherer { return gatherer{m: m} }

// Handler serves /metrics (the zksecure_* metrics, and the exporter's own go_* and process_*)
// and /healthz: 200 while the latest run is recent (started within two intervals plus the checks'
// timeout), 503 before the first run ends or when runs stall. /healthz tells about the exporter,
// not about ZooKeeper: a failing check is a metric, not an unhealthy exporter.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		var b bytes.Buffer
		if err := (gatherer{m: m, self: true}).WriteMetrics(&b); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(b.Bytes())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		s, runs := m.latest()
		timeout := m.opts.Checks.Timeout
		if timeout <= 0 {
			timeout = 60 * time.Second
		}
		switch {
		case s == nil:
			http.Error(w, "starting: no run has finished yet", http.StatusServiceUnavailable)
		case time.Since(s.Start) > 2*m.opts.Interval+timeout:
			http.Error(w, fmt.Sprintf("stalled: the last run started at %s", s.Start.UTC().Format(time.RFC3339)), http.StatusServiceUnavailable)
		default:
			fmt.Fprintf(w, "ok: %d run(s), the last at %s: %d passed, %d warnings, %d failed, %d skipped\n", runs,
				s.Start.UTC().Format(time.RFC3339), s.Report.Summary.Pass, s.Report.Summary.Warn, s.Report.Summary.Fail, s.Report.Summary.Skip)
		}
	})
	return mux
}
