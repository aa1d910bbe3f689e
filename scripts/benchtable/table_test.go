package main

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const sample = `goos: linux
pkg: github.com/zksecure/zksecure/cmd/zk-secure-check
BenchmarkFullCheck-2   	       5	1053210685 ns/op	        16.99 check-maxrss-MiB	      1041 check-p50-ms	      3219 zkcli-p50-ms	         3.091 zkcli/check
--- BENCH: BenchmarkFullCheck-2
    bench_test.go:100: load 36.62 30.43 30.64
BenchmarkFullCheck-2   	       5	1053210685 ns/op	        17.50 check-maxrss-MiB	      1100 check-p50-ms	      3000 zkcli-p50-ms	         2.727 zkcli/check
PASS
pkg: github.com/zksecure/zksecure/election
BenchmarkResignToNewLeader-2            	      50	   1000 ns/op	         0.80 p50-ms	         2.0 p99-ms	         1.60 curator-p50-ms	         3.0 curator-p99-ms	         0.50 go/curator-p50
pkg: github.com/zksecure/zksecure/client
BenchmarkConnect/sasl-2              	       5	  41912076 ns/op	        51.02 java-p50-ms	        53.37 java-p99-ms	         2.583 java/zksecure-p50	        19.75 p50-ms	        64.06 p99-ms
BenchmarkConnect/tls-sasl-2          	       5	  34224346 ns/op	        50.90 java-p50-ms	        53.21 java-p99-ms	         1.510 java/zksecure-p50	        33.71 p50-ms	        35.14 p99-ms
BenchmarkConnect/sasl-2              	       5	  41912076 ns/op	        40.00 java-p50-ms	        53.37 java-p99-ms	         4.000 java/zksecure-p50	        10.00 p50-ms	        64.06 p99-ms
BenchmarkConnect/tls-sasl-2          	       5	  34224346 ns/op	        60.00 java-p50-ms	        53.21 java-p99-ms	         4.000 java/zksecure-p50	        15.00 p50-ms	        35.14 p99-ms
BenchmarkColdConnect/tls-sasl-2  	       4	2322401440 ns/op	      2263 java-p50-ms	        14.15 java/zksecure-p50	       159.9 p50-ms
BenchmarkReconnectResumption-2   	       4	 120334988 ns/op	        49.47 full-p50-ms	        72.36 full-p99-ms	         0 full-resumed-share	        40.48 resumed-p50-ms	        66.39 resumed-p99-ms	         1.000 resumed-share	         0.8183 resumed/full-p50
`

// The table takes medians over the runs, lists every run's ratio, computes a ratio the benchmark
// does not report (inverse: ours ÷ theirs), and marks figures whose benchmark did not run.
func TestTable(t *testing.T) {
	res := results{}
	if err := res.read(strings.NewReader(sample)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	write(&b, table, res)
	out := b.String()
	for _, want := range []string{
		"| full zk-secure-check, 3 members, Kerberos + TLS, as a process (p50 ms) | 1100 (2 runs) | 3219 (one zkCli ls /) | 3.09 zkCli ÷ check (3.09, 2.73) | ≤ 100 ms; ≥ 10× |",
		"| full zk-secure-check: peak resident set (MiB) | 17.5 (2 runs) | — | — | ≤ 20 MiB |",
		"| resign → new leader, 5 contenders, SASL (p50 ms) | 0.80 | 1.60 (Curator) | 0.50 zksecure ÷ Curator (0.50) | ≤ 0.5× |",
		"| connect to a usable session, plaintext (p50 ms) | — | — (" + javaWarm + ": not run) | — | — |",
		"| connect to a usable session, TLS (p50 ms) | — | — (" + javaWarm + ": not run) | — | — |",
		// Java ÷ zksecure run by run, from the benchmark's own ratio; the SASL + 6 ms row beside it.
		"| connect to a usable session, Kerberos SASL (p50 ms) | 19.8 (2 runs) | 51.0 (" + javaWarm + ") | 4.00 Java ÷ zksecure (2.58, 4.00) | ≥ 3× |",
		"| connect to a usable session, TLS + SASL, vs the Java client (p50 ms) | 33.7 (2 runs) | 60 (" + javaWarm + ") | 4.00 Java ÷ zksecure (1.51, 4.00) | ≥ 4× |",
		"| connect to a usable session, TLS + SASL (p50 ms) | 33.7 (2 runs) | 19.8 (SASL without TLS) | — | ≤ SASL + 6 ms |",
		"| cold process: connect, Exists, Close, exec → exit, TLS + SASL (p50 ms) | 160 | 2263 (" + javaCold + ") | 14.15 Java ÷ zksecure (14.15) | — |",
		"| member lost → TLS + SASL session re-authenticated and usable, TLS session resumed (p50 ms) | 40.5 | 49.5 (full handshake, no session cache) | 0.82 resumed ÷ full (0.82) | — |",
		"| member lost → reconnected: share of handshakes resumed | 1 | 0 (without the session cache) | — | 1 (0 without) |",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing row\n%s\nin\n%s", want, out)
		}
	}
	if testing.Verbose() {
		os.Stdout.WriteString(out)
	}
}
