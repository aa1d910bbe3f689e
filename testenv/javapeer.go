package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// JavaTLS is the TLS configuration of a Java peer, as zookeeper.ssl.* system properties.
type JavaTLS struct {
	// KeyStore is the client's keystore (empty: no client certificate); KeyStoreType PEM, PKCS12 or JKS
	// (empty: PEM); KeyStorePassword its password, if any.
	KeyStore, KeyStoreType, KeyStorePassword string
	// TrustStore holds the CA(s) to trust; TrustStoreType as KeyStoreType; TrustStorePassword if any.
	TrustStore, TrustStoreType, TrustStorePassword string
	// NoHostnameVerification sets zookeeper.ssl.hostnameVerification=false.
	NoHostnameVerification bool
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

// clientFlags are the JVM options of a Java ZooKeeper client configured by opts: SASL (or none)
// and TLS as zookeeper.* system properties.
func clientFlags(opts JavaClientOptions) []string {
	var argv []string
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
	}
	return argv
}

// JavaError is a failure reported by a Java peer: Code is the KeeperException.Code name (NOAUTH,
// AUTHFAILED, SESSIONCLOSEDREQUIRESASLAUTH, ...) or EXCEPTION for any other Java exception.
type JavaError struct {
	Command string // the peer command that failed ("connect", "create", ...)
	Code    string // the KeeperException code name, or EXCEPTION
	Message string // the exception's message
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
	dir, own, err := workDir(opts.Dir, "zksecure-java-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*JavaClient, error) {
		if own {
			os.RemoveAll(dir)
		}
		return nil, err
	}
	c := &JavaClient{LogPath: filepath.Join(dir, "java-client.log")}
	if own {
		c.ownDir = dir
	}
	argv, err := jvm{dir: dir, log4jName: "log4j-client.properties", logFile: c.LogPath, logLevel: "INFO",
		flags: clientFlags(opts), classpath: append([]string{classes}, clientClasspath()...), main: "ZkPeer",
		user: opts.User}.argv()
	if err != nil {
		return fail(err)
	}
	p := &process{name: "java peer", logPath: filepath.Join(dir, "java-client.out")}
	stdin, stdout, err := p.startPiped(dir, argv)
	if err != nil {
		return fail(err)
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
