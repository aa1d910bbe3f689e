package sasl

import (
	"context"
	"errors"
	"strings"
)

// ServicePrincipalFor returns the service principal rules choose for member, with the realm as the
// JDK picks it: a realm the rules name (ServerRealm, or ServerPrincipal with "@") as given;
// otherwise the realm krb5.conf's [domain_realm] maps the member's host to (the Java client passes
// a host-based name, whose realm the JDK takes from [domain_realm]), and the client's realm when
// it maps none. ServicePrincipal is this with the Authenticator's own rules.
func (a *Authenticator) ServicePrincipalFor(ctx context.Context, rules PrincipalRules, member string) (string, error) {
	spn, err := rules.ServicePrincipal(ctx, a.cfg.Resolver, member, a.clientRealm)
	if err != nil || rules.ServerRealm != "" || strings.Contains(rules.ServerPrincipal, "@") {
		return spn, err
	}
	name, realm := splitPrincipal(spn, a.clientRealm)
	_, host, ok := strings.Cut(name, "/")
	if !ok {
		return spn, nil
	}
	if mapped := a.krb().Config.ResolveRealm(host); mapped != "" && mapped != realm {
		return name + "@" + mapped, nil
	}
	return spn, nil
}

// trustError marks a failure on the way to another realm's service ticket: getting the
// cross-realm TGT krbtgt/<to>@<from> from the client realm's KDC, or using it at the other realm's.
type trustError struct {
	from, to string
	atTarget bool // the service realm's KDC failed (else the client realm's)
	err      error
}

func (e *trustError) Error() string { return e.err.Error() }
func (e *trustError) Unwrap() error { return e.err }

// explainTrust rewrites the AuthError of a failed cross-realm ticket so that it names the trust.
func explainTrust(ae *AuthError, err error) {
	var te *trustError
	if !errors.As(err, &te) || ae.Kind == ErrKDCUnreachable {
		return
	}
	cross := "krbtgt/" + te.to + "@" + te.from
	msg := err.Error()
	switch {
	case !te.atTarget && strings.Contains(msg, "KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		ae.Reason = "realm " + te.from + " has no trust to realm " + te.to + ": its KDC does not know the cross-realm principal " + cross +
			" (the trust is missing, or one-way in the other direction: krbtgt/" + te.from + "@" + te.to + " lets " + te.to + "'s clients into " + te.from + ", not the reverse)"
		ae.Fix = "create " + cross + " in the KDCs of both realms with the same key and kvno (MIT: kadmin addprinc -e aes256-cts-hmac-sha1-96:normal " + cross +
			" with one password in both; Active Directory: a trust that " + te.to + " gives " + te.from + "), and list the path under [capaths] in krb5.conf when the realms do not trust each other directly"
		ae.Kind, ae.Permanent = ErrNoTrust, true
	case te.atTarget && (strings.Contains(msg, "integrity") || strings.Contains(msg, "BAD_INTEGRITY") || strings.Contains(msg, "Decrypt")):
		ae.Reason = "the KDC of " + te.to + " rejected the cross-realm TGT " + cross + " issued by " + te.from + ": the two KDCs hold different keys (or kvnos) for it"
		ae.Fix = "set the same password and enctypes for " + cross + " in both realms' KDCs"
		ae.Kind, ae.Permanent = ErrNoTrust, true
	}
}
