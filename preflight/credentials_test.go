package preflight

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

// The login check warns about credentials that work today and fail later: a keytab whose kvno is
// older than the KDC's (same keys, for now), and a ticket cache whose TGT ends within the session
// timeout. Fresh credentials pass.
func TestLoginWarnsAboutAgeingCredentials(t *testing.T) {
	ctx := context.Background()
	kdc := testenv.NewKDC(t, testenv.KDCOptions{TicketLifetime: 30 * time.Second, Principals: []string{"fresh", "samekeys"}})
	const pw = "Same-password-twice-1"
	if err := kdc.SetPassword(ctx, "samekeys", pw); err != nil {
		t.Fatal(err)
	}
	older, err := kdc.Keytab(ctx, "samekeys")
	if err != nil {
		t.Fatal(err)
	}
	if err := kdc.SetPassword(ctx, "samekeys", pw); err != nil {
		t.Fatal(err)
	}
	fresh, err := kdc.Keytab(ctx, "fresh")
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "cc")
	cmd := exec.Command("kinit", "-r", "1s", "-k", "-t", fresh, "-c", cache, kdc.Principal("fresh"))
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+kdc.Krb5Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit: %v: %s", err, out)
	}
	login := func(l sasl.Login) Result {
		l.Krb5Conf = kdc.Krb5Conf
		rep := Run(ctx, Options{Client: client.Config{Members: []string{"localhost:1"}, SASL: client.SASLKerberos, ACL: acl.Creator(),
			Kerberos: sasl.Config{Login: l}}})
		res, _ := resultOf(rep, CheckLogin, "")
		t.Logf("[%s %s] %s\n  fix: %s", res.Status, res.Name, res.Message, res.Fix)
		return res
	}
	if res := login(sasl.Login{Principal: "samekeys", Keytab: older}); res.Status != Warn ||
		!strings.Contains(res.Message, "holds kvno 2 for samekeys@EXAMPLE.COM and the KDC's key is kvno 3") || !strings.Contains(res.Fix, "export") {
		t.Errorf("older keytab: %+v", res)
	}
	if res := login(sasl.Login{TicketCache: cache}); res.Status != Warn || !strings.Contains(res.Message, cache) ||
		!strings.Contains(res.Message, "within the session timeout 1m0s") {
		t.Errorf("short ticket cache: %+v", res)
	}
	if res := login(sasl.Login{Principal: "fresh", Keytab: fresh}); res.Status != Pass {
		t.Errorf("fresh keytab: %+v", res)
	}
}
