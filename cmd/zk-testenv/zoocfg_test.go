package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zksecure/zksecure/testenv"
)

// threeMemberZooCfg is a zoo.cfg in the shape Flink ships conf/zoo.cfg, commented, with the
// template line filled in for a three-member quorum on named hosts.
const threeMemberZooCfg = `# The length of a tick, in milliseconds
tickTime=2000

# Ticks a follower may take to connect and sync to the leader
initLimit=10

# Ticks between a request and its acknowledgement
syncLimit=5

# Snapshots go here (zk-testenv keeps them in its own folder when this stays commented)
# dataDir=/tmp/zookeeper

# The port clients connect to
clientPort=2181

# ZooKeeper quorum peers: server.X=host:peer-port:leader-port
server.1=zk1.flink.test:2888:3888
server.2=zk2.flink.test:2888:3888
server.3=zk3.flink.test:2888:3888
`

// upAndRun runs `zk-testenv up ARGS… -- CMD…` as a user does and returns its exit status,
// standard output and standard error.
func upAndRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"up"}, args...)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("zk-testenv up: %v", err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// Flink HA on a secured quorum from a zoo.cfg in Flink's format: three members on the named hosts
// of its server.X lines form a quorum, and what zk-testenv prints is enough for a JobManager:
// zk-secure-check passes on the flink-conf.yaml fragment, the Java client connects with the JAAS
// file (as the JobManager's principal), Curator elects a leader under the HA root.
func TestZooCfgFlinkHA(t *testing.T) {
	testenv.Require(t)
	check := buildChecker(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(threeMemberZooCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := upAndRun(t, "--zoo-cfg", cfg, "--tls", "--enforce-sasl", "--remove-host", "--dir", filepath.Join(dir, "env"),
		"--", os.Args[0], flinkHAProbe, check)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	status := lineWith(stderr, "ZooKeeper quorum: ")
	if strings.Count(status, " leader") != 1 || strings.Count(status, " follower") != 2 ||
		!strings.Contains(status, "zk1.flink.test:2181") || !strings.Contains(status, "zk3.flink.test:2181") {
		t.Errorf("quorum status %q: want zk1..zk3.flink.test:2181, one leader and two followers", status)
	}
	for _, want := range []string{
		"high-availability.zookeeper.quorum: zk1.flink.test:2181,zk2.flink.test:2181,zk3.flink.test:2181\n",
		"security.kerberos.login.principal: flink/jm1@EXAMPLE.COM\n",
		"-Dzookeeper.client.secure=true",
		`principal="flink/jm1@EXAMPLE.COM";`,
		"export ZK_FLINK_CONF=" + filepath.Join(dir, "env", "flink-conf.yaml") + "\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the output lacks %q:\n%s", want, stderr)
		}
	}
	// The server may add an ip: id; the Kerberos and certificate ids must be there.
	if ids := lineWith(stdout, "java: whoami "); !strings.Contains(ids, " sasl:flink@EXAMPLE.COM") || !strings.Contains(ids, " x509:CN=client,OU=clients,O=zksecure") {
		t.Errorf("Java client ids %q: want sasl:flink@EXAMPLE.COM (the JAAS principal, host removed) and the client certificate", ids)
	}
	for _, want := range []string{
		"checker: 37 passed, 0 warnings, 0 failed, 0 skipped",
		"java: whoami ",
		"java: /flink/testenv ACL sasl:flink@EXAMPLE.COM:cdrwa",
		"curator: contender ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the probe's output lacks %q:\n%s\nstderr:\n%s", want, stdout, stderr)
		}
	}
}

// On localhost the file's ports are the members' own; the fragment alone passes the checker (no
// TLS: see TestZooCfgFlinkHA); the command's exit status is zk-testenv's.
func TestZooCfgLoopbackCommandStatus(t *testing.T) {
	testenv.Require(t)
	check := buildChecker(t)
	ports := freeLoopbackPorts(t, 3)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	zoo := strings.NewReplacer("clientPort=2181", fmt.Sprintf("clientPort=%d", ports[0]),
		"server.1=zk1.flink.test:2888:3888", fmt.Sprintf("server.1=localhost:%d:%d", ports[1], ports[2]),
		"server.2=zk2.flink.test:2888:3888\n", "", "server.3=zk3.flink.test:2888:3888\n", "").Replace(threeMemberZooCfg)
	if err := os.WriteFile(cfg, []byte(zoo), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := upAndRun(t, "--zoo-cfg", cfg, "--enforce-sasl", "--",
		"sh", "-c", `"$0" --flink-conf "$ZK_FLINK_CONF" && exit 7`, check)
	if code != 7 {
		t.Fatalf("exit %d, want the command's 7\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, fmt.Sprintf("1 member(s) localhost:%d;", ports[0])) || !strings.Contains(stdout, " 0 failed") {
		t.Errorf("zk-secure-check on the fragment:\n%s", stdout)
	}
	if want := fmt.Sprintf("ZooKeeper quorum: localhost:%d standalone", ports[0]); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if strings.Contains(stdout, "export ") {
		t.Errorf("with a command, the exports went to its standard output:\n%s", stdout)
	}
}

// Bad input stops zk-testenv before it starts anything, with exit 2 and the file and line.
func TestZooCfgErrorsNameTheLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	bad := strings.Replace(threeMemberZooCfg, "server.3=zk3.flink.test:2888:3888", "server.2=zk3.flink.test:2888:3888", 1) + "clientport=2182\n"
	if err := os.WriteFile(cfg, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"up", "--zoo-cfg", cfg}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr.String())
	}
	for _, want := range []string{
		cfg + " line 19 (server.2=zk3.flink.test:2888:3888): server id 2 is defined twice (first on line 18)",
		cfg + " line 20 (clientport=2182): unknown key clientport: did you mean clientPort?",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func lineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func freeLoopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
