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
//	zk-secure-check --testenv
//	zk-secure-check --flink-conf conf/flink-conf.yaml
//	zk-secure-check --quorum zk1:2281,zk2:2281,zk3:2281 --principal flink/jm1@EXAMPLE.COM \
//	    --keytab /etc/security/flink.keytab --tls-ca ca.pem --tls-cert jm.pem --acl creator
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	"github.com/zksecure/zksecure/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type flags struct {
	fs                                         *pflag.FlagSet
	quorum, flinkConf, root, clusterID         string
	transport, principal, keytab               string
	useTicketCache                             bool
	jaas, loginContext, krb5Conf               string
	serviceName, serverPrincipal, serverRealm  string
	noCanonicalize                             bool
	tlsCA, tlsCert, tlsKey, tlsKeyPasswordFile string
	tlsProperties, aclMode, output             string
	timeout                                    time.Duration
	ignore                                     []string
	jobManagers                                []string
	useTestenv                                 bool
	sub                                        string     // subcommand ("" for the checks)
	x                                          extraFlags // the subcommands' and the continuous mode's (ha.go, watch.go)
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	sub, args := subcommand(args)
	f := &flags{fs: pflag.NewFlagSet(strings.TrimSpace("zk-secure-check "+sub), pflag.ContinueOnError), sub: sub}
	fs := f.fs
	fs.SetOutput(stderr)
	fs.StringVar(&f.quorum, "quorum", "", "ensemble members host:port,... (high-availability.zookeeper.quorum)")
	fs.StringVar(&f.flinkConf, "flink-conf", "", "Flink configuration: flink-conf.yaml or config.yaml (flags override it)")
	fs.StringVar(&f.root, "root", client.DefaultRoot, "HA root (high-availability.zookeeper.path.root)")
	fs.StringVar(&f.clusterID, "cluster-id", client.DefaultClusterID, "cluster id (high-availability.cluster-id)")
	fs.StringVar(&f.transport, "transport", "auto", "auto, plaintext or tls")
	fs.StringVar(&f.principal, "principal", "", "Kerberos principal to log in as (with --keytab)")
	fs.StringVar(&f.keytab, "keytab", "", "keytab for --principal")
	fs.BoolVar(&f.useTicketCache, "use-ticket-cache", false, "log in from the ticket cache (KRB5CCNAME) instead of a keytab")
	fs.StringVar(&f.jaas, "jaas", "", "JAAS file whose Krb5LoginModule section to use (java.security.auth.login.config)")
	fs.StringVar(&f.loginContext, "login-context", sasl.DefaultLoginContext, "JAAS section (zookeeper.sasl.login-context-name)")
	fs.StringVar(&f.krb5Conf, "krb5-conf", "", "krb5.conf (default $KRB5_CONFIG, then /etc/krb5.conf)")
	fs.StringVar(&f.serviceName, "service-name", sasl.DefaultServiceName, "ZooKeeper's Kerberos service name (zookeeper.sasl.service-name)")
	fs.StringVar(&f.serverPrincipal, "server-principal", "", "full server principal, overriding service name and host (zookeeper.server.principal)")
	fs.StringVar(&f.serverRealm, "server-realm", "", "realm of the server principal (zookeeper.server.realm)")
	fs.BoolVar(&f.noCanonicalize, "no-canonicalize", false, "do not replace hosts by their reverse-DNS names in service principals")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "CA bundle to trust: PEM, PKCS#12 or JKS")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "client certificate: PEM (chain, optionally with the key), PKCS#12 or JKS")
	fs.StringVar(&f.tlsKey, "tls-key", "", "client key (PEM; PKCS#8 may be encrypted)")
	fs.StringVar(&f.tlsKeyPasswordFile, "tls-key-password-file", "", "file holding the key or keystore password (never a flag value)")
	fs.StringVar(&f.tlsProperties, "tls-properties", "", "Java-style ZooKeeper client properties (zookeeper.ssl.*)")
	fs.StringVar(&f.aclMode, "acl", "", "creator or open (high-availability.zookeeper.client.acl; default open)")
	fs.StringVar(&f.output, "output", "text", "text or json")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "bound for the whole check")
	fs.StringSliceVar(&f.ignore, "ignore", nil, "check names whose failures only warn, or all")
	fs.StringSliceVar(&f.jobManagers, "jobmanager-principals", nil, "every JobManager's principal, for the identity-consistency check")
	fs.BoolVar(&f.useTestenv, "testenv", false, "start the embedded kerberized TLS ZooKeeper ensemble (testenv) and check it")
	f.x.register(fs, sub, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
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
	if f.output != "text" && f.output != "json" {
		fmt.Fprintf(stderr, "zk-secure-check: --output %q: want text or json\n", f.output)
		return 2
	}
	if f.useTestenv {
		env, err := startTestenv(ctx, f, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "zk-secure-check: --testenv: %v\n", err)
			return 1
		}
		defer env.Close()
	}
	opts, err := options(f)
	if err != nil {
		fmt.Fprintf(stderr, "zk-secure-check: %v\n", err)
		return 2
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

// options turns flags (over an optional Flink configuration) into preflight options.
func options(f *flags) (*preflight.Options, error) {
	opts := &preflight.Options{Timeout: f.timeout, Ignore: map[string]bool{}}
	for _, n := range f.ignore {
		n = strings.TrimSpace(n)
		switch {
		case n == "all":
			opts.IgnoreAll = true
		case slices.Contains(preflight.AllChecks, n):
			opts.Ignore[n] = true
		default:
			return nil, fmt.Errorf("--ignore: unknown check %q (checks: %s, or all)", n, strings.Join(preflight.AllChecks, ", "))
		}
	}
	var cfg client.Config
	javaRules := sasl.PrincipalRules{}
	if f.flinkConf != "" {
		c, err := flinkconf.Load(f.flinkConf)
		if err != nil {
			return nil, err
		}
		res, err := c.ClientConfig(flinkconf.Options{})
		if err != nil {
			return nil, err
		}
		opts.Flink = res
		cfg = res.Config
		javaRules = cfg.Kerberos.PrincipalRules
	}
	changed := f.fs.Changed
	if changed("quorum") || f.flinkConf == "" {
		cfg.Members = nil
		for _, m := range strings.Split(f.quorum, ",") {
			if m = strings.TrimSpace(m); m != "" {
				cfg.Members = append(cfg.Members, m)
			}
		}
		if len(cfg.Members) == 0 {
			return nil, errors.New("no ensemble: give --quorum host:port,... or --flink-conf (or --testenv)")
		}
	}
	if changed("root") || cfg.Root == "" {
		cfg.Root = f.root
	}
	if changed("cluster-id") || cfg.ClusterID == "" {
		cfg.ClusterID = f.clusterID
	}
	if changed("transport") || cfg.Transport == "" {
		cfg.Transport = client.Transport(f.transport)
	}
	// Kerberos: any login flag makes the flags the login source.
	k := &cfg.Kerberos
	switch {
	case changed("keytab") || changed("principal"):
		if f.keytab == "" || f.principal == "" {
			return nil, errors.New("--principal and --keytab go together")
		}
		cfg.SASL, k.Login = client.SASLKerberos, sasl.Login{Principal: f.principal, Keytab: f.keytab, Krb5Conf: k.Login.Krb5Conf}
	case changed("use-ticket-cache") && f.useTicketCache:
		cfg.SASL, k.Login = client.SASLKerberos, sasl.Login{UseTicketCache: true, Principal: f.principal, Krb5Conf: k.Login.Krb5Conf}
	case changed("jaas"):
		cfg.SASL, k.Login = client.SASLKerberos, sasl.Login{JAASFile: f.jaas, LoginContext: f.loginContext, Krb5Conf: k.Login.Krb5Conf}
	}
	if changed("login-context") && k.Login.JAASFile != "" {
		k.Login.LoginContext = f.loginContext
	}
	if changed("krb5-conf") {
		k.Login.Krb5Conf = f.krb5Conf
	}
	if changed("service-name") {
		k.ServiceName = f.serviceName
	}
	if changed("server-principal") {
		k.ServerPrincipal = f.serverPrincipal
	}
	if changed("server-realm") {
		k.ServerRealm = f.serverRealm
	}
	if changed("no-canonicalize") {
		k.NoCanonicalize = f.noCanonicalize
	}
	if f.flinkConf == "" {
		javaRules = k.PrincipalRules // no JVM configuration to compare with
	}
	// TLS: a properties file, then individual flags on top.
	if f.tlsProperties != "" {
		p, err := zktls.LoadProperties(f.tlsProperties)
		if err != nil {
			return nil, err
		}
		t := p.Config
		cfg.TLS = &t
	}
	if changed("tls-ca") || changed("tls-cert") || changed("tls-key") || changed("tls-key-password-file") {
		if cfg.TLS == nil {
			cfg.TLS = &zktls.Config{}
		}
		if changed("tls-ca") {
			cfg.TLS.CAFile = f.tlsCA
		}
		if changed("tls-cert") {
			cfg.TLS.CertFile = f.tlsCert
		}
		if changed("tls-key") {
			cfg.TLS.KeyFile = f.tlsKey
		}
		if changed("tls-key-password-file") {
			cfg.TLS.KeyPasswordFile, cfg.TLS.KeyPassword, cfg.TLS.KeyPasswordEnv = f.tlsKeyPasswordFile, "", ""
		}
	}
	switch f.aclMode {
	case "":
	case "creator":
		cfg.ACL = acl.Creator()
	case "open":
		cfg.ACL = acl.Open()
	default:
		return nil, fmt.Errorf("--acl %q: want creator or open", f.aclMode)
	}
	switch cfg.Transport {
	case client.TransportAuto, client.TransportPlaintext, client.TransportTLS:
	default:
		return nil, fmt.Errorf("--transport %q: want auto, plaintext or tls", cfg.Transport)
	}
	opts.Client, opts.JavaRules, opts.JobManagerPrincipals = cfg, javaRules, f.jobManagers
	return opts, nil
}

// startTestenv starts a 3-member ZooKeeper 3.8 ensemble with Kerberos (host stripped from
// principals, SASL enforced) and TLS (clientAuth=need), and points the flags at it, logging in as
// the JobManager principal flink/jm1 with creator-only ACLs.
func startTestenv(ctx context.Context, f *flags, stderr io.Writer) (*testenv.Env, error) {
	if err := testenv.Check(); err != nil {
		return nil, err
	}
	fmt.Fprintln(stderr, "zk-secure-check: starting the embedded environment (MIT KDC, 3 ZooKeeper 3.8 servers with Kerberos and TLS)...")
	t0 := time.Now()
	env, err := testenv.StartEnv(ctx, testenv.EnvOptions{Members: 3, EnforceSASL: true, RemoveHostFromPrincipal: true, TLS: true})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "zk-secure-check: environment up in %s (KDC %s, krb5.conf %s)\n\n", time.Since(t0).Round(time.Millisecond), env.KDC.Addr, env.KDC.Krb5Conf)
	set := func(name, value string) { f.fs.Set(name, value) }
	set("quorum", env.ZooKeeper.SecureConnectString())
	set("principal", env.JobManagerPrincipals[0])
	set("keytab", env.JobManagerKeytabs[0])
	set("krb5-conf", env.KDC.Krb5Conf)
	set("tls-ca", env.PKI.CAFile)
	set("tls-cert", env.PKI.Client.CertFile)
	set("tls-key", env.PKI.Client.EncryptedKeyFile)
	set("tls-key-password-file", env.PKI.Client.PasswordFile)
	set("cluster-id", "/testenv")
	if !f.fs.Changed("acl") {
		set("acl", "creator")
	}
	if !f.fs.Changed("jobmanager-principals") {
		set("jobmanager-principals", strings.Join(env.JobManagerPrincipals, ","))
	}
	return env, nil
}
