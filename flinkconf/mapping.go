package flinkconf

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
)

// Keys of DESIGN.md §8 and the other keys Flink defines under the watched prefixes.
const (
	KeyHAType              = "high-availability.type"
	KeyHALegacy            = "high-availability"
	KeyQuorum              = "high-availability.zookeeper.quorum"
	KeyRoot                = "high-availability.zookeeper.path.root"
	KeyClusterID           = "high-availability.cluster-id"
	KeyStorageDir          = "high-availability.storageDir"
	KeySessionTimeout      = "high-availability.zookeeper.client.session-timeout"
	KeyConnectionTimeout   = "high-availability.zookeeper.client.connection-timeout"
	KeyRetryWait           = "high-availability.zookeeper.client.retry-wait"
	KeyMaxRetryAttempts    = "high-availability.zookeeper.client.max-retry-attempts"
	KeyACL                 = "high-availability.zookeeper.client.acl"
	KeyTolerateSuspended   = "high-availability.zookeeper.client.tolerate-suspended-connections"
	KeySASLDisable         = "zookeeper.sasl.disable"
	KeySASLServiceName     = "zookeeper.sasl.service-name"
	KeySASLLoginContext    = "zookeeper.sasl.login-context-name"
	KeyKerberosTicketCache = "security.kerberos.login.use-ticket-cache"
	KeyKerberosKeytab      = "security.kerberos.login.keytab"
	KeyKerberosPrincipal   = "security.kerberos.login.principal"
	KeyKerberosContexts    = "security.kerberos.login.contexts"
	KeyKrb5ConfPath        = "security.kerberos.krb5-conf.path"
)

// known are keys Flink defines under the prefixes zksecure checks; anything else there is reported.
var known = map[string]bool{
	KeyQuorum: true, KeyRoot: true, KeySessionTimeout: true, KeyConnectionTimeout: true, KeyRetryWait: true,
	KeyMaxRetryAttempts: true, KeyACL: true, KeyTolerateSuspended: true,
	"high-availability.zookeeper.client.ensemble-tracker": true,
	"high-availability.zookeeper.path.namespace":          true,
	"high-availability.zookeeper.path.jobgraphs":          true,
	"high-availability.zookeeper.path.checkpoints":        true,
	"high-availability.zookeeper.path.checkpoint-counter": true,
	"high-availability.zookeeper.path.running-registry":   true,
	"high-availability.zookeeper.path.latch":              true,
	"high-availability.zookeeper.path.leader":             true,
	"high-availability.zookeeper.path.mesos-workers":      true,
	"high-availability.zookeeper.path.execution-plans":    true,
	KeySASLDisable: true, KeySASLServiceName: true, KeySASLLoginContext: true,
	"zookeeper.sasl.client": true,
	KeyKerberosTicketCache:  true, KeyKerberosKeytab: true, KeyKerberosPrincipal: true, KeyKerberosContexts: true,
	KeyKrb5ConfPath: true,
	"security.kerberos.fetch.delegation-token":           true,
	"security.kerberos.access.hadoopFileSystems":         true,
	"security.kerberos.relogin.period":                   true,
	"security.kerberos.tokens.renewal.retry.backoff":     true,
	"security.kerberos.tokens.renewal.time-ratio":        true,
	"security.kerberos.token.provider.hadoopfs.renewer":  true,
	"security.kerberos.token.provider.hbase.enabled":     true,
	"security.kerberos.token.provider.hadoopfs.enabled":  true,
	"security.kerberos.access.hadoopFileSystems.renewer": true,
	"security.delegation.tokens.enabled":                 true,
}

// Options carries what lives outside the Flink file: JVM system properties (merged over those of
// env.java.opts*) and zksecure-only settings.
type Options struct {
	// SystemProperties are -D properties: java.security.auth.login.config (a JAAS file),
	// java.security.krb5.conf, zookeeper.server.principal, zookeeper.server.realm,
	// zookeeper.sasl.client.username, zookeeper.sasl.client.canonicalize.hostname.
	SystemProperties map[string]string
}

// Result is a client configuration, and the election's options, derived from a Flink configuration.
type Result struct {
	Config client.Config
	// Election holds the election policy the configuration sets:
	// TolerateSuspendedConnections from high-availability.zookeeper.client.tolerate-suspended-connections
	// (false when the key is missing, as in Flink). Pass it to election.New on a client connected
	// with Config, setting LatchPath and Logger on the copy if needed:
	//
	//	c, err := client.Connect(ctx, r.Config)
	//	e, err := election.New(c, r.Election)
	Election election.Options
	// HAType is the high-availability mode Flink would use ("zookeeper", "none", ...).
	HAType string
	// StorageDir is high-availability.storageDir ("" when missing).
	StorageDir string
	// LoginContexts are security.kerberos.login.contexts.
	LoginContexts []string
	// JAASFile is the JAAS file in effect ("" when none).
	JAASFile string
	// Warnings are problems that do not stop a client, each a sentence with its fix.
	Warnings []string
}

