package zoocfg

import (
	"strconv"
	"strings"
	"time"

	"github.com/zksecure/zksecure/internal/suggest"
)

// How a key is treated.
type rule int

const (
	passInt  rule = iota + 1 // passed through; a whole number ≥ 0
	passBool                 // passed through; true/false or yes/no
	passText                 // passed through as written
)

// passKeys are ZooKeeper server keys that zk-testenv passes to every member unchanged.
var passKeys = map[string]rule{
	"initLimit": passInt, "syncLimit": passInt, "maxClientCnxns": passInt, "minSessionTimeout": passInt,
	"autopurge.snapRetainCount": passInt, "autopurge.purgeInterval": passInt,
	"globalOutstandingLimit": passInt, "preAllocSize": passInt, "snapCount": passInt, "commitLogCount": passInt,
	"snapSizeLimitInKb": passInt, "txnLogSizeLimitInKb": passInt, "maxCnxns": passInt, "cnxTimeout": passInt,
	"connectToLearnerMasterLimit": passInt, "electionPortBindRetry": passInt, "maxResponseCacheSize": passInt,
	"maxGetChildrenResponseCacheSize": passInt, "quorum.cnxn.threads.size": passInt,
	"leaderServes": passBool, "forceSync": passBool, "syncEnabled": passBool, "standaloneEnabled": passBool,
	"localSessionsEnabled": passBool, "localSessionsUpgradingEnabled": passBool, "audit.enable": passBool,
	"4lw.commands.whitelist": passText,
}

const (
	tlsMaterial = "zk-testenv issues its own TLS material (--tls, or secureClientPort); remove the line"
	quorumSec   = "zk-testenv secures the client side (Kerberos, TLS); quorum authentication and quorum TLS between the members are not in it; remove the line"
)

// refusedKeys cannot be honoured; the reason says what to do.
var refusedKeys = map[string]string{
	"dynamicConfigFile":      "zk-testenv writes one static configuration per member: put the server.X lines into zoo.cfg itself",
	"peerType":               "zk-testenv starts voting members only; remove the line",
	"electionAlg":            "only the default election (3) exists since ZooKeeper 3.4; remove the line",
	"quorumListenOnAllIPs":   "every member binds its own address in zk-testenv (members share their port numbers); remove the line",
	"sslQuorum":              quorumSec,
	"portUnification":        quorumSec,
	"client.portUnification": "zk-testenv keeps the plaintext and TLS ports apart (--plaintext-port, or clientPort beside secureClientPort); remove the line",
	"serverCnxnFactory":      "zk-testenv chooses the connection factory itself (Netty with TLS); remove the line",
	"jaasLoginRenew":         "zk-testenv writes the members' JAAS configuration itself; remove the line",
	"admin.enableServer":     "the AdminServer is off in zk-testenv (the members would share its port 8080): the four-letter words answer instead; remove the line",
	"admin.serverPort":       "the AdminServer is off in zk-testenv (the members would share its port); remove the line",
	"admin.serverAddress":    "the AdminServer is off in zk-testenv; remove the line",
	"admin.commandURL":       "the AdminServer is off in zk-testenv; remove the line",
	"skipACL":                "skipACL turns every ACL check off, and zk-testenv is for secured quorums; remove the line",
}

// refusedPrefixes are families of keys that cannot be honoured.
var refusedPrefixes = []struct{ prefix, reason string }{
	{"ssl.quorum.", quorumSec},
	{"quorum.auth.", quorumSec},
	{"ssl.", tlsMaterial},
	{"metricsProvider.", "no metrics provider is on zk-testenv's classpath; remove the metricsProvider lines"},
	{"group.", "hierarchical quorums (group.X, weight.X) cannot be honoured: zk-testenv's members all vote with weight 1; remove the lines"},
	{"weight.", "hierarchical quorums (group.X, weight.X) cannot be honoured: zk-testenv's members all vote with weight 1; remove the lines"},
}

// knownKeys is every key the parser knows, for "did you mean".
func knownKeys() []string {
	keys := []string{"clientPort", "secureClientPort", "clientPortAddress", "secureClientPortAddress", "tickTime",
		"maxSessionTimeout", "dataDir", "dataLogDir", "reconfigEnabled", "kerberos.removeHostFromPrincipal",
		"kerberos.removeRealmFromPrincipal", "enforce.auth.enabled", "enforce.auth.schemes", "sessionRequireClientSASLAuth",
		"requireClientAuthScheme", "ssl.clientAuth", "server.1", "authProvider.1"}
	for k := range passKeys {
		keys = append(keys, k)
	}
	for k := range refusedKeys {
		keys = append(keys, k)
	}
	return keys
}

