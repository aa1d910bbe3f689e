package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zksecure/zksecure/auth/sasl"
)

// ticketResult is the body of the service-ticket check: a ticket for the member's service
// principal from the KDC, with its encryption types, kvno and the realms it came through. A ticket
// that is not AES fails before any connection: a JDK ZooKeeper server refuses RC4 and DES (Active
// Directory's default for an SPN on a user account).
func ticketResult(ctx context.Context, a *sasl.Authenticator, m, spn string) Result {
	var res Result
	info, err := a.TicketInfo(ctx, m)
	if err != nil {
		res.Status = Fail
		res.Message, res.Fix = explain(err, "check the service principal in the KDC (kadmin: getprinc "+spn+")")
		return res
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
		return res
	}
	res.Status, res.Message = Pass, desc
	return res
}
