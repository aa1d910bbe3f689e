package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// BenchmarkFullCheck: the wall time of a complete zk-secure-check run (every check, 3 members,
// Kerberos + TLS, creator ACL) against one Java zkCli call ("ls /" with the same JAAS and TLS
// settings, a fresh JVM as an operator runs it) on the same ensemble, in the same run.
func BenchmarkFullCheck(b *testing.B) {
	testenv.Require(b) // it starts an environment of its own
	ctx := context.Background()
	env, err := testenv.StartEnv(ctx, testenv.EnvOptions{Members: 3, EnforceSASL: true, RemoveHostFromPrincipal: true, TLS: true})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close()
	args := []string{"--quorum", env.ZooKeeper.SecureConnectString(), "--principal", env.JobManagerPrincipals[0],
		"--keytab", env.JobManagerKeytabs[0], "--krb5-conf", env.KDC.Krb5Conf, "--tls-ca", env.PKI.CAFile,
		"--tls-cert", env.PKI.Client.CertFile, "--tls-key", env.PKI.Client.EncryptedKeyFile,
		"--tls-key-password-file", env.PKI.Client.PasswordFile, "--acl", "creator", "--cluster-id", "/bench",
		"--jobmanager-principals", strings.Join(env.JobManagerPrincipals, ",")}
	checkOnce := func() time.Duration {
		t0 := time.Now()
		if code := run(ctx, args, io.Discard, io.Discard); code != 0 {
			b.Fatalf("check failed (exit %d)", code)
		}
		return time.Since(t0)
	}
	jaas := filepath.Join(b.TempDir(), "jaas.conf")
	os.WriteFile(jaas, []byte(testenv.JAASSection("Client", env.JobManagerKeytabs[0], env.JobManagerPrincipals[0])), 0o644)
	zkcli := testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: env.KDC.Krb5Conf, TLS: &testenv.JavaTLS{
		KeyStore: env.PKI.Client.KeystorePEM, TrustStore: env.PKI.CAFile}}
	cliOnce := func() time.Duration {
		out, d, err := testenv.RunZkCli(ctx, zkcli, env.ZooKeeper.Members[0].SecureAddr(), "ls", "/")
		if err != nil || !strings.Contains(out, "zookeeper") {
			b.Fatalf("zkCli: %v\n%s", err, out)
		}
		return d
	}
	for i := 0; i < 3; i++ { // warm the servers' JIT for both
		checkOnce()
		cliOnce()
	}
	var checks, clis []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		checks = append(checks, checkOnce())
		b.StopTimer()
		clis = append(clis, cliOnce())
		b.StartTimer()
	}
	b.StopTimer()
	med := func(d []time.Duration) time.Duration { s := slices.Clone(d); slices.Sort(s); return s[len(s)/2] }
	b.ReportMetric(float64(med(checks).Milliseconds()), "check-p50-ms")
	b.ReportMetric(float64(med(clis).Milliseconds()), "zkcli-p50-ms")
	b.ReportMetric(med(clis).Seconds()/med(checks).Seconds(), "zkcli/check")
}
