package sasl_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/testenv"
)

// A client of CLIENTS.TEST authenticates to a ZooKeeper server of SERVICES.TEST across the trust:
// the service realm comes from krb5.conf's [domain_realm], as the JDK takes it; the ticket shows
// the realm path; the server knows the session by the client's own principal. Without a trust, or
// with a trust in the other direction only, the failure names the missing cross-realm principal.
func TestCrossRealmTrust(t *testing.T) {
	x := testenv.NewCrossRealm(t, "flink")
	member := x.ZooKeeper.Members[0].Addr()
	login := func(t *testing.T, k *testenv.KDC) *sasl.Authenticator {
		kt, err := k.Keytab(context.Background(), "flink")
		if err != nil {
			t.Fatal(err)
		}
		a, err := sasl.New(sasl.Config{Login: sasl.Login{Principal: k.Principal("flink"), Keytab: kt, Krb5Conf: x.Krb5Confs[k.Realm]}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		return a
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("trusted", func(t *testing.T) {
		a := login(t, x.Clients)
		info, err := a.TicketInfo(ctx, member)
		if err != nil {
			t.Fatal(err)
		}
		if info.ServicePrincipal != "zookeeper/localhost@"+testenv.ServicesRealm ||
			!slices.Equal(info.RealmPath, []string{testenv.ClientsRealm, testenv.ServicesRealm}) || info.Weak() != nil {
			t.Fatalf("ticket %s, realm path %v", info, info.RealmPath)
		}
		c := connectTo(t, a, []string{member}, nil)
		p := uniquePath(t)
		if _, err := c.Create(p, nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		acl, _, err := c.GetACL(p)
		if err != nil || len(acl) != 1 || acl[0].ID != "flink@"+testenv.ClientsRealm {
			t.Fatalf("ACL %v, %v: want the client's own principal", acl, err)
		}
	})
	for _, tc := range []struct {
		name string
		kdc  *testenv.KDC
		want []string
	}{
		{"missing trust", x.Untrusted, []string{"realm LONELY.TEST has no trust to realm SERVICES.TEST", "krbtgt/SERVICES.TEST@LONELY.TEST"}},
		{"trust in the other direction", x.Reverse, []string{"realm BACKWARDS.TEST has no trust to realm SERVICES.TEST", "one-way in the other direction"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := login(t, tc.kdc)
			_, _, err := sasl.Connect(ctx, a, []string{member}, 10*time.Second, nil)
			t.Logf("%v", err)
			if !errors.Is(err, sasl.ErrNoTrust) || !errors.Is(err, sasl.ErrAuthFailed) {
				t.Fatalf("err = %v, want a permanent ErrNoTrust", err)
			}
			for _, w := range append(tc.want, "Fix: create krbtgt/SERVICES.TEST@"+tc.kdc.Realm) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
