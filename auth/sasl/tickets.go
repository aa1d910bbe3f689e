package sasl

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Tickets is what a Kerberos login yields at one instant, for monitoring: when the
// ticket-granting ticket ends, when each member's service ticket ends, and the key versions of the
// keytab and of the KDC. It holds no secret.
type Tickets struct {
	// Principal is the client principal.
	Principal string
	// TGTEnd is the end time of the TGT: a fresh one from the keytab, or the one in the ticket cache.
	TGTEnd time.Time
	// KeytabKVNO is the highest key version the keytab holds for the principal; 0 without a keytab.
	KeytabKVNO int
	// KDCKVNO is the principal's current key version in the KDC (read, as kvno(1) does, from a ticket
	// for the principal itself); 0 when unknown (the login failed, or the KDC refuses tickets for it).
	KDCKVNO int
	// Services are the service tickets of the members asked for, in order.
	Services []ServiceTicket
}

// ServiceTicket is one member's service ticket, or why there is none.
type ServiceTicket struct {
	Member, ServicePrincipal string
	End                      time.Time
	Err                      error
}

// Tickets logs in anew (with a keytab; with a ticket cache it reads the cache's TGT) and asks the
// KDC for a service ticket for each member, without touching the tickets the Authenticator uses.
// ctx is checked between the KDC exchanges; each exchange is bounded by gokrb5's own network
// timeouts (5s per KDC), so that none is left running when Tickets returns.
// A failed login (a stale keytab, an expired cache) is an error wrapping ErrLogin; the keytab's key
// version is reported all the same.
func (a *Authenticator) Tickets(ctx context.Context, members ...string) (Tickets, error) {
	t := Tickets{Principal: a.clientPrincipal}
	ctx, cancel := context.WithTimeout(ctx, a.kdcTimeout())
	defer cancel()
	creds := a.cl.Credentials
	realm := creds.Domain()
	var tgt messages.Ticket
	var key types.EncryptionKey
	if creds.HasKeytab() {
		for _, e := range creds.Keytab().Entries {
			if e.Principal.Realm == realm && strings.Join(e.Principal.Components, "/") == creds.CName().PrincipalNameString() {
				t.KeytabKVNO = max(t.KeytabKVNO, int(e.KVNO))
			}
		}
		req, err := messages.NewASReqForTGT(realm, a.cl.Config, creds.CName())
		if err != nil {
			return t, fmt.Errorf("%w: %s: %w", ErrLogin, a.clientPrincipal, err)
		}
		rep, err := a.cl.ASExchange(realm, req, 0)
		if err != nil {
			reason, fix, sentinel, _ := kdcFailure(err, a.clientPrincipal, "", a.kdcs, a.krb5conf)
			return t, fmt.Errorf("%w: logging in %s from %s: %s. Fix: %s", sentinel, a.clientPrincipal, a.source, reason, fix)
		}
		tgt, key, t.TGTEnd = rep.Ticket, rep.DecryptedEncPart.Key, rep.DecryptedEncPart.EndTime
	} else {
		src, err := a.cfg.Login.resolve()
		if err != nil {
			return t, err
		}
		cc, err := credentials.LoadCCache(src.ccache)
		if err != nil {
			return t, fmt.Errorf("%w: ticket cache %s: %w", ErrLogin, src.ccache, err)
		}
		cred, ok := cc.GetEntry(types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "krbtgt/"+realm))
		if !ok {
			return t, fmt.Errorf("%w: ticket cache %s holds no TGT for %s. Fix: kinit %s", ErrLogin, src.ccache, realm, a.clientPrincipal)
		}
		if err := tgt.Unmarshal(cred.Ticket); err != nil {
			return t, fmt.Errorf("%w: ticket cache %s: its TGT: %w", ErrLogin, src.ccache, err)
		}
		key, t.TGTEnd = cred.Key, cred.EndTime
	}
	// The KDC's key version of the principal, as MIT's kvno(1) learns it: a ticket for the principal
	// itself is encrypted with its current key, and says the key's version.
	_, self, err := a.cl.TGSREQGenerateAndExchange(creds.CName(), realm, tgt, key, false)
	if err == nil {
		t.KDCKVNO = self.Ticket.EncPart.KVNO
	}
	for _, m := range members {
		if err := ctx.Err(); err != nil {
			return t, err
		}
		st := ServiceTicket{Member: m}
		st.ServicePrincipal, st.Err = a.ServicePrincipal(ctx, m)
		if st.Err == nil {
			name, srealm := splitPrincipal(st.ServicePrincipal, realm)
			if srealm != realm {
				st.Err = fmt.Errorf("sasl: %s is in realm %s: only same-realm service tickets are inspected", st.ServicePrincipal, srealm)
			} else {
				var rep messages.TGSRep
				_, rep, st.Err = a.cl.TGSREQGenerateAndExchange(types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, name), realm, tgt, key, false)
				st.End = rep.DecryptedEncPart.EndTime
			}
		}
		t.Services = append(t.Services, st)
	}
	return t, nil
}
