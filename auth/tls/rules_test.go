package zktls

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testCert makes a certificate signed by parent (self-signed when nil), for the pure-logic tests.
type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func mkCert(t *testing.T, parent *testCert, tmpl *x509.Certificate) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{cert: c, key: key}
}

func testCA(t *testing.T) *testCert {
	return mkCert(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign})
}

func leafCert(t *testing.T, ca *testCert, cn string, dns []string, ips []net.IP) *x509.Certificate {
	return mkCert(t, ca, &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: dns, IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}).cert
}

// Each rule set accepts exactly what its Java (or Go) counterpart accepts, and says by which rule;
// Strict says whether Go's own rules would have accepted it too.
func TestHostnameRules(t *testing.T) {
	ca := testCA(t)
	ip1, ip2 := net.ParseIP("10.0.0.1"), net.ParseIP("10.0.0.2")
	dnsOnly := leafCert(t, ca, "zk1.example.com", []string{"zk1.example.com"}, nil)
	ipOnly := leafCert(t, ca, "zk1.example.com", nil, []net.IP{ip1})
	cnOnly := leafCert(t, ca, "zk1.example.com", nil, nil)
	cnIP := leafCert(t, ca, "10.0.0.1", nil, nil)
	partial := leafCert(t, ca, "x", []string{"zk*.example.com"}, nil)
	reverse := func(_ context.Context, addr string) ([]string, error) {
		if addr == "10.0.0.1" {
			return []string{"zk1.example.com."}, nil
		}
		return nil, errors.New("no PTR")
	}
	type want struct {
		rule   string // "" = refused
		strict bool
	}
	for _, tc := range []struct {
		name   string
		rules  HostnameRules
		rdns   bool
		leaf   *x509.Certificate
		member string
		remote net.IP
		want   want
	}{
		{"dns SAN", HostnameZooKeeper, false, dnsOnly, "zk1.example.com:2281", ip1, want{ruleDNSSAN, true}},
		{"IP SAN for a host name", HostnameZooKeeper, false, ipOnly, "zk1.example.com:2281", ip1, want{ruleIPSAN, false}},
		{"IP SAN for another address", HostnameZooKeeper, false, ipOnly, "zk1.example.com:2281", ip2, want{}},
		{"IP member by IP SAN", HostnameZooKeeper, false, ipOnly, "10.0.0.1:2281", ip1, want{ruleIPSAN, true}},
		{"IP member, reverse DNS off (default)", HostnameZooKeeper, false, dnsOnly, "10.0.0.1:2281", ip1, want{}},
		{"IP member, reverse DNS on", HostnameZooKeeper, true, dnsOnly, "10.0.0.1:2281", ip1, want{ruleReverseDNS, false}},
		{"no SANs: common name", HostnameZooKeeper, false, cnOnly, "zk1.example.com:2281", ip1, want{ruleCommonName, false}},
		{"no SANs: common name is the address", HostnameZooKeeper, false, cnIP, "zk1.example.com:2281", ip1, want{ruleCommonName, false}},
		{"partial wildcard", HostnameZooKeeper, false, partial, "zk7.example.com:2281", ip1, want{ruleDNSSAN, false}},
		{"partial wildcard spans no dot", HostnameZooKeeper, false, partial, "zk7.a.example.com:2281", ip1, want{}},

		{"JDK: dns SAN", HostnameJDK, false, dnsOnly, "zk1.example.com:2281", ip1, want{ruleDNSSAN, true}},
		{"JDK: no IP SAN for a host name", HostnameJDK, false, ipOnly, "zk1.example.com:2281", ip1, want{ruleCommonName, false}},
		{"JDK: common name without DNS SANs", HostnameJDK, false, cnOnly, "zk1.example.com:2281", ip1, want{ruleCommonName, false}},
		{"JDK: IP member by IP SAN", HostnameJDK, false, ipOnly, "10.0.0.1:2281", ip1, want{ruleIPSAN, true}},
		{"JDK: no reverse DNS", HostnameJDK, true, dnsOnly, "10.0.0.1:2281", ip1, want{}},

		{"strict: dns SAN", HostnameStrict, false, dnsOnly, "zk1.example.com:2281", ip1, want{ruleDNSSAN, true}},
		{"strict: no IP SAN for a host name", HostnameStrict, false, ipOnly, "zk1.example.com:2281", ip1, want{}},
		{"strict: no common name", HostnameStrict, false, cnOnly, "zk1.example.com:2281", ip1, want{}},
		{"strict: no reverse DNS", HostnameStrict, true, dnsOnly, "10.0.0.1:2281", ip1, want{}},
		{"strict: IP member by IP SAN", HostnameStrict, false, ipOnly, "10.0.0.1:2281", ip1, want{ruleIPSAN, true}},
		{"strict: no partial wildcard", HostnameStrict, false, partial, "zk7.example.com:2281", ip1, want{}},
	} {
		cl := &Client{cfg: Config{HostnameRules: tc.rules, AllowReverseDNSLookup: tc.rdns, LookupAddr: reverse}}
		m, err := cl.hostnameMatch(context.Background(), tc.member, tc.remote, tc.leaf)
		if tc.want.rule == "" {
			if !errors.Is(err, ErrHostname) {
				t.Errorf("%s: accepted by %s (%v), want ErrHostname", tc.name, m.Rule, err)
			} else if !strings.Contains(err.Error(), tc.member) {
				t.Errorf("%s: %v does not name the member", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if m.Rule != tc.want.rule || m.Strict != tc.want.strict {
			t.Errorf("%s: rule %s strict %v, want %s strict %v", tc.name, m.Rule, m.Strict, tc.want.rule, tc.want.strict)
		}
		if !m.Strict && m.zooKeeperOnly() == m.Rule {
			t.Errorf("%s: no explanation for the ZooKeeper-only rule %s", tc.name, m.Rule)
		}
	}
}

// Java cipher suite names map to Go's; what Go cannot do, and what the JDK disables, is an error
// naming the suite; TLS 1.3 suites decide whether TLS 1.3 (or 1.2) may be used at all.
func TestCipherSuitesAndProtocols(t *testing.T) {
	c, err := parseCipherSuites("k", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, SSL_ECDHE_RSA_WITH_AES_256_CBC_SHA,TLS_EMPTY_RENEGOTIATION_INFO_SCSV")
	if err != nil || len(c.tls12) != 2 || c.tls12[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 || c.tls12[1] != tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA {
		t.Errorf("mapped %v, %v", c.tls12, err)
	}
	for in, mention := range map[string]string{
		"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256":       "does not implement",
		"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384":     "does not implement",
		"SSL_RSA_WITH_3DES_EDE_CBC_SHA":             "JDK disables",
		"TLS_AES_128_GCM_SHA256":                    "TLS_AES_256_GCM_SHA384",
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,RC4": "does not implement",
	} {
		_, err := parseCipherSuites("zookeeper.ssl.ciphersuites", in)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), mention) || !strings.Contains(err.Error(), "zookeeper.ssl.ciphersuites") {
			t.Errorf("%s: %v, want an error mentioning %q", in, err, mention)
		}
	}
	if c, err := parseCipherSuites("k", "TLS_RSA_WITH_AES_128_GCM_SHA256"); err != nil || len(c.warnings) != 1 {
		t.Errorf("insecure but implemented suite: %v, warnings %q", err, c.warnings)
	}

	for _, tc := range []struct {
		props  map[string]string
		lo, hi uint16
		suites int // -1: defaults
		err    string
	}{
		{map[string]string{}, 0, 0, -1, ""},
		{map[string]string{"zookeeper.ssl.protocol": "TLSv1.3"}, tls.VersionTLS13, tls.VersionTLS13, -1, ""},
		{map[string]string{"zookeeper.ssl.protocol": "TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS12, -1, ""},
		{map[string]string{"zookeeper.ssl.protocol": "TLS"}, tls.VersionTLS12, tls.VersionTLS13, -1, ""},
		{map[string]string{"zookeeper.ssl.protocol": "TLSv1.3", "zookeeper.ssl.enabledProtocols": "TLSv1.2,TLSv1.3"}, tls.VersionTLS12, tls.VersionTLS13, -1, ""},
		{map[string]string{"zookeeper.ssl.enabledProtocols": "TLSv1.1,TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS12, -1, ""},
		{map[string]string{"zookeeper.ssl.protocol": "TLSv1.1"}, 0, 0, 0, "names no protocol"},
		{map[string]string{"zookeeper.ssl.enabledProtocols": "TLSv1"}, 0, 0, 0, "names no protocol"},
		{map[string]string{"zookeeper.ssl.ciphersuites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, tls.VersionTLS12, tls.VersionTLS12, 1, ""},
		{map[string]string{"zookeeper.ssl.ciphersuites": strings.Join(tls13Suites, ",")}, tls.VersionTLS13, tls.VersionTLS13, 0, ""},
		{map[string]string{"zookeeper.ssl.protocol": "TLSv1.3", "zookeeper.ssl.ciphersuites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, 0, 0, 0, "lists only suites for TLS 1.2"},
	} {
		p, err := FromProperties(tc.props, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: %v, want %q", tc.props, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.props, err)
			continue
		}
		if p.Config.MinVersion != tc.lo || p.Config.MaxVersion != tc.hi || (tc.suites < 0) != (p.Config.CipherSuites == nil) ||
			tc.suites >= 0 && len(p.Config.CipherSuites) != tc.suites {
			t.Errorf("%v: versions %x-%x suites %v", tc.props, p.Config.MinVersion, p.Config.MaxVersion, p.Config.CipherSuites)
		}
		if _, err := p.Config.Load(); err != nil && !strings.Contains(err.Error(), "system CA pool") {
			t.Errorf("%v: the mapped Config does not load: %v", tc.props, err)
		}
	}
}

// Every client key of ZooKeeper 3.8/3.9 is mapped with the Java client's meaning, an unknown one is
// an error naming it (with the likely intended key), booleans are never read the Java way ("yes"
// silently false), and server-side keys are reported as having no effect.
func TestFromProperties(t *testing.T) {
	p, err := FromProperties(map[string]string{
		"zookeeper.client.secure":                "true",
		"zookeeper.clientCnxnSocket":             "org.apache.zookeeper.ClientCnxnSocketNetty",
		"zookeeper.ssl.keyStore.location":        "/ks.p12",
		"zookeeper.ssl.keyStore.type":            "pkcs12",
		"zookeeper.ssl.keyStore.password":        "secret-1",
		"zookeeper.ssl.trustStore.location":      "/ts.jks",
		"zookeeper.ssl.trustStore.passwordPath":  "/ts.pw",
		"zookeeper.ssl.trustStore.password":      "secret-2",
		"zookeeper.ssl.hostnameVerification":     "false",
		"zookeeper.ssl.allowReverseDnsLookup":    "TRUE",
		"zookeeper.ssl.crl":                      "true",
		"zookeeper.ssl.ocsp":                     "true",
		"zookeeper.ssl.clientAuth":               "need",
		"zookeeper.ssl.quorum.keyStore.location": "/q",
		"zksecure.ssl.crlFile":                   "/a.crl, /b.crl",
		"java.security.krb5.conf":                "/etc/krb5.conf",
	}, func(string) string { return "test" })
	if err != nil {
		t.Fatal(err)
	}
	c := p.Config
	if !p.Secure || !p.NettySocket() || c.CertFile != "/ks.p12" || c.CertType != "pkcs12" || c.KeyPassword != "secret-1" ||
		c.CAFile != "/ts.jks" || c.CAPasswordFile != "/ts.pw" || c.CAPassword != "" || !c.NoHostnameVerification ||
		!c.AllowReverseDNSLookup || !c.CRL || !c.OCSP || len(c.CRLFiles) != 2 || c.CRLFiles[1] != "/b.crl" {
		t.Errorf("mapped %+v", p)
	}
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, "zookeeper.ssl.clientAuth (from test) has no effect") ||
		!strings.Contains(w, "zookeeper.ssl.quorum.keyStore.location (from test) has no effect") || !strings.Contains(w, "the file wins") {
		t.Errorf("warnings %q", p.Warnings)
	}
	if strings.Contains(fmtPrint(p), "secret-1") {
		t.Error("a password is printed")
	}
	for props, mention := range map[string]string{
		"zookeeper.ssl.hostnameVerfication=false":         "did you mean zookeeper.ssl.hostnameVerification",
		"zookeeper.ssl.hostnameVerification=no":           "want true or false",
		"zookeeper.client.secure=yes":                     "reads anything but",
		"zookeeper.ssl.context.supplier.class=com.x.Y":    "which zksecure cannot run",
		"zookeeper.ssl.keyStore.type=BCFKS":               "BCFKS",
		"zookeeper.ssl.sslProvider=BORINGSSL":             "OPENSSL",
		"zookeeper.ssl.keyStore.passwordPath=/pw":         "keyStore.location is not",
		"zksecure.ssl.strictHostname=true":                "did you mean zksecure.ssl.strictHostnames",
		"zookeeper.ssl.ciphersuites=TLS_FOO_WITH_BAR_SHA": "TLS_FOO_WITH_BAR_SHA",
		"zookeeper.ssl.enabledProtocols=TLSv1.4":          "unknown protocol",
	} {
		k, v, _ := strings.Cut(props, "=")
		_, err := FromProperties(map[string]string{k: v}, nil)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), mention) {
			t.Errorf("%s: %v, want an error mentioning %q", props, err, mention)
		}
	}
	// Java semantics of combinations.
	p, _ = FromProperties(map[string]string{"zookeeper.client.secure": "true"}, nil)
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "PLAINTEXT") {
		t.Errorf("secure without Netty: warnings %q", p.Warnings)
	}
	p, _ = FromProperties(map[string]string{"zookeeper.fips-mode": "true", "zookeeper.ssl.allowReverseDnsLookup": "true"}, nil)
	if p.Config.HostnameRules != HostnameJDK || p.Config.AllowReverseDNSLookup {
		t.Errorf("fips-mode: %+v", p.Config)
	}
	p, _ = FromProperties(map[string]string{"zookeeper.fips-mode": "true", "zksecure.ssl.strictHostnames": "true"}, nil)
	if p.Config.HostnameRules != HostnameStrict {
		t.Errorf("strict: %+v", p.Config)
	}
}

func fmtPrint(v any) string {
	var b strings.Builder
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		b.WriteString(strings.TrimSpace(fmt.Sprintf(f, v)))
	}
	return b.String()
}
