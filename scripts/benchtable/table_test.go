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
BenchmarkResignToNewLeader/go-2         	      50	   1000 ns/op	         0.80 p50-ms	         2.0 p99-ms
BenchmarkResignToNewLeader/curator-2    	      50	   1000 ns/op	         1.60 p50-ms	         3.0 p99-ms	         0.50 go/curator-p50
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
		"| connect to a usable session, plaintext (p50 ms) | — | — | — | — |",
		"| connect to a usable session, Kerberos SASL (p50 ms) | — | — (the Java client's own connect, timed in a warm JVM (auth/sasl): not run) | — | ≥ 3× |",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing row\n%s\nin\n%s", want, out)
		}
	}
	if testing.Verbose() {
		os.Stdout.WriteString(out)
	}
}
