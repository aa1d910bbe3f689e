package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/preflight"
	"github.com/zksecure/zksecure/testenv"
)

// demoEnv is the environment of the demo: a 3-member ZooKeeper 3.8 ensemble with Kerberos (SASL
// enforced, host stripped from principals) and TLS (clientAuth=need).
var demoEnv = testenv.EnvOptions{Members: 3, EnforceSASL: true, RemoveHostFromPrincipal: true, TLS: true}

// demo starts demoEnv and runs zk-secure-check's checks (the preflight library) on it, printing the
// report: what `make demo` shows.
func demo(ctx context.Context, stdout, stderr io.Writer) int {
	if err := testenv.Check(); err != nil {
		fmt.Fprintf(stderr, "zk-testenv demo: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "zk-testenv demo: starting the embedded environment (MIT KDC, 3 ZooKeeper 3.8 servers with Kerberos and TLS)...")
	t0 := time.Now()
	env, err := testenv.StartEnv(ctx, demoEnv)
	if err != nil {
		fmt.Fprintf(stderr, "zk-testenv demo: %v\n", err)
		return 1
	}
	defer env.Close()
	fmt.Fprintf(stderr, "zk-testenv demo: environment up in %s (KDC %s, krb5.conf %s)\n\n", time.Since(t0).Round(time.Millisecond), env.KDC.Addr, env.KDC.Krb5Conf)
	rep := preflight.Run(ctx, demoOptions(env))
	rep.WriteText(stdout)
	if rep.Failed() {
		return 1
	}
	return 0
}

// demoOptions checks env as its JobManager flink/jm1 would use it (keytab login, TLS with the
// client certificate, creator-only ACLs under cluster id /testenv), comparing the identities of
// every JobManager principal — what zk-secure-check is told by these flags:
//
//	--quorum <secure ports> --principal flink/jm1@REALM --keytab <its keytab> --krb5-conf <env's>
//	--tls-ca <CA> --tls-cert <client cert> --tls-key <encrypted key> --tls-key-password-file <file>
//	--cluster-id /testenv --acl creator --jobmanager-principals flink/jm1@REALM,flink/jm2@REALM
func demoOptions(env *testenv.Env) preflight.Options {
	return preflight.Options{
		Client: client.Config{
			Members:   client.SplitMembers(env.ZooKeeper.SecureConnectString()),
			ClusterID: "/testenv",
			TLS: &zktls.Config{CAFile: env.PKI.CAFile, CertFile: env.PKI.Client.CertFile,
				KeyFile: env.PKI.Client.EncryptedKeyFile, KeyPasswordFile: env.PKI.Client.PasswordFile},
			SASL: client.SASLKerberos,
			Kerberos: sasl.Config{Login: sasl.Login{Principal: env.JobManagerPrincipals[0], Keytab: env.JobManagerKeytabs[0],
				Krb5Conf: env.KDC.Krb5Conf}},
			ACL: acl.Creator(),
		},
		JobManagerPrincipals: env.JobManagerPrincipals,
	}
}
