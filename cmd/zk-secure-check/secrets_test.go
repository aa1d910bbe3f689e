package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	krbkeytab "github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/flinkconf"
	"github.com/zksecure/zksecure/preflight"
	"github.com/zksecure/zksecure/testenv"
)

// Known secrets, planted in every input a user gives zksecure.
const (
	secWrongPw   = "Wr0ngPass-5ecret-71a2"   // a wrong key/keystore password (still a secret: often a near miss)
	secStorePw   = "St0rePass-5ecret-93bd"   // a truststore password
	secJAAS      = "JaasOpt-5ecret-4c1e"     // a JAAS option value (DigestLoginModule's password)
	secFlink     = "FlinkLine-5ecret-8e0f"   // values of Flink's secret keys and malformed lines
	secProps     = "PropsPw-5ecret-d00d"     // a password in Java client properties
	secEscape    = "EscTail-5ecret-6b6b"     // the rest of a password after a malformed \u escape
	secKeytabKey = "KTKEY-5ecret-0123456789" // raw key bytes in a planted keytab
)

// secretScan collects every text zksecure produced and fails the test if one holds a secret: as
// is, in hex or in base64 (how bytes usually leak).
type secretScan struct {
	secrets [][]byte
}

func (s *secretScan) add(b []byte) {
	if len(b) >= 8 {
		s.secrets = append(s.secrets, b)
	}
}

func (s *secretScan) check(t *testing.T, where, text string) {
	t.Helper()
	for _, sec := range s.secrets {
		for _, form := range []string{string(sec), hex.EncodeToString(sec), strings.ToUpper(hex.EncodeToString(sec)), base64.StdEncoding.EncodeToString(sec)} {
			if strings.Contains(text, form) {
				t.Errorf("%s leaks a secret (%q):\n%s", where, form, text)
			}
		}
	}
}

// call runs f, turning a panic into text to be checked (and a failure: nothing may panic on input).
func (s *secretScan) call(t *testing.T, where string, f func() error) string {
	t.Helper()
	var text string
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("%s panicked: %v", where, p)
				text = fmt.Sprint(p)
			}
		}()
		if err := f(); err != nil {
			text = err.Error()
			// The full error, with every wrapped detail a caller could print (%+v, %#v).
			text += "\n" + fmt.Sprintf("%+v\n%#v", err, err)
		}
	}()
	s.check(t, where, text)
	return text
}

