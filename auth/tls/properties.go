package zktls

import (
	"crypto/tls"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseProperties parses the java.util.Properties text format: key=value, key: value or "key value";
// # and ! comments; backslash line continuations; \t \n \r \f \uXXXX and \<char> escapes.
func ParseProperties(src string) (map[string]string, error) {
	props := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines: an odd number of trailing backslashes continues the line.
		for endsWithContinuation(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		key, value, err := splitProperty(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		props[key] = value
	}
	return props, nil
}

func endsWithContinuation(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (string, string, error) {
	var key strings.Builder
	i := 0
	for i < len(line) {
		c := line[i]
		if c == '\\' && i+1 < len(line) {
			r, n, err := unescape(line[i:])
			if err != nil {
				return "", "", err
			}
			key.WriteRune(r)
			i += n
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
		key.WriteByte(c)
		i++
	}
	rest := strings.TrimLeft(line[i:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	var val strings.Builder
	for j := 0; j < len(rest); {
		if rest[j] == '\\' && j+1 < len(rest) {
			r, n, err := unescape(rest[j:])
			if err != nil {
				return "", "", err
			}
			val.WriteRune(r)
			j += n
			continue
		}
		r, n := utf8.DecodeRuneInString(rest[j:])
		val.WriteRune(r)
		j += n
	}
	return key.String(), val.String(), nil
}

// unescape decodes the escape at the start of s (which begins with a backslash).
func unescape(s string) (rune, int, error) {
	switch s[1] {
	case 't':
		return '\t', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'u':
		if len(s) < 6 {
			return 0, 0, fmt.Errorf("malformed \\u escape %q", s)
		}
		v, err := strconv.ParseUint(s[2:6], 16, 16)
		if err != nil {
			return 0, 0, fmt.Errorf("malformed \\u escape %q", s[:6])
		}
		return rune(v), 6, nil
	}
	r, n := utf8.DecodeRuneInString(s[1:])
	return r, 1 + n, nil
}

// Properties is what LoadProperties or FromProperties found in ZooKeeper client properties.
type Properties struct {
	// Config is the TLS configuration the zookeeper.ssl.* (and zksecure.ssl.*) keys describe.
	Config Config
	// Secure is zookeeper.client.secure: whether the Java client would use TLS at all.
	Secure bool
	// ClientCnxnSocket is zookeeper.clientCnxnSocket as given ("" when unset). The Java client
	// speaks TLS only with ClientCnxnSocketNetty: with Secure and any other socket it connects in
	// plaintext (see NettySocket).
	ClientCnxnSocket string
	// Set lists the TLS keys that were given (sorted), for reports.
	Set []string
	// Warnings say, key first, what has no effect on a client, and what the Java client would do
	// differently; each is a sentence with what to do.
	Warnings []string
}

// NettySocket reports whether ClientCnxnSocket selects the Java client's Netty socket, its only
// socket that speaks TLS.
func (p *Properties) NettySocket() bool {
	return p.ClientCnxnSocket == "ClientCnxnSocketNetty" || p.ClientCnxnSocket == "org.apache.zookeeper.ClientCnxnSocketNetty"
}

// LoadProperties reads the Java-style ZooKeeper client properties a JVM tool uses (zkCli.sh
// -client-configuration FILE) and maps them with FromProperties. Keys may also be given without the
// "zookeeper." prefix. Passwords become Secrets, never printed.
func LoadProperties(path string) (*Properties, error) {
	b, err := readBounded(path, 1<<20, "client properties file")
	if err != nil {
		return nil, err
	}
	raw, err := ParseProperties(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	props := map[string]string{}
	for k, v := range raw {
		// A file's values are trimmed, as ZKConfig does.
		props[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	for k, v := range raw {
		k = strings.TrimSpace(k)
		if !strings.HasPrefix(k, "zookeeper.") && !strings.HasPrefix(k, "zksecure.") {
			if _, known := clientProperties["zookeeper."+k]; known {
				if _, dup := props["zookeeper."+k]; !dup {
					props["zookeeper."+k] = strings.TrimSpace(v)
				}
			}
			delete(props, k)
		}
	}
	return FromProperties(props, func(string) string { return path })
}

// property describes one client property: what the Java client does with it and how zksecure maps
// it. apply is nil for keys that have no effect on a client.
type property struct {
	apply          func(p *Properties, st *propState, key, v string) error
	noClientEffect string // for keys that do nothing in a client: why
}

// propState carries what several keys decide together.
type propState struct {
	protocol, enabled string
	suites            *cipherChoice
	suitesKey         string
	fips              *bool
	strict            bool
}

// javaBool parses a boolean as ZooKeeper's ZKConfig.getBoolean would, refusing what Java would
// silently read as false ("yes", "1", a typo).
func javaBool(key, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s=%q: want true or false (the Java client reads anything but \"true\" as false)", ErrConfig, key, v)
}

func boolInto(dst func(*Properties, bool)) func(*Properties, *propState, string, string) error {
	return func(p *Properties, _ *propState, key, v string) error {
		b, err := javaBool(key, v)
		if err == nil {
			dst(p, b)
		}
		return err
	}
}

// clientProperties are the client-side TLS keys of ZooKeeper 3.8 and 3.9 (X509Util,
// ClientX509Util, ZKClientConfig), plus zksecure's own.
var clientProperties = map[string]property{
	"zookeeper.client.secure": {apply: boolInto(func(p *Properties, b bool) { p.Secure = b })},
	"zookeeper.clientCnxnSocket": {apply: func(p *Properties, _ *propState, key, v string) error {
		p.ClientCnxnSocket = strings.TrimSpace(v)
		return nil
	}},
	"zookeeper.ssl.protocol": {apply: func(_ *Properties, st *propState, _, v string) error {
		st.protocol = v
		return nil
	}},
	"zookeeper.ssl.enabledProtocols": {apply: func(_ *Properties, st *propState, _, v string) error {
		st.enabled = v
		return nil
	}},
	"zookeeper.ssl.ciphersuites": {apply: func(p *Properties, st *propState, key, v string) error {
		c, err := parseCipherSuites(key, v)
		if err != nil {
			return err
		}
		st.suites, st.suitesKey = &c, key
		p.Warnings = append(p.Warnings, c.warnings...)
		return nil
	}},
	"zookeeper.ssl.keyStore.location": {apply: func(p *Properties, _ *propState, _, v string) error {
		p.Config.CertFile = v
		return nil
	}},
	"zookeeper.ssl.keyStore.type": {apply: storeType(func(p *Properties) *StoreType { return &p.Config.CertType })},
	"zookeeper.ssl.keyStore.password": {apply: func(p *Properties, _ *propState, _, v string) error {
		p.Config.KeyPassword = Secret(v)
		return nil
	}},
	"zookeeper.ssl.keyStore.passwordPath": {apply: func(p *Properties, _ *propState, _, v string) error {
		p.Config.KeyPasswordFile = v
		return nil
	}},
	"zookeeper.ssl.trustStore.location": {apply: func(p *Properties, _ *propState, _, v string) error {
		p.Config.CAFile = v
		return nil
	}},
	"zookeeper.ssl.trustStore.type": {apply: storeType(func(p *Properties) *StoreType { return &p.Config.CAType })},
	"zookeeper.ssl.trustStore.password": {apply: func(p *Properties, _ *propState, _, v string) error {
		p.Config.CAPassword = Secret(v)
		return nil
	}},
	"zookeeper.ssl.trustStore.passwordPath": {apply: func(p *Properties, _ *propState, _, v string) error {
		p.Config.CAPasswordFile = v
		return nil
	}},
	"zookeeper.ssl.hostnameVerification":  {apply: boolInto(func(p *Properties, b bool) { p.Config.NoHostnameVerification = !b })},
	"zookeeper.ssl.allowReverseDnsLookup": {apply: boolInto(func(p *Properties, b bool) { p.Config.AllowReverseDNSLookup = b })},
	"zookeeper.ssl.crl":                   {apply: boolInto(func(p *Properties, b bool) { p.Config.CRL = b })},
	"zookeeper.ssl.ocsp":                  {apply: boolInto(func(p *Properties, b bool) { p.Config.OCSP = b })},
	"zookeeper.fips-mode": {apply: func(_ *Properties, st *propState, key, v string) error {
		b, err := javaBool(key, v)
		st.fips = &b
		return err
	}},
	"zookeeper.ssl.context.supplier.class": {apply: func(_ *Properties, _ *propState, key, v string) error {
		return fmt.Errorf("%w: %s=%s names a Java class that supplies the SSLContext, which zksecure cannot run: describe the stores with zookeeper.ssl.keyStore.* and zookeeper.ssl.trustStore.* instead", ErrConfig, key, v)
	}},
	"zookeeper.ssl.sslProvider": {apply: func(p *Properties, _ *propState, key, v string) error {
		switch strings.TrimSpace(v) {
		case "JDK", "OPENSSL", "OPENSSL_REFCNT":
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s=%s chooses the Java client's TLS engine; zksecure always uses Go's crypto/tls, with the same protocols, suites and checks", key, v))
			return nil
		}
		return fmt.Errorf("%w: %s=%q: want JDK, OPENSSL or OPENSSL_REFCNT (the Java client fails on anything else)", ErrConfig, key, v)
	}},
	"zookeeper.ssl.clientAuth":                      {noClientEffect: "it is the server's client-certificate policy (ssl.clientAuth in zoo.cfg)"},
	"zookeeper.ssl.clientHostnameVerification":      {noClientEffect: "servers use it to verify their clients' names"},
	"zookeeper.ssl.handshakeDetectionTimeoutMillis": {noClientEffect: "it is the server's port-unification timeout"},
	"zookeeper.ssl.authProvider":                    {noClientEffect: "it names the server's x509 authentication provider"},
	"zksecure.ssl.strictHostnames": {apply: func(_ *Properties, st *propState, key, v string) error {
		b, err := javaBool(key, v)
		st.strict = b
		return err
	}},
	"zksecure.ssl.crlFile": {apply: func(p *Properties, _ *propState, _, v string) error {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				p.Config.CRLFiles = append(p.Config.CRLFiles, f)
			}
		}
		return nil
	}},
}

func storeType(field func(*Properties) *StoreType) func(*Properties, *propState, string, string) error {
	return func(p *Properties, _ *propState, key, v string) error {
		t := StoreType(strings.TrimSpace(v))
		if _, err := t.resolve("x"); err != nil {
			return fmt.Errorf("%w: %s=%q: want PEM, PKCS12 or JKS (BCFKS needs Bouncy Castle: convert it to PKCS12)", ErrConfig, key, v)
		}
		*field(p) = t
		return nil
	}
}

// isTLSKey reports whether key is one FromProperties reads or reports on.
func isTLSKey(key string) bool {
	_, ok := clientProperties[key]
	return ok || strings.HasPrefix(key, "zookeeper.ssl.") || strings.HasPrefix(key, "zksecure.ssl.")
}

// FromProperties maps ZooKeeper client properties — the JVM system properties of a Java client
// (-Dkey=value) or the keys of a client configuration file — onto Properties, as ZooKeeper's Java
// client (3.8 and 3.9) applies them; keys other than zookeeper.client.secure,
// zookeeper.clientCnxnSocket, zookeeper.fips-mode, zookeeper.ssl.* and zksecure.ssl.* are not
// looked at. origin names where a key came from for messages ("env.java.opts.jobmanager", a file);
// nil means nothing is added.
//
// A key zksecure does not implement is an error naming it, never ignored; a key that has no effect
// on a client (server-side settings) is a warning. Booleans must be true or false: the Java client
// reads anything else as false, silently. Where ZooKeeper 3.8 and 3.9 differ, the explicit keys
// follow 3.9 (the only line whose client applies enabledProtocols and ciphersuites), and the defaults
// are those that connect to both: TLS 1.2 and 1.3, ZooKeeper's hostname rules, no reverse DNS.
func FromProperties(props map[string]string, origin func(key string) string) (*Properties, error) {
	// where names a key and, for messages, where it came from: "key (from origin)".
	where := func(key string) string {
		if origin == nil {
			return key
		}
		if o := origin(key); o != "" {
			return key + " (from " + o + ")"
		}
		return key
	}
	// from adds where a key came from to an error about it.
	from := func(key string, err error) error {
		if origin != nil {
			if o := origin(key); o != "" {
				return fmt.Errorf("%w (from %s)", err, o)
			}
		}
		return err
	}
	p := &Properties{}
	st := &propState{}
	keys := make([]string, 0, len(props))
	for k := range props {
		if k == "zookeeper.client.secure" || k == "zookeeper.clientCnxnSocket" || k == "zookeeper.fips-mode" || isTLSKey(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	p.Set = keys
	for _, k := range keys {
		v := props[k]
		prop, ok := clientProperties[k]
		switch {
		case ok && prop.apply != nil:
			n := len(p.Warnings)
			if err := prop.apply(p, st, k, v); err != nil {
				return nil, from(k, err)
			}
			for i := n; i < len(p.Warnings); i++ {
				p.Warnings[i] = strings.Replace(p.Warnings[i], k, where(k), 1)
			}
		case ok:
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s has no effect on a client (%s); remove it from the client's settings", where(k), prop.noClientEffect))
		case strings.HasPrefix(k, "zookeeper.ssl.quorum."):
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s has no effect on a client (it configures TLS between ZooKeeper servers); remove it from the client's settings", where(k)))
		default:
			msg := "it is not a ZooKeeper 3.8/3.9 client property, and zksecure does not implement it"
			if best := closestKey(k); best != "" {
				msg += "; did you mean " + best + "?"
			}
			return nil, from(k, fmt.Errorf("%w: %s: %s", ErrConfig, k, msg))
		}
	}
	if err := st.versions(p, where, from); err != nil {
		return nil, err
	}
	switch {
	case st.strict:
		p.Config.HostnameRules = HostnameStrict
	case st.fips != nil && *st.fips:
		p.Config.HostnameRules = HostnameJDK
		if p.Config.AllowReverseDNSLookup {
			p.Warnings = append(p.Warnings, where("zookeeper.ssl.allowReverseDnsLookup")+" has no effect with zookeeper.fips-mode=true (the JDK's rules never use reverse DNS), as in the Java client")
			p.Config.AllowReverseDNSLookup = false
		}
	}
	if p.Config.KeyPassword != "" && p.Config.KeyPasswordFile != "" {
		p.Warnings = append(p.Warnings, where("zookeeper.ssl.keyStore.passwordPath")+" and zookeeper.ssl.keyStore.password are both set; the file wins, as in the Java client")
		p.Config.KeyPassword = ""
	}
	if p.Config.CAPassword != "" && p.Config.CAPasswordFile != "" {
		p.Warnings = append(p.Warnings, where("zookeeper.ssl.trustStore.passwordPath")+" and zookeeper.ssl.trustStore.password are both set; the file wins, as in the Java client")
		p.Config.CAPassword = ""
	}
	if p.Config.CertFile == "" && (p.Config.KeyPassword != "" || p.Config.KeyPasswordFile != "" || p.Config.CertType != "") {
		return nil, fmt.Errorf("%w: zookeeper.ssl.keyStore.password, .passwordPath or .type is set but zookeeper.ssl.keyStore.location is not: give the keystore's location", ErrConfig)
	}
	if p.Config.CAFile == "" && (p.Config.CAPassword != "" || p.Config.CAPasswordFile != "" || p.Config.CAType != "") {
		return nil, fmt.Errorf("%w: zookeeper.ssl.trustStore.password, .passwordPath or .type is set but zookeeper.ssl.trustStore.location is not: give the truststore's location", ErrConfig)
	}
	for _, st := range []struct {
		key, location string
		typ           StoreType
	}{{"zookeeper.ssl.keyStore", p.Config.CertFile, p.Config.CertType}, {"zookeeper.ssl.trustStore", p.Config.CAFile, p.Config.CAType}} {
		if st.location == "" || st.typ != "" {
			continue
		}
		switch strings.ToLower(filepath.Ext(st.location)) {
		case ".jks", ".pem", ".p12", ".bcfks":
		default:
			// The Java client infers the type from these extensions only (KeyStoreFileType), and
			// fails to create its SSL context otherwise.
			return nil, from(st.key+".location", fmt.Errorf("%w: %s.location=%s has no %s.type and the Java client cannot infer one from its extension (it knows .jks, .pem, .p12 and .bcfks) and would fail: set %s.type to PEM, PKCS12 or JKS",
				ErrConfig, st.key, st.location, st.key, st.key))
		}
	}
	if p.Secure && !p.NettySocket() {
		socket := p.ClientCnxnSocket
		if socket == "" {
			socket = "unset, so ClientCnxnSocketNIO"
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s is true but zookeeper.clientCnxnSocket is %s: the Java client speaks TLS only with Netty and would connect in PLAINTEXT; zksecure uses TLS. Set -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
			where("zookeeper.client.secure"), socket))
	}
	return p, nil
}

// versions applies zookeeper.ssl.protocol, zookeeper.ssl.enabledProtocols and the TLS 1.3 part of
// zookeeper.ssl.ciphersuites, as ZooKeeper 3.9's ClientX509Util does: enabledProtocols when set,
// else the one protocol.
func (st *propState) versions(p *Properties, where func(string) string, from func(string, error) error) error {
	c := &p.Config
	const protocol, enabled = "zookeeper.ssl.protocol", "zookeeper.ssl.enabledProtocols"
	switch {
	case st.enabled != "":
		lo, hi, w, err := parseProtocols(where(enabled), st.enabled)
		if err != nil {
			return err
		}
		c.MinVersion, c.MaxVersion = lo, hi
		p.Warnings = append(p.Warnings, w...)
		if st.protocol != "" {
			if _, _, _, err := parseProtocols(protocol, st.protocol); err != nil {
				return from(protocol, err)
			}
		}
	case st.protocol != "":
		lo, hi, w, err := parseProtocols(protocol, st.protocol)
		if err != nil {
			return from(protocol, err)
		}
		if len(w) > 0 {
			return from(protocol, fmt.Errorf("%w: %s=%s: TLS versions below 1.2 are not supported: use TLSv1.2 or TLSv1.3", ErrConfig, protocol, st.protocol))
		}
		c.MinVersion, c.MaxVersion = lo, hi
	}
	if st.suites == nil {
		return nil
	}
	lo, hi := c.MinVersion, c.MaxVersion
	if lo == 0 {
		lo = tls.VersionTLS12
	}
	if hi == 0 {
		hi = tls.VersionTLS13
	}
	if len(st.suites.tls13) == 0 {
		hi = min(hi, tls.VersionTLS12) // no TLS 1.3 suite: the JDK cannot negotiate TLS 1.3
	}
	if len(st.suites.tls12) == 0 {
		lo = max(lo, tls.VersionTLS13) // only TLS 1.3 suites: TLS 1.2 has none to use
	}
	if lo > hi {
		return from(st.suitesKey, fmt.Errorf("%w: %s lists only suites for %s, but the protocols allow only %s: add suites for it, or change the protocols",
			ErrConfig, st.suitesKey, map[bool]string{true: "TLS 1.3", false: "TLS 1.2"}[len(st.suites.tls12) == 0], versionRange(c.MinVersion, c.MaxVersion)))
	}
	c.MinVersion, c.MaxVersion = lo, hi
	c.CipherSuites = st.suites.tls12
	if c.CipherSuites == nil {
		c.CipherSuites = []uint16{} // only TLS 1.3: no TLS 1.2 suite
	}
	return nil
}

func versionRange(lo, hi uint16) string {
	if lo == 0 {
		lo = tls.VersionTLS12
	}
	if hi == 0 {
		hi = tls.VersionTLS13
	}
	if lo == hi {
		return versionName(lo)
	}
	return versionName(lo) + " to " + versionName(hi)
}

// closestKey suggests a known key for a misspelled one.
func closestKey(k string) string {
	best, bestD := "", 4
	for known := range clientProperties {
		if d := editDistance(strings.ToLower(k), strings.ToLower(known)); d < bestD || d == bestD && known < best {
			best, bestD = known, d
		}
	}
	return best
}

func editDistance(a, b string) int {
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
