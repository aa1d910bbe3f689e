package sasl

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/zksecure/zksecure/internal/ctxcall"
)

// CredentialInfo describes the credentials an Authenticator uses now: the file they came from
// (after any reload) and what a user needs to know about its age.
type CredentialInfo struct {
	// File is the keytab or ticket cache; Modified its modification time when it was loaded.
	File     string
	Modified time.Time
	// KeytabKVNO is the newest key version the keytab holds for the client principal (0 for a
	// ticket cache). KDCKVNO is the version the KDC answered a login with when it was newer than
	// every key of the keytab, but the keys were the same (the login then works, as a JVM's does);
	// 0 otherwise.
	KeytabKVNO, KDCKVNO int
	// TGTEnd and RenewTill are the ticket cache's TGT end and renewal limit as loaded (zero for a
	// keytab, whose TGT the Authenticator renews itself).
	TGTEnd, RenewTill time.Time
	// Reloads counts the changed versions of the file that were loaded and used.
	Reloads int
}

// Credentials describes the credentials in use.
func (a *Authenticator) Credentials() CredentialInfo {
	a.credMu.Lock()
	defer a.credMu.Unlock()
	return a.info
}

// String names the file, its key version or TGT end, and its date, for messages.
func (c CredentialInfo) String() string {
	if c.File == "" {
		return "(no credentials file)"
	}
	var facts []string
	if c.KeytabKVNO != 0 {
		facts = append(facts, "kvno "+strconv.Itoa(c.KeytabKVNO))
	}
	if !c.TGTEnd.IsZero() {
		facts = append(facts, "TGT until "+c.TGTEnd.UTC().Format(time.RFC3339))
	}
	if !c.Modified.IsZero() {
		facts = append(facts, "written "+c.Modified.UTC().Format(time.RFC3339))
	}
	kind := "ticket cache"
	if c.KeytabKVNO != 0 || c.TGTEnd.IsZero() {
		kind = "keytab"
	}
	return kind + " " + c.File + " (" + strings.Join(facts, ", ") + ")"
}

// readCredInfo reads what CredentialInfo says about the file of s (best effort: a file that no
// longer reads leaves the fields zero).
func readCredInfo(s source, principal string, f credFile) CredentialInfo {
	info := CredentialInfo{File: f.path, Modified: f.modTime}
	user, realm := splitPrincipal(principal, "")
	if s.keytab != "" {
		if kt, err := keytab.Load(s.keytab); err == nil {
			for _, e := range kt.Entries {
				if e.Principal.Realm == realm && strings.Join(e.Principal.Components, "/") == user && int(e.KVNO) > info.KeytabKVNO {
					info.KeytabKVNO = int(e.KVNO)
				}
			}
		}
		return info
	}
	if cc, err := credentials.LoadCCache(s.ccache); err == nil {
		for _, c := range cc.GetEntries() {
			if len(c.Server.PrincipalName.NameString) > 0 && c.Server.PrincipalName.NameString[0] == "krbtgt" && c.EndTime.After(info.TGTEnd) {
				info.TGTEnd, info.RenewTill = c.EndTime, c.RenewTill
			}
		}
	}
	return info
}

// kvnoMissing matches gokrb5's error for an AS-REP encrypted with a key version the keytab lacks.
var kvnoMissing = regexp.MustCompile(`matching key not found in keytab\. Looking for .* kvno: (\d+) etype: (\d+)`)

// loginNewerKVNO handles a login whose AS-REP names a key version the keytab does not hold: the
// principal's kvno went up (a password set again, a keytab written with a stale kvno) while the
// keys may be the same. The JDK then uses the key of the same type anyway; so does this: the
// keytab's newest keys are tried under the KDC's kvno. It returns the new client and that kvno when
// the login works; the caller logs and reports it (a stale keytab, to be exported again).
func (a *Authenticator) loginNewerKVNO(ctx context.Context, loginErr error) (*krbclient.Client, int, bool) {
	m := kvnoMissing.FindStringSubmatch(loginErr.Error())
	if m == nil || a.src.keytab == "" {
		return nil, 0, false
	}
	kdcKVNO, _ := strconv.Atoi(m[1])
	kt, err := keytab.Load(a.src.keytab)
	if err != nil {
		return nil, 0, false
	}
	user, realm := splitPrincipal(a.clientPrincipal, "")
	newest := 0
	for _, e := range kt.Entries {
		if e.Principal.Realm == realm && strings.Join(e.Principal.Components, "/") == user && int(e.KVNO) > newest {
			newest = int(e.KVNO)
		}
	}
	if newest == 0 || newest >= kdcKVNO {
		return nil, 0, false
	}
	relabelled := keytab.New()
	for _, e := range kt.Entries {
		relabelled.Entries = append(relabelled.Entries, e)
		if int(e.KVNO) == newest && e.Principal.Realm == realm && strings.Join(e.Principal.Components, "/") == user {
			e.KVNO, e.KVNO8 = uint32(kdcKVNO), uint8(kdcKVNO)
			e.Timestamp = e.Timestamp.Add(time.Second) // preferred by gokrb5 among equal matches
			relabelled.Entries = append(relabelled.Entries, e)
		}
	}
	cl := krbclient.NewWithKeytab(user, realm, relabelled, a.krb().Config, krbclient.DisablePAFXFAST(true))
	lctx, cancel := context.WithTimeout(ctx, a.kdcTimeout())
	defer cancel()
	if err := ctxcall.Err(lctx, cl.Login); err != nil {
		cl.Destroy()
		return nil, 0, false
	}
	return cl, kdcKVNO, true
}

// staleKeytabWarning is logged (and reported by the checker) for a keytab older than the KDC's key.
func staleKeytabWarning(info CredentialInfo, principal string) string {
	return fmt.Sprintf("keytab %s holds kvno %d for %s, but the KDC's key is kvno %d: the keys are the same, so logins work, as a JVM's would; export the keytab again before the keys change",
		info.File, info.KeytabKVNO, principal, info.KDCKVNO)
}

// KDCKeyVersion returns the KDC's current key version of the client principal: the one a login
// was answered with when it was newer than the keytab's (Credentials.KDCKVNO), else the version of
// a ticket for the principal itself, which MIT KDCs issue (Active Directory only for an account
// with an SPN). With a keytab, a result above Credentials().KeytabKVNO means the keytab is older
// than the KDC: it works only while the keys stay the same.
func (a *Authenticator) KDCKeyVersion(ctx context.Context) (int, error) {
	if c := a.Credentials(); c.KDCKVNO != 0 {
		return c.KDCKVNO, nil
	}
	if err := a.Login(ctx); err != nil {
		return 0, err
	}
	name, _ := splitPrincipal(a.clientPrincipal, "")
	cl := a.krb()
	ctx, cancel := context.WithTimeout(ctx, a.kdcTimeout())
	defer cancel()
	kvno, err := ctxcall.Value(ctx, func() (int, error) {
		tkt, _, err := cl.GetServiceTicket(name)
		return tkt.EncPart.KVNO, err
	})
	if err != nil {
		return 0, fmt.Errorf("%w: the KDC issues no ticket for %s itself, so its key version is unknown: %w", ErrLogin, a.clientPrincipal, err)
	}
	return kvno, nil
}
