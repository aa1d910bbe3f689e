package preflight

import (
	"context"
	"fmt"
	"time"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
)

// credentialWarnings turns what a successful login knows about its credentials file into a
// warning of the login check: a keytab whose kvno is older than the KDC's (it works only while the
// keys stay the same, and a JobManager fails over into an AuthFailed the day they change), or a
// ticket cache whose TGT — renewals included — ends within the session timeout (a reconnection
// after that cannot authenticate unless something renews the cache).
func credentialWarnings(ctx context.Context, a *sasl.Authenticator, sessionTimeout time.Duration, res Result) Result {
	if sessionTimeout <= 0 {
		sessionTimeout = client.DefaultSessionTimeout
	}
	c := a.Credentials()
	if c.KeytabKVNO != 0 {
		if kdc, err := a.KDCKeyVersion(ctx); err == nil && kdc > c.KeytabKVNO {
			res.Status = Warn
			res.Message = fmt.Sprintf("%s; but the keytab (written %s) holds kvno %d for %s and the KDC's key is kvno %d: it is older than the KDC's key and works only while the keys stay the same",
				res.Message, c.Modified.UTC().Format(time.RFC3339), c.KeytabKVNO, a.ClientPrincipal(), kdc)
			res.Fix = "export the principal's current keys into the keytab again (kadmin: ktadd -norandkey; Active Directory: ktpass or samba-tool domain exportkeytab) and replace the file; the client reloads it"
		}
		return res
	}
	if c.TGTEnd.IsZero() {
		return res
	}
	end, what := c.TGTEnd, "ends"
	if c.RenewTill.After(end) {
		end, what = c.RenewTill, "can be renewed until" // the client renews a renewable TGT in memory
	}
	if left := time.Until(end); left < sessionTimeout {
		res.Status = Warn
		res.Message = fmt.Sprintf("%s; but the TGT in ticket cache %s %s %s, in %s — within the session timeout %s: a reconnection after that cannot authenticate",
			res.Message, c.File, what, end.UTC().Format(time.RFC3339), left.Round(time.Second), sessionTimeout)
		res.Fix = "renew the cache well before it ends (kinit -R from cron, or k5start), or run kinit with a longer lifetime; a keytab login (--keytab) renews itself"
	}
	return res
}
