package sasl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// TicketInfo describes the service ticket the client holds for one ensemble member, as far as a
// client can see it — before using it. The ticket's encrypted part is for the server only, but its
// encryption type and key version are in the clear: they say which of the service's keys the KDC
// used, which the server must hold in its keytab.
type TicketInfo struct {
	// Member is the ensemble member ("host:port"); ServicePrincipal the principal of the ticket.
	Member, ServicePrincipal string
	// TicketEnctype is the encryption type of the ticket (the service key the KDC chose);
	// SessionKeyEnctype the type of the session key client and server share. Both are IANA numbers
	// (etypeID); EnctypeName names them.
	TicketEnctype, SessionKeyEnctype int32
	// KVNO is the version of the service key the ticket is encrypted with (0 if the KDC sent none).
	KVNO int
	// RealmPath lists the realms whose KDCs issued a ticket on the way, the client's realm first and
	// the service's last: one realm without a cross-realm trust.
	RealmPath []string
}

// EnctypeName returns the MIT name of an encryption type ("aes256-cts-hmac-sha1-96",
// "arcfour-hmac (rc4-hmac)", ...).
func EnctypeName(e int32) string { return etypeName(e) }

// Weak returns nil when both the ticket and its session key are AES. Otherwise it returns a
// *WeakTicketError (which wraps ErrWeakEnctype) that says what the server will do with the
// ticket and how to get AES tickets on Active Directory and on MIT Kerberos.
func (t TicketInfo) Weak() error {
	if isAES(t.TicketEnctype) && isAES(t.SessionKeyEnctype) {
		return nil
	}
	return &WeakTicketError{Ticket: t, Reason: t.weakReason(), Consequence: t.weakConsequence(), Fix: weakFix(t.ServicePrincipal)}
}

func (t TicketInfo) String() string {
	s := fmt.Sprintf("ticket for %s: %s, session key %s", t.ServicePrincipal, etypeName(t.TicketEnctype), etypeName(t.SessionKeyEnctype))
	if t.KVNO != 0 {
		s += fmt.Sprintf(", kvno %d", t.KVNO)
	}
	if len(t.RealmPath) > 1 {
		s += ", via " + strings.Join(t.RealmPath, " → ")
	}
	return s
}

// weakConsequence says what a non-AES ticket leads to.
func (t TicketInfo) weakConsequence() string {
	if !isAES(t.SessionKeyEnctype) {
		return "zksecure cannot use a " + etypeName(t.SessionKeyEnctype) + " session key (the JDK's GSSAPI then speaks RFC 1964 tokens), and a JDK 17+ ZooKeeper server refuses RC4 and DES"
	}
	return "a JDK 17+ ZooKeeper server refuses RC4 and DES tickets (\"Encryption type RC4 with HMAC is not supported/enabled\") and answers AuthFailed"
}

func (t TicketInfo) weakReason() string {
	return fmt.Sprintf("the KDC issued the ticket for %s encrypted with %s (session key %s): the service's key in the KDC is not AES, and %s",
		t.ServicePrincipal, etypeName(t.TicketEnctype), etypeName(t.SessionKeyEnctype), t.weakConsequence())
}

// weakFix is what to do about a non-AES service ticket, on Active Directory (where it is the
// default for an SPN on a user account) and on MIT Kerberos.
func weakFix(spn string) string {
	name, realm := splitPrincipal(spn, "")
	return fmt.Sprintf("on Active Directory, set msDS-SupportedEncryptionTypes to 24 (AES128+AES256) on the account that holds the SPN %[1]s (setspn -Q %[1]s finds it; "+
		"Set-ADUser <account> -KerberosEncryptionType AES128,AES256), or make AES the domain's default for accounts without it, then reset that account's password "+
		"and export the server's keytab again with AES keys salted for that account (ktpass -princ %[1]s@%[2]s -mapuser <account> -crypto AES256-SHA1 -ptype KRB5_NT_PRINCIPAL, "+
		"or samba-tool domain exportkeytab --principal=%[1]s); on MIT Kerberos, give the principal AES keys (kadmin: cpw -randkey -e aes256-cts-hmac-sha1-96:normal %[1]s) "+
		"and export its keytab again", name, realm)
}

// WeakTicketError is a service ticket or session key that is not AES: RC4 or DES. Reason says what
// the ticket is and what the server will do with it (Consequence, the second half alone); Fix how to
// get AES.
type WeakTicketError struct {
	Ticket                   TicketInfo
	Reason, Consequence, Fix string
}

func (e *WeakTicketError) Error() string { return "sasl: " + e.Reason + ". Fix: " + e.Fix }

// Unwrap returns ErrWeakEnctype.
func (e *WeakTicketError) Unwrap() error { return ErrWeakEnctype }

// TicketInfo makes sure a service ticket for member is cached (as ServiceTicket does: logging in
// and asking the KDC if needed) and describes it. A non-AES ticket is no error here: TicketInfo.Weak
// says what it means. Failures are *AuthError, as from ServiceTicket.
func (a *Authenticator) TicketInfo(ctx context.Context, member string) (TicketInfo, error) {
	spn, tkt, key, err := a.serviceTicket(ctx, member)
	if err != nil {
		var ae *AuthError
		if !errors.As(err, &ae) || !errors.Is(ae.Kind, ErrWeakEnctype) {
			return TicketInfo{}, err
		}
		// A weak session key: describe the ticket all the same.
	}
	return a.describe(member, spn, tkt, key), nil
}

func (a *Authenticator) describe(member, spn string, tkt messages.Ticket, key types.EncryptionKey) TicketInfo {
	info := TicketInfo{Member: member, ServicePrincipal: spn, TicketEnctype: tkt.EncPart.EType,
		SessionKeyEnctype: key.KeyType, KVNO: tkt.EncPart.KVNO, RealmPath: []string{a.clientRealm}}
	if _, realm := splitPrincipal(spn, a.clientRealm); realm != a.clientRealm {
		info.RealmPath = append(info.RealmPath, realm)
	}
	return info
}

// explainWeakTicket turns a server's rejection of a non-AES ticket into that diagnosis: an
// AuthFailed (or a 3.4 server's close) after an RC4 ticket is the JDK refusing RC4, whatever else
// might be wrong.
func (a *Authenticator) explainWeakTicket(err error, member, spn string, tkt messages.Ticket, key types.EncryptionKey) {
	var ae *AuthError
	if !errors.As(err, &ae) || !ae.Permanent || (ae.Code == 0 && !ae.closed) {
		return
	}
	weak := a.describe(member, spn, tkt, key).Weak()
	var we *WeakTicketError
	if !errors.As(weak, &we) {
		return
	}
	ae.Reason = fmt.Sprintf("%s; the ticket was %s (session key %s): %s", ae.Reason, etypeName(tkt.EncPart.EType), etypeName(key.KeyType), we.Consequence)
	ae.Fix = we.Fix
	ae.Kind = ErrWeakEnctype
}

// warnWeakTicket logs, once per member, a ticket that a JDK server will refuse.
func (a *Authenticator) warnWeakTicket(member, spn string, tkt messages.Ticket, key types.EncryptionKey) {
	if isAES(tkt.EncPart.EType) {
		return
	}
	if _, seen := a.weakWarned.LoadOrStore(member, struct{}{}); seen {
		return
	}
	var we *WeakTicketError
	if errors.As(a.describe(member, spn, tkt, key).Weak(), &we) {
		a.log.Warn("service ticket is not AES: a JDK ZooKeeper server will refuse it", "member", member,
			"service_principal", spn, "ticket_enctype", etypeName(tkt.EncPart.EType), "fix", we.Fix)
	}
}
