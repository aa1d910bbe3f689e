package monitor_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/monitor"
	"github.com/zksecure/zksecure/testenv"
)

// /healthz is 503 until a run has finished, then 200 with the run's summary.
func TestHealthz(t *testing.T) {
	testEnv.Require(t)
	fresh := monitor.New(monitor.Options{Checks: checks(), Interval: time.Second})
	rec := httptest.NewRecorder()
	fresh.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "no run has finished") {
		t.Errorf("before the first run: %d %q", rec.Code, rec.Body.String())
	}
	waitRun(t)
	resp, err := http.Get("http://" + metrics + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "ok: ") || !strings.Contains(string(body), "passed") {
		t.Errorf("after a run: %d %q", resp.StatusCode, body)
	}
}

// The textfile output is the latest run's zksecure_* metrics in the text format, without the
// exporter's own go_* and process_* metrics, and without a secret.
func TestTextfile(t *testing.T) {
	testEnv.Require(t)
	waitRun(t)
	path := filepath.Join(t.TempDir(), "zksecure.prom")
	if err := monitor.WriteTextfile(path, mon.Gatherer()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"# TYPE zksecure_check_status gauge", `zksecure_check_status{check="login",member="",status="pass"} 1`,
		"zksecure_runs_total ", "zksecure_tls_certificate_not_after_timestamp_seconds{", "zksecure_kerberos_tgt_end_timestamp_seconds{principal=\"flink/jm1@EXAMPLE.COM\"}"} {
		if !strings.Contains(text, want) {
			t.Errorf("the textfile lacks %q", want)
		}
	}
	for _, bad := range []string{"go_goroutines", "process_", testenv.KeyPassword} {
		if strings.Contains(text, bad) {
			t.Errorf("the textfile holds %q", bad)
		}
	}
	if n := strings.Count(text, "zksecure_check_status{"); n != 4*len(mon.Latest().Report.Checks) {
		t.Errorf("%d check_status series for %d checks (want 4 statuses each)", n, len(mon.Latest().Report.Checks))
	}
	promtoolAccepts(t, "the textfile", b)
}

// /metrics serves the text format, which Prometheus' own linter accepts, with the exporter's go_*
// and process_* metrics beside the zksecure_* ones.
func TestMetricsEndpoint(t *testing.T) {
	testEnv.Require(t)
	waitRun(t)
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d, Content-Type %q", resp.StatusCode, ct)
	}
	for _, want := range []string{"# TYPE zksecure_runs_total counter", "\nzksecure_last_run_success ", "\ngo_goroutines ",
		"\nprocess_cpu_seconds_total ", "\nprocess_resident_memory_bytes ", "\nprocess_start_time_seconds "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	promtoolAccepts(t, "/metrics", body)
}

// promtoolAccepts runs Prometheus' linter (promtool check metrics, from Debian's prometheus
// package) on metrics in the text format.
func promtoolAccepts(t *testing.T, what string, metrics []byte) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool (Debian's prometheus package, scripts/install-deps.sh): %v", err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(metrics)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics refuses %s: %v\n%s\n%s", what, err, out, metrics)
	}
}

// waitRun waits until the package's monitor has finished a run.
func waitRun(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); mon.Latest() == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the monitor finished no run")
		}
	}
}
