package sasl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/zksecure/zksecure/internal/ctxcall"
)

// Config configures an Authenticator. Login must name one credential source; everything else has a
// usable zero value.
type Config struct {
	// Login says where the client's credentials come from.
	Login
	// PrincipalRules choose the service principal of each member; the zero value is the Java
	// client's default.
	PrincipalRules
	// NoMutualAuth stops asking the server to prove its identity (AP-REP). Mutual authentication is
	// on by default, as with the JDK client; the server authenticates the client either way.
	NoMutualAuth bool
	// ExchangeTimeout bounds the SASL exchange on one connection; zero means 10s.
	ExchangeTimeout time.Duration
	// KDCTimeout bounds a login or service-ticket request; zero means 10s.
	KDCTimeout time.Duration
	// Resolver is used to canonicalize host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Logger receives events (never secrets); nil means slog.Default().
	Logger *slog.Logger
}

// Authenticator holds a client's Kerberos credentials and authenticates ZooKeeper connections with
// them. It is safe for concurrent use. Create it with New, log in with Login (or let the first
// connection do it), and Close it when done. Fork gives each session its own failure latch over
// the same login and tickets.
type Authenticator struct {
	*creds                  // shared with every Fork
	root      bool          // Close destroys the credentials
	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu       sync.Mutex
	failed   *AuthError // latched permanent failure
	hooks    map[int]func(error)
	nextHook int
	retries  int   // transient failures since the last successful authentication
	lastErr  error // the latest of them
}

// creds are the loaded credentials, the login, the service principals and the reloads of the
// credential file: what every Fork of an Authenticator shares. gokrb5 caches each service ticket
// by principal, so members that share a service principal share its ticket, and a Fork asks the
// KDC for nothing its root already has.
type creds struct {
	cfg             Config
	src             source // the resolved login, for reloading its file
	clientPrincipal string
	clientRealm     string
	source          string
	krb5conf        string
	kdcs            string // "KDC host:port of realm R", for messages
	log             *slog.Logger
	loginMu         sync.Mutex // one login at a time: concurrent Connects share it

	spnMu sync.Mutex
	spns  map[string]string // member → service principal

	weakWarned sync.Map // member → struct{}: a non-AES ticket was logged once

	reloadMu sync.Mutex // one reload at a time
	credMu   sync.Mutex
	cl       *krbclient.Client   // the current gokrb5 client (see krb)
	loaded   credFile            // the keytab or ticket cache file cl was loaded from
	info     CredentialInfo      // what Credentials reports
	retired  []*krbclient.Client // clients replaced by a reload, destroyed at the next one or at Close
}

// New checks the configuration and loads the credentials (krb5.conf, keytab or ticket cache). It
// does not contact the KDC: Login does.
func New(cfg Config) (*Authenticator, error) {
	src, err := cfg.Login.resolve()
	if err != nil {
		return nil, err
	}
	cl, full, err := newKrbClient(src)
	if err != nil {
		if src.jaas != "" {
			err = fmt.Errorf("%w (login from %s)", err, src.jaas)
		}
		return nil, err
	}
	a := &Authenticator{creds: &creds{cfg: cfg, src: src, cl: cl, clientPrincipal: full, krb5conf: Krb5ConfPath(src.krb5conf),
		spns: map[string]string{}}, root: true, done: make(chan struct{})}
	a.loaded = stampCredFile(src)
	a.info = readCredInfo(src, full, a.loaded)
	_, a.clientRealm = splitPrincipal(full, "")
	a.kdcs = describeKDCs(cl, a.clientRealm)
	switch {
	case src.keytab != "":
		a.source = "keytab " + src.keytab
	default:
		a.source = "ticket cache " + src.ccache
	}
	if src.jaas != "" {
		a.source += " (from JAAS " + src.jaas + ")"
	}
	a.log = cfg.Logger
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("component", "zksecure/sasl", "client_principal", full)
	return a, nil
}

