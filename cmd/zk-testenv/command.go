package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// commandStopGrace is how long a command has to exit after SIGTERM before it is killed.
const commandStopGrace = 10 * time.Second

// runCommand runs argv inside the environment — its exports added to this process's environment,
// this process's standard streams — until it exits, or until ctx ends (then it gets SIGTERM, and
// SIGKILL after commandStopGrace). It returns the status to exit with: the command's own, 128+N
// when signal N ended it, 127 when it could not be started.
func runCommand(ctx context.Context, argv, exports []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), exports...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = commandStopGrace
	// The command must not outlive the environment it runs against.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "zk-testenv: running %s: %v\n", argv[0], err)
		return 127
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	default:
		fmt.Fprintf(stderr, "zk-testenv: %s: %v\n", argv[0], err)
		return 1
	}
}
