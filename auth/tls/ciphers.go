package zktls

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
)

// javaDefaultCipherSuites is ZooKeeper's default client cipher list on Java 9+ (X509Util: the GCM
// suites, then CBC), as far as Go implements it without marking it insecure. Go does not implement
// TLS_ECDHE_*_WITH_AES_256_CBC_SHA384 and counts the *_CBC_SHA256 suites as insecure (no Lucky13
// countermeasures), so those three are left out; a server that accepts the Java client's defaults
// accepts the GCM suites. TLS 1.3 suites are not configurable in Go (all three are always offered,
// as on Java's default list).
var javaDefaultCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
}

// tls13Suites are the TLS 1.3 suites by their (IANA = Java) names; Go always enables all three.
var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// cipherChoice is what a Java cipher suite list (zookeeper.ssl.ciphersuites) means for Go.
type cipherChoice struct {
	tls12    []uint16 // TLS 1.0–1.2 suites, in the listed order
	tls13    []string // TLS 1.3 suites listed
	warnings []string
}

// parseCipherSuites maps a comma-separated list of Java (IANA) cipher suite names onto Go's. A name
// Go does not implement, or one the JDK disables too (RC4, 3DES, NULL, anonymous, export), is an
// error naming it; insecure suites Go still implements are used, with a warning.
func parseCipherSuites(key, list string) (cipherChoice, error) {
	var c cipherChoice
	secure, insecure := map[string]uint16{}, map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		secure[cs.Name] = cs.ID
	}
	for _, cs := range tls.InsecureCipherSuites() {
		insecure[cs.Name] = cs.ID
	}
	for _, raw := range strings.Split(list, ",") {
		name := strings.TrimSpace(raw)
		if name == "" {
			continue
		}
		// Java accepts the legacy SSL_ prefix for the same suites.
		goName := name
		if rest, ok := strings.CutPrefix(name, "SSL_"); ok {
			goName = "TLS_" + rest
		}
		switch {
		case goName == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV":
			// A signalling value, not a suite: Go always signals secure renegotiation.
		case slices.Contains(tls13Suites, goName):
			c.tls13 = append(c.tls13, goName)
		case secure[goName] != 0:
			c.tls12 = append(c.tls12, secure[goName])
		case strings.Contains(goName, "_RC4_") || strings.Contains(goName, "_3DES_") || strings.Contains(goName, "_NULL_") ||
			strings.Contains(goName, "_anon_") || strings.Contains(goName, "_EXPORT") || strings.Contains(goName, "_DES_"):
			return c, fmt.Errorf("%w: %s lists %s, which the JDK disables (jdk.tls.disabledAlgorithms) and zksecure refuses: remove it", ErrConfig, key, name)
		case insecure[goName] != 0:
			c.tls12 = append(c.tls12, insecure[goName])
			c.warnings = append(c.warnings, fmt.Sprintf("%s lists %s, which Go counts as insecure (no forward secrecy, or CBC without Lucky13 countermeasures); it is used because it is listed", key, name))
		default:
			return c, fmt.Errorf("%w: %s lists %s, which Go's TLS does not implement (Go implements: %s): remove it or replace it by one of those",
				ErrConfig, key, name, strings.Join(goSuiteNames(), ", "))
		}
	}
	if len(c.tls12) == 0 && len(c.tls13) == 0 {
		return c, fmt.Errorf("%w: %s lists no cipher suite", ErrConfig, key)
	}
	if len(c.tls13) > 0 && len(c.tls13) < len(tls13Suites) {
		var missing []string
		for _, s := range tls13Suites {
			if !slices.Contains(c.tls13, s) {
				missing = append(missing, s)
			}
		}
		return c, fmt.Errorf("%w: %s lists the TLS 1.3 suites %s but not %s: Go's TLS 1.3 always offers all three (its suites cannot be restricted); list all three, or none to turn TLS 1.3 off",
			ErrConfig, key, strings.Join(c.tls13, ", "), strings.Join(missing, ", "))
	}
	return c, nil
}

func goSuiteNames() []string {
	var out []string
	for _, cs := range tls.CipherSuites() {
		out = append(out, cs.Name)
	}
	return out
}

// parseProtocols maps Java protocol names (zookeeper.ssl.protocol, zookeeper.ssl.enabledProtocols)
// to the lowest and highest TLS version. "TLS" (the JDK's generic context) means 1.2 and 1.3. TLS 1.0
// and 1.1 (and SSLv3) are never used: listed beside 1.2 or 1.3 they are dropped with a warning, as
// the JDK drops them (jdk.tls.disabledAlgorithms); listed alone they are an error.
func parseProtocols(key, list string) (lo, hi uint16, warnings []string, err error) {
	for _, raw := range strings.Split(list, ",") {
		p := strings.TrimSpace(raw)
		var vlo, vhi uint16
		switch p {
		case "":
			continue
		case "TLSv1.2":
			vlo, vhi = tls.VersionTLS12, tls.VersionTLS12
		case "TLSv1.3":
			vlo, vhi = tls.VersionTLS13, tls.VersionTLS13
		case "TLS":
			vlo, vhi = tls.VersionTLS12, tls.VersionTLS13
		case "TLSv1", "TLSv1.1", "SSLv3", "SSLv2Hello":
			warnings = append(warnings, fmt.Sprintf("%s lists %s, which zksecure never uses (TLS 1.2 is the minimum; the JDK disables it too)", key, p))
			continue
		default:
			return 0, 0, nil, fmt.Errorf("%w: %s=%s: unknown protocol %q (want TLSv1.2, TLSv1.3 or TLS)", ErrConfig, key, list, p)
		}
		if lo == 0 || vlo < lo {
			lo = vlo
		}
		if vhi > hi {
			hi = vhi
		}
	}
	if lo == 0 {
		return 0, 0, nil, fmt.Errorf("%w: %s=%s names no protocol zksecure uses: want TLSv1.2, TLSv1.3 or both", ErrConfig, key, list)
	}
	return lo, hi, warnings, nil
}

// versionName is the Java name of a TLS version.
func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}
