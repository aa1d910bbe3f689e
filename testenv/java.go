package testenv

import (
	"bufio"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed java/*.java
var javaSources embed.FS

// javaClientClasspath is what the Java peers need: the 3.8 client (the 3.4.13 client breaks on Java
// 14+; the 3.8 client speaks to 3.4 servers too), Netty for TLS, log4j, and Curator 5.4.
func javaClientClasspath() string {
	return javaClasspath("zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-log4j12.jar", "log4j-1.2.jar",
		"netty-codec.jar", "netty-resolver.jar", "netty-transport-native-unix-common.jar", "netty-handler.jar",
		"netty-buffer.jar", "netty-common.jar", "netty-transport.jar", "netty-transport-native-epoll.jar",
		"curator-client.jar", "curator-framework.jar", "curator-recipes.jar", "guava.jar")
}

var compileMu sync.Mutex

// compiledJava compiles the embedded Java peers once per source version into the user's cache folder
// and returns the folder of the classes. Concurrent test binaries are safe: each compiles into its own
// folder and renames it into place.
func compiledJava(ctx context.Context) (string, error) {
	compileMu.Lock()
	defer compileMu.Unlock()
	h := sha256.New()
	entries, err := javaSources.ReadDir("java")
	if err != nil {
		return "", err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		b, _ := javaSources.ReadFile("java/" + e.Name())
		h.Write([]byte(e.Name()))
		h.Write(b)
	}
	h.Write([]byte(javaClientClasspath()))
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dest := filepath.Join(base, "zksecure-testenv", "java-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dest, ".complete")); err == nil {
		return dest, nil
	}
	javac, err := lookPath("javac")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "compiling-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	args := []string{javac, "-nowarn", "-encoding", "UTF-8", "-cp", javaClientClasspath(), "-d", tmp}
	for _, e := range entries {
		b, _ := javaSources.ReadFile("java/" + e.Name())
		src := filepath.Join(tmp, e.Name())
		if err := os.WriteFile(src, b, 0o644); err != nil {
			return "", err
		}
		args = append(args, src)
	}
	if _, err := runTool(ctx, nil, "", args...); err != nil {
		return "", fmt.Errorf("testenv: compiling the Java peers: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dest); err != nil {
		if _, statErr := os.Stat(filepath.Join(dest, ".complete")); statErr == nil {
			return dest, nil // another process won the race
		}
		return "", err
	}
	return dest, nil
}

// JavaTLS is the TLS configuration of a Java peer, as zookeeper.ssl.* system properties.
type JavaTLS struct {
	// KeyStore is the client's keystore (empty: no client certificate); KeyStoreType PEM, PKCS12 or JKS
	// (empty: PEM); KeyStorePassword its password, if any.
	KeyStore, KeyStoreType, KeyStorePassword string
	// TrustStore holds the CA(s) to trust; TrustStoreType as KeyStoreType; TrustStorePassword if any.
	TrustStore, TrustStoreType, TrustStorePassword string
	// NoHostnameVerification sets zookeeper.ssl.hostnameVerification=false.
	NoHostnameVerification bool
	// Protocol sets zookeeper.ssl.protocol; empty keeps the client's default (TLSv1.2 for the 3.8
	// client, which a 3.9.2+ server refuses by default: it accepts TLSv1.3 only).
	Protocol string
}

// JavaClientOptions configures a Java peer. The zero value is a plaintext client without SASL.
type JavaClientOptions struct {
	// JAASFile is a JAAS configuration with a Krb5LoginModule section for the client; empty means
	// no SASL (zookeeper.sasl.client=false).
	JAASFile string
	// LoginContext names the JAAS section (zookeeper.sasl.clientconfig); empty means "Client".
	LoginContext string
	// Krb5Conf is java.security.krb5.conf (Java ignores KRB5_CONFIG). Required with JAASFile.
	Krb5Conf string
	// ServerPrincipal sets zookeeper.server.principal; empty lets the client derive
	// zookeeper/<host>.
	ServerPrincipal string
	// TLS makes the client use the Netty socket with TLS; nil means plaintext.
	TLS *JavaTLS
	// Dir receives the client's log; empty means a new temporary folder.
	Dir string
	// User runs the JVM as a process user of a Network (see Network.NewUser), so that faults can
	// drop its packets alone; the zero value runs it as this process's user.
	User User
}

// JavaError is a failure reported by a Java peer: Code is the KeeperException.Code name (NOAUTH,
// AUTHFAILED, SESSIONCLOSEDREQUIRESASLAUTH, ...) or EXCEPTION for any other Java exception.
type JavaError struct {
	Command string
	Code    string
	Message string
}

func (e *JavaError) Error() string {
	return fmt.Sprintf("java peer: %s: %s %s", e.Command, e.Code, e.Message)
}

// JavaClient is a running ZkPeer: the real Java ZooKeeper client, driven by commands.
type JavaClient struct {
	// LogPath is the Java client's log (log4j), useful when an interop test fails.
	LogPath string

	proc   *process
	stdin  io.WriteCloser
	lines  chan string
	mu     sync.Mutex
	ownDir string
}

// StartJavaClient compiles (once) and starts a Java peer process.
func StartJavaClient(ctx context.Context, opts JavaClientOptions) (*JavaClient, error) {
	classes, err := compiledJava(ctx)
	if err != nil {
		return nil, err
	}
	java, err := lookPath("java")
	if err != nil {
		return nil, err
	}
	c := &JavaClient{}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "zksecure-java-"); err != nil {
			return nil, err
		}
		c.ownDir = dir
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c.LogPath = filepath.Join(dir, "java-client.log")
	log4j := filepath.Join(dir, "log4j-client.properties")
	if err := os.WriteFile(log4j, []byte(fmt.Sprintf(`log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=%s
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%%d{ISO8601} %%-5p [%%t:%%C{1}@%%L] - %%m%%n
`, c.LogPath)), 0o644); err != nil {
		return nil, err
	}
	argv := append([]string{java}, javaClientProps(opts, log4j)...)
	argv = append(argv, "-cp", classes+":"+javaClientClasspath(), "ZkPeer")
	argv = opts.User.Argv(argv)

	p := &process{name: "java peer", logPath: filepath.Join(dir, "java-client.out")}
	stdin, stdout, err := p.startPiped(dir, argv)
	if err != nil {
		return nil, err
	}
	c.proc, c.stdin = p, stdin
	c.lines = make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c, nil
}

// NewJavaClient starts a Java peer for the duration of a test; its log is printed if the test failed.
func NewJavaClient(t TB, opts JavaClientOptions) *JavaClient {
	t.Helper()
	Require(t)
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	c, err := StartJavaClient(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Java client log (%s):\n%s", c.LogPath, tailFile(c.LogPath, 30))
		}
		c.Close()
	})
	return c
}

// Do sends one command and returns the result after "ok ", or a *JavaError.
func (c *JavaClient) Do(ctx context.Context, args ...string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	line := strings.Join(args, " ")
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		return "", fmt.Errorf("testenv: java peer: %w\n%s", err, c.proc.tail(20))
	}
	select {
	case out, ok := <-c.lines:
		if !ok {
			return "", fmt.Errorf("testenv: java peer exited during %q\n%s", args[0], c.proc.tail(20))
		}
		if rest, ok := strings.CutPrefix(out, "ok "); ok {
			return rest, nil
		}
		if rest, ok := strings.CutPrefix(out, "err "); ok {
			code, msg, _ := strings.Cut(rest, " ")
			return "", &JavaError{Command: args[0], Code: code, Message: msg}
		}
		return "", fmt.Errorf("testenv: java peer: unexpected output %q", out)
	case <-ctx.Done():
		return "", fmt.Errorf("testenv: java peer: %q: %w", line, ctx.Err())
	}
}

// Connect opens a session (waiting for SASL authentication when sasl is true) and returns the
// session id and the time the Java client took, measured inside the JVM.
func (c *JavaClient) Connect(ctx context.Context, connect string, sessionTimeout time.Duration, sasl bool) (int64, time.Duration, error) {
	mode := "nosasl"
	if sasl {
		mode = "sasl"
	}
	out, err := c.Do(ctx, "connect", connect, strconv.Itoa(int(sessionTimeout/time.Millisecond)), mode)
	if err != nil {
		return 0, 0, err
	}
	sid, ns, _ := strings.Cut(out, " ")
	id, err := strconv.ParseUint(strings.TrimPrefix(sid, "0x"), 16, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("testenv: java peer: bad session id %q", sid)
	}
	n, _ := strconv.ParseInt(ns, 10, 64)
	return int64(id), time.Duration(n), nil
}

// Create creates a node; acl is "open", "creator", "read" or "scheme:id:perms|..." entries; mode is
// persistent, ephemeral, persistent_sequential or ephemeral_sequential.
func (c *JavaClient) Create(ctx context.Context, path, data, acl, mode string) (string, error) {
	return c.Do(ctx, "create", path, enc(data), aclSpec(acl), mode)
}

// Get returns a node's data.
func (c *JavaClient) Get(ctx context.Context, path string) (string, error) {
	out, err := c.Do(ctx, "get", path)
	if err != nil {
		return "", err
	}
	return url.QueryUnescape(out)
}

// GetACL returns a node's ACL as "scheme:id:perms" strings.
func (c *JavaClient) GetACL(ctx context.Context, path string) ([]string, error) {
	out, err := c.Do(ctx, "getacl", path)
	if err != nil {
		return nil, err
	}
	return decodeList(out)
}

// WhoAmI returns the session's authenticated ids as "scheme:id" (3.7+ servers only: a 3.4 server
// closes the session on the unknown opcode).
func (c *JavaClient) WhoAmI(ctx context.Context) ([]string, error) {
	out, err := c.Do(ctx, "whoami")
	if err != nil {
		return nil, err
	}
	return decodeList(out)
}

func decodeList(out string) ([]string, error) {
	if out == "" {
		return nil, nil
	}
	var res []string
	for _, part := range strings.Split(out, "|") {
		scheme, rest, _ := strings.Cut(part, ":")
		id, perms, hasPerms := rest, "", false
		if i := strings.LastIndex(rest, ":"); i >= 0 {
			id, perms, hasPerms = rest[:i], rest[i+1:], true
		}
		uid, err := url.QueryUnescape(id)
		if err != nil {
			return nil, err
		}
		s := scheme + ":" + uid
		if hasPerms {
			s += ":" + perms
		}
		res = append(res, s)
	}
	return res, nil
}

func enc(s string) string {
	if s == "" {
		return "-"
	}
	return url.QueryEscape(s)
}

// aclSpec percent-encodes the ids of explicit entries ("sasl:client@R:cdrwa|x509:CN=a,O=b:r").
func aclSpec(acl string) string {
	switch acl {
	case "open", "creator", "read":
		return acl
	}
	parts := strings.Split(acl, "|")
	for i, p := range parts {
		a, b := strings.Index(p, ":"), strings.LastIndex(p, ":")
		if a < 0 || b <= a {
			continue
		}
		parts[i] = p[:a+1] + url.QueryEscape(p[a+1:b]) + p[b:]
	}
	return strings.Join(parts, "|")
}

// Close ends the Java peer (closing its session) and waits for the process.
func (c *JavaClient) Close() error {
	c.mu.Lock()
	if c.stdin != nil {
		io.WriteString(c.stdin, "quit\n")
		c.stdin.Close()
		c.stdin = nil
	}
	c.mu.Unlock()
	select {
	case <-c.proc.exited():
	case <-time.After(5 * time.Second):
	}
	err := c.proc.stop(syscall.SIGKILL, 0)
	if c.ownDir != "" {
		os.RemoveAll(c.ownDir)
	}
	return err
}

// Kill ends the Java peer at once, as a crash would (its session lives until it expires).
func (c *JavaClient) Kill() error { return c.proc.stop(syscall.SIGKILL, 0) }

// GetRaw returns a node's bytes as the Java client reads them.
func (c *JavaClient) GetRaw(ctx context.Context, path string) ([]byte, error) {
	out, err := c.Do(ctx, "getraw", path)
	if err != nil {
		return nil, err
	}
	return unhex(out)
}

// EncodeFlinkRecord returns the bytes Flink writes to connection_info (ObjectOutputStream:
// writeUTF(address), writeObject(UUID)), produced by the JVM.
func (c *JavaClient) EncodeFlinkRecord(ctx context.Context, address, uuid string) ([]byte, error) {
	out, err := c.Do(ctx, "record-encode", enc(address), uuid)
	if err != nil {
		return nil, err
	}
	return unhex(out)
}

// DecodeFlinkRecord reads record with the JVM's ObjectInputStream (readUTF, readObject).
func (c *JavaClient) DecodeFlinkRecord(ctx context.Context, record []byte) (address, uuid string, err error) {
	out, err := c.Do(ctx, "record-decode", hexOf(record))
	if err != nil {
		return "", "", err
	}
	a, u, _ := strings.Cut(out, " ")
	address, err = url.QueryUnescape(a)
	return address, u, err
}

// CuratorLatch starts n Curator LeaderLatch contenders in the Java peer, each with its own
// CuratorFramework session (namespace without leading slash, as Curator wants it).
func (c *JavaClient) CuratorLatch(ctx context.Context, connect, namespace, latchPath string, n int, sessionTimeout time.Duration) error {
	_, err := c.Do(ctx, "latch-start", connect, strings.TrimPrefix(namespace, "/"), latchPath, strconv.Itoa(n),
		strconv.Itoa(int(sessionTimeout/time.Millisecond)))
	return err
}

// CuratorLeaders returns the indexes of the Curator contenders that believe they lead.
func (c *JavaClient) CuratorLeaders(ctx context.Context) ([]int, error) {
	out, err := c.Do(ctx, "latch-leaders")
	if err != nil || out == "" {
		return nil, err
	}
	var idx []int
	for _, s := range strings.Split(out, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, err
		}
		idx = append(idx, n)
	}
	return idx, nil
}

// CuratorBench closes the Curator leader rounds times and returns, per round, the time until another
// Curator contender's isLeader() fired, measured in the JVM.
func (c *JavaClient) CuratorBench(ctx context.Context, rounds int) ([]time.Duration, error) {
	out, err := c.Do(ctx, "latch-bench", strconv.Itoa(rounds))
	if err != nil {
		return nil, err
	}
	var ds []time.Duration
	for _, s := range strings.Split(out, ",") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, err
		}
		ds = append(ds, time.Duration(n))
	}
	return ds, nil
}

// LatchEvent is one leadership change of a Curator contender, timed in the JVM.
type LatchEvent struct {
	// Index is the contender (as in CuratorLatch); Leader whether it gained (true) or lost leadership.
	Index  int
	Leader bool
	At     time.Time
}

// CuratorHistory returns the Curator contenders' leadership changes since the last call, in order.
// A contender closed with CuratorClose or latch-close while leading gets a loss event too (Curator
// itself does not call notLeader on close).
func (c *JavaClient) CuratorHistory(ctx context.Context) ([]LatchEvent, error) {
	out, err := c.Do(ctx, "latch-history")
	if err != nil || out == "" {
		return nil, err
	}
	var evs []LatchEvent
	for _, item := range strings.Split(out, ",") {
		f := strings.Split(item, ":")
		if len(f) != 3 {
			return nil, fmt.Errorf("java peer: bad latch history item %q", item)
		}
		i, err1 := strconv.Atoi(f[0])
		us, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || (f[1] != "lead" && f[1] != "notlead") {
			return nil, fmt.Errorf("java peer: bad latch history item %q", item)
		}
		evs = append(evs, LatchEvent{Index: i, Leader: f[1] == "lead", At: time.UnixMicro(us)})
	}
	return evs, nil
}

// CuratorClose closes Curator contender i and its CuratorFramework (its ZooKeeper session ends), as a
// JobManager that shuts down cleanly does.
func (c *JavaClient) CuratorClose(ctx context.Context, i int) error {
	_, err := c.Do(ctx, "latch-curator-close", strconv.Itoa(i))
	return err
}

func hexOf(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func unhex(s string) ([]byte, error) {
	if s == "-" {
		return nil, nil
	}
	return hex.DecodeString(s)
}

// javaClientProps are the JVM options of a Java ZooKeeper client configured by opts.
func javaClientProps(opts JavaClientOptions, log4j string) []string {
	argv := []string{"-Xmx256m", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true",
		"-Dlog4j.configuration=file:" + log4j}
	if opts.JAASFile != "" {
		lc := opts.LoginContext
		if lc == "" {
			lc = "Client"
		}
		argv = append(argv, "-Djava.security.auth.login.config="+opts.JAASFile, "-Dzookeeper.sasl.clientconfig="+lc,
			"-Djava.security.krb5.conf="+opts.Krb5Conf)
	} else {
		argv = append(argv, "-Dzookeeper.sasl.client=false")
	}
	if opts.ServerPrincipal != "" {
		argv = append(argv, "-Dzookeeper.server.principal="+opts.ServerPrincipal)
	}
	if t := opts.TLS; t != nil {
		argv = append(argv, "-Dzookeeper.client.secure=true",
			"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty")
		add := func(k, v string) {
			if v != "" {
				argv = append(argv, "-Dzookeeper.ssl."+k+"="+v)
			}
		}
		def := func(s string) string {
			if s == "" {
				return "PEM"
			}
			return s
		}
		if t.KeyStore != "" {
			add("keyStore.location", t.KeyStore)
			add("keyStore.type", def(t.KeyStoreType))
			add("keyStore.password", t.KeyStorePassword)
		}
		if t.TrustStore != "" {
			add("trustStore.location", t.TrustStore)
			add("trustStore.type", def(t.TrustStoreType))
			add("trustStore.password", t.TrustStorePassword)
		}
		if t.NoHostnameVerification {
			add("hostnameVerification", "false")
		}
		add("protocol", t.Protocol)
	}
	return argv
}

// RunZkCli runs the Java ZooKeeper CLI (ZooKeeperMain) once, as an operator would — a fresh JVM,
// with the SASL and TLS settings of opts — and returns its output and wall time.
func RunZkCli(ctx context.Context, opts JavaClientOptions, server string, args ...string) (string, time.Duration, error) {
	java, err := lookPath("java")
	if err != nil {
		return "", 0, err
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "zksecure-zkcli-"); err != nil {
			return "", 0, err
		}
		defer os.RemoveAll(dir)
	}
	log4j := filepath.Join(dir, "log4j-zkcli.properties")
	if err := os.WriteFile(log4j, []byte("log4j.rootLogger=ERROR, FILE\nlog4j.appender.FILE=org.apache.log4j.FileAppender\nlog4j.appender.FILE.File="+
		filepath.Join(dir, "zkcli.log")+"\nlog4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n"), 0o644); err != nil {
		return "", 0, err
	}
	argv := append([]string{java}, javaClientProps(opts, log4j)...)
	argv = append(argv, "-cp", javaClientClasspath(), "org.apache.zookeeper.ZooKeeperMain", "-server", server)
	argv = append(argv, args...)
	t0 := time.Now()
	out, err := runTool(ctx, nil, "", argv...)
	return out, time.Since(t0), err
}
