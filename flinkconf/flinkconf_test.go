package flinkconf

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/client"
)

func TestFlatFlinkConf(t *testing.T) {
	c, err := Load("testdata/flink-conf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Nested {
		t.Error("flink-conf.yaml read as nested")
	}
	r, err := c.ClientConfig(Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Config
	want := []string{"zk1.example.com:2181", "zk2.example.com:2181", "zk3.example.com:2181"}
	if strings.Join(cfg.Members, ",") != strings.Join(want, ",") {
		t.Errorf("Members = %v", cfg.Members)
	}
	if cfg.Root != "/flink-prod" || cfg.ClusterID != "/analytics" || r.StorageDir != "hdfs:///flink/ha/" || r.HAType != "zookeeper" {
		t.Errorf("paths: %+v", r)
	}
	if cfg.SessionTimeout != 30*time.Second || cfg.ConnectionTimeout != 10*time.Second || cfg.RetryWait != 2*time.Second || cfg.MaxRetryAttempts != 5 {
		t.Errorf("timeouts: %v %v %v %d", cfg.SessionTimeout, cfg.ConnectionTimeout, cfg.RetryWait, cfg.MaxRetryAttempts)
	}
	if cfg.ACL.String() != "creator" || !r.Election.TolerateSuspendedConnections {
		t.Errorf("acl %s tolerate %v", cfg.ACL, r.Election.TolerateSuspendedConnections)
	}
	if cfg.SASL != client.SASLKerberos || cfg.Kerberos.Login.Keytab != "/etc/security/keytabs/flink.keytab" ||
		cfg.Kerberos.Login.Principal != "flink/jm1.example.com@EXAMPLE.COM" || cfg.Kerberos.Login.UseTicketCache {
		t.Errorf("kerberos: %+v", cfg.Kerberos.Login)
	}
	if cfg.Kerberos.ServerPrincipal != "zookeeper/zk.example.com@EXAMPLE.COM" || cfg.Kerberos.Login.Krb5Conf != "/etc/krb5.conf" {
		t.Errorf("JVM properties not applied: %+v", cfg.Kerberos)
	}
	joined := joinWarnings(r.Warnings)
	for _, w := range []string{"did you mean high-availability.zookeeper.quorum", "line 22 has no \": \""} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings %q lack %q", r.Warnings, w)
		}
	}
	// A skipped line is named by its number, never quoted: it may hold a secret.
	if strings.Contains(joined, "this line has no separator") {
		t.Errorf("warnings quote a skipped line: %q", r.Warnings)
	}
	// Each warning names its key (a skipped line has none) and carries its fix apart from the message.
	for _, w := range r.Warnings {
		if w.Fix == "" || w.Message == "" || (w.Key == "" && !strings.HasPrefix(w.Message, "line ")) {
			t.Errorf("warning without key, message or fix: %+v", w)
		}
	}
	if w := r.Warnings[len(r.Warnings)-1]; w.Key != "high-availability.zookeeper.quorom" || !strings.Contains(w.Fix, "high-availability.zookeeper.quorum") {
		t.Errorf("the misspelled key's warning is %+v, want Key the misspelling and the right key in Fix", w)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("mapped config does not validate: %v", err)
	}
}