// Fork returns an Authenticator that shares a's credentials — its login, service principals,
// service tickets and credential reloads: a Fork asks the KDC for nothing a already has — but
// latches its own permanent failure, runs its own OnFailure hooks and backs off on its own. Give
// each session (each client.Client, each check of one member) a Fork of one process-wide
// Authenticator, so that one session's AuthFailed does not fail the others. Closing a Fork ends
// only its own backoff waits; closing a (the root) ends its Forks' credentials too, so close it
// after them.
func (a *Authenticator) Fork() *Authenticator {
	return &Authenticator{creds: a.creds, done: make(chan struct{})}
}

// Prepare logs in (unless already logged in) and makes sure a service ticket for every member is
// cached, under ctx: an unknown service principal or an unreachable KDC is reported here, before a
// session exists, rather than as a reconnect loop.
func (a *Authenticator) Prepare(ctx context.Context, members []string) error {
	if err := a.Login(ctx); err != nil {
		return err
	}
	for _, m := range members {
		if _, err := a.ServiceTicket(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// affirmLogin logs in unless a valid TGT is held, one caller at a time.
func (a *Authenticator) affirmLogin() error {
	a.loginMu.Lock()
	defer a.loginMu.Unlock()
	return a.krb().AffirmLogin()
}

// ClientPrincipal is the principal the client authenticates as ("name@REALM").
func (a *Authenticator) ClientPrincipal() string { return a.clientPrincipal }

// Source describes where the credentials come from ("keytab /path", "ticket cache /path", with the
// JAAS section when one was used). It never contains a secret.
func (a *Authenticator) Source() string { return a.source }

// Krb5Conf is the krb5.conf in use.
func (a *Authenticator) Krb5Conf() string { return a.krb5conf }

func (a *Authenticator) kdcTimeout() time.Duration {
	if a.cfg.KDCTimeout > 0 {
		return a.cfg.KDCTimeout
	}
	return 10 * time.Second
}

func (a *Authenticator) exchangeTimeout() time.Duration {
	if a.cfg.ExchangeTimeout > 0 {
		return a.cfg.ExchangeTimeout
	}
	return 10 * time.Second
}

// Login obtains a TGT from the KDC (keytab) or checks the ticket cache's TGT. With a keytab, gokrb5
// then renews the TGT before it expires, logging in again from the keytab when it can no longer be
// renewed. Failures are a *LoginError, which wraps ErrLogin, ErrKDCUnreachable or ErrWeakEnctype and
// says what to do.
func (a *Authenticator) Login(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.kdcTimeout())
	defer cancel()
	a.reloadIfChanged(ctx)
	err := ctxcall.Err(ctx, a.affirmLogin)
	if err == nil {
		return nil
	}
	if a.loginStaleKVNO(ctx, err) {
		return nil
	}
	if ctx.Err() != nil {
		return &LoginError{Principal: a.clientPrincipal, From: "at the " + a.kdcs + " (from " + a.krb5conf + ")",
			Reason: "no answer: " + ctx.Err().Error(), Fix: "check that the KDC is running and reachable from this host",
			Kind: ErrKDCUnreachable, Err: ctx.Err()}
	}
	reason, fix, sentinel, _ := kdcFailure(err, a.clientPrincipal, "", a.kdcs, a.krb5conf)
	from := a.source
	if c := a.Credentials(); c.File != "" {
		from = c.String() // the file's key version and date: a stale keytab is recognised by them
	}
	if m := kvnoMissing.FindStringSubmatch(err.Error()); m != nil {
		reason = "the KDC answered with key version " + m[1] + ", which the keytab does not hold: the principal's keys changed after the keytab was written"
		fix = "export the current keys of " + a.clientPrincipal + " into the keytab again"
	}
	return &LoginError{Principal: a.clientPrincipal, From: "from " + from, Reason: reason, Fix: fix, Kind: sentinel, Err: err}
}

// describeKDCs names the KDCs krb5.conf lists for realm, for messages.
func describeKDCs(cl *krbclient.Client, realm string) string {
	var kdcs []string
	for _, r := range cl.Config.Realms {
		if r.Realm == realm {
			kdcs = r.KDC
		}
	}
	switch len(kdcs) {
	case 0:
		return "KDC of realm " + realm
	case 1:
		return "KDC " + kdcs[0] + " of realm " + realm
	}
	return "KDCs " + strings.Join(kdcs, ", ") + " of realm " + realm
}

// ServicePrincipal returns the service principal used for member ("host:port"), computed once per
// member by the PrincipalRules.
func (a *Authenticator) ServicePrincipal(ctx context.Context, member string) (string, error) {
	a.spnMu.Lock()
	spn, ok := a.spns[member]
	a.spnMu.Unlock()
	if ok {
		return spn, nil
	}
	spn, err := a.ServicePrincipalFor(ctx, a.cfg.PrincipalRules, member)
	if err != nil {
		return "", err
	}
	a.spnMu.Lock()
	a.spns[member] = spn
	a.spnMu.Unlock()
	return spn, nil
}

// ServiceTicket makes sure a valid service ticket for member is cached (fetching one from the KDC if
// needed, logging in first if needed) and returns the service principal. The dialer calls it before
// every dial, so that KDC round trips never eat into the connection's handshake time.
func (a *Authenticator) ServiceTicket(ctx context.Context, member string) (string, error) {
	spn, _, _, err := a.serviceTicket(ctx, member)
	return spn, err
}

func (a *Authenticator) serviceTicket(ctx context.Context, member string) (string, messages.Ticket, types.EncryptionKey, error) {
	var tkt messages.Ticket
	var key types.EncryptionKey
	spn, err := a.ServicePrincipal(ctx, member)
	if err != nil {
		return "", tkt, key, err
	}
	name, realm := splitPrincipal(spn, a.clientRealm)
	ctx, cancel := context.WithTimeout(ctx, a.kdcTimeout())
	defer cancel()
	type ticket struct {
		tkt messages.Ticket
		key types.EncryptionKey
	}
	a.reloadIfChanged(ctx)
	cl := a.krb()
	get := func() (ticket, error) {
		if realm == a.clientRealm {
			tkt, key, err := cl.GetServiceTicket(name)
			return ticket{tkt, key}, err
		}
		// Another realm: a cross-realm TGT from our KDC, then the ticket from the server's realm.
		if tkt, key, ok := cl.GetCachedTicket(name); ok {
			return ticket{tkt, key}, nil
		}
		xt, xk, err := cl.GetServiceTicket("krbtgt/" + realm)
		if err != nil {
			return ticket{}, &trustError{from: a.clientRealm, to: realm, err: err}
		}
		_, rep, err := cl.TGSREQGenerateAndExchange(types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, name), realm, xt, xk, false)
		if err != nil {
			return ticket{}, &trustError{from: a.clientRealm, to: realm, atTarget: true, err: err}
		}
		return ticket{rep.Ticket, rep.DecryptedEncPart.Key}, nil
	}
	t, err := ctxcall.Value(ctx, get)
	if err != nil && ctx.Err() == nil && cl.Credentials.HasKeytab() {
		// gokrb5 renews an expired TGT rather than logging in again (the KDC refuses that), and its
		// renewal goroutine gives up once a renewal failed past the TGT's end (a KDC outage longer
		// than the ticket lifetime): log in again from the keytab and retry once, unless the failure
		// cannot be the TGT's.
		if _, _, kind, _ := kdcFailure(err, a.clientPrincipal, spn, a.kdcs, a.krb5conf); kind == ErrLogin {
			a.log.Debug("service ticket failed; logging in again from the keytab", "service_principal", spn, "error", err.Error())
			if err = ctxcall.Err(ctx, func() error { a.loginMu.Lock(); defer a.loginMu.Unlock(); return cl.Login() }); err == nil {
				t, err = ctxcall.Value(ctx, get)
			} else if a.loginStaleKVNO(ctx, err) {
				cl = a.krb()
				t, err = ctxcall.Value(ctx, get)
			}
		}
	}
	tkt, key = t.tkt, t.key
	if err != nil {
		ae := &AuthError{Member: member, ServicePrincipal: spn, ClientPrincipal: a.clientPrincipal, Stage: "service ticket", Err: err}
		if ctx.Err() != nil {
			ae.Reason, ae.Fix = "the "+a.kdcs+" did not answer within "+a.kdcTimeout().String(), "check that the "+a.kdcs+" (from "+a.krb5conf+") is running and reachable; the client retries by itself"
			ae.Kind, ae.Err = ErrKDCUnreachable, ctx.Err()
			return spn, tkt, key, ae
		}
		ae.Reason, ae.Fix, ae.Kind, ae.Permanent = kdcFailure(err, a.clientPrincipal, spn, a.kdcs, a.krb5conf)
		explainTrust(ae, err)
		a.explainExpiredCache(ae)
		return spn, tkt, key, ae
	}
	if !isAES(key.KeyType) {
		var we *WeakTicketError
		errors.As(a.describe(member, spn, tkt, key).Weak(), &we)
		return spn, tkt, key, &AuthError{Member: member, ServicePrincipal: spn, ClientPrincipal: a.clientPrincipal,
			Stage: "service ticket", Permanent: true, Kind: ErrWeakEnctype, Reason: we.Reason,
			Fix: we.Fix + "; list only AES types in permitted_enctypes of " + a.krb5conf}
	}
	a.warnWeakTicket(member, spn, tkt, key)
	return spn, tkt, key, nil
}

// OnFailure registers f to be called (once, from the goroutine that saw it) when a permanent
// authentication failure latches. The owner of the zk.Conn uses it to close the session. The returned
// function unregisters f.
func (a *Authenticator) OnFailure(f func(error)) (unregister func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hooks == nil {
		a.hooks = map[int]func(error){}
	}
	id := a.nextHook
	a.nextHook++
	a.hooks[id] = f
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		delete(a.hooks, id)
	}
}

