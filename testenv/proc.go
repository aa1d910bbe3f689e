package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// freePorts returns n distinct TCP ports that the operating system reported free on 127.0.0.1.
// The listeners are held until all n ports are chosen so that the same port is not returned twice.
// Another process may still take a port before the server binds it; callers that start servers
// retry on a bind failure.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testenv: choosing a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// freeTCPUDPPort returns a port that is free on 127.0.0.1 for both TCP and UDP (a KDC listens on both).
func freeTCPUDPPort() (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("testenv: choosing a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("testenv: no port free for both TCP and UDP after 20 tries")
}

// process is one started server process. Its output goes to a log file; it is stopped by PID (its
// whole process group), with SIGTERM first and SIGKILL after a grace period.
type process struct {
	name    string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
}

// startProcess starts argv with env added to the current environment, its stdout and stderr
// appended to logPath.
func startProcess(name, logPath, dir string, env []string, argv ...string) (*process, error) {
	p := &process{name: name, logPath: logPath}
	if err := p.start(dir, env, argv...); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *process) start(dir string, env []string, argv ...string) error {
	_, _, err := p.launch(dir, env, false, argv)
	return err
}

// startPiped starts argv with stdin and stdout as pipes (stderr goes to the log file).
func (p *process) startPiped(dir string, argv []string) (io.WriteCloser, io.ReadCloser, error) {
	return p.launch(dir, nil, true, argv)
}

func (p *process) launch(dir string, env []string, piped bool, argv []string) (stdin io.WriteCloser, stdout io.ReadCloser, err error) {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("testenv: %s: log file: %w", p.name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	if piped {
		if stdin, err = cmd.StdinPipe(); err == nil {
			stdout, err = cmd.StdoutPipe()
		}
		if err != nil {
			logf.Close()
			return nil, nil, err
		}
	} else {
		cmd.Stdout = logf
	}
	// Own process group, so that a stop reaches every child; and SIGKILL if the test binary dies
	// without running its cleanups (a panic or a `go test -timeout`).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("testenv: starting %s (%s): %w", p.name, argv[0], err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	return stdin, stdout, nil
}

// running reports whether the process has been started and not yet exited.
func (p *process) running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// exited returns a channel closed when the current incarnation of the process exits.
func (p *process) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.done
}

// stop sends sig to the process group and waits up to grace for the exit; then SIGKILL.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, sig)
	if sig != syscall.SIGKILL {
		_ = syscall.Kill(-pid, syscall.SIGCONT) // a frozen process handles nothing until thawed
	}
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("testenv: %s (pid %d) did not exit after SIGKILL", p.name, pid)
	}
}

// signal sends sig to the process group of the current incarnation.
func (p *process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || done == nil {
		return fmt.Errorf("testenv: %s is not running", p.name)
	}
	select {
	case <-done:
		return fmt.Errorf("testenv: %s is not running", p.name)
	default:
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("testenv: %s (pid %d): %v: %w", p.name, cmd.Process.Pid, sig, err)
	}
	return nil
}

// pid returns the PID of the current incarnation, or 0.
func (p *process) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// tail returns the last n lines of the process's log file.
func (p *process) tail(n int) string { return tailFile(p.logPath, n) }

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// waitFor polls cond every interval until it returns nil, the context ends, or exited closes.
// It returns the last error from cond when giving up.
func waitFor(ctx context.Context, interval time.Duration, exited <-chan struct{}, cond func() error) error {
	var last error
	for {
		if last = cond(); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), last)
		case <-exited:
			// One more try: the condition may have been met just before the exit.
			if err := cond(); err == nil {
				return nil
			}
			return fmt.Errorf("process exited (last: %w)", last)
		case <-time.After(interval):
		}
	}
}

// runTool runs a short-lived command and returns its combined output; a non-zero exit is an error
// that includes the output.
func runTool(ctx context.Context, env []string, stdin string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("testenv: %s: %w: %s", strings.Join(argv[:min(len(argv), 2)], " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// workDir returns dir, created if missing, or — when dir is empty — a new temporary folder named
// after prefix, with own true: the caller removes it when done.
func workDir(dir, prefix string) (_ string, own bool, err error) {
	if dir == "" {
		if dir, err = os.MkdirTemp("", prefix); err != nil {
			return "", false, fmt.Errorf("testenv: temporary folder: %w", err)
		}
		return dir, true, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("testenv: folder %s: %w", dir, err)
	}
	return dir, false, nil
}
