package flinkconf

import (
	"fmt"
	"slices"
	"strings"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
)

// Flink has no ZooKeeper TLS keys of its own: the JobManager's ZooKeeper client takes TLS from JVM
// system properties, which deployments set in the JVM options keys below (DESIGN.md §14).

// jvmOptionKeys are the Flink keys whose values become the JobManager's JVM command line, in the
// order bin/config.sh and jobmanager.sh put them there (a later -D wins). env.java.opts is the
// deprecated name of env.java.opts.all, read only when env.java.opts.all is not set.
var jvmOptionKeys = []string{"env.java.default-opts.all", "env.java.opts.all", "env.java.opts", "env.java.default-opts.jobmanager", "env.java.opts.jobmanager"}

// jvmPropertySources returns the -Dkey=value system properties of the JobManager's JVM options and,
// for each, the Flink key it came from.
func (c *Conf) jvmPropertySources() (props, origin map[string]string) {
	props, origin = map[string]string{}, map[string]string{}
	for _, k := range jvmOptionKeys {
		v := strings.TrimSpace(c.values[k])
		if v == "" || k == "env.java.opts" && strings.TrimSpace(c.values["env.java.opts.all"]) != "" {
			continue
		}
		// bin/config.sh removes one leading and one trailing double quote of each value.
		v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		for _, tok := range splitArgs(v) {
			if rest, ok := strings.CutPrefix(tok, "-D"); ok {
				name, val, _ := strings.Cut(rest, "=")
				props[name], origin[name] = val, k
			}
		}
	}
	return props, origin
}

// jvmOnly reports whether key is a ZooKeeper client TLS property, which Flink only passes on as a
// JVM system property: written as a Flink key it has no effect.
func jvmOnly(key string) bool {
	return key == "zookeeper.client.secure" || key == "zookeeper.clientCnxnSocket" || key == "zookeeper.client.config" ||
		key == "zookeeper.fips-mode" || strings.HasPrefix(key, "zookeeper.ssl.")
}

// mapTLS applies the ZooKeeper client TLS properties of the JobManager's JVM (env.java.opts* and
// Options.SystemProperties, which win) as ZooKeeper's Java client applies them: with
// zookeeper.client.secure=true, TLS is required (never plaintext) and its files must load; without
// it, Flink's client uses plaintext and zookeeper.ssl.* do nothing. warn records a warning: the key,
// what is wrong, what to do.
func (c *Conf) mapTLS(r *Result, opts Options, warn func(key, msg, fix string)) error {
	props, origin := c.jvmPropertySources()
	for k, v := range opts.SystemProperties {
		props[k], origin[k] = v, "Options.SystemProperties"
	}
	for _, k := range c.Keys() {
		if jvmOnly(k) {
			warn(k, fmt.Sprintf("%s is set as a Flink key, which has no effect: Flink passes ZooKeeper's TLS settings to its ZooKeeper client only as JVM system properties", k),
				fmt.Sprintf("move it to env.java.opts.jobmanager as -D%s=%s", k, c.values[k]))
		}
	}
	if f, ok := props["zookeeper.client.config"]; ok {
		warn(origin["zookeeper.client.config"], fmt.Sprintf("-Dzookeeper.client.config=%s (in %s): ZooKeeper's Java client reads no such file (only zkCli.sh -client-configuration does), so Flink's JobManager ignores it, and so does zksecure", f, origin["zookeeper.client.config"]),
			"put its zookeeper.* settings into env.java.opts.jobmanager as -D options")
	}
	p, err := zktls.FromProperties(props, func(k string) string { return origin[k] })
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConf, err)
	}
	for _, w := range p.Warnings {
		key, _, _ := strings.Cut(w, " ")
		msg, fix, ok := strings.Cut(w, "; ")
		if !ok {
			fix = "see the ZooKeeper client TLS property table in zksecure's README"
		}
		warn(key, msg, fix)
	}
	sslSet := slices.ContainsFunc(p.Set, func(k string) bool {
		return strings.HasPrefix(k, "zookeeper.ssl.") || strings.HasPrefix(k, "zksecure.ssl.")
	})
	if !p.Secure {
		if sslSet {
			secure, where := props["zookeeper.client.secure"], origin["zookeeper.client.secure"]
			state := "not set"
			if where != "" {
				state = fmt.Sprintf("%q (in %s)", secure, where)
			}
			warn("zookeeper.client.secure", fmt.Sprintf("zookeeper.ssl.* properties are set but zookeeper.client.secure is %s: Flink's ZooKeeper client connects in PLAINTEXT and ignores them, and so does zksecure", state),
				"add -Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty to env.java.opts.jobmanager, or remove the zookeeper.ssl.* options")
		}
		return nil
	}
	cfg := p.Config
	if cfg.CAFile == "" {
		warn("zookeeper.ssl.trustStore.location", "zookeeper.client.secure is true but no trust store is given: the servers are verified against the system's CA pool, as the Java client uses the JDK's cacerts",
			"set -Dzookeeper.ssl.trustStore.location to the CA that issued the ZooKeeper servers' certificates")
	}
	// The files must be usable now: a Flink configuration asking for TLS never becomes a plaintext
	// (or a broken) client silently.
	if _, err := cfg.Load(); err != nil {
		return fmt.Errorf("%w: zookeeper.client.secure=true (in %s) but its TLS settings cannot be used: %w", ErrConf, origin["zookeeper.client.secure"], err)
	}
	r.Config.TLS = &cfg
	r.Config.Transport = client.TransportTLS
	return nil
}