// key handles every key but server.X.
func (p *parser) key(e entry) {
	c := p.c
	switch e.key {
	case "clientPort", "secureClientPort":
		port, err := parsePort(e.value)
		if err != nil {
			p.fail(e, "%v", err)
			return
		}
		if e.key == "clientPort" {
			c.ClientPort = port
		} else {
			c.SecureClientPort = port
		}
		return
	case "clientPortAddress", "secureClientPortAddress":
		switch e.value {
		case "0.0.0.0", "::", "127.0.0.1", "localhost":
			p.note("%s=%s (line %d) is replaced: zk-testenv binds every member to its own address", e.key, e.value, e.line)
		default:
			p.fail(e, "zk-testenv binds every member to its own address (its host's, or 127.0.0.1 on localhost); remove the line")
		}
		return
	case "tickTime", "maxSessionTimeout":
		n, err := strconv.Atoi(e.value)
		if err != nil || n <= 0 {
			p.fail(e, "not a number of milliseconds > 0")
			return
		}
		d := time.Duration(n) * time.Millisecond
		if e.key == "tickTime" {
			c.TickTime = d
		} else {
			c.MaxSessionTimeout = d
		}
		return
	case "dataDir", "dataLogDir":
		if e.value == "" {
			p.fail(e, "empty folder; remove the line (zk-testenv then keeps the data in its own folder)")
			return
		}
		if e.key == "dataDir" {
			c.DataDir = absPath(e.value)
		} else {
			c.DataLogDir = absPath(e.value)
		}
		return
	case "reconfigEnabled":
		if b, ok := parseBool(e.value); !ok || b {
			p.fail(e, "dynamic reconfiguration cannot be honoured: zk-testenv writes one static configuration per member; remove the line")
		}
		return
	case "kerberos.removeHostFromPrincipal", "kerberos.removeRealmFromPrincipal", "sessionRequireClientSASLAuth", "enforce.auth.enabled":
		b, ok := parseBool(e.value)
		if !ok {
			p.fail(e, "not true or false")
			return
		}
		switch e.key {
		case "kerberos.removeHostFromPrincipal":
			c.Security.RemoveHostFromPrincipal = b
		case "kerberos.removeRealmFromPrincipal":
			c.Security.RemoveRealmFromPrincipal = b
		case "sessionRequireClientSASLAuth":
			c.Security.EnforceSASL = c.Security.EnforceSASL || b
		case "enforce.auth.enabled":
			p.sec.enforceEnabled, p.sec.enforceLine = b, e.line
		}
		return
	case "enforce.auth.schemes", "requireClientAuthScheme":
		if !strings.EqualFold(e.value, "sasl") {
			p.fail(e, "zk-testenv enforces SASL only; write %s=sasl or remove the line", e.key)
			return
		}
		if e.key == "requireClientAuthScheme" {
			c.Security.EnforceSASL = true
		} else {
			p.sec.enforceSchemesSASL = true
		}
		return
	case "ssl.clientAuth":
		switch v := strings.ToLower(e.value); v {
		case "need", "want", "none":
			c.Security.ClientAuth = v
		default:
			p.fail(e, "want need, want or none")
		}
		return
	}
	if strings.HasPrefix(e.key, "authProvider.") {
		switch e.value {
		case "org.apache.zookeeper.server.auth.SASLAuthenticationProvider":
			p.note("%s (line %d): zk-testenv configures SASL itself (unless --no-sasl)", e.key, e.line)
		case "org.apache.zookeeper.server.auth.X509AuthenticationProvider":
			p.note("%s (line %d): zk-testenv configures x509 itself (with TLS)", e.key, e.line)
		default:
			p.fail(e, "zk-testenv configures the SASL and x509 providers only; remove the line")
		}
		return
	}
	if r, ok := passKeys[e.key]; ok {
		p.pass(e, r)
		return
	}
	if strings.HasPrefix(e.key, "autopurge.") {
		p.fail(e, "unknown autopurge key: ZooKeeper has autopurge.snapRetainCount and autopurge.purgeInterval")
		return
	}
	if reason, ok := refusedKeys[e.key]; ok {
		if e.key == "admin.enableServer" {
			if b, ok := parseBool(e.value); ok && !b {
				return // it is off anyway
			}
		}
		if e.key == "skipACL" || e.key == "quorumListenOnAllIPs" || e.key == "sslQuorum" || e.key == "portUnification" {
			if b, ok := parseBool(e.value); ok && !b {
				return
			}
		}
		p.fail(e, "cannot be honoured: %s", reason)
		return
	}
	for _, rp := range refusedPrefixes {
		if strings.HasPrefix(e.key, rp.prefix) {
			p.fail(e, "cannot be honoured: %s", rp.reason)
			return
		}
	}
	if best := suggest.Closest(e.key, knownKeys(), 3); best != "" {
		p.fail(e, "unknown key %s: did you mean %s?", e.key, best)
		return
	}
	p.fail(e, "unknown key %s: zk-testenv does not know how to honour it; remove the line", e.key)
}

func (p *parser) pass(e entry, r rule) {
	switch r {
	case passInt:
		if n, err := strconv.Atoi(e.value); err != nil || n < 0 {
			p.fail(e, "not a whole number ≥ 0")
			return
		}
	case passBool:
		if _, ok := parseBool(e.value); !ok {
			p.fail(e, "not true or false (or yes or no)")
			return
		}
	}
	v := e.value
	if e.key == "4lw.commands.whitelist" {
		v = withSrvr(v)
		if v != e.value {
			p.note("4lw.commands.whitelist (line %d) gets srvr added: zk-testenv asks every member srvr whether it serves", e.line)
		}
	}
	p.c.Pass = append(p.c.Pass, Entry{Key: e.key, Value: v, Line: e.line})
}

// withSrvr adds srvr to a four-letter-word whitelist that lacks it.
func withSrvr(list string) string {
	for _, w := range strings.Split(list, ",") {
		if w = strings.TrimSpace(w); w == "*" || w == "srvr" {
			return list
		}
	}
	if strings.TrimSpace(list) == "" {
		return "srvr"
	}
	return list + ",srvr"
}

// parseBool reads ZooKeeper's booleans: true/false, and yes/no for the older keys.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes":
		return true, true
	case "false", "no":
		return false, true
	}
	return false, false
}
