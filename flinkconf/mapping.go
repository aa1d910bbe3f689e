package flinkconf

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

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
	// Warnings are problems that do not stop a client, each with the key, the problem and its fix.
	Warnings []Warning
}

// ClientConfig maps the configuration onto a client.Config and election.Options. Errors are for values that cannot be
// interpreted (they name the key); likely mistakes are warnings.
func (c *Conf) ClientConfig(opts Options) (*Result, error) {
	r := &Result{}
	r.Warnings = append(r.Warnings, c.parseWarnings...)
	props := c.JVMProperties()
	for k, v := range opts.SystemProperties {
		props[k] = v
	}

	r.HAType = strings.ToLower(cmp.Or(c.get(KeyHAType), c.get(KeyHALegacy)))
	switch r.HAType {
	case "zookeeper":
	case "", "none":
		r.warn(KeyHAType, fmt.Sprintf("%s is not set to zookeeper (it is %q): Flink would not use ZooKeeper for high availability at all", KeyHAType, r.HAType),
			"set "+KeyHAType+": zookeeper")
	default:
		r.warn(KeyHAType, fmt.Sprintf("%s is %q, not zookeeper: Flink would not use ZooKeeper", KeyHAType, r.HAType),
			"set "+KeyHAType+": zookeeper to keep the HA state in ZooKeeper")
	}
	cfg := &r.Config
	cfg.Members = client.SplitMembers(c.renamed(r, KeyQuorum, "recovery.zookeeper.quorum"))
	if len(cfg.Members) == 0 {
		return nil, fmt.Errorf("%w: %s is required (host:port,host:port,...)", ErrConf, KeyQuorum)
	}
	cfg.Root = c.get(KeyRoot)
	cfg.ClusterID = c.renamed(r, KeyClusterID, "high-availability.zookeeper.path.namespace")
	// Flink accepts the root and cluster id without a leading slash.
	for _, p := range []*string{&cfg.Root, &cfg.ClusterID} {
		if *p != "" && !strings.HasPrefix(*p, "/") {
			*p = "/" + *p
		}
	}
	r.StorageDir = c.get(KeyStorageDir)
	if r.StorageDir == "" && r.HAType == "zookeeper" {
		r.warn(KeyStorageDir, KeyStorageDir+" is not set: Flink refuses to start with ZooKeeper HA without it (it holds the job graphs and checkpoints metadata)",
			"set "+KeyStorageDir+" to a durable file system every JobManager reaches (hdfs://, s3://, ...)")
	}
	var err error
	if cfg.SessionTimeout, err = c.duration(KeySessionTimeout); err != nil {
		return nil, err
	}
	if cfg.ConnectionTimeout, err = c.duration(KeyConnectionTimeout); err != nil {
		return nil, err
	}
	if cfg.RetryWait, err = c.duration(KeyRetryWait); err != nil {
		return nil, err
	}
	if v := c.get(KeyMaxRetryAttempts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: %s: %q is not a whole number ≥ 0", ErrConf, KeyMaxRetryAttempts, v)
		}
		cfg.MaxRetryAttempts = n
		if n == 0 {
			cfg.MaxRetryAttempts = -1
		}
	}
	if r.Election.TolerateSuspendedConnections, err = c.bool(KeyTolerateSuspended, false); err != nil {
		return nil, err
	}
	switch strings.ToLower(c.get(KeyACL)) {
	case "", "open":
		cfg.ACL = acl.Open()
	case "creator":
		cfg.ACL = acl.Creator()
	default:
		return nil, fmt.Errorf("%w: %s: %q is not open or creator", ErrConf, KeyACL, c.get(KeyACL))
	}

	if err := c.mapKerberos(r, props); err != nil {
		return nil, err
	}
	if err := c.mapTLS(r, opts, r.warn); err != nil {
		return nil, err
	}
	c.unknownKeys(r)
	return r, nil
}

// get returns a key's value without surrounding space ("" when missing).
func (c *Conf) get(key string) string { return strings.TrimSpace(c.values[key]) }

// renamed returns key's value, else the value of its deprecated name old (with a warning to rename it).
func (c *Conf) renamed(r *Result, key, old string) string {
	if v := c.get(key); v != "" {
		return v
	}
	v := c.get(old)
	if v != "" {
		r.warn(old, old+" is deprecated", "rename it to "+key)
	}
	return v
}

func (c *Conf) duration(key string) (time.Duration, error) {
	v := c.get(key)
	if v == "" {
		return 0, nil
	}
	d, err := ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrConf, key, err)
	}
	return d, nil
}

// bool returns a true/false key's value, def when the key is missing.
func (c *Conf) bool(key string, def bool) (bool, error) {
	v := c.get(key)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		return false, fmt.Errorf("%w: %s: %q is not true or false", ErrConf, key, v)
	}
	return b, nil
}

// mapKerberos decides SASL the way Flink's ZooKeeper client ends up authenticating.
func (c *Conf) mapKerberos(r *Result, props map[string]string) error {
	cfg := &r.Config
	disabled, err := c.bool(KeySASLDisable, false)
	if err != nil {
		return err
	}
	useCache, err := c.bool(KeyKerberosTicketCache, true)
	if err != nil {
		return err
	}
	loginCtx := cmp.Or(c.get(KeySASLLoginContext), sasl.DefaultLoginContext)
	// JAAS section names have no spaces: commas and spaces both separate them.
	r.LoginContexts = strings.FieldsFunc(c.get(KeyKerberosContexts), func(ch rune) bool { return ch == ',' || unicode.IsSpace(ch) })
	keytab, principal := c.get(KeyKerberosKeytab), c.get(KeyKerberosPrincipal)
	if (keytab == "") != (principal == "") {
		return fmt.Errorf("%w: %s and %s go together: set both or neither", ErrConf, KeyKerberosKeytab, KeyKerberosPrincipal)
	}
	cfg.Kerberos = sasl.Config{Login: sasl.Login{Krb5Conf: c.get(KeyKrb5ConfPath), LoginContext: loginCtx}}
	cfg.Kerberos.ServiceName = c.get(KeySASLServiceName)
	c.applyJVM(r, props, kerberosJVMRules)
	inContexts := slices.Contains(r.LoginContexts, loginCtx)
	if disabled {
		cfg.SASL = client.SASLOff
		if keytab != "" && inContexts {
			r.warn(KeySASLDisable, fmt.Sprintf("%s is true although a keytab is configured for login context %s: the JobManagers will connect to ZooKeeper without authentication", KeySASLDisable, loginCtx),
				"set "+KeySASLDisable+": false to authenticate with the keytab, or remove the keytab settings if unauthenticated sessions are intended")
		}
		return nil
	}
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
			r.warn(KeyKerberosContexts, fmt.Sprintf("login context %q is not in %s (%s) and no JAAS file is given: Flink's ZooKeeper client would connect WITHOUT authentication (\"Will not attempt to authenticate using SASL\")",
				loginCtx, KeyKerberosContexts, strings.Join(r.LoginContexts, ",")),
				fmt.Sprintf("add %s to %s, or set %s: true if that is intended", loginCtx, KeyKerberosContexts, KeySASLDisable))
		}
	}
	return nil
}

func (c *Conf) unknownKeys(r *Result) {
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
		msg := "unknown key " + k + ": Flink does not define it, so it has no effect"
		if best, d := closest(k, knownList); d <= 3 {
			r.warn(k, msg, "did you mean "+best+"? Rename the key")
		} else {
			r.warn(k, msg, "remove it, or look up the key you meant in Flink's configuration reference")
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
