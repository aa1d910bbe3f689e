package sasl

import (
	"errors"
	"strings"
	"testing"
)

const sampleJAAS = `
/* A typical Flink / ZooKeeper client JAAS file. */
Server {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true keyTab="/etc/zk/zk.keytab" storeKey=true principal="zookeeper/zk1.example.com@EXAMPLE.COM";
};
// the client section
Client {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true
  keyTab="/etc/security/keytabs/flink.keytab"
  storeKey=true
  useTicketCache=false
  doNotPrompt=true
  principal="flink/jm1.example.com@EXAMPLE.COM";
};
KafkaClient {
  org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password='p;w';
};
`

func TestParseJAASReadsKrb5Options(t *testing.T) {
	c, err := ParseJAAS(sampleJAAS)
	if err != nil {
		t.Fatal(err)
	}
	c.Path = "jaas.conf"
	opts, err := c.Krb5Options("Client")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"useKeyTab": "true", "keyTab": "/etc/security/keytabs/flink.keytab", "storeKey": "true",
		"useTicketCache": "false", "doNotPrompt": "true", "principal": "flink/jm1.example.com@EXAMPLE.COM"}
	for k, v := range want {
		if opts[k] != v {
			t.Errorf("option %s = %q, want %q", k, opts[k], v)
		}
	}
	if got := c.Sections["KafkaClient"][0].Options["password"]; got != "p;w" {
		t.Errorf("quoted value with ; = %q", got)
	}
}

func TestJAASMissingSectionOrModuleIsAnError(t *testing.T) {
	c, err := ParseJAAS(sampleJAAS)
	if err != nil {
		t.Fatal(err)
	}
	c.Path = "jaas.conf"
	_, err = c.Krb5Options("ZkClient")
	if !errors.Is(err, ErrJAAS) || !strings.Contains(err.Error(), `no section "ZkClient"`) ||
		!strings.Contains(err.Error(), "Client, KafkaClient, Server") {
		t.Errorf("missing section: %v", err)
	}
	_, err = c.Krb5Options("KafkaClient")
	if !errors.Is(err, ErrJAAS) || !strings.Contains(err.Error(), "no "+Krb5LoginModule) {
		t.Errorf("section without Krb5LoginModule: %v", err)
	}
}

func TestParseJAASErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"Client {\n  com.sun.security.auth.module.Krb5LoginModule mandatory;\n};", "line 2: control flag \"mandatory\""},
		{"Client {\n  M required a=b\n};", "line 3: expected an option or ;"},
		{"Client {\n M required a=\"b;\n};", "line 2: unterminated quoted value"},
		{"Client {\n M required;\n}", "expected ; after the }"},
		{"Client { M required; };\nClient { M required; };", "line 2: section \"Client\" appears twice"},
		{"/* never closed", "unterminated /* comment"},
	} {
		_, err := ParseJAAS(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseJAAS(%q) = %v, want error containing %q", tc.src, err, tc.want)
		}
	}
}

func FuzzParseJAAS(f *testing.F) {
	f.Add(sampleJAAS)
	f.Add("A{B required;};")
	f.Add("A { B optional x=\"\\\"\"; };")
	f.Fuzz(func(t *testing.T, src string) {
		c, err := ParseJAAS(src)
		if err == nil {
			for name := range c.Sections {
				c.Krb5Options(name)
			}
		}
	})
}
