package sasl_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zksecure/zksecure/auth/sasl"
)

// The typed errors carry their fix apart (Fix, Message) and still say it in Error, for callers that
// only print errors; errors.Is finds their kind and cause.
func TestTypedErrorsCarryTheirFix(t *testing.T) {
	le := &sasl.LoginError{Principal: "flink@R", From: "at the KDC k:88 of realm R (from /etc/krb5.conf)", Reason: "no answer",
		Fix: "start the KDC", Kind: sasl.ErrKDCUnreachable, Err: context.DeadlineExceeded}
	ae := &sasl.AuthError{Member: "zk1:2181", ServicePrincipal: "zookeeper/zk1@R", ClientPrincipal: "flink@R", Stage: "SASL exchange",
		Code: sasl.CodeAuthFailed, Reason: "the server rejected the authentication", Fix: "check the server's keytab", Permanent: true}
	for _, tc := range []struct {
		err      error
		msg, fix string
		is       []error
	}{
		{le, le.Message(), le.Fix, []error{sasl.ErrKDCUnreachable, context.DeadlineExceeded}},
		{ae, ae.Message(), ae.Fix, []error{sasl.ErrAuthFailed}},
	} {
		if got, want := tc.err.Error(), tc.msg+". Fix: "+tc.fix; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		if strings.Contains(tc.msg, tc.fix) {
			t.Errorf("Message() %q repeats the fix", tc.msg)
		}
		for _, target := range tc.is {
			if wrapped := fmt.Errorf("client: %w", tc.err); !errors.Is(wrapped, target) {
				t.Errorf("%v: errors.Is(%v) is false", tc.err, target)
			}
		}
	}
	if !strings.HasPrefix(le.Message(), "sasl: KDC unreachable: logging in flink@R at the KDC k:88") {
		t.Errorf("LoginError message %q", le.Message())
	}
}
