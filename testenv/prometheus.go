package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PrometheusOptions configures StartPrometheus. Dir and Targets are required.
type PrometheusOptions struct {
	// Dir receives the configuration, the database and the log.
	Dir string
	// Targets are the host:port addresses scraped at /metrics.
	Targets []string
	// ScrapeInterval is the scrape interval (and timeout); zero means 1s.
	ScrapeInterval time.Duration
}

// Prometheus is a running Prometheus server (Debian's prometheus package) scraping the targets.
type Prometheus struct {
	// URL is the server's base URL ("http://127.0.0.1:PORT"), for its HTTP API.
	URL     string
	LogPath string
	proc    *process
}

// StartPrometheus starts a Prometheus server on a free loopback port and waits until it is ready.
func StartPrometheus(ctx context.Context, opts PrometheusOptions) (_ *Prometheus, err error) {
	bin, err := lookPath("prometheus")
	if err != nil {
		return nil, fmt.Errorf("testenv: %w (install Debian's prometheus package: scripts/install-deps.sh)", err)
	}
	if opts.ScrapeInterval <= 0 {
		opts.ScrapeInterval = time.Second
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "data"), 0o755); err != nil {
		return nil, fmt.Errorf("testenv: prometheus folder: %w", err)
	}
	targets := make([]string, len(opts.Targets))
	for i, t := range opts.Targets {
		targets[i] = strconv.Quote(t)
	}
	cfg := filepath.Join(opts.Dir, "prometheus.yml")
	iv := opts.ScrapeInterval.String()
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
scrape_configs:
  - job_name: zksecure
    static_configs:
      - targets: [%s]
`, iv, iv, strings.Join(targets, ", "))), 0o644); err != nil {
		return nil, err
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	p := &Prometheus{URL: "http://" + addr, LogPath: filepath.Join(opts.Dir, "prometheus.log")}
	if p.proc, err = startProcess("prometheus", p.LogPath, opts.Dir, nil, bin, "--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(opts.Dir, "data"), "--web.listen-address="+addr); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitFor(ctx, 100*time.Millisecond, p.proc.exited(), func() error {
		resp, err := http.Get(p.URL + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("not ready: %s", resp.Status)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("testenv: prometheus did not become ready: %w\n%s", err, p.proc.tail(20))
	}
	return p, nil
}

// Sample is one series' value (an instant query) or values (a range query), oldest first.
type Sample struct {
	Labels map[string]string
	Values []SampleValue
}

// SampleValue is one point.
type SampleValue struct {
	At    time.Time
	Value float64
}

// Query runs a PromQL instant query through the HTTP API (/api/v1/query).
func (p *Prometheus) Query(ctx context.Context, query string) ([]Sample, error) {
	return p.api(ctx, "/api/v1/query", url.Values{"query": {query}})
}

// QueryRange runs a PromQL range query (/api/v1/query_range) from start to end at step.
func (p *Prometheus) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Sample, error) {
	return p.api(ctx, "/api/v1/query_range", url.Values{"query": {query},
		"start": {strconv.FormatFloat(float64(start.UnixMilli())/1e3, 'f', 3, 64)},
		"end":   {strconv.FormatFloat(float64(end.UnixMilli())/1e3, 'f', 3, 64)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', 3, 64)}})
}

func (p *Prometheus) api(ctx context.Context, path string, q url.Values) ([]Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("testenv: prometheus query %q: %w", q.Get("query"), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
				Values [][]any           `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("testenv: prometheus query %q: %w: %.200s", q.Get("query"), err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("testenv: prometheus query %q: %s", q.Get("query"), r.Error)
	}
	var out []Sample
	for _, res := range r.Data.Result {
		s := Sample{Labels: res.Metric}
		points := res.Values
		if res.Value != nil {
			points = [][]any{res.Value}
		}
		for _, pt := range points {
			if len(pt) != 2 {
				continue
			}
			ts, _ := pt[0].(float64)
			vs, _ := pt[1].(string)
			v, err := strconv.ParseFloat(vs, 64)
			if err != nil {
				continue
			}
			s.Values = append(s.Values, SampleValue{At: time.UnixMilli(int64(ts * 1e3)), Value: v})
		}
		out = append(out, s)
	}
	return out, nil
}

// Close stops the server.
func (p *Prometheus) Close() error {
	if p.proc == nil {
		return nil
	}
	return p.proc.stop(syscall.SIGTERM, 5*time.Second)
}
