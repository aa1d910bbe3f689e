package preflight

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
)

// identity opens the session the session checks use — the client as the JobManagers would use it,
// on the members whose checks all passed — and reports the ids the servers give it.
func identity(ctx context.Context, r *run, _ *member) Result {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	r.onClose(cancel)
	// The sasl check's session with the first member whose checks all passed: the same client
	// configuration, already authenticated, whoAmI asked on it. The others are closed now, beside
	// the session checks.
	k := r.pick(r.passing)
	c, asked := k.c, k.whoAmI
	if c == nil {
		cfg := r.cfg
		// Only the members whose checks passed: the point here is what the session can do once up.
		cfg.Members = r.passing
		// The run's credentials: the login and the TLS files are not loaded again.
		cfg.TLSClient = r.tls
		if r.sasl {
			a, err := r.authenticator()
			if err != nil {
				msg, fix := explain(err, "see the login check")
				return Result{Status: Fail, Message: "no session: " + msg, Fix: fix}
			}
			cfg.Authenticator = a
		}
		asked = &whoAmIAnswer{}
		var err error
		if c, err = client.Connect(r.withWhoAmI(cctx, asked), cfg); err != nil {
			msg, fix := explain(err, "see the per-member results above")
			return Result{Status: Fail, Message: "no session: " + msg, Fix: fix}
		}
		r.onClose(func() { c.Close() })
	}
	r.session, r.sessionCtx = c, cctx
	ids, how, err := r.identities(cctx, c, asked)
	r.ids = ids
	switch {
	case err != nil:
		msg, fix := explain(err, "grant this identity CREATE on the HA root, or check the root's owner")
		return Result{Status: Fail, Message: msg, Fix: fix}
	case len(ids) == 0 && c.ACL().NeedsIdentity():
		return Result{Status: Fail, Message: "the session is unauthenticated (no SASL, no client certificate)", Fix: "enable SASL or a TLS client certificate for acl creator"}
	case len(ids) == 0:
		return Result{Status: Pass, Message: "the session is unauthenticated (no SASL, no client certificate)"}
	}
	return Result{Status: Pass, Message: "the servers know this session as " + joinIDs(ids) + " (" + how + ")"}
}

func joinIDs(ids []acl.Identity) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, " and ")
}

// identityConsistency predicts the sasl id of every JobManager principal from how the servers
// stripped ours, and fails when they differ under creator-only ACLs: JobManager B could not take over
// A's nodes after a failover.
func identityConsistency(_ context.Context, r *run, _ *member) Result {
	ids, c := r.ids, r.session
	var res Result
	var saslID string
	for _, id := range ids {
		if id.Scheme == "sasl" {
			saslID = id.ID
		}
	}
	a := c.Authenticator()
	if a == nil || saslID == "" {
		res.Status, res.Message = Skip, "skipped: no Kerberos identity to compare"
		return res
	}
	ours := a.ClientPrincipal()
	principals := append([]string{ours}, r.opts.JobManagerPrincipals...)
	byID := map[string][]string{}
	for _, p := range principals {
		id := acl.PredictSASLID(ours, saslID, p)
		byID[id] = appendUnique(byID[id], p)
	}
	if len(byID) == 1 {
		res.Status = Pass
		if len(r.opts.JobManagerPrincipals) == 0 {
			res.Message = fmt.Sprintf("one JobManager principal (%s → sasl:%s); name the others with --jobmanager-principals to compare them", ours, saslID)
		} else {
			res.Message = fmt.Sprintf("every JobManager principal maps to sasl:%s", saslID)
		}
		return res
	}
	var parts []string
	for id, ps := range byID {
		parts = append(parts, strings.Join(ps, ", ")+" → sasl:"+id)
	}
	sort.Strings(parts)
	res.Message = "JobManager principals get different ZooKeeper identities (" + strings.Join(parts, "; ") + ")"
	res.Fix = "set kerberos.removeHostFromPrincipal=true (and removeRealmFromPrincipal if realms differ) on every ZooKeeper server, or give all JobManagers one principal"
	if c.ACL().NeedsIdentity() {
		res.Status = Fail
		res.Message += ": with creator-only ACLs a standby JobManager cannot take over the leader's nodes after a failover"
	} else {
		res.Status = Warn
		res.Message += ": harmless with open ACLs, fatal once acl is creator"
	}
	return res
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// audit (acl-audit) walks root → cluster-id → descendants.
func audit(_ context.Context, r *run, _ *member) Result {
	ctx, c, ids := r.sessionCtx, r.session, r.ids
	var res Result
	root := c.Config().Root
	fs, err := acl.Audit(ctx, c.Conn(), ids, acl.AuditOptions{MaxNodes: 2000}, root, c.Namespace())
	if err != nil {
		res.Status, res.Message, res.Fix = Warn, "audit interrupted: "+err.Error(), "raise --timeout"
		return res
	}
	creator := c.ACL().NeedsIdentity()
	var fails, warns []acl.Finding
	for _, f := range fs {
		switch {
		case f.Kind == acl.WorldReadable:
			if creator {
				warns = append(warns, f)
			}
		case f.Kind == acl.WorldWritable && !creator:
			warns = append(warns, f)
		default:
			fails = append(fails, f)
		}
	}
	switch {
	case len(fails) > 0:
		res.Status = Fail
		res.Message, res.Fix = summarize(fails)
	case len(warns) > 0:
		res.Status = Warn
		res.Message, res.Fix = summarize(warns)
	default:
		res.Status = Pass
		res.Message = fmt.Sprintf("%s and %s: ACLs match acl %s", root, c.Namespace(), c.ACL())
	}
	return res
}

func summarize(fs []acl.Finding) (msg, fix string) {
	var parts []string
	for i, f := range fs {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-4))
			break
		}
		parts = append(parts, f.Message)
	}
	return strings.Join(parts, "; "), fs[0].Fix
}