// ClientConfig maps the configuration onto a client.Config and election.Options. Errors are for values that cannot be
// interpreted (they name the key); likely mistakes are warnings.
func (c *Conf) ClientConfig(opts Options) (*Result, error) {
	r := &Result{}
	warn := func(format string, args ...any) { r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...)) }
	r.Warnings = append(r.Warnings, c.parseWarnings...)
	props := c.JVMProperties()
	for k, v := range opts.SystemProperties {
		props[k] = v
	}
	get := func(k string) string { return strings.TrimSpace(c.values[k]) }

	r.HAType = strings.ToLower(get(KeyHAType))
	if r.HAType == "" {
		r.HAType = strings.ToLower(get(KeyHALegacy))
	}
	switch r.HAType {
	case "zookeeper":
	case "", "none":
		warn("%s is not set to zookeeper (it is %q): Flink would not use ZooKeeper for high availability at all; set %s: zookeeper", KeyHAType, r.HAType, KeyHAType)
	default:
		warn("%s is %q, not zookeeper: Flink would not use ZooKeeper", KeyHAType, r.HAType)
	}
	cfg := &r.Config
	quorum := get(KeyQuorum)
	if quorum == "" {
		if old := get("recovery.zookeeper.quorum"); old != "" {
			quorum = old
			warn("recovery.zookeeper.quorum is deprecated: rename it to %s", KeyQuorum)
		}
	}
	for _, m := range strings.Split(quorum, ",") {
		if m = strings.TrimSpace(m); m != "" {
			cfg.Members = append(cfg.Members, m)
		}
	}
	if len(cfg.Members) == 0 {
		return nil, fmt.Errorf("%w: %s is required (host:port,host:port,...)", ErrConf, KeyQuorum)
	}
	cfg.Root = get(KeyRoot)
	cfg.ClusterID = get(KeyClusterID)
	if cfg.ClusterID == "" {
		if ns := get("high-availability.zookeeper.path.namespace"); ns != "" {
			cfg.ClusterID = ns
			warn("high-availability.zookeeper.path.namespace is deprecated: rename it to %s", KeyClusterID)
		}
	}
	// Flink accepts the root and cluster id without a leading slash.
	for _, p := range []*string{&cfg.Root, &cfg.ClusterID} {
		if *p != "" && !strings.HasPrefix(*p, "/") {
			*p = "/" + *p
		}
	}
	r.StorageDir = get(KeyStorageDir)
	if r.StorageDir == "" && r.HAType == "zookeeper" {
		warn("%s is not set: Flink refuses to start with ZooKeeper HA without it (it holds the job graphs and checkpoints metadata)", KeyStorageDir)
	}
	var err error
	if cfg.SessionTimeout, err = durationKey(c, KeySessionTimeout); err != nil {
		return nil, err
	}
	if cfg.ConnectionTimeout, err = durationKey(c, KeyConnectionTimeout); err != nil {
		return nil, err
	}
	if cfg.RetryWait, err = durationKey(c, KeyRetryWait); err != nil {
		return nil, err
	}
	if v := get(KeyMaxRetryAttempts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: %s: %q is not a whole number ≥ 0", ErrConf, KeyMaxRetryAttempts, v)
		}
		cfg.MaxRetryAttempts = n
		if n == 0 {
			cfg.MaxRetryAttempts = -1
		}
	}
	if v := get(KeyTolerateSuspended); v != "" {
		if r.Election.TolerateSuspendedConnections, err = parseBool(KeyTolerateSuspended, v); err != nil {
			return nil, err
		}
	}
	switch strings.ToLower(get(KeyACL)) {
	case "", "open":
		cfg.ACL = acl.Open()
	case "creator":
		cfg.ACL = acl.Creator()
	default:
		return nil, fmt.Errorf("%w: %s: %q is not open or creator", ErrConf, KeyACL, get(KeyACL))
	}

	if err := c.mapKerberos(r, props, warn); err != nil {
		return nil, err
	}
	if err := c.mapTLS(r, opts, func(_, msg, fix string) { warn("%s; %s", msg, fix) }); err != nil {
		return nil, err
	}
	c.unknownKeys(warn)
	return r, nil
}

func durationKey(c *Conf, key string) (d time.Duration, err error) {
	v := strings.TrimSpace(c.values[key])
	if v == "" {
		return 0, nil
	}
	d, err = ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrConf, key, err)
	}
	return d, nil
}

