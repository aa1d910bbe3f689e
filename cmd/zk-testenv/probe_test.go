package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/flinkconf"
	"github.com/zksecure/zksecure/testenv"
)

// raceEnabled is set by race_test.go: the checker is built as the tests are, so that the build
// reuses the packages the test build compiled.
var raceEnabled bool

var checker struct {
	once       sync.Once
	dir, path  string
	err        error
	buildTaken time.Duration
}

// buildChecker builds zk-secure-check once per test binary: the tests run the real command on
// the fragment zk-testenv prints.
func buildChecker(t *testing.T) string {
	t.Helper()
	checker.once.Do(func() {
		// go test runs with the go command's own GOROOT/bin first on PATH.
		goTool, err := exec.LookPath("go")
		if err != nil {
			checker.err = fmt.Errorf("the go command builds zk-secure-check for this test: %w", err)
			return
		}
		if checker.dir, checker.err = os.MkdirTemp("", "zk-secure-check-"); checker.err != nil {
			return
		}
		checker.path = filepath.Join(checker.dir, "zk-secure-check")
		args := []string{"build", "-o", checker.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		t0 := time.Now()
		out, err := exec.Command(goTool, append(args, "github.com/zksecure/zksecure/cmd/zk-secure-check")...).CombinedOutput()
		checker.buildTaken = time.Since(t0)
		if err != nil {
			checker.err = fmt.Errorf("building zk-secure-check: %w\n%s", err, out)
		}
	})
	if checker.err != nil {
		t.Fatal(checker.err)
	}
	t.Logf("zk-secure-check built in %v", checker.buildTaken.Round(time.Millisecond))
	return checker.path
}

func removeChecker() {
	if checker.dir != "" {
		os.RemoveAll(checker.dir)
	}
}

// flinkHAProbe is the first argument that makes the test binary the probe.
const flinkHAProbe = "flink-ha-probe"

// probeFlinkHA runs inside a zk-testenv environment, as the CMD of `up … -- CMD`: with only what
// zk-testenv printed (the exports, the flink-conf.yaml fragment, the JAAS file and the client TLS
// properties) it runs zk-secure-check on the fragment, connects the Java client with the JAAS
// file, and elects a Curator leader under the fragment's HA root. args: the checker's path.
func probeFlinkHA(args []string, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "probe: "+format+"\n", a...)
		return 1
	}
	if len(args) != 1 {
		return fail("want the checker's path")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	confPath, jaas, props, krb5 := os.Getenv("ZK_FLINK_CONF"), os.Getenv("ZK_FLINK_JAAS"), os.Getenv("ZK_TLS_PROPERTIES"), os.Getenv("KRB5_CONFIG")
	if confPath == "" || jaas == "" || props == "" || krb5 == "" {
		return fail("exports missing: ZK_FLINK_CONF=%q ZK_FLINK_JAAS=%q ZK_TLS_PROPERTIES=%q KRB5_CONFIG=%q", confPath, jaas, props, krb5)
	}

	// 1. The checker on the fragment alone: its TLS comes from the JVM options in
	// env.java.opts.jobmanager, as a JobManager's does.
	out, err := exec.CommandContext(ctx, args[0], "--flink-conf", confPath).CombinedOutput()
	if err != nil {
		return fail("zk-secure-check --flink-conf %s: %v\n%s", confPath, err, out)
	}
	if !strings.Contains(string(out), "; transport TLS;") {
		return fail("zk-secure-check --flink-conf %s did not take TLS from the JVM options:\n%s", confPath, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fmt.Fprintf(stdout, "checker: %s\n", lines[len(lines)-1])

	// 2. The Java client with the printed JAAS file and TLS properties.
	conf, err := flinkconf.Load(confPath)
	if err != nil {
		return fail("%v", err)
	}
	quorum, _ := conf.Get(flinkconf.KeyQuorum)
	root, _ := conf.Get(flinkconf.KeyRoot)
	cluster, _ := conf.Get(flinkconf.KeyClusterID)
	b, err := os.ReadFile(props)
	if err != nil {
		return fail("%v", err)
	}
	p, err := zktls.ParseProperties(string(b))
	if err != nil {
		return fail("%s: %v", props, err)
	}
	dir, err := os.MkdirTemp("", "flink-ha-probe-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(dir)
	jc, err := testenv.StartJavaClient(ctx, testenv.JavaClientOptions{JAASFile: jaas, Krb5Conf: krb5, Dir: dir,
		TLS: &testenv.JavaTLS{KeyStore: p["zookeeper.ssl.keyStore.location"], KeyStoreType: p["zookeeper.ssl.keyStore.type"],
			TrustStore: p["zookeeper.ssl.trustStore.location"], TrustStoreType: p["zookeeper.ssl.trustStore.type"]}})
	if err != nil {
		return fail("%v", err)
	}
	defer jc.Close()
	javaFail := func(format string, a ...any) int {
		return fail(format+"\n--- Java client log:\n%s", append(a, tail(jc.LogPath, 20))...)
	}
	if _, _, err := jc.Connect(ctx, quorum, 20*time.Second, true); err != nil {
		return javaFail("Java client to %s with %s: %v", quorum, jaas, err)
	}
	ids, err := jc.WhoAmI(ctx)
	if err != nil {
		return javaFail("whoami: %v", err)
	}
	fmt.Fprintf(stdout, "java: whoami %s\n", strings.Join(ids, " "))
	// The checker created the HA root creator-only for the JobManager's identity: the Java
	// client, logged in from the JAAS file as the same principal, may write under it.
	ha := root + cluster
	if _, err := jc.Create(ctx, ha+"/java-probe", "jm1", "creator", "ephemeral"); err != nil {
		return javaFail("create under %s: %v", ha, err)
	}
	acl, err := jc.GetACL(ctx, ha)
	if err != nil {
		return javaFail("getacl %s: %v", ha, err)
	}
	fmt.Fprintf(stdout, "java: %s ACL %s\n", ha, strings.Join(acl, " "))

	// 3. Curator (as Flink's HA services use it: namespace root/cluster-id) elects a leader.
	ns := strings.TrimPrefix(ha, "/")
	if err := jc.CuratorLatch(ctx, quorum, ns, "/leader/latch", 2, 20*time.Second); err != nil {
		return javaFail("Curator LeaderLatch in namespace %s: %v", ns, err)
	}
	for {
		leaders, err := jc.CuratorLeaders(ctx)
		if err != nil {
			return javaFail("Curator leaders: %v", err)
		}
		if len(leaders) == 1 {
			fmt.Fprintf(stdout, "curator: contender %d of 2 leads in namespace %s\n", leaders[0], ns)
			break
		}
		if len(leaders) > 1 {
			return javaFail("Curator: %d leaders %v", len(leaders), leaders)
		}
		select {
		case <-ctx.Done():
			return javaFail("Curator: no leader: %v", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !slices.Contains(ids, "sasl:flink@EXAMPLE.COM") {
		return fail("the Java client's ids %v lack sasl:flink@EXAMPLE.COM", ids)
	}
	return 0
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