// Err returns the latched permanent failure, or nil. Once set, every dial fails with it.
func (a *Authenticator) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failed == nil {
		return nil
	}
	return a.failed
}

func (a *Authenticator) fail(err *AuthError) {
	a.mu.Lock()
	first := a.failed == nil
	if first {
		a.failed = err
	}
	hooks := make([]func(error), 0, len(a.hooks))
	for _, h := range a.hooks {
		hooks = append(hooks, h)
	}
	a.mu.Unlock()
	if !first {
		return
	}
	a.log.Error("SASL authentication failed; the session will not be used", "member", err.Member,
		"service_principal", err.ServicePrincipal, "stage", err.Stage, "error", err.Error())
	for _, h := range hooks {
		h(err)
	}
}

// transient records a failure that a later attempt may not have (a KDC or member that cannot be
// reached, a connection closed during the exchange) and logs it at Warn.
func (a *Authenticator) transient(member string, err error) {
	a.mu.Lock()
	a.retries++
	a.lastErr = err
	n := a.retries
	a.mu.Unlock()
	a.log.Warn("SASL authentication attempt failed; retrying with backoff", "member", member, "attempt", n, "error", err.Error())
}

// succeeded resets the backoff after an authenticated connection.
func (a *Authenticator) succeeded() {
	a.mu.Lock()
	a.retries, a.lastErr = 0, nil
	a.mu.Unlock()
}

