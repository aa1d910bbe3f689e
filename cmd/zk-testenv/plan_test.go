package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zksecure/zksecure/testenv"
)

func planFlags(t *testing.T, zooCfg, flinkConf string, set ...string) upFlags {
	t.Helper()
	dir := t.TempDir()
	f := upFlags{version: "3.8", clientAuth: "need", members: 1}
	if zooCfg != "" {
		f.zooCfg = filepath.Join(dir, "zoo.cfg")
		if err := os.WriteFile(f.zooCfg, []byte(zooCfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if flinkConf != "" {
		f.flinkConf = filepath.Join(dir, "flink-conf.yaml")
		if err := os.WriteFile(f.flinkConf, []byte(flinkConf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	changed := map[string]bool{}
	for _, s := range set {
		changed[s] = true
		switch s {
		case "tls":
			f.tls = true
		case "plaintext-port":
			f.plain = true
		case "members":
			f.members = 3
		case "domain":
			f.domain = "other.test"
		case "no-sasl":
			f.noSASL = true
		case "version":
			f.version = "3.4"
		case "client-auth":
			f.clientAuth = "none"
		}
	}
	f.changed = func(name string) bool { return changed[name] }
	return f
}

const namedZooCfg = "tickTime=2000\ninitLimit=10\nsyncLimit=5\nclientPort=2181\n" +
	"server.1=zk1.flink.test:2888:3888\nserver.2=zk2.flink.test:2888:3888\nserver.3=zk3.flink.test:2888:3888\n"

// Named hosts with --tls and no secureClientPort: TLS on the client port, on named hosts in the
// file's domain, the tuning keys passed through.
func TestPlanNamedTLSOnClientPort(t *testing.T) {
	p, err := makePlan(planFlags(t, namedZooCfg, "", "tls"))
	if err != nil {
		t.Fatal(err)
	}
	e := p.env
	if !p.named || e.Domain != "flink.test" || !e.TLS || e.PlaintextPort || e.Members != 0 || e.TickTime.Milliseconds() != 2000 {
		t.Errorf("plan %+v", e)
	}
	want := []testenv.ServerSpec{
		{ID: 1, Host: "zk1.flink.test", SecurePort: 2181, PeerPort: 2888, ElectionPort: 3888},
		{ID: 2, Host: "zk2.flink.test", SecurePort: 2181, PeerPort: 2888, ElectionPort: 3888},
		{ID: 3, Host: "zk3.flink.test", SecurePort: 2181, PeerPort: 2888, ElectionPort: 3888},
	}
	if !reflect.DeepEqual(e.Servers, want) {
		t.Errorf("servers %+v\nwant %+v", e.Servers, want)
	}
	if !reflect.DeepEqual(e.Extra, map[string]string{"initLimit": "10", "syncLimit": "5"}) {
		t.Errorf("extra %v", e.Extra)
	}
}

// secureClientPort beside clientPort: TLS on the one, plaintext on the other; the data folders
// per member; the security keys of the file honoured.
func TestPlanSecureClientPortAndDataDir(t *testing.T) {
	dataDir := t.TempDir()
	p, err := makePlan(planFlags(t, "clientPort=2181\nsecureClientPort=2281\ndataDir="+dataDir+"\nssl.clientAuth=want\n"+
		"kerberos.removeHostFromPrincipal=true\nsessionRequireClientSASLAuth=true\nserver.1=zk1.t\nserver.2=zk2.t\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	e := p.env
	if !e.TLS || !e.PlaintextPort || e.ClientAuth != "want" || !e.RemoveHostFromPrincipal || !e.EnforceSASL || e.Domain != "t" {
		t.Errorf("plan %+v", e)
	}
	if s := e.Servers[1]; s.ClientPort != 2181 || s.SecurePort != 2281 || s.DataDir != filepath.Join(dataDir, "member2") {
		t.Errorf("server 2 %+v", s)
	}
	// --client-auth given wins over the file.
	p, err = makePlan(planFlags(t, "secureClientPort=2281\nssl.clientAuth=want\nserver.1=zk1\n", "", "client-auth"))
	if err != nil {
		t.Fatal(err)
	}
	if p.env.ClientAuth != "none" || p.env.PlaintextPort || p.env.Domain != defaultDomain || p.env.Servers[0].Host != "zk1" {
		t.Errorf("plan %+v", p.env)
	}
}

// A Flink quorum alone: its members, TLS on its ports with --tls, free quorum ports on loopback,
// the root and cluster id kept for the fragment.
func TestPlanFromFlinkQuorum(t *testing.T) {
	p, err := makePlan(planFlags(t, "", "high-availability.zookeeper.quorum: localhost:2281,localhost:2282\nhigh-availability.cluster-id: analytics\nhigh-availability.zookeeper.path.root: /ha\n", "tls"))
	if err != nil {
		t.Fatal(err)
	}
	want := []testenv.ServerSpec{{ID: 1, SecurePort: 2281}, {ID: 2, SecurePort: 2282}}
	if p.named || !reflect.DeepEqual(p.env.Servers, want) || p.root != "/ha" || p.clusterID != "/analytics" {
		t.Errorf("plan named=%v %+v root %s cluster %s", p.named, p.env.Servers, p.root, p.clusterID)
	}
	// With a zoo.cfg, the quorum must name its members.
	if _, err := makePlan(planFlags(t, namedZooCfg, "high-availability.zookeeper.quorum: zk3.flink.test:2181, ZK1.flink.test:2181,zk2.flink.test:2181\n")); err != nil {
		t.Errorf("a matching quorum in another order: %v", err)
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		zoo, flink string
		set        []string
		want       string
	}{
		{namedZooCfg, "", []string{"members"}, "--members with --zoo-cfg or --flink-conf: the members are the file's servers"},
		{namedZooCfg, "", []string{"tls", "plaintext-port"}, "has no secureClientPort); add secureClientPort=2281 to it to have both ports"},
		{namedZooCfg, "", []string{"domain"}, "--domain other.test, but the hosts of"},
		{"server.1=localhost\n", "", []string{"domain"}, "whose servers are on localhost: drop --domain"},
		{"secureClientPort=2281\nserver.1=zk1.t\n", "", []string{"version"}, "zoo.cfg line 1 (secureClientPort=2281): ZooKeeper 3.4 has no TLS"},
		{"enforce.auth.enabled=true\nenforce.auth.schemes=sasl\nserver.1=zk1.t\n", "", []string{"no-sasl"}, "--no-sasl, but"},
		{"server.1=zk1.t:2888:3888\nserver.2=zk1.t:2888:3888\n", "", nil, "zoo.cfg line 2 (server.2=zk1.t:2888:3888): port 2181 is both"},
		{namedZooCfg, "high-availability.zookeeper.quorum: zk1.flink.test:2181,zk2.flink.test:2181\n", nil,
			"high-availability.zookeeper.quorum is zk1.flink.test:2181,zk2.flink.test:2181, but the members of"},
		{namedZooCfg, "high-availability.zookeeper.quorum: zk1.flink.test:2181,zk2.flink.test:2181,zk3.flink.test:2181\n", []string{"tls"}, ""},
		{"", "high-availability.type: zookeeper\n", nil, "high-availability.zookeeper.quorum is not set"},
		{"", "high-availability.zookeeper.quorum: zk1.t:2181/chroot\n", nil, "a chroot in the quorum"},
		{"", "high-availability.zookeeper.quorum: zk1.t:2181\n", []string{"tls", "plaintext-port"}, "the quorum's ports serve TLS"},
	} {
		_, err := makePlan(planFlags(t, tc.zoo, tc.flink, tc.set...))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q %q %v: %v", tc.zoo, tc.flink, tc.set, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q %q %v:\n got %v\nwant …%s…", tc.zoo, tc.flink, tc.set, err, tc.want)
		}
	}
}

// The fragment, JAAS file and client properties for a Kerberos + TLS environment, as printed.
func TestFlinkFragment(t *testing.T) {
	s := flinkSetup{Quorum: "zk1.flink.test:2181,zk2.flink.test:2181", Root: "/flink", ClusterID: "/testenv", StorageDir: "file:///env/flink-ha",
		SASL: true, Principal: "flink/jm1@EXAMPLE.COM", Keytab: "/env/jm1.keytab", Krb5Conf: "/env/krb5.conf", JAASPath: "/env/flink-jaas.conf",
		TLS: true, TrustStore: "/env/ca.crt", KeyStore: "/env/client-keystore.pem"}
	opts := "-Djava.security.krb5.conf=/env/krb5.conf -Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty " +
		"-Dzookeeper.ssl.keyStore.location=/env/client-keystore.pem -Dzookeeper.ssl.keyStore.type=PEM -Dzookeeper.ssl.trustStore.location=/env/ca.crt -Dzookeeper.ssl.trustStore.type=PEM"
	want := `# flink-conf.yaml fragment for the zk-testenv environment: ZooKeeper HA with Kerberos and TLS.
high-availability.type: zookeeper
high-availability.zookeeper.quorum: zk1.flink.test:2181,zk2.flink.test:2181
high-availability.zookeeper.path.root: /flink
high-availability.cluster-id: /testenv
high-availability.storageDir: file:///env/flink-ha
high-availability.zookeeper.client.acl: creator
# Kerberos: Flink installs the JAAS entry for the Client context from the keytab
# (Java programs without Flink use the JAAS file /env/flink-jaas.conf).
security.kerberos.login.use-ticket-cache: false
security.kerberos.login.keytab: /env/jm1.keytab
security.kerberos.login.principal: flink/jm1@EXAMPLE.COM
security.kerberos.login.contexts: Client
zookeeper.sasl.disable: false
zookeeper.sasl.service-name: zookeeper
zookeeper.sasl.login-context-name: Client
# TLS has no Flink keys: the ZooKeeper client reads JVM properties. TaskManagers
# find the leader through ZooKeeper too, so they get the same options.
env.java.opts.jobmanager: ` + opts + `
env.java.opts.taskmanager: ` + opts + `
`
	if got := s.FlinkConf(); got != want {
		t.Errorf("fragment:\n%s\nwant:\n%s", got, want)
	}
	if j := s.JAAS(); !strings.Contains(j, `keyTab="/env/jm1.keytab"`) || !strings.Contains(j, `principal="flink/jm1@EXAMPLE.COM";`) || !strings.HasPrefix(j, "Client {") {
		t.Errorf("JAAS:\n%s", j)
	}
	if p := s.ClientProperties(); !strings.Contains(p, "zookeeper.client.secure=true\n") || !strings.Contains(p, "zookeeper.ssl.trustStore.location=/env/ca.crt\n") {
		t.Errorf("client properties:\n%s", p)
	}
	open := flinkSetup{Quorum: "localhost:2181", Root: "/flink", ClusterID: "/testenv", StorageDir: "file:///env/flink-ha"}
	if got := open.FlinkConf(); !strings.Contains(got, "zookeeper.sasl.disable: true\n") || strings.Contains(got, "env.java.opts") || open.JAAS() != "" || open.ClientProperties() != "" {
		t.Errorf("open fragment:\n%s", got)
	}
}
