package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// zk-testenv up --domain: a named-host ensemble in a namespace of its own, driven by fault
// commands on stdin, each answered; quit stops everything.
func TestConsoleFaults(t *testing.T) {
	cmd := exec.Command(os.Args[0], "up", "--domain", "console.test", "--members", "3", "--no-sasl", "--dir", t.TempDir())
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The exports come first: wait for the quorum string, on the named hosts.
	waitLine(t, lines, &stderr, "export ZK_QUORUM=zk1.console.test:2181,zk2.console.test:2181,zk3.console.test:2181")
	ask := func(command, want string) string {
		t.Helper()
		fmt.Fprintln(stdin, command)
		return waitLine(t, lines, &stderr, want)
	}
	ask("partition 2", "dropping all traffic of zk2.console.test (127.0.1.2)")
	ask("status", "member 2 zk2.console.test:2181: not serving")
	ask("heal", "healed")
	ask("freeze 3", "member 3: freeze done")
	ask("thaw 3", "member 3: thaw done")
	ask("partition 9", "error: \"9\" is not a member id (1 to 3)")
	ask("bogus", "error: unknown command")
	fmt.Fprintln(stdin, "quit")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("zk-testenv exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("zk-testenv did not stop after quit\n%s", stderr.String())
	}
}

func waitLine(t *testing.T, lines <-chan string, stderr fmt.Stringer, prefix string) string {
	t.Helper()
	timeout := time.After(90 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("zk-testenv ended before %q\n%s", prefix, stderr)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line %q within 90s\n%s", prefix, stderr)
		}
	}
}

// syncBuffer collects the child's stderr while the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