// debugLogger captures every record at Debug and above.
func debugLogger() (*slog.Logger, *bytes.Buffer, *sync.Mutex) {
	var buf bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf, &mu
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// plantedKeytab is a well-formed keytab for flink/jm1 whose AES-256 key is key (so the KDC rejects
// it); truncated, its entry claims more bytes than the file has (gokrb5 quotes such a file whole).
func plantedKeytab(principal, realm string, key []byte, truncated bool) []byte {
	var e []byte
	comps := strings.Split(principal, "/")
	e = binary.BigEndian.AppendUint16(e, uint16(len(comps)))
	e = binary.BigEndian.AppendUint16(e, uint16(len(realm)))
	e = append(e, realm...)
	for _, c := range comps {
		e = binary.BigEndian.AppendUint16(e, uint16(len(c)))
		e = append(e, c...)
	}
	e = binary.BigEndian.AppendUint32(e, 1) // KRB5_NT_PRINCIPAL
	e = binary.BigEndian.AppendUint32(e, 0) // time stamp
	e = append(e, 1)                        // kvno
	e = binary.BigEndian.AppendUint16(e, 18)
	e = binary.BigEndian.AppendUint16(e, uint16(len(key)))
	e = append(e, key...)
	e = binary.BigEndian.AppendUint32(e, 1)
	n := len(e)
	if truncated {
		n += 100
	}
	out := binary.BigEndian.AppendUint32([]byte{5, 2}, uint32(n))
	return append(out, e...)
}

// No secret reaches an error, a Debug log record, the checker's text or JSON, or a panic message,
// across every failure path the planted inputs provoke: key and store passwords (files, values,
// environment, properties, malformed escapes), keytab bytes (real and planted, well-formed and
// broken), ticket caches, JAAS options (valid and broken files), Flink lines (secret keys, malformed
// lines, JVM options, nested YAML).
func TestNoSecretAnywhere(t *testing.T) {
	testEnv.Require(t)
	ctx := context.Background()
	scan := &secretScan{}
	for _, s := range []string{secWrongPw, secStorePw, secJAAS, secFlink, secProps, secEscape, secKeytabKey, testenv.KeyPassword} {
		scan.add([]byte(s))
	}
	// The real keys of the keytab the checker logs in with.
	kt := krbkeytab.New()
	if b, err := os.ReadFile(keytabs["flink/jm1"]); err != nil || kt.Unmarshal(b) != nil {
		t.Fatalf("reading the test keytab: %v", err)
	}
	for _, e := range kt.Entries {
		scan.add(e.Key.KeyValue)
	}
	keyBytes := []byte(secKeytabKey + "-------------") // 32 bytes: an AES-256 key
	scan.add(keyBytes)

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wrongPwFile := write("wrong.pw", []byte(secWrongPw+"\n"))
	plantedKT := write("planted.keytab", plantedKeytab("flink/jm1", kdc.Realm, keyBytes, false))
	brokenKT := write("broken.keytab", plantedKeytab("flink/jm1", kdc.Realm, keyBytes, true))
	brokenCC := write("broken.ccache", append([]byte{5, 4, 0, 12}, append([]byte(secKeytabKey), 0xff, 0xff, 0xff)...))
	hugeJKS := write("huge.jks", []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 'a',
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})

	jaasOptions := fmt.Sprintf(`Client {
  com.sun.security.auth.module.Krb5LoginModule required
    useKeyTab=true keyTab="%s" principal="%s" storeKey=true password="%s";
};
Digest {
  org.apache.zookeeper.server.auth.DigestLoginModule required username="flink" password="%s";
};
`, keytabs["flink/jm1"], kdc.Principal("flink/jm1"), secJAAS, secJAAS)
	goodJAAS := write("good-jaas.conf", []byte(jaasOptions))
	brokenJAAS := map[string]string{
		"quoted value where a module is expected": `Client { "` + secJAAS + `" };`,
		"unquoted value with a space":             `Client { M required password=` + secJAAS + ` ` + secJAAS + `; };`,
		"unterminated quoted value":               `Client { M required password="` + secJAAS + "\n};",
		"quoted value as section name":            `"` + secJAAS + `" { M required; };`,
		"quoted value instead of an option":       `Client { M required "` + secJAAS + `"; };`,
		"no module section":                       `Digest { org.apache.zookeeper.server.auth.DigestLoginModule required password="` + secJAAS + `"; };`,
	}

	propsFile := func(name, keyPw, trustPw string) string {
		return write(name, []byte("zookeeper.client.secure=true\n"+
			"zookeeper.ssl.keyStore.location="+pki.Client.PKCS12File+"\nzookeeper.ssl.keyStore.type=PKCS12\n"+
			"zookeeper.ssl.keyStore.password="+keyPw+"\n"+
			"zookeeper.ssl.trustStore.location="+pki.TrustStorePKCS12+"\nzookeeper.ssl.trustStore.type=PKCS12\n"+
			"zookeeper.ssl.trustStore.password="+trustPw+"\n"))
	}
	wrongProps := propsFile("wrong.properties", secProps, secStorePw)
	escapes := map[string]string{}
	// Four characters after \u that are not hex: an error that quotes the escape shows them.
	for i, esc := range []string{`\u12zz`, `\uq9x7`, `\uZZ`, `\u1`, `\u`} {
		escapes[esc] = propsFile(fmt.Sprintf("escape%d.properties", i), "ab"+esc+secEscape, secStorePw)
	}

	flinkLines := "high-availability.type: zookeeper\n" +
		"high-availability.storageDir: file:///tmp/ha\n" +
		"high-availability.zookeeper.quorum: " + servers[srvGood].Members[0].PlainAddr() + "\n" +
		"high-availability.cluster-id: /secrets\n" +
		"security.kerberos.login.keytab: " + keytabs["flink/jm1"] + "\n" +
		"security.kerberos.login.principal: " + kdc.Principal("flink/jm1") + "\n" +
		"security.kerberos.login.contexts: Client\n" +
		"security.kerberos.krb5-conf.path: " + kdc.Krb5Conf + "\n" +
		"security.ssl.keystore-password: " + secFlink + "\n" +
		"security.ssl.key-password:" + secFlink + "\n" + // no space: skipped by Flink, warned about
		secFlink + "\n" + // a bare secret on a line of its own
		"s3.secret-key=" + secFlink + "\n" +
		"zookeeper.sasl.pasword: " + secFlink + "\n" + // a misspelled key with a secret value
		"security.ssl.truststore-password: \n" +
		"env.java.opts.jobmanager: -Dzookeeper.ssl.keyStore.password=" + secFlink + " -Djavax.net.ssl.trustStorePassword=" + secFlink + "\n"
	flinkConf := write("flink-conf.yaml", []byte(flinkLines))
	nested := write("config.yaml", []byte("security:\n  ssl:\n    keystore-password: "+secFlink+"\n    key-password: ["+secFlink+"\n"))
	nestedOK := write("nested.yaml", []byte("high-availability:\n  type: zookeeper\n  zookeeper:\n    quorum: zk:2181\nsecurity:\n  ssl:\n    keystore-password: "+secFlink+"\n"))

	// The libraries, directly.
	libraries := map[string]func(t *testing.T) error{}
	for name, cfg := range map[string]zktls.Config{
		"encrypted key, wrong password file":  {CertFile: pki.Client.CertFile, KeyFile: pki.Client.EncryptedKeyFile, KeyPasswordFile: wrongPwFile, CAFile: pki.CAFile},
		"encrypted key, wrong password value": {CertFile: pki.Client.CertFile, KeyFile: pki.Client.EncryptedKeyFile, KeyPassword: secWrongPw, CAFile: pki.CAFile},
		"encrypted key, wrong password env":   {CertFile: pki.Client.CertFile, KeyFile: pki.Client.EncryptedKeyFile, KeyPasswordEnv: "ZKSECURE_TEST_WRONG_PW", CAFile: pki.CAFile},
		"PKCS#12 keystore, wrong password":    {CertFile: pki.Client.PKCS12File, KeyPassword: secWrongPw, CAFile: pki.CAFile},
		"PKCS#12 truststore, wrong password":  {CAFile: pki.TrustStorePKCS12, CAPassword: secStorePw},
		"crafted JKS keystore":                {CertFile: hugeJKS, KeyPassword: secWrongPw},
		"crafted JKS truststore":              {CAFile: hugeJKS, CAPassword: secStorePw},
		"two password sources":                {CertFile: pki.Client.PKCS12File, KeyPassword: secWrongPw, KeyPasswordFile: wrongPwFile},
		"password file as keystore":           {CertFile: wrongPwFile, KeyPassword: secWrongPw},
		"correct password, PEM":               {CertFile: pki.Client.CertFile, KeyFile: pki.Client.EncryptedKeyFile, KeyPassword: testenv.KeyPassword, CAFile: pki.CAFile},
	} {
		libraries["zktls.Load: "+name] = func(t *testing.T) error {
			c, err := cfg.Load()
			if err == nil {
				scan.check(t, name+": loaded config", fmt.Sprintf("%v %+v %#v", cfg, cfg, c))
			}
			return err
		}
	}
	t.Setenv("ZKSECURE_TEST_WRONG_PW", secWrongPw)
	libraries["zktls.LoadProperties: wrong passwords"] = func(t *testing.T) error {
		p, err := zktls.LoadProperties(wrongProps)
		if err == nil {
			scan.check(t, "properties", fmt.Sprintf("%v %+v %#v", p, p, p))
			_, err = p.Config.Load()
		}
		return err
	}
	for esc, path := range escapes {
		libraries["zktls.LoadProperties: malformed escape "+esc] = func(t *testing.T) error {
			_, err := zktls.LoadProperties(path)
			if err == nil {
				t.Errorf("%s: no error", esc)
			} else if tail := strings.TrimPrefix(esc, `\u`); (len(tail) == 4 && strings.Contains(err.Error(), tail)) || strings.Contains(err.Error(), secEscape) {
				t.Errorf("%s: the escape's characters are echoed: %v", esc, err)
			}
			return err
		}
	}
	kerberos := func(l sasl.Login) func(t *testing.T) error {
		return func(t *testing.T) error {
			log, buf, mu := debugLogger()
			l.Krb5Conf = kdc.Krb5Conf
			a, err := sasl.New(sasl.Config{Login: l, Logger: log})
			if err == nil {
				err = a.Login(ctx)
				scan.check(t, "the authenticator, printed", fmt.Sprintf("%v %+v", a, a))
				a.Close()
			}
			mu.Lock()
			scan.check(t, "sasl Debug log", buf.String())
			mu.Unlock()
			return err
		}
	}
	libraries["sasl: planted keytab, key the KDC rejects"] = kerberos(sasl.Login{Principal: "flink/jm1", Keytab: plantedKT})
	libraries["sasl: malformed keytab"] = kerberos(sasl.Login{Principal: "flink/jm1", Keytab: brokenKT})
	libraries["sasl: malformed ticket cache"] = kerberos(sasl.Login{TicketCache: brokenCC})
	libraries["sasl: empty ticket cache"] = kerberos(sasl.Login{TicketCache: write("empty.ccache", nil)})
	libraries["sasl: JAAS with secret options"] = kerberos(sasl.Login{JAASFile: goodJAAS})
	libraries["sasl: JAAS without the section"] = kerberos(sasl.Login{JAASFile: goodJAAS, LoginContext: "Nope"})
	for name, src := range brokenJAAS {
		path := write(strings.ReplaceAll(name, " ", "-")+".jaas", []byte(src))
		libraries["sasl: broken JAAS, "+name] = kerberos(sasl.Login{JAASFile: path})
	}
	for name, path := range map[string]string{"flat": flinkConf, "nested, broken": nested, "nested": nestedOK} {
		libraries["flinkconf: "+name] = func(t *testing.T) error {
			c, err := flinkconf.Load(path)
			if err != nil {
				return err
			}
			r, err := c.ClientConfig(flinkconf.Options{})
			if err == nil {
				scan.check(t, "flinkconf warnings", fmt.Sprintf("%v %+v", r.Warnings, r.Warnings))
			}
			return err
		}
	}
	libraries["client.Connect: wrong key password"] = func(t *testing.T) error {
		log, buf, mu := debugLogger()
		c, err := client.Connect(ctx, client.Config{Members: []string{servers[srvGood].Members[0].SecureAddr()}, Logger: log,
			TLS: &zktls.Config{CertFile: pki.Client.CertFile, KeyFile: pki.Client.EncryptedKeyFile, KeyPasswordFile: wrongPwFile, CAFile: pki.CAFile}})
		if c != nil {
			c.Close()
		}
		mu.Lock()
		scan.check(t, "client Debug log", buf.String())
		mu.Unlock()
		return err
	}
	libraries["client.Connect: TLS and SASL pass"] = func(t *testing.T) error {
		log, buf, mu := debugLogger()
		c, err := client.Connect(ctx, client.Config{Members: []string{servers[srvGood].Members[0].SecureAddr()}, Logger: log,
			ClusterID: "/secrets-client", SASL: client.SASLKerberos,
			Kerberos: sasl.Config{Login: sasl.Login{Principal: kdc.Principal("flink/jm1"), Keytab: keytabs["flink/jm1"], Krb5Conf: kdc.Krb5Conf}},
			TLS:      &zktls.Config{CertFile: pki.Client.CertFile, KeyFile: pki.Client.EncryptedKeyFile, KeyPassword: testenv.KeyPassword, CAFile: pki.CAFile}})
		if err == nil {
			_, err = c.Identities(ctx)
			scan.check(t, "the client, printed", fmt.Sprintf("%v %+v", c, c))
			c.Close()
		}
		mu.Lock()
		scan.check(t, "client Debug log", buf.String())
		mu.Unlock()
		return err
	}
	for name, f := range libraries {
		t.Run("library/"+name, func(t *testing.T) {
			scan.call(t, name, func() error { return f(t) })
		})
	}

	// The checker, with text, JSON and a Debug log of every library it drives.
	checker := map[string][]string{
		"flink-conf with secrets, TLS and SASL pass": {"--flink-conf", flinkConf, "--quorum", servers[srvGood].Members[0].SecureAddr(),
			"--tls-ca", pki.CAFile, "--tls-cert", pki.Client.CertFile, "--tls-key", pki.Client.EncryptedKeyFile, "--tls-key-password-file", pki.Client.PasswordFile},
		"wrong key password":           args(q(srvGood, true), kerberosArgs("flink/jm1"), []string{"--tls-ca", pki.CAFile, "--tls-cert", pki.Client.CertFile, "--tls-key", pki.Client.EncryptedKeyFile, "--tls-key-password-file", wrongPwFile}),
		"properties, wrong passwords":  args(q(srvGood, true), kerberosArgs("flink/jm1"), []string{"--tls-properties", wrongProps}),
		"properties, malformed escape": args(q(srvGood, true), []string{"--tls-properties", escapes[`\u12zz`]}),
		"JAAS with secret options":     args(q(srvGood, false), []string{"--jaas", goodJAAS, "--krb5-conf", kdc.Krb5Conf}),
		"broken JAAS":                  args(q(srvGood, false), []string{"--jaas", write("broken.jaas", []byte(brokenJAAS["unquoted value with a space"])), "--krb5-conf", kdc.Krb5Conf}),
		"planted keytab":               args(q(srvGood, false), []string{"--principal", kdc.Principal("flink/jm1"), "--keytab", plantedKT, "--krb5-conf", kdc.Krb5Conf}),
		"malformed keytab":             args(q(srvGood, false), []string{"--principal", kdc.Principal("flink/jm1"), "--keytab", brokenKT, "--krb5-conf", kdc.Krb5Conf}),
		"crafted JKS":                  args(q(srvGood, true), []string{"--tls-cert", hugeJKS, "--tls-key-password-file", wrongPwFile}),
		"broken nested config":         {"--flink-conf", nested, "--quorum", servers[srvGood].Members[0].PlainAddr()},
	}
	for name, a := range checker {
		t.Run("checker/"+name, func(t *testing.T) {
			t.Parallel()
			f, err := parse(append(a, "--timeout", "60s"), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			var opts *preflight.Options
			scan.call(t, name+": options (exit 2 message)", func() error { opts, err = options(f); return err })
			if opts == nil {
				return
			}
			log, buf, mu := debugLogger()
			opts.Logger = log
			var text, js bytes.Buffer
			scan.call(t, name+": run", func() error {
				rep := preflight.Run(ctx, *opts)
				rep.WriteText(&text)
				return rep.WriteJSON(&js)
			})
			scan.check(t, name+": text", text.String())
			scan.check(t, name+": JSON", js.String())
			mu.Lock()
			scan.check(t, name+": Debug log", buf.String())
			mu.Unlock()
			if name == "flink-conf with secrets, TLS and SASL pass" && !strings.Contains(text.String(), "[PASS sasl") {
				t.Errorf("the passing run did not authenticate:\n%s", text.String())
			}
		})
	}
}
