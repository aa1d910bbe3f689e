package main

import (
	"context"
	"testing"

	"github.com/zksecure/zksecure/preflight"
)

// A whole check run — login check, the member's sasl check, the session checks — logs in to the
// KDC once and asks for the member's service ticket once.
func TestCheckRunLogsInOnce(t *testing.T) {
	testEnv.Require(t)
	ctx := context.Background()
	if err := kdc.AddPrincipals(ctx, "flink/once"); err != nil {
		t.Fatal(err)
	}
	kt, err := kdc.Keytab(ctx, "flink/once")
	if err != nil {
		t.Fatal(err)
	}
	code, o, stderr := check(t, args(q(srvGood, true), tlsArgs(true), []string{"--principal", kdc.Principal("flink/once"), "--keytab", kt,
		"--krb5-conf", kdc.Krb5Conf, "--acl", "creator", "--cluster-id", "/once"})...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, o.dump(), stderr)
	}
	expect(t, o, preflight.CheckIdentity, preflight.Pass, "sasl:flink@")
	issued, err := kdc.Issued("flink/once")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("issued %v", issued)
	if n := issued["krbtgt/"+kdc.Realm+"@"+kdc.Realm]; n != 1 {
		t.Errorf("%d logins in one check run, want 1 (%v)", n, issued)
	}
	if n := issued["zookeeper/localhost@"+kdc.Realm]; n != 1 {
		t.Errorf("%d service tickets for one member in one check run, want 1 (%v)", n, issued)
	}
}
