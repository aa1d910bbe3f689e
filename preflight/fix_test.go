package preflight

import (
	"errors"
	"fmt"
	"testing"

	"github.com/zksecure/zksecure/auth/sasl"
)

// A result's fix comes from the typed error, wherever it is in the chain; its message does not
// repeat the fix. Other errors keep their whole text and get the caller's fix.
func TestExplainReadsTypedErrors(t *testing.T) {
	ae := &sasl.AuthError{Member: "zk1:2181", Stage: "service ticket", Reason: "the KDC does not know the service principal", Fix: "check the service name"}
	le := &sasl.LoginError{Principal: "flink@R", From: "from keytab /k", Reason: "stale keys", Fix: "export a fresh keytab", Kind: sasl.ErrLogin}
	for _, tc := range []struct {
		err      error
		msg, fix string
	}{
		{fmt.Errorf("client: connecting to zk1:2181: %w", ae), ae.Message(), "check the service name"},
		{le, le.Message(), "export a fresh keytab"},
		{&sasl.AuthError{Member: "zk1:2181", Stage: "GSSAPI", Reason: "no fix known"}, "sasl: GSSAPI authenticating (unknown) to zk1:2181 as service (unknown): no fix known", "fallback"},
		{errors.New("plain failure. Fix: not parsed"), "plain failure. Fix: not parsed", "fallback"},
	} {
		msg, fix := explain(tc.err, "fallback")
		if msg != tc.msg || fix != tc.fix {
			t.Errorf("explain(%v) = %q, %q; want %q, %q", tc.err, msg, fix, tc.msg, tc.fix)
		}
	}
}
