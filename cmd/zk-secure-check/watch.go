package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/zksecure/zksecure/monitor"
	"github.com/zksecure/zksecure/preflight"
)

// watchFlags are the flags of the continuous mode and of the textfile output.
type watchFlags struct {
	watch    bool
	interval time.Duration
	listen   string
	textfile string
}

func (w *watchFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&w.watch, "watch", false, "run the checks every --interval and serve Prometheus metrics on --listen (/metrics, /healthz)")
	fs.DurationVar(&w.interval, "interval", 60*time.Second, "with --watch: time between the starts of two runs")
	fs.StringVar(&w.listen, "listen", ":9464", "with --watch: address to serve /metrics and /healthz on")
	fs.StringVar(&w.textfile, "textfile", "", "run once and write the metrics to this file (node_exporter's textfile collector: *.prom), atomically")
}

func (w *watchFlags) enabled() bool { return w.watch || w.textfile != "" }

// runWatch is --textfile (one run, exit code as for the checks) or --watch (until interrupted).
func runWatch(ctx context.Context, f *flags, opts *preflight.Options, stdout, stderr io.Writer) int {
	w := f.x.watch
	if w.watch && w.textfile != "" {
		fmt.Fprintln(stderr, "zk-secure-check: --watch and --textfile exclude each other (run --textfile from cron, or scrape --watch)")
		return 2
	}
	if w.interval < time.Second {
		fmt.Fprintf(stderr, "zk-secure-check: --interval %s: at least 1s\n", w.interval)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if w.watch {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	checks := *opts
	checks.Logger = slog.New(slog.DiscardHandler) // the report says everything; the metrics carry it
	m := monitor.New(monitor.Options{Checks: checks, Interval: w.interval, Logger: logger})
	if w.textfile != "" {
		s := m.RunOnce(ctx)
		if err := monitor.WriteTextfile(w.textfile, m.Gatherer()); err != nil {
			fmt.Fprintf(stderr, "zk-secure-check: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s: %d passed, %d warnings, %d failed, %d skipped\n", w.textfile,
			s.Report.Summary.Pass, s.Report.Summary.Warn, s.Report.Summary.Fail, s.Report.Summary.Skip)
		if s.Report.Failed() {
			return 1
		}
		return 0
	}
	ln, err := net.Listen("tcp", w.listen)
	if err != nil {
		fmt.Fprintf(stderr, "zk-secure-check: --listen %s: %v\n", w.listen, err)
		return 2
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("serving metrics", "address", "http://"+ln.Addr().String()+"/metrics", "interval", w.interval)
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		m.Run(rctx)
	}()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		fmt.Fprintf(stderr, "zk-secure-check: serving metrics: %v\n", serveErr)
	}
	stop()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	<-ran
	if serveErr != nil {
		return 1
	}
	return 0
}
