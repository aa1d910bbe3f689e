package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/zksecure/zksecure/testenv"
)

// flinkSetup is what a Flink JobManager (and TaskManager) needs to use the environment for HA:
// the inputs of the flink-conf.yaml fragment, the JAAS file and the ZooKeeper client properties.
type flinkSetup struct {
	// Quorum is what high-availability.zookeeper.quorum says: the TLS ports with TLS.
	Quorum                      string
	Root, ClusterID, StorageDir string
	// SASL: Kerberos as Principal from Keytab, with Krb5Conf; ACL creator.
	SASL                        bool
	Principal, Keytab, Krb5Conf string
	// TLS: trust TrustStore (PEM), present KeyStore (PEM, certificate and key, no password).
	TLS                  bool
	TrustStore, KeyStore string
	// JAASPath is where the JAAS file is written (shown in the fragment's comment).
	JAASPath string
}

// newFlinkSetup takes the setup from a running environment: the first JobManager principal
// flink/jm1 logs in, and the client certificate is the JobManager's.
func newFlinkSetup(env *testenv.Env, p *plan) flinkSetup {
	z := env.ZooKeeper
	s := flinkSetup{Root: p.root, ClusterID: p.clusterID, StorageDir: p.storageDir,
		SASL: z.ServicePrincipal != "", Principal: env.JobManagerPrincipals[0], Keytab: env.JobManagerKeytabs[0],
		Krb5Conf: env.KDC.Krb5Conf, JAASPath: filepath.Join(env.Dir, "flink-jaas.conf")}
	s.Quorum = z.PlainConnectString()
	if sq := z.SecureConnectString(); sq != "" {
		s.Quorum, s.TLS = sq, true
		s.TrustStore, s.KeyStore = env.PKI.CAFile, env.PKI.Client.KeystorePEM
	}
	if s.StorageDir == "" {
		s.StorageDir = "file://" + filepath.Join(env.Dir, "flink-ha")
	}
	return s
}

// jvmOpts are the -D options a Flink JVM needs for the ZooKeeper client: krb5.conf (Java ignores
// KRB5_CONFIG) and TLS, which Flink has no keys of its own for.
func (s flinkSetup) jvmOpts() []string {
	var o []string
	if s.SASL {
		o = append(o, "-Djava.security.krb5.conf="+s.Krb5Conf)
	}
	if s.TLS {
		o = append(o, "-Dzookeeper.client.secure=true", "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
			"-Dzookeeper.ssl.keyStore.location="+s.KeyStore, "-Dzookeeper.ssl.keyStore.type=PEM",
			"-Dzookeeper.ssl.trustStore.location="+s.TrustStore, "-Dzookeeper.ssl.trustStore.type=PEM")
	}
	for i, a := range o {
		if strings.ContainsAny(a, " \t'\"") {
			o[i] = `"` + a + `"`
		}
	}
	return o
}

// FlinkConf is the flink-conf.yaml fragment (flat keys, Flink's legacy format, which config.yaml
// readers accept too).
func (s flinkSetup) FlinkConf() string {
	var b strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, v) }
	b.WriteString("# flink-conf.yaml fragment for the zk-testenv environment: ZooKeeper HA")
	switch {
	case s.SASL && s.TLS:
		b.WriteString(" with Kerberos and TLS")
	case s.SASL:
		b.WriteString(" with Kerberos")
	case s.TLS:
		b.WriteString(" with TLS")
	}
	b.WriteString(".\n")
	kv("high-availability.type", "zookeeper")
	kv("high-availability.zookeeper.quorum", s.Quorum)
	kv("high-availability.zookeeper.path.root", s.Root)
	kv("high-availability.cluster-id", s.ClusterID)
	kv("high-availability.storageDir", s.StorageDir)
	if s.SASL {
		kv("high-availability.zookeeper.client.acl", "creator")
		b.WriteString("# Kerberos: Flink installs the JAAS entry for the Client context from the keytab\n")
		b.WriteString("# (Java programs without Flink use the JAAS file " + s.JAASPath + ").\n")
		kv("security.kerberos.login.use-ticket-cache", "false")
		kv("security.kerberos.login.keytab", s.Keytab)
		kv("security.kerberos.login.principal", s.Principal)
		kv("security.kerberos.login.contexts", "Client")
		kv("zookeeper.sasl.disable", "false")
		kv("zookeeper.sasl.service-name", "zookeeper")
		kv("zookeeper.sasl.login-context-name", "Client")
	} else {
		kv("high-availability.zookeeper.client.acl", "open")
		kv("zookeeper.sasl.disable", "true")
	}
	if o := s.jvmOpts(); len(o) > 0 {
		if s.TLS {
			b.WriteString("# TLS has no Flink keys: the ZooKeeper client reads JVM properties. TaskManagers\n")
			b.WriteString("# find the leader through ZooKeeper too, so they get the same options.\n")
		}
		kv("env.java.opts.jobmanager", strings.Join(o, " "))
		kv("env.java.opts.taskmanager", strings.Join(o, " "))
	}
	return b.String()
}

// JAAS is the JAAS file of the JobManager principal, for Java ZooKeeper clients and Curator
// (-Djava.security.auth.login.config); empty without SASL.
func (s flinkSetup) JAAS() string {
	if !s.SASL {
		return ""
	}
	return testenv.JAASSection("Client", s.Keytab, s.Principal)
}

// ClientProperties are the same TLS settings as a ZooKeeper client configuration file
// (zkCli.sh -client-configuration, zk-secure-check --tls-properties); empty without TLS.
func (s flinkSetup) ClientProperties() string {
	if !s.TLS {
		return ""
	}
	return "# ZooKeeper client TLS settings for the zk-testenv environment.\n" +
		"zookeeper.client.secure=true\n" +
		"zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n" +
		"zookeeper.ssl.keyStore.location=" + s.KeyStore + "\n" +
		"zookeeper.ssl.keyStore.type=PEM\n" +
		"zookeeper.ssl.trustStore.location=" + s.TrustStore + "\n" +
		"zookeeper.ssl.trustStore.type=PEM\n"
}

// flinkFile is one file written for the user, with the export naming it.
type flinkFile struct {
	export, path, content string
}

// write writes the fragment, the JAAS file and the client properties into dir (those that apply)
// and returns them in that order.
func (s flinkSetup) write(dir string) ([]flinkFile, error) {
	files := []flinkFile{
		{"ZK_FLINK_CONF", filepath.Join(dir, "flink-conf.yaml"), s.FlinkConf()},
		{"ZK_FLINK_JAAS", s.JAASPath, s.JAAS()},
		{"ZK_TLS_PROPERTIES", filepath.Join(dir, "zk-client.properties"), s.ClientProperties()},
	}
	out := files[:0]
	for _, f := range files {
		if f.content == "" {
			continue
		}
		if err := os.WriteFile(f.path, []byte(f.content), 0o644); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
