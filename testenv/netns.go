package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// isolatedEnv marks a process that runs inside the namespace Isolate made.
const isolatedEnv = "ZKSECURE_TESTENV_NETNS"

// ErrNotIsolated is returned by what needs the private namespace of Isolate (a Network, packet
// faults) when the process runs outside one.
var ErrNotIsolated = errors.New("testenv: not inside a private network namespace (call testenv.Isolate first in TestMain or main)")

// Isolated reports whether this process runs inside a private network and mount namespace made by
// Isolate.
func Isolated() bool { return os.Getenv(isolatedEnv) == "1" }

// Isolate runs the current program again inside a new private network and mount namespace — its
// own loopback, its own firewall, its own /etc/hosts — so that a [Network]'s named hosts and packet
// faults exist only for this run and vanish with it: nothing on the machine changes. Call it first
// in TestMain (or main):
//
//	func TestMain(m *testing.M) {
//		if code, parent, err := testenv.Isolate(); parent {
//			os.Exit(code) // the tests ran inside the namespace, with this exit code
//		} else if err != nil {
//			envErr = err // tests that need the environment fail with it
//		}
//		...
//	}
//
// In the parent it starts `unshare` (util-linux) with the same arguments and environment, waits,
// and returns parent=true with the child's exit code (or an error when the namespace cannot be
// made: then it returns parent=false and the caller continues without it). Inside, it returns
// parent=false and a nil error. As root the namespace is made directly; as another user inside a
// new user namespace where the caller is root (`unshare -r`), which keeps [Network] working but
// not per-process users ([Network.NewUser]).
func Isolate() (exitCode int, parent bool, err error) {
	if Isolated() {
		return 0, false, nil
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return 0, false, fmt.Errorf("testenv: unshare (util-linux) is needed for a private network namespace: %w", err)
	}
	ip, err := lookIP()
	if err != nil {
		return 0, false, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, false, fmt.Errorf("testenv: finding this program to run it in a namespace: %w", err)
	}
	args := []string{"--mount", "--net", "--propagation", "private"}
	if os.Geteuid() != 0 {
		args = append(args, "--map-root-user")
	}
	// sh brings loopback up before the program starts; "$@" is the program and its arguments.
	args = append(args, "--", "/bin/sh", "-c", `"$0" link set lo up && exec "$@"`, ip, self)
	args = append(args, os.Args[1:]...)
	cmd := exec.Command(unshare, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), isolatedEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return 0, false, fmt.Errorf("testenv: making a private network namespace with unshare: %w", err)
	}
	// Ctrl-C and SIGTERM are for the program inside, which cleans up; this process waits for it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigs:
				cmd.Process.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	signal.Stop(sigs)
	close(done)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, true, nil
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), true, nil // unshare exits with the program's status
	case errors.As(err, &exit):
		return 1, true, fmt.Errorf("testenv: the isolated run ended by %v", exit.ProcessState)
	default:
		return 0, false, fmt.Errorf("testenv: making a private network namespace with unshare: %w", err)
	}
}

func lookIP() (string, error) {
	p, err := lookPath("ip")
	if err != nil {
		return "", fmt.Errorf("testenv: the ip command (iproute2) is needed for a private network namespace; run scripts/install-deps.sh: %w", err)
	}
	return p, nil
}
