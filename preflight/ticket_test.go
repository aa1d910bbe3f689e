package preflight

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
)

// runAgainst checks the members as flink@<realm> with a keytab, and returns the report and its text.
func runAgainst(t *testing.T, krb5, principal, keytab string, members ...string) (*Report, string) {
	t.Helper()
	rep := Run(context.Background(), Options{Client: client.Config{Members: members, SASL: client.SASLKerberos, ACL: acl.Creator(),
		Kerberos: sasl.Config{Login: sasl.Login{Principal: principal, Keytab: keytab, Krb5Conf: krb5}}}})
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return rep, b.String()
}

func resultOf(rep *Report, name, member string) (Result, bool) {
	for _, c := range rep.Checks {
		if c.Name == name && c.Member == member {
			return c, true
		}
	}
	return Result{}, false
}

// Against an Active Directory domain with its defaults, the SPN's tickets are RC4: service-ticket
// fails before connecting, naming the encryption type, that the Java server refuses it, and how to
// get AES on AD. The SPN whose account was given AES passes every check.
func TestServiceTicketNamesWeakADTickets(t *testing.T) {
	testEnv.Require(t)
	rc4 := env.zks[zkRC4].Members[0].Addr()
	aes := env.zks[zkAES].Members[0].Addr()
	rep, text := runAgainst(t, env.ad.Krb5Conf, env.ad.Principal("flink"), env.flinkKeytab, rc4)
	t.Logf("AD defaults:\n%s", text)
	st, ok := resultOf(rep, CheckServiceTicket, rc4)
	if !ok || st.Status != Fail {
		t.Fatalf("service-ticket for the RC4 SPN: %+v\n%s", st, text)
	}
	for _, want := range []string{"arcfour-hmac", "session key aes256-cts-hmac-sha1-96", "refuses RC4"} {
		if !strings.Contains(st.Message, want) {
			t.Errorf("service-ticket message lacks %q: %s", want, st.Message)
		}
	}
	for _, want := range []string{"msDS-SupportedEncryptionTypes", "zookeeper/zkr1.ad.test", "export the server's keytab again", "on MIT Kerberos"} {
		if !strings.Contains(st.Fix, want) {
			t.Errorf("service-ticket fix lacks %q: %s", want, st.Fix)
		}
	}
	// sasl needs service-ticket: it is skipped (the AuthFailed it would meet is sasl's own test).
	if s, _ := resultOf(rep, CheckSASL, rc4); s.Status != Skip {
		t.Errorf("sasl against the RC4 SPN: %+v", s)
	}

	rep, text = runAgainst(t, env.ad.Krb5Conf, env.ad.Principal("flink"), env.flinkKeytab, aes)
	t.Logf("AES on the SPN's account:\n%s", text)
	if rep.Summary.Fail != 0 {
		t.Fatalf("with AES:\n%s", text)
	}
	if st, _ := resultOf(rep, CheckServiceTicket, aes); !strings.Contains(st.Message, "ticket for zookeeper/zk1.ad.test@AD.TEST issued: aes256-cts-hmac-sha1-96, session key aes256-cts-hmac-sha1-96, kvno") {
		t.Errorf("service-ticket with AES: %+v", st)
	}
}
