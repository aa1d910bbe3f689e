package sasl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zksecure/zksecure/internal/wire"
)

// The server error codes an AuthError's Code may hold, named once (in internal/wire) and exported
// here for errors.As users.
const (
	// CodeAuthFailed is ZooKeeper's AuthFailed (-115): the server rejected the authentication.
	CodeAuthFailed = wire.ErrCodeAuthFailed
	// CodeSASLRequired is ZooKeeper's SessionClosedRequireSaslAuth (-124): a server that enforces
	// SASL (enforce.auth.enabled, sessionRequireClientSASLAuth) rejected the authentication.
	CodeSASLRequired = wire.ErrCodeSessionClosedRequireAuth
)

var (
	// ErrConfig wraps errors in the SASL configuration (missing login source, bad principal, ...).
	ErrConfig = errors.New("sasl: configuration")
	// ErrLogin wraps failures to obtain Kerberos credentials (keytab, ticket cache, KDC).
	ErrLogin = errors.New("sasl: Kerberos login failed")
	// ErrWeakEnctype is returned for keys, keytabs or tickets that are not AES: with RC4 or DES the
	// JDK server speaks RFC 1964 GSSAPI tokens, which zksecure (like gokrb5) does not.
	ErrWeakEnctype = errors.New("sasl: no AES key")
	// ErrKDCUnreachable wraps login and ticket failures caused by not reaching any KDC.
	ErrKDCUnreachable = errors.New("sasl: KDC unreachable")
	// ErrUnknownServicePrincipal is wrapped when the KDC does not know the service principal asked
	// for: a wrong service name, host, realm or server principal setting.
	ErrUnknownServicePrincipal = errors.New("sasl: unknown service principal")
	// ErrAuthFailed is wrapped by every permanent *AuthError: the server or the KDC refused the
	// authentication, and retrying cannot help. Transient failures (a KDC or a member that cannot be
	// reached, a connection reset during the exchange) do not wrap it.
	ErrAuthFailed = errors.New("sasl: authentication failed")
	// ErrNoServerSASL is wrapped by the *AuthError of a server that has no SASL configured (no JAAS
	// Server section): it answers the first token with an empty reply.
	ErrNoServerSASL = errors.New("sasl: server has no SASL configured")
	// ErrNoTrust is wrapped when a service in another realm cannot be reached because there is no
	// cross-realm trust in that direction (or the two KDCs disagree on its keys).
	ErrNoTrust = errors.New("sasl: no cross-realm trust")
	// ErrClosed is returned by the dialer of a closed Authenticator.
	ErrClosed = errors.New("sasl: authenticator closed")
)

// AuthError says that a connection to one ensemble member did not authenticate, naming everything
// an operator needs: the member, both principals, the stage, the server's error code or the KDC's
// reason, and what to do.
type AuthError struct {
	// Member is the ensemble member as "host:port" from the connect string.
	Member string
	// ServicePrincipal is the principal the client asked a ticket for; ClientPrincipal its own.
	ServicePrincipal, ClientPrincipal string
	// Stage is where it failed: "service ticket", "GSSAPI", "SASL exchange".
	Stage string
	// Code is the server's error code (CodeAuthFailed, CodeSASLRequired, or another one the server
	// sent), 0 if none.
	Code int32
	// Reason says what happened; Fix what to do about it.
	Reason, Fix string
	// Kind is the sentinel that classifies the failure (ErrNoServerSASL, ErrKDCUnreachable, ...), nil
	// when ErrAuthFailed says it all.
	Kind error
	// Err is the underlying error, if any.
	Err error
	// Permanent is true when retrying cannot help (the server or KDC said no); false for transport
	// problems such as a KDC that cannot be reached or a connection closed during the exchange.
	Permanent bool

	closed bool // the connection closed during the exchange: a verdict only from a server < 3.5.9
}

func (e *AuthError) Error() string { return withFix(e.Message(), e.Fix) }

// Message is Error without the fix: who failed to authenticate where, at which stage, and why.
func (e *AuthError) Message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sasl: %s authenticating %s to %s as service %s: %s", e.Stage, orUnknown(e.ClientPrincipal),
		orUnknown(e.Member), orUnknown(e.ServicePrincipal), e.Reason)
	if e.Code != 0 {
		fmt.Fprintf(&b, " (server error %d)", e.Code)
	}
	if e.Err != nil && !errors.Is(e.Err, ErrAuthFailed) && !strings.Contains(e.Reason, firstLine(e.Err.Error())) {
		fmt.Fprintf(&b, ": %s", firstLine(e.Err.Error()))
	}
	return b.String()
}

