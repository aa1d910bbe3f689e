package zktls

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zksecure/zksecure/internal/bounded"
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
		// The escape's characters are never quoted: they may be part of a password.
		if len(s) < 6 {
			return 0, 0, errors.New("malformed \\u escape (want four hex digits after \\u)")
		}
		v, err := strconv.ParseUint(s[2:6], 16, 16)
		if err != nil {
			return 0, 0, errors.New("malformed \\u escape (want four hex digits after \\u)")
		}
		return rune(v), 6, nil
	}
	r, n := utf8.DecodeRuneInString(s[1:])
	return r, 1 + n, nil
}

// Properties is what LoadProperties found in a Java client properties file.
type Properties struct {
	// Config is the TLS configuration the zookeeper.ssl.* keys describe.
	Config Config
	// Secure is zookeeper.client.secure: whether the Java client would use TLS at all.
	Secure bool
	// Warnings list keys that were ignored and why.
	Warnings []string
}

// LoadProperties reads the Java-style ZooKeeper client properties a JVM tool uses
// (-Dzookeeper.client.config=FILE): zookeeper.client.secure, zookeeper.ssl.keyStore.location/.type/
// .password/.passwordPath, zookeeper.ssl.trustStore.* likewise, zookeeper.ssl.hostnameVerification,
// zookeeper.ssl.protocol, zookeeper.ssl.enabledProtocols and zookeeper.ssl.ciphersuites. Keys may also
// be given without the "zookeeper." prefix. Passwords become Secrets, never printed.
func LoadProperties(path string) (*Properties, error) {
	b, err := bounded.ReadFile(path, "client properties file", bounded.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: client properties: %w", ErrConfig, err)
	}
	raw, err := ParseProperties(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	p := &Properties{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(raw[k])
		name := strings.TrimPrefix(k, "zookeeper.")
		bad := func(want string) error {
			return fmt.Errorf("%w: %s: %s=%q: want %s", ErrConfig, path, k, v, want)
		}
		switch name {
		case "client.secure":
			s, err := strconv.ParseBool(v)
			if err != nil {
				return nil, bad("true or false")
			}
			p.Secure = s
		case "ssl.keyStore.location":
			p.Config.CertFile = v
		case "ssl.keyStore.type":
			p.Config.CertType = StoreType(v)
		case "ssl.keyStore.password":
			p.Config.KeyPassword = Secret(raw[k])
		case "ssl.keyStore.passwordPath":
			p.Config.KeyPasswordFile = v
		case "ssl.trustStore.location":
			p.Config.CAFile = v
		case "ssl.trustStore.type":
			p.Config.CAType = StoreType(v)
		case "ssl.trustStore.password":
			p.Config.CAPassword = Secret(raw[k])
		case "ssl.trustStore.passwordPath":
			p.Config.CAPasswordFile = v
		case "ssl.hostnameVerification":
			h, err := strconv.ParseBool(v)
			if err != nil {
				return nil, bad("true or false")
			}
			p.Config.NoHostnameVerification = !h
		case "ssl.protocol", "ssl.enabledProtocols":
			min := uint16(0)
			for _, proto := range strings.Split(v, ",") {
				var ver uint16
				switch strings.TrimSpace(proto) {
				case "TLSv1.2", "TLS":
					ver = tls.VersionTLS12
				case "TLSv1.3":
					ver = tls.VersionTLS13
				case "TLSv1", "TLSv1.1", "SSLv3":
					p.Warnings = append(p.Warnings, fmt.Sprintf("%s lists %s, which zksecure never uses (TLS 1.2 minimum)", k, proto))
					continue
				default:
					return nil, bad("TLSv1.2 or TLSv1.3")
				}
				if min == 0 || ver < min {
					min = ver
				}
			}
			if min > p.Config.MinVersion {
				p.Config.MinVersion = min
			}
		case "ssl.ciphersuites":
			byName := map[string]uint16{}
			for _, cs := range tls.CipherSuites() {
				byName[cs.Name] = cs.ID
			}
			for _, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				if id, ok := byName[name]; ok {
					p.Config.CipherSuites = append(p.Config.CipherSuites, id)
				} else {
					p.Warnings = append(p.Warnings, fmt.Sprintf("%s: cipher suite %s is not supported by Go's TLS (ignored)", k, name))
				}
			}
			if len(p.Config.CipherSuites) == 0 && v != "" {
				return nil, fmt.Errorf("%w: %s: none of the cipher suites in %s is supported", ErrConfig, path, k)
			}
		case "clientCnxnSocket", "ssl.context.supplier.class", "ssl.sslProvider":
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s is a JVM setting; zksecure ignores it", k))
		default:
			if strings.HasPrefix(name, "ssl.") {
				p.Warnings = append(p.Warnings, fmt.Sprintf("%s is not used by zksecure (ignored)", k))
			}
		}
	}
	if p.Config.KeyPassword != "" && p.Config.KeyPasswordFile != "" {
		p.Warnings = append(p.Warnings, "both ssl.keyStore.password and ssl.keyStore.passwordPath are set; using passwordPath")
		p.Config.KeyPassword = ""
	}
	if p.Config.CAPassword != "" && p.Config.CAPasswordFile != "" {
		p.Warnings = append(p.Warnings, "both ssl.trustStore.password and ssl.trustStore.passwordPath are set; using passwordPath")
		p.Config.CAPassword = ""
	}
	return p, nil
}
