package client_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// BenchmarkColdConnect times a whole process, exec → exit, that does client.Connect, one Exists and
// Close once (internal/coldconnect, built once with go build), against a cold java process doing
// the same with the Java ZooKeeper 3.8 client (ZkPeer: new ZooKeeper(), connected, SaslAuthenticated
// with SASL, exists("/"), close), for plaintext, Kerberos SASL and TLS + SASL against the warm
// ensemble. Each process logs in from the keytab itself. Go and Java runs alternate (which goes first
// too). It shows what a Go program does not pay: the JVM's start, class loading and JAAS login.
// Reported: p50-ms (ours), java-p50-ms and java/zksecure-p50, this run's ratio of the p50s, and the
// median peak resident set of each process (maxrss-MiB, java-maxrss-MiB). Run with
// -benchtime 10x: every Java run costs about a second of CPU. With -v, one more Go run logs
// client.Connect's phases with their timings.
func BenchmarkColdConnect(b *testing.B) {
	requireEnv(b)
	ctx := context.Background()
	bin := filepath.Join(b.TempDir(), "coldconnect")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./internal/coldconnect").CombinedOutput(); err != nil {
		b.Fatalf("go build ./internal/coldconnect: %v\n%s", err, out)
	}
	krb := kerberos(b, "client")
	jaas := javaJAAS(b, krb.Login.Keytab)
	javaTLS := &testenv.JavaTLS{KeyStore: pki.Client.KeystorePEM, TrustStore: pki.CAFile}
	saslArgs := []string{"-principal", "client", "-keytab", krb.Login.Keytab, "-krb5conf", kdc.Krb5Conf}
	tlsArgs := []string{"-ca", pki.CAFile, "-cert", pki.Client.KeystorePEM}
	for _, bc := range []struct {
		name     string
		servers  string
		args     []string
		java     testenv.JavaClientOptions
		javaSASL string
	}{
		{"plaintext", ens.PlainConnectString(), nil, testenv.JavaClientOptions{}, "nosasl"},
		{"sasl", ens.PlainConnectString(), saslArgs, testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: kdc.Krb5Conf}, "sasl"},
		{"tls-sasl", ens.SecureConnectString(), append(append([]string{}, tlsArgs...), saslArgs...),
			testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: kdc.Krb5Conf, TLS: javaTLS}, "sasl"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			argv := append([]string{"-members", bc.servers}, bc.args...)
			var goRSS, javaRSS []float64 // MiB
			goOne := func() time.Duration {
				cmd := exec.CommandContext(ctx, bin, argv...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				t0 := time.Now()
				err := cmd.Run()
				d := time.Since(t0)
				if err != nil {
					b.Fatalf("coldconnect: %v: %s", err, stderr.String())
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					goRSS = append(goRSS, float64(ru.Maxrss)/1024)
				}
				return d
			}
			opts := bc.java
			opts.Dir = b.TempDir()
			j, err := testenv.PrepareJavaOnce(ctx, opts)
			if err != nil {
				b.Fatal(err)
			}
			javaOne := func() time.Duration {
				run, err := j.Run(ctx, "connect "+bc.servers+" 10000 "+bc.javaSASL+" exists")
				if err != nil {
					b.Fatal(err)
				}
				javaRSS = append(javaRSS, float64(run.MaxRSS)/(1<<20))
				return run.Wall
			}
			for range 2 { // the page cache, the servers' JIT
				goOne()
				javaOne()
			}
			goRSS, javaRSS = goRSS[:0], javaRSS[:0]
			ours := make([]time.Duration, 0, b.N)
			java := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				if i%2 == 1 {
					java = append(java, javaOne())
				}
				ours = append(ours, goOne())
				if i%2 == 0 {
					java = append(java, javaOne())
				}
			}
			b.StopTimer()
			if testing.Verbose() { // where a cold Go process's time goes: client.Connect's phases
				cmd := exec.CommandContext(ctx, bin, append(argv, "-debug")...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				t0 := time.Now()
				err := cmd.Run()
				b.Logf("coldconnect -debug (%v, %v, load %s):\n%s", time.Since(t0), err, testenv.LoadAverage(), stderr.String())
			}
			b.ReportMetric(pct(ours, 0.5)/1000, "p50-ms")
			b.ReportMetric(pct(java, 0.5)/1000, "java-p50-ms")
			b.ReportMetric(pct(java, 0.5)/pct(ours, 0.5), "java/zksecure-p50")
			slices.Sort(goRSS)
			slices.Sort(javaRSS)
			b.ReportMetric(goRSS[len(goRSS)/2], "maxrss-MiB")
			b.ReportMetric(javaRSS[len(javaRSS)/2], "java-maxrss-MiB")
			b.Logf("load %s", testenv.LoadAverage())
		})
	}
}
