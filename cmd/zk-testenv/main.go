// Command zk-testenv starts a local kerberized (and optionally TLS) ZooKeeper environment — a real
// MIT KDC, a PKI and ZooKeeper 3.8, 3.9 or 3.4 servers — prints shell exports for it, and keeps it up
// until interrupted. It is the test environment of zksecure, for people working by hand.
//
// Usage:
//
//	zk-testenv up [--version 3.8|3.9|3.4] [--members N] [--tls] [--client-auth need|want|none]
//	              [--plaintext-port] [--enforce-sasl] [--no-sasl] [--remove-host] [--remove-realm] [--dir DIR]
//	              [--domain DOMAIN]
//	zk-testenv demo
//
// After up, in another shell: eval "$(cat DIR/env.sh)". demo starts a kerberized ZooKeeper,
// authenticates to it with zksecure's Kerberos client and shows what happened.
//
// With --domain the environment runs in a private network namespace, the members on named hosts
// (zk1.DOMAIN …, the same ports on each), and up reads fault commands on standard input (help lists
// them): partition a member, cut two members apart, freeze, kill and restart members, a rolling
// restart, the KDC down. Enter the namespace from another shell with the nsenter line it prints.
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

	"github.com/spf13/pflag"

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
		fmt.Fprintln(stderr, "usage: zk-testenv up [flags] | zk-testenv demo   (zk-testenv up --help for the flags)")
		return 2
	}
	fs := pflag.NewFlagSet("zk-testenv up", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "3.8", "ZooKeeper version: 3.8 (Debian bookworm), 3.9 (3.9.3 from trixie) or 3.4 (3.4.13 from bullseye)")
	members := fs.Int("members", 1, "number of servers (1 = standalone, 3 or 5 = ensemble)")
	useTLS := fs.Bool("tls", false, "open a TLS client port (3.8 and 3.9)")
	clientAuth := fs.String("client-auth", "need", "ssl.clientAuth with --tls: need, want or none")
	plain := fs.Bool("plaintext-port", false, "with --tls, keep the plaintext client port open too")
	enforce := fs.Bool("enforce-sasl", false, "refuse sessions that do not authenticate with SASL (3.8 and 3.9)")
	noSASL := fs.Bool("no-sasl", false, "start ZooKeeper without Kerberos")
	removeHost := fs.Bool("remove-host", false, "kerberos.removeHostFromPrincipal=true")
	removeRealm := fs.Bool("remove-realm", false, "kerberos.removeRealmFromPrincipal=true")
	dir := fs.String("dir", "", "folder for everything (default: a new temporary folder, removed on exit)")
	domain := fs.String("domain", "", "run in a private network namespace with the members on named hosts zk1.DOMAIN …, and read fault commands on stdin")
	if err := fs.Parse(args[1:]); err != nil {
		if err == pflag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 2
	}
	v := testenv.Version(*version)
	if v != testenv.ZK38 && v != testenv.ZK34 && v != testenv.ZK39 {
		fmt.Fprintf(stderr, "zk-testenv: --version %q: want 3.8, 3.9 or 3.4\n", *version)
		return 2
	}
	switch testenv.ClientAuth(*clientAuth) {
	case testenv.ClientAuthNeed, testenv.ClientAuthWant, testenv.ClientAuthNone:
	default:
		fmt.Fprintf(stderr, "zk-testenv: --client-auth %q: want need, want or none\n", *clientAuth)
		return 2
	}
	if err := testenv.Check(); err != nil {
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 1
	}
	if *domain != "" && !testenv.Isolated() {
		code, parent, err := testenv.Isolate()
		if parent {
			return code
		}
		if err != nil {
			fmt.Fprintf(stderr, "zk-testenv: --domain: %v\n", err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := testenv.StartEnv(ctx, testenv.EnvOptions{Domain: *domain,
		Dir: *dir, Version: v, Members: *members, NoSASL: *noSASL, EnforceSASL: *enforce,
		RemoveHostFromPrincipal: *removeHost, RemoveRealmFromPrincipal: *removeRealm,
		TLS: *useTLS, ClientAuth: testenv.ClientAuth(*clientAuth), PlaintextPort: *plain,
	})
	if err != nil {
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 1
	}
	defer env.Close()
	var sh strings.Builder
	for _, kv := range env.Exports() {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&sh, "export %s=%s\n", k, shellQuote(v))
	}
	envFile := filepath.Join(env.Dir, "env.sh")
	if err := os.WriteFile(envFile, []byte(sh.String()), 0o644); err != nil {
		fmt.Fprintf(stderr, "zk-testenv: %v\n", err)
		return 1
	}
	env.Describe(stderr)
	fmt.Fprint(stdout, sh.String())
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

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == ',' || r == '@' || r == '+' ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
