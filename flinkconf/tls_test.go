package flinkconf

import (
	"errors"
	"strings"
	"testing"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

func flat(lines ...string) *Conf {
	return ParseFlat([]byte("high-availability.type: zookeeper\nhigh-availability.zookeeper.quorum: zk1:2281\nhigh-availability.storageDir: file:///ha\n" +
		strings.Join(lines, "\n") + "\n"))
}

func warningsOf(r *Result) string {
	var b strings.Builder
	for _, w := range r.Warnings {
		b.WriteString(w.Key + ": " + w.String() + "\n")
	}
	return b.String()
}

// The JobManager's JVM options in the order Flink's scripts build the command line: default opts,
// env.java.opts.all (env.java.opts only when .all is unset), then the JobManager's; a later -D wins.
func TestJVMOptionPrecedence(t *testing.T) {
	c := flat(
		"env.java.default-opts.all: -Da=default -Db=default",
		"env.java.opts: -Da=deprecated -Dc=deprecated",
		"env.java.opts.all: -Db=all",
		"env.java.opts.jobmanager: -Dd=jm",
		`env.java.default-opts.jobmanager: "-Dd=jm-default -De=y"`,
	)
	props := c.JVMProperties()
	for k, want := range map[string]string{"a": "default", "b": "all", "d": "jm", "e": "y"} {
		if props[k] != want {
			t.Errorf("-D%s = %q, want %q", k, props[k], want)
		}
	}
	if _, ok := props["c"]; ok {
		t.Error("env.java.opts applied although env.java.opts.all is set")
	}
	if p := flat("env.java.opts: -Dc=deprecated").JVMProperties(); p["c"] != "deprecated" {
		t.Errorf("env.java.opts alone: %v", p)
	}
}

// TLS only in the JVM options: zookeeper.client.secure=true makes a TLS client from the
// zookeeper.ssl.* options, whose files must load; without it Flink's client is plaintext, and
// zksecure says so; settings Java would not apply are reported, not taken.
func TestTLSFromJVMOptions(t *testing.T) {
	pki, err := testenv.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	secure := "-Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty"
	ca := pki.CAFile + " -Dzookeeper.ssl.trustStore.type=PEM"
	c := flat("env.java.opts.all: "+secure+" -Dzookeeper.ssl.trustStore.location="+ca,
		"env.java.opts.jobmanager: -Dzookeeper.ssl.keyStore.location="+pki.Client.PKCS12File+
			" -Dzookeeper.ssl.keyStore.passwordPath="+pki.Client.PasswordFile+" -Dzookeeper.ssl.hostnameVerification=false -Dzookeeper.ssl.protocol=TLSv1.3")
	r, err := c.ClientConfig(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tc := r.Config.TLS
	if tc == nil || r.Config.Transport != client.TransportTLS {
		t.Fatalf("no TLS: %+v", r.Config)
	}
	if tc.CAFile != pki.CAFile || tc.CertFile != pki.Client.PKCS12File || tc.KeyPasswordFile != pki.Client.PasswordFile ||
		!tc.NoHostnameVerification || tc.MinVersion != 0x0304 || tc.MaxVersion != 0x0304 {
		t.Errorf("TLS %+v", tc)
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %q", r.Warnings)
	}
	if err := r.Config.Validate(); err != nil {
		t.Error(err)
	}

	// Secure but a file is missing: an error naming the property and where it was set — never a
	// plaintext client.
	_, err = flat("env.java.opts.jobmanager: " + secure + " -Dzookeeper.ssl.trustStore.location=/nonexistent/ca.pem").ClientConfig(Options{})
	if !errors.Is(err, ErrConf) || !errors.Is(err, zktls.ErrConfig) || !strings.Contains(err.Error(), "/nonexistent/ca.pem") || !strings.Contains(err.Error(), "env.java.opts.jobmanager") {
		t.Errorf("missing trust store: %v", err)
	}
	// A misspelled key, or a value the Java client would read as false, is an error.
	for opt, mention := range map[string]string{
		"-Dzookeeper.ssl.trustStore.locaton=" + pki.CAFile:  "did you mean zookeeper.ssl.trustStore.location",
		"-Dzookeeper.client.secure=yes":                     "want true or false",
		"-Dzookeeper.ssl.trustStore.location=" + pki.CAFile: "cannot infer one from its extension",
	} {
		_, err := flat("env.java.opts.all: " + opt).ClientConfig(Options{})
		if !errors.Is(err, ErrConf) || !strings.Contains(err.Error(), mention) || !strings.Contains(err.Error(), "env.java.opts.all") {
			t.Errorf("%s: %v, want an error mentioning %q", opt, err, mention)
		}
	}

	for _, tc := range []struct {
		name    string
		lines   []string
		tls     bool
		mention string
	}{
		{"ssl without secure", []string{"env.java.opts.all: -Dzookeeper.ssl.trustStore.location=" + ca}, false, "PLAINTEXT"},
		{"secure without Netty", []string{"env.java.opts.all: -Dzookeeper.client.secure=true -Dzookeeper.ssl.trustStore.location=" + ca}, true, "would connect in PLAINTEXT; zksecure uses TLS"},
		{"secure without a trust store", []string{"env.java.opts.all: " + secure}, true, "system's CA pool"},
		{"TLS keys as Flink keys", []string{"zookeeper.client.secure: true", "zookeeper.ssl.trustStore.location: " + pki.CAFile}, false, "move it to env.java.opts.jobmanager as -Dzookeeper.client.secure=true"},
		{"a client config file", []string{"env.java.opts.all: -Dzookeeper.client.config=/etc/zk/client.properties"}, false, "reads no such file"},
		{"server-side key", []string{"env.java.opts.all: " + secure + " -Dzookeeper.ssl.trustStore.location=" + ca + " -Dzookeeper.ssl.clientAuth=need"}, true, "zookeeper.ssl.clientAuth (from env.java.opts.all) has no effect on a client"},
	} {
		r, err := flat(tc.lines...).ClientConfig(Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if (r.Config.TLS != nil) != tc.tls {
			t.Errorf("%s: TLS %v, want %v", tc.name, r.Config.TLS != nil, tc.tls)
		}
		if w := warningsOf(r); !strings.Contains(w, tc.mention) {
			t.Errorf("%s: warnings %q lack %q", tc.name, r.Warnings, tc.mention)
		}
		for _, w := range r.Warnings {
			if w.Key == "" || w.Fix == "" || strings.Contains(w.Key, " ") {
				t.Errorf("%s: warning without a key or a fix: %+v", tc.name, w)
			}
		}
		if strings.Contains(warningsOf(r), "unknown key zookeeper.") {
			t.Errorf("%s: a TLS key reported as unknown: %q", tc.name, r.Warnings)
		}
	}
	// Options.SystemProperties win over the file's options.
	r, err = flat("env.java.opts.all: " + secure + " -Dzookeeper.ssl.trustStore.location=/nonexistent").ClientConfig(Options{SystemProperties: map[string]string{"zookeeper.ssl.trustStore.location": pki.CAFile, "zookeeper.ssl.trustStore.type": "PEM"}})
	if err != nil || r.Config.TLS == nil || r.Config.TLS.CAFile != pki.CAFile {
		t.Errorf("system properties over the file: %v", err)
	}
}
