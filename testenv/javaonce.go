package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// JavaOnce is the command line of a cold Java client process: a new JVM running ZkPeer for a few
// commands and exiting, as a Java tool or a short-lived Java service does. Its setup (compiling
// ZkPeer, the log4j configuration) is done once by PrepareJavaOnce, so that Run times only the
// process itself.
type JavaOnce struct {
	argv    []string
	dir     string
	own     bool
	logPath string
}

// PrepareJavaOnce compiles ZkPeer (once per process) and prepares a cold Java client configured
// by opts (JAAS, TLS) in opts.Dir (empty: a new temporary folder, which the caller may remove).
func PrepareJavaOnce(ctx context.Context, opts JavaClientOptions) (*JavaOnce, error) {
	classes, err := compiledJava(ctx)
	if err != nil {
		return nil, err
	}
	dir, own, err := workDir(opts.Dir, "zksecure-java-once-")
	if err != nil {
		return nil, err
	}
	j := &JavaOnce{dir: dir, own: own, logPath: filepath.Join(dir, "java-once.log")}
	argv, err := jvm{dir: dir, log4jName: "log4j-once.properties", logFile: j.logPath, logLevel: "INFO",
		flags: clientFlags(opts), classpath: append([]string{classes}, clientClasspath()...), main: "ZkPeer",
		user: opts.User}.argv()
	if err != nil {
		return nil, err
	}
	j.argv = argv
	return j, nil
}

// JavaRun is what one cold Java client process cost.
type JavaRun struct {
	Wall   time.Duration // from exec to exit
	MaxRSS int64         // peak resident set, bytes (getrusage)
}

// Run starts a new JVM that runs commands (ZkPeer's, e.g. "connect <servers> 10000 sasl",
// "exists /") then quits, and returns the wall time from exec to exit and its peak resident set.
// Every command must answer ok; otherwise the error carries the answer and the end of the log.
func (j *JavaOnce) Run(ctx context.Context, commands ...string) (JavaRun, error) {
	cmd := exec.CommandContext(ctx, j.argv[0], j.argv[1:]...)
	cmd.Dir = j.dir
	cmd.Stdin = strings.NewReader(strings.Join(append(commands, "quit"), "\n") + "\n")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return JavaRun{}, fmt.Errorf("testenv: cold java client: %w\n%s%s\n%s", err, out.String(), errOut.String(), tailFile(j.logPath, 20))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(commands)+1 {
		return JavaRun{}, fmt.Errorf("testenv: cold java client: %d answers to %d commands: %q\n%s", len(lines), len(commands)+1, out.String(), tailFile(j.logPath, 20))
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "ok ") {
			what := "quit"
			if i < len(commands) {
				what = commands[i]
			}
			return JavaRun{}, fmt.Errorf("testenv: cold java client: %q answered %q\n%s", what, l, tailFile(j.logPath, 20))
		}
	}
	run := JavaRun{Wall: elapsed}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.MaxRSS = ru.Maxrss * 1024 // KiB on Linux
	}
	return run, nil
}

// LogPath is the cold clients' log (log4j, appended by every run).
func (j *JavaOnce) LogPath() string { return j.logPath }

// Remove deletes the folder PrepareJavaOnce made when opts.Dir was empty (a given Dir is kept).
func (j *JavaOnce) Remove() error {
	if !j.own {
		return nil
	}
	return os.RemoveAll(j.dir)
}
