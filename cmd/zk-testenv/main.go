// Command zk-testenv starts a local kerberized (and optionally TLS) ZooKeeper environment — a real
// MIT KDC, a PKI and ZooKeeper 3.8 or 3.4 servers — prints shell exports for it, a flink-conf.yaml
// fragment and a JAAS file for Flink HA on it, and keeps it up until interrupted, or runs a command
// inside it. It is the test environment of zksecure, for people working by hand and for CI.
//
// Usage:
//
//	zk-testenv up [--version 3.8|3.4] [--members N] [--tls] [--client-auth need|want|none]
//	              [--plaintext-port] [--enforce-sasl] [--no-sasl] [--remove-host] [--remove-realm] [--dir DIR]
//	              [--domain DOMAIN] [--zoo-cfg conf/zoo.cfg] [--flink-conf conf/flink-conf.yaml]
//	              [-- CMD ARGS...]
//	zk-testenv demo
//
// After up, in another shell: eval "$(cat DIR/env.sh)". demo (what `make demo` runs) starts a
// 3-member kerberized TLS ensemble and runs zk-secure-check's checks (the preflight library) on it,
// printing the report.
//
// With --zoo-cfg the members are those of a ZooKeeper zoo.cfg, as Flink's
// bin/start-zookeeper-quorum.sh reads conf/zoo.cfg: one member per server.X line with its peer and
// leader ports, the file's clientPort (and secureClientPort: TLS), its tuning keys passed through,
// and the security of the flags added. Host names in server.X lines become named hosts in a private
// namespace (as with --domain); localhost lines stay on loopback. With --flink-conf the members are
// those of its high-availability.zookeeper.quorum (with --zoo-cfg: it must name the same members),
// and the fragment keeps its path.root and cluster-id. Bad input is an error naming the line.
//
// With -- CMD ARGS... up runs CMD inside the environment — its host names resolve, the exports are
// in its environment — and stops everything when CMD exits, with CMD's exit status; zk-testenv's
// own output then goes to standard error.
//
// With --domain (or named hosts in a zoo.cfg) the environment runs in a private network namespace,
// the members on named hosts (zk1.DOMAIN …, the same ports on each), and up reads fault commands on
// standard input (help lists them; not with a CMD): partition a member, cut two members apart,
// freeze, kill and restart members, a rolling restart, the KDC down. Enter the namespace from
// another shell with the nsenter line it prints.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/zksecure/zksecure/internal/zoocfg"
	"github.com/zksecure/zksecure/testenv"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "demo" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return demo(ctx, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "up" {
		fmt.Fprintln(stderr, "usage: zk-testenv up [flags] [-- CMD ARGS...] | zk-testenv demo   (zk-testenv up --help for the flags)")
		return 2
	}
	fs := pflag.NewFlagSet("zk-testenv up", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var f upFlags
	fs.StringVar(&f.version, "version", "3.8", "ZooKeeper version: 3.8 (Debian bookworm) or 3.4 (3.4.13 from bullseye)")
	fs.IntVar(&f.members, "members", 1, "number of servers (1 = standalone, 3 or 5 = ensemble)")
	fs.BoolVar(&f.tls, "tls", false, "open a TLS client port (3.8 only)")
	fs.StringVar(&f.clientAuth, "client-auth", "need", "ssl.clientAuth with --tls: need, want or none")
	fs.BoolVar(&f.plain, "plaintext-port", false, "with --tls, keep the plaintext client port open too")
	fs.BoolVar(&f.enforce, "enforce-sasl", false, "refuse sessions that do not authenticate with SASL (3.8 only)")
	fs.BoolVar(&f.noSASL, "no-sasl", false, "start ZooKeeper without Kerberos")
	fs.BoolVar(&f.removeHost, "remove-host", false, "kerberos.removeHostFromPrincipal=true")
	fs.BoolVar(&f.removeRealm, "remove-realm", false, "kerberos.removeRealmFromPrincipal=true")
	fs.StringVar(&f.dir, "dir", "", "folder for everything (default: a new temporary folder, removed on exit)")
	fs.StringVar(&f.domain, "domain", "", "run in a private network namespace with the members on named hosts zk1.DOMAIN …, and read fault commands on stdin")
	fs.StringVar(&f.zooCfg, "zoo-cfg", "", "start the members of this zoo.cfg (Flink's conf/zoo.cfg): one per server.X line, with its ports and keys")
	fs.StringVar(&f.flinkConf, "flink-conf", "", "take the members from this Flink configuration's high-availability.zookeeper.quorum, and its path.root and cluster-id for the fragment")
	if err := fs.Parse(args[1:]); err != nil {
		if err == pflag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 2
	}
	f.changed = fs.Changed
	var command []string
	if fs.NArg() > 0 {
		if fs.ArgsLenAtDash() != 0 {
			fmt.Fprintf(stderr, "zk-testenv: unexpected arguments %q (a command to run goes after --)\n", fs.Args())
			return 2
		}
		command = fs.Args()
	} else if fs.ArgsLenAtDash() == 0 {
		fmt.Fprintln(stderr, "zk-testenv: -- needs a command to run")
		return 2
	}
	v := testenv.Version(f.version)
	if v != testenv.ZK38 && v != testenv.ZK34 {
		fmt.Fprintf(stderr, "zk-testenv: --version %q: want 3.8 or 3.4\n", f.version)
		return 2
	}
	switch testenv.ClientAuth(f.clientAuth) {
	case testenv.ClientAuthNeed, testenv.ClientAuthWant, testenv.ClientAuthNone:
	default:
		fmt.Fprintf(stderr, "zk-testenv: --client-auth %q: want need, want or none\n", f.clientAuth)
		return 2
	}
	p, err := makePlan(f)
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	if err := testenv.Check(); err != nil {
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 1
	}
	if p.named && !testenv.Isolated() {
		code, parent, err := testenv.Isolate()
		if parent {
			return code
		}
		if err != nil {
			fmt.Fprintf(stderr, "zk-testenv: named hosts: %v\n", err)
			return 1
		}
	}
	if p.cfg != nil {
		if err := p.cfg.Check(zoocfg.System); err != nil {
			printErr(stderr, err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := testenv.StartEnv(ctx, p.env)
	if err != nil {
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 1
	}
	defer env.Close()
	files, err := newFlinkSetup(env, p).write(env.Dir)
	if err != nil {
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 1
	}
	exports := env.Exports()
	for _, fl := range files {
		exports = append(exports, fl.export+"="+fl.path)
	}
	var sh strings.Builder
	for _, kv := range exports {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&sh, "export %s=%s\n", k, shellQuote(v))
	}
	envFile := filepath.Join(env.Dir, "env.sh")
	if err := os.WriteFile(envFile, []byte(sh.String()), 0o644); err != nil {
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 1
	}
	env.Describe(stderr)
	fmt.Fprintln(stderr, quorumStatus(ctx, env))
	for _, n := range p.notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	for _, fl := range files {
		fmt.Fprintf(stderr, "\n==> %s\n%s", fl.path, fl.content)
	}
	fmt.Fprintln(stderr)
	// With a command, standard output is the command's.
	exportsOut := stdout
	if command != nil {
		exportsOut = stderr
	}
	fmt.Fprint(exportsOut, sh.String())
	if command != nil {
		fmt.Fprintf(stderr, "\nzk-testenv: up; running %s\n", strings.Join(command, " "))
		code := runCommand(ctx, command, exports, os.Stdin, stdout, stderr)
		fmt.Fprintf(stderr, "zk-testenv: %s exited with status %d; stopping\n", command[0], code)
		return code
	}
	fmt.Fprintf(stderr, "\nzk-testenv: up. In another shell: eval \"$(cat %s)\". Ctrl-C stops everything.\n", envFile)
	if env.Network != nil {
		fmt.Fprintf(stderr, "zk-testenv: the hosts exist in a private namespace; enter it with: nsenter --target %d --net --mount\n", os.Getpid())
		fmt.Fprintln(stderr, "zk-testenv: fault commands on stdin ('help' lists them)")
		go console(ctx, env, os.Stdin, stdout, stop)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "zk-testenv: stopping")
	return 0
}

// printErr writes an error, one line per joined problem.
func printErr(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "zk-testenv: %s\n", line)
	}
}

// quorumStatus says what every member is: "ZooKeeper quorum: zk1.flink.test:2181 follower, …".
// Every member was serving when Start returned; a member that does not answer at once (a busy
// machine, a leader election still settling) is asked again for a few seconds before it is
// reported as not serving, each member with its own deadline.
func quorumStatus(ctx context.Context, env *testenv.Env) string {
	var parts []string
	for _, m := range env.ZooKeeper.Members {
		parts = append(parts, fmt.Sprintf("%s %s", m.Addr(), memberMode(ctx, m)))
	}
	return "ZooKeeper quorum: " + strings.Join(parts, ", ")
}

// memberMode polls a member's srvr mode for up to 10 s.
func memberMode(ctx context.Context, m *testenv.Member) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		mode, err := m.Mode(ctx)
		if err == nil {
			return mode
		}
		select {
		case <-ctx.Done():
			return "not serving"
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == ',' || r == '@' || r == '+' ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