// Unwrap returns ErrAuthFailed (for a permanent failure only), Kind and the underlying error.
func (e *AuthError) Unwrap() []error {
	var errs []error
	if e.Permanent {
		errs = append(errs, ErrAuthFailed)
	}
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// LoginError says that a Kerberos login failed: the principal, where its credentials come from,
// why, and what to do. Authenticator.Login returns it.
type LoginError struct {
	// Principal is the client principal; From where the login went ("from keytab /path", "at the KDC
	// host:88 of realm R (from /etc/krb5.conf)").
	Principal, From string
	// Reason says what happened; Fix what to do about it.
	Reason, Fix string
	// Kind classifies the failure: ErrLogin, ErrKDCUnreachable or ErrWeakEnctype.
	Kind error
	// Err is the underlying error, if any.
	Err error
}

func (e *LoginError) Error() string { return withFix(e.Message(), e.Fix) }

// Message is Error without the fix.
func (e *LoginError) Message() string {
	return fmt.Sprintf("%v: logging in %s %s: %s", e.Kind, e.Principal, e.From, e.Reason)
}

// Unwrap returns Kind and the underlying error.
func (e *LoginError) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// withFix appends the fix sentence of a typed error's text.
func withFix(msg, fix string) string {
	if fix == "" {
		return msg
	}
	return msg + ". Fix: " + fix
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// kdcFailure classifies a gokrb5 error and returns a sentence that says what to do. gokrb5 does not
// always wrap the KRB-ERROR it received, so the error code names are matched in the text.
// kdc describes the KDCs ("KDC 127.0.0.1:88 of realm EXAMPLE.COM (from /etc/krb5.conf)").
func kdcFailure(err error, client, service, kdc, krb5conf string) (reason, fix string, sentinel error, permanent bool) {
	msg := err.Error()
	has := func(s string) bool { return strings.Contains(msg, s) }
	switch {
	case has("KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		return "the KDC does not know the service principal " + service, "check the service name, server principal and realm settings (the Java client would ask for the same principal); the server's keytab principal must match", ErrUnknownServicePrincipal, true
	case has("KDC_ERR_C_PRINCIPAL_UNKNOWN"):
		return "the KDC does not know the client principal " + client, "check the principal's spelling and realm, or create it in the KDC", ErrLogin, true
	case has("KDC_ERR_PREAUTH_FAILED"), has("Decrypting_Error"), has("integrity verification"), has("error decrypting"):
		return "the KDC rejected the client's key for " + client + " (the keytab holds old or wrong keys)", "export a fresh keytab for " + client + " (its keys changed since this keytab was written)", ErrLogin, true
	case has("KDC_ERR_ETYPE_NOSUPP"), has("KDC_ERR_ETYPE_NOTSUPP"):
		return "the KDC and client share no encryption type", "give the principal AES keys (aes256-cts-hmac-sha1-96) and list them in krb5.conf", ErrWeakEnctype, true
	case has("KRB_AP_ERR_SKEW"):
		return "the clocks of this host and the KDC differ by more than the allowed skew", "synchronise the clocks (NTP)", ErrLogin, true
	case has("KDC_ERR_KEY_EXPIRED"), has("KDC_ERR_CLIENT_REVOKED"), has("KDC_ERR_POLICY"):
		return "the KDC refused " + client + ": " + firstLine(msg), "ask the Kerberos administrator to renew or unlock the principal", ErrLogin, true
	case has("KRB_AP_ERR_TKT_EXPIRED"):
		return "the TGT of " + client + " expired and cannot be renewed", "run kinit again, or log in from a keytab (which zksecure renews by itself)", ErrLogin, true
	case has("failed to communicate with KDC"), has("connection refused"), has("i/o timeout"), has("no KDCs defined"), has("no such host"),
		has("error sending to"), has("no response data from"), has("error reading response"):
		return "no KDC could be reached (" + kdc + ")", "check that the " + kdc + " is running and reachable from this host (kdc = host:port under [realms] of " + krb5conf + "); the client retries by itself", ErrKDCUnreachable, false
	}
	return firstLine(msg), "run `kinit` with the same credentials to see the KDC's answer, and check " + krb5conf, ErrLogin, true
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