// LastError returns the latest transient authentication failure (a KDC that could not be reached,
// a connection closed during the exchange, ...) since the last authenticated connection, or nil.
func (a *Authenticator) LastError() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastErr
}

// Backoff bounds: the first retry after a transient failure waits about backoffMin, doubling up to
// backoffMax (well within a session timeout, so a recovered KDC or member is used in time).
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 3 * time.Second
)

// backoff waits before an attempt that follows transient failures; it returns early (with an
// error) when the authenticator is closed.
func (a *Authenticator) backoff() error {
	a.mu.Lock()
	n := a.retries
	a.mu.Unlock()
	if n == 0 {
		return nil
	}
	d := backoffMin << min(n-1, 5)
	d = min(d, backoffMax)
	d = d*4/5 + time.Duration(rand.Int64N(int64(d)*2/5+1)) // ±20% jitter
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-a.done:
		return ErrClosed
	}
}

// Close ends any backoff wait of its dialers; on the root (what New returned, not a Fork) it also
// stops the TGT renewal and forgets the tickets.
func (a *Authenticator) Close() {
	a.closeOnce.Do(func() { close(a.done) })
	if !a.root {
		return
	}
	a.credMu.Lock()
	defer a.credMu.Unlock()
	for _, old := range a.retired {
		old.Destroy()
	}
	a.retired = nil
	a.cl.Destroy()
}
