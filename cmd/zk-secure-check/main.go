// Command zk-secure-check is the preflight checker for a secured ZooKeeper used for Flink-style high
// availability. Per ensemble member and for the whole configuration it tells what will work and what
// will fail — DNS, TCP, port mode and version, TLS chain/expiry/names, krb5.conf, KDC, clock skew,
// login, service principal and ticket, the real SASL exchange, the identity the servers assign, its
// consistency across JobManagers, the HA tree's ACLs, a dry-run election, the session timeout — and
// how to fix each failure.
//
// Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage or configuration error.
//
// Subcommands, with the same flags (ha.go): migrate-acl (creator-only or explicit ACLs on an existing
// HA tree, dry run unless --apply), inventory (every cluster's HA state), cleanup (one stopped
// cluster's nodes, dry run unless --apply). --watch runs the checks every --interval and serves
// Prometheus metrics on --listen; --textfile writes them once for node_exporter (watch.go).
//
//	zk-secure-check --flink-conf conf/flink-conf.yaml
//	zk-secure-check --quorum zk1:2281,zk2:2281,zk3:2281 --principal flink/jm1@EXAMPLE.COM \
//	    --keytab /etc/security/flink.keytab --tls-ca ca.pem --tls-cert jm.pem --acl creator
//
// The checks live in package preflight; `make demo` (zk-testenv demo) runs them against a local
// kerberized TLS ensemble, so this binary links no test infrastructure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/flinkconf"
	"github.com/zksecure/zksecure/preflight"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// flags are the parsed command line. overrides says, in order, how each flag that was given changes
// the client configuration.
type flags struct {
	fs                  *pflag.FlagSet
	flinkConf, output   string
	timeout             time.Duration
	ignore, jobManagers []string
	overrides           []override
	warnings            []flinkconf.Warning // of the --tls-properties file, for config-lint
	sub                 string              // subcommand ("" for the checks)
	x                   extraFlags          // the subcommands' and the continuous mode's (ha.go, watch.go)
	debug               bool
}

// override is how the flags named (any of them given) change the client configuration.
type override struct {
	flags []string
	apply func(c *client.Config) error
}

// on adds an override for the named flags.
func (f *flags) on(apply func(c *client.Config) error, names ...string) {
	f.overrides = append(f.overrides, override{names, apply})
}

