package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// --watch serves /metrics and /healthz, running the checks every --interval, until interrupted
// (exit 0); --textfile writes one run's metrics.
func TestWatchAndTextfile(t *testing.T) {
	testEnv.Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	base := args(q(srvGood, false), kerberosArgs("flink/jm1"), []string{"--cluster-id", "/watched", "--acl", "creator"})
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--watch", "--interval", "1s", "--listen", addr}, base...), &stdout, &stderr)
	}()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var body string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var code int
		if code, body = get("/metrics"); code == 200 && strings.Contains(body, "zksecure_runs_total 2") {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("no second run served: %s\n%s", body, stderr.String())
		}
	}
	for _, want := range []string{`zksecure_check_status{check="sasl",member="` + servers[srvGood].Members[0].Addr() + `",status="pass"} 1`,
		"zksecure_kerberos_keytab_kvno", "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, hb := get("/healthz"); code != 200 || !strings.HasPrefix(hb, "ok: ") {
		t.Errorf("/healthz: %d %s", code, hb)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("--watch ended with %d\n%s", code, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("--watch did not end when interrupted")
	}

	file := filepath.Join(t.TempDir(), "zk.prom")
	code, out, errOut := cli(t, append([]string{"--textfile", file}, base...)...)
	b, _ := os.ReadFile(file)
	if code != 0 || !strings.HasPrefix(out, "wrote "+file+": ") || !strings.Contains(string(b), "zksecure_last_run_success 1") || strings.Contains(string(b), "go_goroutines") {
		t.Errorf("--textfile: exit %d %s %s\n%s", code, out, errOut, b)
	}
	if code, _, errOut := cli(t, append([]string{"--textfile", file, "--watch"}, base...)...); code != 2 || !strings.Contains(errOut, "exclude each other") {
		t.Errorf("--watch with --textfile: exit %d %s", code, errOut)
	}
}