// mapKerberos decides SASL the way Flink's ZooKeeper client ends up authenticating.
func (c *Conf) mapKerberos(r *Result, props map[string]string, warn func(string, ...any)) error {
	get := func(k string) string { return strings.TrimSpace(c.values[k]) }
	cfg := &r.Config
	disabled := false
	if v := get(KeySASLDisable); v != "" {
		var err error
		if disabled, err = parseBool(KeySASLDisable, v); err != nil {
			return err
		}
	}
	loginCtx := get(KeySASLLoginContext)
	if loginCtx == "" {
		loginCtx = sasl.DefaultLoginContext
	}
	for _, s := range strings.Split(get(KeyKerberosContexts), ",") {
		if s = strings.TrimSpace(s); s != "" {
			r.LoginContexts = append(r.LoginContexts, s)
		}
	}
	r.JAASFile = props["java.security.auth.login.config"]
	keytab, principal := get(KeyKerberosKeytab), get(KeyKerberosPrincipal)
	useCache := true
	if v := get(KeyKerberosTicketCache); v != "" {
		var err error
		if useCache, err = parseBool(KeyKerberosTicketCache, v); err != nil {
			return err
		}
	}
	if (keytab == "") != (principal == "") {
		return fmt.Errorf("%w: %s and %s go together: set both or neither", ErrConf, KeyKerberosKeytab, KeyKerberosPrincipal)
	}
	krb5 := get(KeyKrb5ConfPath)
	if krb5 == "" {
		krb5 = props["java.security.krb5.conf"]
	}
	k := sasl.Config{Login: sasl.Login{Krb5Conf: krb5, LoginContext: loginCtx}}
	k.ServiceName = get(KeySASLServiceName)
	if k.ServiceName == "" {
		k.ServiceName = props["zookeeper.sasl.client.username"]
	}
	k.ServerPrincipal = props["zookeeper.server.principal"]
	k.ServerRealm = props["zookeeper.server.realm"]
	if v, ok := props["zookeeper.sasl.client.canonicalize.hostname"]; ok && strings.EqualFold(v, "false") {
		k.NoCanonicalize = true
	}
	cfg.Kerberos = k
	if disabled {
		cfg.SASL = client.SASLOff
		if keytab != "" && slices.Contains(r.LoginContexts, loginCtx) {
			warn("%s is true although a keytab is configured for login context %s: the JobManagers will connect to ZooKeeper without authentication", KeySASLDisable, loginCtx)
		}
		return nil
	}
	inContexts := slices.Contains(r.LoginContexts, loginCtx)
	switch {
	case inContexts && keytab != "":
		// Flink installs a JAAS entry for the context, logging in from its keytab.
		cfg.SASL = client.SASLKerberos
		cfg.Kerberos.Login.Principal, cfg.Kerberos.Login.Keytab = principal, keytab
	case inContexts && useCache:
		cfg.SASL = client.SASLKerberos
		cfg.Kerberos.Login.UseTicketCache = true
	case r.JAASFile != "":
		cfg.SASL = client.SASLKerberos
		cfg.Kerberos.Login.JAASFile = r.JAASFile
	default:
		cfg.SASL = client.SASLOff
		if keytab != "" || len(r.LoginContexts) > 0 {
			warn("login context %q is not in %s (%s) and no JAAS file is given: Flink's ZooKeeper client would connect WITHOUT authentication (\"Will not attempt to authenticate using SASL\"); add %s to %s, or set %s: true if that is intended",
				loginCtx, KeyKerberosContexts, strings.Join(r.LoginContexts, ","), loginCtx, KeyKerberosContexts, KeySASLDisable)
		}
	}
	return nil
}

func (c *Conf) unknownKeys(warn func(string, ...any)) {
	var knownList []string
	for k := range known {
		knownList = append(knownList, k)
	}
	sort.Strings(knownList)
	for _, k := range c.Keys() {
		if known[k] || jvmOnly(k) { // jvmOnly keys: mapTLS says where they belong
			continue
		}
		if !strings.HasPrefix(k, "high-availability.zookeeper.") && !strings.HasPrefix(k, "zookeeper.") && !strings.HasPrefix(k, "security.kerberos.") {
			continue
		}
		if best, d := closest(k, knownList); d <= 3 {
			warn("unknown key %s: did you mean %s?", k, best)
		} else {
			warn("unknown key %s: Flink does not define it, so it has no effect", k)
		}
	}
}

// closest returns the known key with the smallest edit distance to k.
func closest(k string, keys []string) (string, int) {
	best, bestD := "", 1<<30
	for _, c := range keys {
		if d := levenshtein(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