// apply is the one step that lays the flags given over c — the Flink configuration's, or the zero
// Config, whose defaults client.Config.WithDefaults fills in. Flags not given change nothing.
func (f *flags) apply(c *client.Config) error {
	for _, o := range f.overrides {
		if slices.ContainsFunc(o.flags, f.fs.Changed) {
			if err := o.apply(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// choice is a string flag that accepts only the listed values.
type choice struct {
	value   string
	allowed []string
}

func (c *choice) String() string { return c.value }
func (c *choice) Type() string   { return "string" }
func (c *choice) Set(v string) error {
	if !slices.Contains(c.allowed, v) {
		return fmt.Errorf("want %s or %s", strings.Join(c.allowed[:len(c.allowed)-1], ", "), c.allowed[len(c.allowed)-1])
	}
	c.value = v
	return nil
}

func choiceFlag(fs *pflag.FlagSet, name, def string, allowed []string, usage string) *string {
	c := &choice{value: def, allowed: allowed}
	fs.Var(c, name, usage)
	return &c.value
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	sub, args := subcommand(args)
	f := &flags{fs: pflag.NewFlagSet(strings.TrimSpace("zk-secure-check "+sub), pflag.ContinueOnError), sub: sub}
	fs := f.fs
	fs.SetOutput(stderr)
	set := func(apply func(c *client.Config, v string), name, def, usage string) {
		v := fs.String(name, def, usage)
		f.on(func(c *client.Config) error { apply(c, *v); return nil }, name)
	}
	set(func(c *client.Config, v string) { c.Members = client.SplitMembers(v) }, "quorum", "", "ensemble members host:port,... (high-availability.zookeeper.quorum)")
	fs.StringVar(&f.flinkConf, "flink-conf", "", "Flink configuration: flink-conf.yaml or config.yaml (flags override it)")
	set(func(c *client.Config, v string) { c.Root = v }, "root", client.DefaultRoot, "HA root (high-availability.zookeeper.path.root)")
	set(func(c *client.Config, v string) { c.ClusterID = v }, "cluster-id", client.DefaultClusterID, "cluster id (high-availability.cluster-id)")
	transport := choiceFlag(fs, "transport", string(client.TransportAuto), []string{"auto", "plaintext", "tls"}, "auto, plaintext or tls")
	f.on(func(c *client.Config) error { c.Transport = client.Transport(*transport); return nil }, "transport")

	// Kerberos: a login flag makes the flags the login source (keeping krb5.conf).
	principal := fs.String("principal", "", "Kerberos principal to log in as (with --keytab)")
	keytab := fs.String("keytab", "", "keytab for --principal")
	useCache := fs.Bool("use-ticket-cache", false, "log in from the ticket cache (KRB5CCNAME) instead of a keytab")
	jaas := fs.String("jaas", "", "JAAS file whose Krb5LoginModule section to use (java.security.auth.login.config)")
	loginContext := fs.String("login-context", sasl.DefaultLoginContext, "JAAS section (zookeeper.sasl.login-context-name)")
	f.on(func(c *client.Config) error {
		sources := 0
		for _, given := range []bool{*keytab != "", *useCache, *jaas != ""} {
			if given {
				sources++
			}
		}
		l := sasl.Login{Krb5Conf: c.Kerberos.Login.Krb5Conf, Principal: *principal}
		switch {
		case sources > 1:
			return errors.New("give one Kerberos login: --principal with --keytab, --use-ticket-cache or --jaas")
		case *keytab != "" || (*principal != "" && !*useCache):
			if *keytab == "" || *principal == "" {
				return errors.New("--principal and --keytab go together")
			}
			l.Keytab = *keytab
		case *useCache:
			l.UseTicketCache = true
		case *jaas != "":
			l = sasl.Login{Krb5Conf: l.Krb5Conf, JAASFile: *jaas, LoginContext: *loginContext}
		default:
			return nil
		}
		c.SASL, c.Kerberos.Login = client.SASLKerberos, l
		return nil
	}, "principal", "keytab", "use-ticket-cache", "jaas")
	f.on(func(c *client.Config) error {
		if c.Kerberos.Login.JAASFile != "" {
			c.Kerberos.Login.LoginContext = *loginContext
		}
		return nil
	}, "login-context")
	set(func(c *client.Config, v string) { c.Kerberos.Login.Krb5Conf = v }, "krb5-conf", "", "krb5.conf (default $KRB5_CONFIG, then /etc/krb5.conf)")
	set(func(c *client.Config, v string) { c.Kerberos.ServiceName = v }, "service-name", sasl.DefaultServiceName, "ZooKeeper's Kerberos service name (zookeeper.sasl.service-name)")
	set(func(c *client.Config, v string) { c.Kerberos.ServerPrincipal = v }, "server-principal", "", "full server principal, overriding service name and host (zookeeper.server.principal)")
	set(func(c *client.Config, v string) { c.Kerberos.ServerRealm = v }, "server-realm", "", "realm of the server principal (zookeeper.server.realm)")
	noCanonicalize := fs.Bool("no-canonicalize", false, "do not replace hosts by their reverse-DNS names in service principals")
	f.on(func(c *client.Config) error { c.Kerberos.NoCanonicalize = *noCanonicalize; return nil }, "no-canonicalize")

	// TLS: a properties file, then individual flags on top.
	tlsProperties := fs.String("tls-properties", "", "Java-style ZooKeeper client properties (zookeeper.ssl.*)")
	f.on(func(c *client.Config) error {
		p, err := zktls.LoadProperties(*tlsProperties)
		if err != nil {
			return err
		}
		c.TLS = &p.Config
		for _, w := range p.Warnings {
			f.warnings = append(f.warnings, flinkconf.Warning{Key: *tlsProperties, Message: w,
				Fix: "remove or correct the property in " + *tlsProperties})
		}
		return nil
	}, "tls-properties")
	tlsFile := func(apply func(t *zktls.Config, v string), name, usage string) {
		set(func(c *client.Config, v string) {
			if c.TLS == nil {
				c.TLS = &zktls.Config{}
			}
			apply(c.TLS, v)
		}, name, "", usage)
	}
	tlsFile(func(t *zktls.Config, v string) { t.CAFile = v }, "tls-ca", "CA bundle to trust: PEM, PKCS#12 or JKS")
	tlsFile(func(t *zktls.Config, v string) { t.CertFile = v }, "tls-cert", "client certificate: PEM (chain, optionally with the key), PKCS#12 or JKS")
	tlsFile(func(t *zktls.Config, v string) { t.KeyFile = v }, "tls-key", "client key (PEM; PKCS#8 may be encrypted)")
	tlsFile(func(t *zktls.Config, v string) { t.KeyPasswordFile, t.KeyPassword, t.KeyPasswordEnv = v, "", "" },
		"tls-key-password-file", "file holding the key or keystore password (never a flag value)")
	strict := fs.Bool("tls-strict-hostnames", false, "verify server names by Go's strict rules (DNS SANs for host names, IP SANs for addresses; no common name, reverse DNS or IP SAN for a host name)")
	f.on(func(c *client.Config) error {
		if c.TLS == nil {
			c.TLS = &zktls.Config{}
		}
		if *strict {
			c.TLS.HostnameRules = zktls.HostnameStrict
		} else if c.TLS.HostnameRules == zktls.HostnameStrict {
			c.TLS.HostnameRules = zktls.HostnameZooKeeper
		}
		return nil
	}, "tls-strict-hostnames")

	aclMode := choiceFlag(fs, "acl", "", []string{"creator", "open"}, "creator or open (high-availability.zookeeper.client.acl; default open)")
	f.on(func(c *client.Config) error {
		c.ACL = map[string]acl.Provider{"creator": acl.Creator(), "open": acl.Open()}[*aclMode]
		return nil
	}, "acl")
	output := choiceFlag(fs, "output", "text", []string{"text", "json"}, "text or json")
	fs.DurationVar(&f.timeout, "timeout", preflight.DefaultTimeout, "bound for the whole check")
	fs.StringSliceVar(&f.ignore, "ignore", nil, "check names whose failures only warn, or "+preflight.IgnoreAll)
	fs.StringSliceVar(&f.jobManagers, "jobmanager-principals", nil, "every JobManager's principal, for the identity-consistency check")
	fs.BoolVar(&f.debug, "debug", false, "log what the checks do, with each check's timing, to standard error")
	f.x.register(fs, sub, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	f.output = *output
	return f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parse(args, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "zk-secure-check: %v\n", err)
		return 2
	}
	opts, err := options(f)
	if err != nil {
		fmt.Fprintf(stderr, "zk-secure-check: %v\n", err)
		return 2
	}
	if f.debug {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if f.sub != "" || f.x.watch.enabled() {
		return runExtra(ctx, f, opts, stdout, stderr)
	}
	rep := preflight.Run(ctx, *opts)
	if f.output == "json" {
		rep.WriteJSON(stdout)
	} else {
		rep.WriteText(stdout)
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

// options reads the Flink configuration, if any, and lays the flags over it.
func options(f *flags) (*preflight.Options, error) {
	opts := &preflight.Options{Timeout: f.timeout, JobManagerPrincipals: f.jobManagers}
	for _, n := range f.ignore {
		opts.Ignore = append(opts.Ignore, strings.TrimSpace(n))
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("--ignore: %w", err)
	}
	if f.flinkConf != "" {
		c, err := flinkconf.Load(f.flinkConf)
		if err != nil {
			return nil, err
		}
		if opts.Flink, err = c.ClientConfig(flinkconf.Options{}); err != nil {
			return nil, err
		}
		opts.Client = opts.Flink.Config
		// The rules Flink's JVM applies, before flags change what this check uses.
		opts.JavaRules = opts.Client.Kerberos.PrincipalRules
	}
	if err := f.apply(&opts.Client); err != nil {
		return nil, err
	}
	opts.Warnings = f.warnings
	if len(opts.Client.Members) == 0 {
		return nil, errors.New("no ensemble: give --quorum host:port,... or --flink-conf")
	}
	if opts.Flink == nil {
		opts.JavaRules = opts.Client.Kerberos.PrincipalRules // no JVM configuration to compare with
	}
	return opts, nil
}
