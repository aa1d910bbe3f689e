package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// JAASSection returns a JAAS login configuration with one Krb5LoginModule section that logs in
// from a keytab, as ZooKeeper servers and Java clients read it.
func JAASSection(name, keytab, principal string) string {
	return fmt.Sprintf(`%s {
    com.sun.security.auth.module.Krb5LoginModule required
    useKeyTab=true
    keyTab="%s"
    storeKey=true
    useTicketCache=false
    doNotPrompt=true
    principal="%s";
};
`, name, keytab, principal)
}

func (m *Member) writeConfig(krb5 string) error {
	z, opts := m.zk, m.zk.opts
	data, err := m.makeDirs()
	if err != nil {
		return err
	}
	var jaas string
	if m.Keytab != "" {
		jaas = filepath.Join(m.Dir, "jaas-server.conf")
		if err := os.WriteFile(jaas, []byte(JAASSection("Server", m.Keytab, m.ServicePrincipal)), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(m.ID)+"\n"), 0o644); err != nil {
		return err
	}
	tick := int(opts.TickTime / time.Millisecond)
	cfg := []string{
		"# Written by zksecure testenv.",
		"tickTime=" + strconv.Itoa(tick),
		"initLimit=20",
		"syncLimit=10",
		"dataDir=" + data,
		"maxClientCnxns=0",
		"minSessionTimeout=" + strconv.Itoa(2*tick),
		"maxSessionTimeout=" + strconv.Itoa(int(opts.MaxSessionTimeout/time.Millisecond)),
		"4lw.commands.whitelist=*",
		// Throw-away data: no fsync per transaction (session creation would otherwise cost a disk
		// flush, which is noise in every latency measurement made against testenv).
		"forceSync=no",
	}
	if m.ClientPort != 0 {
		cfg = append(cfg, "clientPort="+strconv.Itoa(m.ClientPort), "clientPortAddress="+m.ip())
	}
	if z.Version != ZK34 {
		cfg = append(cfg, "admin.enableServer=false")
	}
	if len(z.Members) > 1 {
		for _, o := range z.Members {
			cfg = append(cfg, fmt.Sprintf("server.%d=%s:%d:%d", o.ID, o.hostName(), o.PeerPort, o.ElectionPort))
		}
	}
	if t := opts.TLS; t != nil {
		cert := m.Cert
		cfg = append(cfg,
			"secureClientPort="+strconv.Itoa(m.SecurePort),
			"secureClientPortAddress="+m.ip(),
			"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
			"ssl.keyStore.location="+cert.KeystorePEM,
			"ssl.keyStore.type=PEM",
			"ssl.trustStore.location="+t.PKI.CAFile,
			"ssl.trustStore.type=PEM",
			"ssl.clientAuth="+string(t.ClientAuth),
			"authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
		)
	}
	if s := opts.SASL; s != nil {
		cfg = append(cfg,
			"authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
			"kerberos.removeHostFromPrincipal="+strconv.FormatBool(s.RemoveHostFromPrincipal),
			"kerberos.removeRealmFromPrincipal="+strconv.FormatBool(s.RemoveRealmFromPrincipal),
		)
		if s.Enforce {
			cfg = append(cfg, "enforce.auth.enabled=true", "enforce.auth.schemes=sasl")
		}
	}
	cfg = appendExtra(cfg, opts.Extra, m.spec.Extra)
	cfgPath := filepath.Join(m.Dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	flags := []string{"-Xms32m", "-Xss512k", "-Dzookeeper.log.dir=" + m.Dir, "-Dzookeeper.jmx.log4j.disable=true"}
	if z.Version == ZK34 {
		flags = append(flags, "--add-exports", "java.security.jgss/sun.security.krb5=ALL-UNNAMED")
	}
	if jaas != "" {
		flags = append(flags, "-Djava.security.auth.login.config="+jaas, "-Djava.security.krb5.conf="+krb5)
	}
	argv, err := jvm{dir: m.Dir, log4jName: "log4j.properties", logFile: m.LogPath, logLevel: "INFO",
		logPattern: serverLogPattern, heap: "384m", flags: flags, classpath: serverClasspath(z.Version),
		main: "org.apache.zookeeper.server.quorum.QuorumPeerMain", args: []string{cfgPath}, user: m.User}.argv()
	m.argv = argv
	return err
}
