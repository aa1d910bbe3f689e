package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
)

func optionsFor(t *testing.T, args ...string) (*flags, error) {
	t.Helper()
	f, err := parse(args, io.Discard)
	if err != nil {
		return nil, err
	}
	_, err = options(f)
	return f, err
}

// Flags lay over the Flink configuration: only the flags given change it, and nothing is defaulted
// here (client.Config.WithDefaults does that, once).
func TestFlagsOverrideFlinkConf(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "flink-conf.yaml")
	os.WriteFile(conf, []byte("high-availability.type: zookeeper\nhigh-availability.storageDir: file:///ha\n"+
		"high-availability.zookeeper.quorum: zk-file:2181\nhigh-availability.cluster-id: /file\n"+
		"security.kerberos.krb5-conf.path: /file/krb5.conf\n"+
		"security.kerberos.login.keytab: /file.keytab\nsecurity.kerberos.login.principal: file@R\nsecurity.kerberos.login.contexts: Client\n"+
		"env.java.opts: -Dzookeeper.server.principal=zookeeper/jvm@R\n"), 0o644)
	f, err := parse([]string{"--flink-conf", conf, "--quorum", "a:1, b:2", "--use-ticket-cache", "--tls-ca", "ca.pem", "--acl", "creator",
		"--server-principal", "zookeeper/flag@R"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := options(f)
	if err != nil {
		t.Fatal(err)
	}
	c := opts.Client
	if strings.Join(c.Members, ",") != "a:1,b:2" || c.ClusterID != "/file" || c.Root != "" || c.Transport != "" {
		t.Errorf("members %v cluster-id %q root %q transport %q: want the flag's members, the file's cluster-id, nothing defaulted", c.Members, c.ClusterID, c.Root, c.Transport)
	}
	l := c.Kerberos.Login
	if c.SASL != client.SASLKerberos || !l.UseTicketCache || l.Keytab != "" || l.Krb5Conf != "/file/krb5.conf" {
		t.Errorf("login %+v: want the ticket cache instead of the file's keytab, krb5.conf kept", l)
	}
	if c.TLS == nil || c.TLS.CAFile != "ca.pem" || c.ACL.String() != acl.Creator().String() {
		t.Errorf("TLS %+v ACL %v", c.TLS, c.ACL)
	}
	if c.Kerberos.ServerPrincipal != "zookeeper/flag@R" || opts.JavaRules.ServerPrincipal != "zookeeper/jvm@R" {
		t.Errorf("server principal %q, JVM's %q: the flag changes what the check uses, not what the JVM would", c.Kerberos.ServerPrincipal, opts.JavaRules.ServerPrincipal)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--quorum", "zk:2181", "--keytab", "k"}, "--principal and --keytab go together"},
		{[]string{"--quorum", "zk:2181", "--keytab", "k", "--principal", "p", "--jaas", "j"}, "one Kerberos login"},
		{[]string{"--quorum", "zk:2181", "--transport", "ssl"}, "want auto, plaintext or tls"},
		{[]string{"--quorum", "zk:2181", "--acl", "owner"}, "want creator or open"},
		{[]string{"--quorum", " , "}, "no ensemble"},
	} {
		if _, err := optionsFor(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}
