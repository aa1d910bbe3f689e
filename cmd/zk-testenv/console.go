package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

const consoleHelp = `fault commands (N is a member id: its server.N):
  status                 every member's mode and the faults in force
  partition N            drop every packet to and from member N (a blackhole)
  cut N M                drop the packets between members N and M only
  heal                   remove every packet fault
  freeze N | thaw N      SIGSTOP / SIGCONT member N (a long GC pause)
  kill N | stop N        SIGKILL / SIGTERM member N
  start N                start member N again and wait until it serves
  rolling                restart every member in turn, the leader last
  kdc-stop | kdc-start   take the KDC away and bring it back
  quit                   stop everything`

// console reads fault commands, one a line, and answers each on out.
func console(ctx context.Context, env *testenv.Env, in io.Reader, out io.Writer, stop func()) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "quit" {
			stop()
			return
		}
		res, err := faultCommand(ctx, env, f)
		if err != nil {
			fmt.Fprintf(out, "error: %v\n", err)
			continue
		}
		fmt.Fprintln(out, res)
	}
}

func faultCommand(ctx context.Context, env *testenv.Env, f []string) (string, error) {
	z, n := env.ZooKeeper, env.Network
	member := func(i int) (*testenv.Member, error) {
		if len(f) <= i {
			return nil, fmt.Errorf("%s needs a member id", f[0])
		}
		id, err := strconv.Atoi(f[i])
		for _, m := range z.Members {
			if err == nil && m.ID == id {
				return m, nil
			}
		}
		return nil, fmt.Errorf("%q is not a member id (%s)", f[i], memberIDs(z.Members))
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	switch f[0] {
	case "help":
		return consoleHelp, nil
	case "status":
		var b strings.Builder
		for _, m := range z.Members {
			mode, err := m.Mode(ctx)
			if err != nil {
				mode = "not serving (" + err.Error() + ")"
			}
			fmt.Fprintf(&b, "member %d %s: %s\n", m.ID, m.Addr(), mode)
		}
		for _, ft := range n.Faults() {
			fmt.Fprintf(&b, "fault: %s\n", ft)
		}
		return strings.TrimRight(b.String(), "\n"), nil
	case "partition":
		m, err := member(1)
		if err != nil {
			return "", err
		}
		ft, err := m.Partition()
		if err != nil {
			return "", err
		}
		return "dropping " + ft.Desc, nil
	case "cut":
		a, err := member(1)
		if err != nil {
			return "", err
		}
		b, err := member(2)
		if err != nil {
			return "", err
		}
		ft, err := a.PartitionFrom(b)
		if err != nil {
			return "", err
		}
		return "dropping " + ft.Desc, nil
	case "heal":
		return "healed", n.HealAll()
	case "freeze", "thaw", "kill", "stop", "start":
		m, err := member(1)
		if err != nil {
			return "", err
		}
		switch f[0] {
		case "freeze":
			err = m.Freeze()
		case "thaw":
			err = m.Thaw()
		case "kill":
			err = m.Kill()
		case "stop":
			err = m.Stop()
		case "start":
			err = m.Start(ctx)
		}
		return fmt.Sprintf("member %d: %s done", m.ID, f[0]), err
	case "rolling":
		return "rolling restart done", z.RollingRestart(ctx, time.Second)
	case "kdc-stop":
		return "KDC stopped", env.KDC.Stop()
	case "kdc-start":
		return "KDC started", env.KDC.Start(ctx)
	}
	return "", errors.New("unknown command " + strconv.Quote(f[0]) + " ('help' lists them)")
}

// memberIDs describes the ids: "1 to 3", or "1, 4, 7" when they are not 1 to N.
func memberIDs(ms []*testenv.Member) string {
	ids := make([]string, len(ms))
	contiguous := true
	for i, m := range ms {
		ids[i] = strconv.Itoa(m.ID)
		contiguous = contiguous && m.ID == i+1
	}
	if contiguous {
		return fmt.Sprintf("1 to %d", len(ms))
	}
	return strings.Join(ids, ", ")
}