func TestNestedConfigYAML(t *testing.T) {
	c, err := Load("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Nested {
		t.Error("config.yaml not read as nested")
	}
	r, err := c.ClientConfig(Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Config
	if len(cfg.Members) != 3 || cfg.ClusterID != "/analytics" || cfg.SessionTimeout != 30*time.Second || cfg.ACL.String() != "creator" {
		t.Errorf("mapped: %+v", cfg)
	}
	if strings.Join(r.LoginContexts, ",") != "ZkClient,KafkaClient" {
		t.Errorf("contexts from a YAML list: %v", r.LoginContexts)
	}
	// Ticket cache for the listed login context wins over the JAAS file, as in Flink.
	if cfg.SASL != client.SASLKerberos || !cfg.Kerberos.Login.UseTicketCache || cfg.Kerberos.Login.LoginContext != "ZkClient" {
		t.Errorf("kerberos: %+v", cfg.Kerberos.Login)
	}
	if !cfg.Kerberos.NoCanonicalize || r.JAASFile != "/etc/flink/jaas.conf" {
		t.Errorf("env.java.opts.all not honoured: %+v %q", cfg.Kerberos, r.JAASFile)
	}
	if len(r.Warnings) != 0 {
		t.Errorf("unexpected warnings %q", r.Warnings)
	}
	if r.Election.TolerateSuspendedConnections {
		t.Error("tolerate-suspended-connections is missing from config.yaml, yet the election tolerates suspension")
	}
}

func TestKerberosDecisions(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		sasl       client.SASLMode
		warn       string
	}{
		{"context missing from contexts", "high-availability.zookeeper.quorum: zk:2181\nhigh-availability.type: zookeeper\nhigh-availability.storageDir: /x\nsecurity.kerberos.login.keytab: /k\nsecurity.kerberos.login.principal: p@R\nsecurity.kerberos.login.contexts: KafkaClient\n",
			client.SASLOff, "WITHOUT authentication"},
		{"JAAS file only", "high-availability.zookeeper.quorum: zk:2181\nhigh-availability.type: zookeeper\nhigh-availability.storageDir: /x\nenv.java.opts: \"-Djava.security.auth.login.config=/etc/jaas.conf\"\n",
			client.SASLKerberos, ""},
		{"sasl disabled with keytab", "high-availability.zookeeper.quorum: zk:2181\nhigh-availability.type: zookeeper\nhigh-availability.storageDir: /x\nzookeeper.sasl.disable: true\nsecurity.kerberos.login.keytab: /k\nsecurity.kerberos.login.principal: p@R\nsecurity.kerberos.login.contexts: Client\n",
			client.SASLOff, "without authentication"},
		{"no HA", "high-availability.zookeeper.quorum: zk:2181\n", client.SASLOff, "not set to zookeeper"},
	} {
		r, err := ParseFlat([]byte(tc.conf)).ClientConfig(Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if r.Config.SASL != tc.sasl {
			t.Errorf("%s: SASL %s, want %s", tc.name, r.Config.SASL, tc.sasl)
		}
		joined := joinWarnings(r.Warnings)
		if tc.warn != "" && !strings.Contains(joined, tc.warn) {
			t.Errorf("%s: warnings %q lack %q", tc.name, r.Warnings, tc.warn)
		}
		if tc.warn == "" && joined != "" {
			t.Errorf("%s: unexpected warnings %q", tc.name, r.Warnings)
		}
	}
	for _, bad := range []string{
		"high-availability.zookeeper.client.acl: owner\nhigh-availability.zookeeper.quorum: zk:2181\n",
		"high-availability.zookeeper.client.session-timeout: soon\nhigh-availability.zookeeper.quorum: zk:2181\n",
		"security.kerberos.login.keytab: /k\nhigh-availability.zookeeper.quorum: zk:2181\n",
		"high-availability.type: zookeeper\n",
		"high-availability.zookeeper.client.tolerate-suspended-connections: sometimes\nhigh-availability.zookeeper.quorum: zk:2181\n",
	} {
		if _, err := ParseFlat([]byte(bad)).ClientConfig(Options{}); !errors.Is(err, ErrConf) {
			t.Errorf("%q: err = %v, want ErrConf", bad, err)
		}
	}
}

func joinWarnings(ws []Warning) string {
	var lines []string
	for _, w := range ws {
		lines = append(lines, w.String())
	}
	return strings.Join(lines, "\n")
}

// The JVM properties of env.java.opts* map onto the Kerberos settings; a Flink key wins over the
// property that means the same.
func TestJVMPropertiesAndFlinkKeysWin(t *testing.T) {
	conf := "high-availability.zookeeper.quorum: zk:2181\n" +
		"env.java.opts: -Djava.security.krb5.conf=/jvm/krb5.conf -Dzookeeper.sasl.client.username=jvmzk -Dzookeeper.server.realm=JVM.REALM -Dzookeeper.sasl.client.canonicalize.hostname=false\n"
	r, err := ParseFlat([]byte(conf)).ClientConfig(Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := r.Config.Kerberos
	if k.Login.Krb5Conf != "/jvm/krb5.conf" || k.ServiceName != "jvmzk" || k.ServerRealm != "JVM.REALM" || !k.NoCanonicalize {
		t.Errorf("JVM properties not applied: %+v", k)
	}
	r, err = ParseFlat([]byte(conf + "security.kerberos.krb5-conf.path: /flink/krb5.conf\nzookeeper.sasl.service-name: flinkzk\n")).ClientConfig(
		Options{SystemProperties: map[string]string{"zookeeper.server.realm": "OPTS.REALM"}})
	if err != nil {
		t.Fatal(err)
	}
	k = r.Config.Kerberos
	if k.Login.Krb5Conf != "/flink/krb5.conf" || k.ServiceName != "flinkzk" || k.ServerRealm != "OPTS.REALM" {
		t.Errorf("Flink keys and Options.SystemProperties must win: %+v", k)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"60000": time.Minute, "60 s": time.Minute, "1min": time.Minute, "500 ms": 500 * time.Millisecond, "2 h": 2 * time.Hour, " 15s ": 15 * time.Second} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "10 fortnights", "-5 s", "99999999999999999999"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

// A value that cannot be read keeps its cause: errors.Is finds both ErrConf and strconv's error.
func TestDurationErrorKeepsItsCause(t *testing.T) {
	if _, err := ParseDuration("99999999999999999999 ms"); !errors.Is(err, strconv.ErrRange) {
		t.Errorf("ParseDuration overflow: %v, want errors.Is strconv.ErrRange", err)
	}
	_, err := ParseFlat([]byte("high-availability.zookeeper.quorum: zk:2181\nhigh-availability.zookeeper.client.session-timeout: 99999999999999999999\n")).ClientConfig(Options{})
	if !errors.Is(err, ErrConf) || !errors.Is(err, strconv.ErrRange) {
		t.Errorf("session-timeout overflow: %v, want errors.Is ErrConf and strconv.ErrRange", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("a: b\nc: d # x\n"))
	f.Add([]byte("a:\n  b: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseFlat(b).ClientConfig(Options{})
		if c, err := ParseNested(b); err == nil {
			c.ClientConfig(Options{})
		}
	})
}
