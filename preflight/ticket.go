package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zksecure/zksecure/auth/sasl"
)

// serviceTicket is the body of the service-ticket check: a ticket for the member's service
// principal from the KDC, with its encryption types and the realms it came through. A ticket that
// is not AES fails before any connection: a JDK ZooKeeper server refuses RC4 and DES (Active
// Directory's default for an SPN on a user account). ok is false when there is no ticket at all.
func serviceTicket(ctx context.Context, a *sasl.Authenticator, m, spn string) (res Result, ok bool) {
	res = Result{Name: CheckServiceTicket}
	info, err := a.TicketInfo(ctx, m)
	if err != nil {
		res.Status = Fail
		res.Message, res.Fix = splitFix(err.Error(), "check the service principal in the KDC (kadmin: getprinc "+spn+")")
		if strings.Contains(res.Message, "krbtgt/") {
			res.Fix += crossRealmHint
		}
		return res, false
	}
	desc := fmt.Sprintf("ticket for %s issued: %s, session key %s", info.ServicePrincipal,
		sasl.EnctypeName(info.TicketEnctype), sasl.EnctypeName(info.SessionKeyEnctype))
	if info.KVNO != 0 {
		desc += fmt.Sprintf(", kvno %d", info.KVNO)
	}
	if len(info.RealmPath) > 1 {
		desc += "; realm path " + strings.Join(info.RealmPath, " → ")
	}
	var we *sasl.WeakTicketError
	if errors.As(info.Weak(), &we) {
		res.Status, res.Message, res.Fix = Fail, desc+": "+we.Consequence, we.Fix
		return res, true
	}
	res.Status, res.Message = Pass, desc
	return res, true
}

// crossRealmHint is added to a ticket failure that involves a cross-realm TGT.
const crossRealmHint = "; for a service in another realm, the trust must exist in that direction: krbtgt/<service realm>@<client realm> in both KDCs, with the same key, and [capaths] in krb5.conf when the realms are not directly trusted"
