package preflight

import (
	"context"
	"strings"
	"testing"

	"github.com/zksecure/zksecure/testenv"
)

// Across a trust the service-ticket check shows the realm path it used; without a trust (or with
// one the wrong way) it fails naming the missing cross-realm principal, and sasl is skipped.
func TestServiceTicketShowsTheRealmPath(t *testing.T) {
	x := testenv.NewCrossRealm(t, "flink")
	member := x.ZooKeeper.Members[0].Addr()
	for _, tc := range []struct {
		kdc    *testenv.KDC
		status Status
		want   string
	}{
		{x.Clients, Pass, "realm path CLIENTS.TEST → SERVICES.TEST"},
		{x.Untrusted, Fail, "realm LONELY.TEST has no trust to realm SERVICES.TEST"},
		{x.Reverse, Fail, "krbtgt/SERVICES.TEST@BACKWARDS.TEST"},
	} {
		t.Run(tc.kdc.Realm, func(t *testing.T) {
			kt, err := tc.kdc.Keytab(context.Background(), "flink")
			if err != nil {
				t.Fatal(err)
			}
			rep, text := runAgainst(t, x.Krb5Confs[tc.kdc.Realm], tc.kdc.Principal("flink"), kt, member)
			t.Logf("%s", text)
			st, _ := resultOf(rep, CheckServiceTicket, member)
			if st.Status != tc.status || !strings.Contains(st.Message, tc.want) {
				t.Errorf("service-ticket: %+v, want %s with %q", st, tc.status, tc.want)
			}
			if sp, _ := resultOf(rep, CheckServicePrincipal, member); sp.Status != Pass || !strings.Contains(sp.Message, "zookeeper/localhost@SERVICES.TEST") {
				t.Errorf("service-principal: %+v", sp)
			}
			if tc.status == Fail {
				if !strings.Contains(st.Fix, "create krbtgt/SERVICES.TEST@"+tc.kdc.Realm) {
					t.Errorf("fix: %s", st.Fix)
				}
				if s, _ := resultOf(rep, CheckSASL, member); s.Status != Skip {
					t.Errorf("sasl after a failed ticket: %+v", s)
				}
			} else if rep.Summary.Fail != 0 {
				t.Errorf("failures across the trust:\n%s", text)
			}
		})
	}
}
