package flinkconf

import "strings"

// jvmRule maps one JVM system property (a -D option of env.java.opts*, or Options.SystemProperties)
// onto the result. When the Flink key overriddenBy is set, it wins and the property is not applied.
type jvmRule struct {
	prop         string
	overriddenBy string
	apply        func(r *Result, v string)
}

// kerberosJVMRules are the properties the JobManager's JVM reads for ZooKeeper's SASL client: the
// JDK's JAAS and Kerberos settings and ZooKeeper's own client properties.
var kerberosJVMRules = []jvmRule{
	{"java.security.auth.login.config", "", func(r *Result, v string) { r.JAASFile = v }},
	{"java.security.krb5.conf", KeyKrb5ConfPath, func(r *Result, v string) { r.Config.Kerberos.Login.Krb5Conf = v }},
	{"zookeeper.sasl.client.username", KeySASLServiceName, func(r *Result, v string) { r.Config.Kerberos.ServiceName = v }},
	{"zookeeper.server.principal", "", func(r *Result, v string) { r.Config.Kerberos.ServerPrincipal = v }},
	{"zookeeper.server.realm", "", func(r *Result, v string) { r.Config.Kerberos.ServerRealm = v }},
	{"zookeeper.sasl.client.canonicalize.hostname", "", func(r *Result, v string) {
		if strings.EqualFold(v, "false") {
			r.Config.Kerberos.NoCanonicalize = true
		}
	}},
}

// applyJVM applies rules, in order, for the properties that are set.
func (c *Conf) applyJVM(r *Result, props map[string]string, rules []jvmRule) {
	for _, rule := range rules {
		v, ok := props[rule.prop]
		if !ok || (rule.overriddenBy != "" && c.get(rule.overriddenBy) != "") {
			continue
		}
		rule.apply(r, v)
	}
}