// dryRunElection (election) campaigns on a scratch latch under the namespace and resigns, leaving
// nothing.
func dryRunElection(_ context.Context, r *run, _ *member) Result {
	ctx, c := r.sessionCtx, r.session
	var res Result
	// The scratch latch is one node of its own, made by the campaign and removed after.
	scratch := "/.zk-secure-check-" + uuid.NewString()
	e, err := election.New(c, election.Options{LatchPath: scratch})
	if err != nil {
		res.Status, res.Message, res.Fix = Fail, err.Error(), "report this as a bug"
		return res
	}
	t0 := time.Now()
	// Made here rather than by the campaign, whose first create would fail for want of it (one
	// request less through the leader).
	_, err = c.Create(ctx, scratch, nil, 0, nil)
	var l *election.Leadership
	if err == nil {
		defer c.Delete(context.WithoutCancel(ctx), scratch, -1)
		l, err = e.Campaign(ctx, []byte("zk-secure-check"))
	}
	if err != nil {
		res.Status = Fail
		res.Message = "campaign on a scratch latch failed: " + err.Error()
		res.Fix = "grant this identity create/delete under " + c.Namespace()
		if errors.Is(err, context.DeadlineExceeded) {
			res.Fix = "raise --timeout; check the servers' load"
		}
		return res
	}
	took := time.Since(t0)
	if err := l.Resign(ctx); err != nil {
		res.Status, res.Message, res.Fix = Warn, "led, but resigning failed: "+err.Error(), "check delete permission under "+c.Namespace()
		return res
	}
	res.Status = Pass
	res.Message = fmt.Sprintf("campaigned, led and resigned on a scratch latch under %s (leader in %s)", c.Namespace(), took.Round(10*time.Microsecond))
	return res
}

// sessionTimeout (session-timeout) compares the requested and the negotiated session timeout.
func sessionTimeout(_ context.Context, r *run, _ *member) Result {
	c := r.session
	var res Result
	want := c.Config().SessionTimeout
	got := c.NegotiatedSessionTimeout()
	switch {
	case got == 0:
		res.Status, res.Message = Skip, "skipped: the server did not report a session timeout"
	case got != want:
		res.Status = Warn
		res.Message = fmt.Sprintf("requested %s, the servers granted %s", want, got)
		res.Fix = "keep high-availability.zookeeper.client.session-timeout between the servers' minSessionTimeout and maxSessionTimeout (2 to 20 ticks by default), or change those limits"
	default:
		res.Status, res.Message = Pass, fmt.Sprintf("requested and granted %s", got)
	}
	return res
}

// credentials are the run's Kerberos credentials: one Authenticator, made and logged in once by the
// login check, whose login and service tickets every later check shares (each member's checks and
// the session, through a Fork of it). It is closed when Run returns, after what uses it.
type credentials struct {
	once sync.Once
	auth *sasl.Authenticator
	err  error
}

// authenticator returns the run's Authenticator, making it on the first call.
func (r *run) authenticator() (*sasl.Authenticator, error) {
	r.creds.once.Do(func() {
		r.creds.auth, r.creds.err = sasl.New(r.cfg.Kerberos)
		if r.creds.err == nil {
			r.onClose(r.creds.auth.Close)
		}
	})
	return r.creds.auth, r.creds.err
}

// kept is a member's authenticated session from the sasl check, and what whoAmI said on it.
type kept struct {
	c      *client.Client
	whoAmI *whoAmIAnswer
}

// keep holds a member's authenticated session (from the sasl check) for the session checks; every
// kept session is closed when Run returns, or by pick.
func (r *run) keep(member string, k kept) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions == nil {
		r.sessions = map[string]kept{}
		r.closers = append(r.closers, r.closeKept)
	}
	r.sessions[member] = k
}

// pick returns the kept session of the first of members that has one (zero when none has), and
// closes the others in the background: the session checks need one. Run waits for the closes.
func (r *run) pick(members []string) kept {
	r.mu.Lock()
	defer r.mu.Unlock()
	var k kept
	for _, m := range members {
		if s, ok := r.sessions[m]; ok {
			k = s
			break
		}
	}
	var wg sync.WaitGroup
	for m, s := range r.sessions {
		if s.c == k.c {
			continue
		}
		delete(r.sessions, m)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.c.Close()
		}()
	}
	r.closers = append(r.closers, wg.Wait)
	return k
}

// closeKept closes the kept sessions, all at once.
func (r *run) closeKept() {
	r.mu.Lock()
	ss := r.sessions
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.c.Close()
		}()
	}
	wg.Wait()
}
