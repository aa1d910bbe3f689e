package preflight

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
)

var sessionChecks = []string{CheckIdentity, CheckIdentityConsistency, CheckACLAudit, CheckElection, CheckSessionTimeout}

func skipAll(because string) []Result {
	out := make([]Result, len(sessionChecks))
	for i, n := range sessionChecks {
		out[i] = skipped(n, "", because)
	}
	return out
}

// session runs the checks that need a whole-ensemble session (the client as the JobManagers would
// use it).
func (r *run) session(ctx context.Context) []Result {
	if failed := r.failedAny("", CheckConfigLint, CheckKrb5Conf, CheckKDCReach, CheckLogin); failed != "" {
		return skipAll(failed)
	}
	ok := 0
	for _, m := range r.members {
		if r.failedAny(m, CheckTCP, CheckVersion, CheckTLSChain, CheckTLSExpiry, CheckTLSHostname, CheckServiceTicket, CheckSASL) == "" {
			ok++
		}
	}
	if ok == 0 {
		return skipAll("every member's checks")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg := r.cfg
	// Only the members that passed: the point here is what the session can do once up.
	cfg.Members = nil
	for _, m := range r.members {
		if r.failedAny(m, CheckTCP, CheckVersion, CheckTLSChain, CheckTLSExpiry, CheckTLSHostname, CheckServiceTicket, CheckSASL) == "" {
			cfg.Members = append(cfg.Members, m)
		}
	}
	c, err := client.Connect(cctx, cfg)
	if err != nil {
		msg, fix := splitFix(err.Error(), "see the per-member results above")
		return append([]Result{{Name: CheckIdentity, Status: Fail, Message: "no session: " + msg, Fix: fix}}, skipAll(CheckIdentity)[1:]...)
	}
	defer c.Close()
	var out []Result
	ids, how, err := r.identities(cctx, c)
	if err != nil {
		msg, fix := splitFix(err.Error(), "grant this identity CREATE on the HA root, or check the root's owner")
		out = append(out, Result{Name: CheckIdentity, Status: Fail, Message: msg, Fix: fix})
	} else if len(ids) == 0 {
		res := Result{Name: CheckIdentity, Status: Pass, Message: "the session is unauthenticated (no SASL, no client certificate)"}
		if c.ACL().NeedsIdentity() {
			res.Status, res.Fix = Fail, "enable SASL or a TLS client certificate for acl creator"
		}
		out = append(out, res)
	} else {
		out = append(out, Result{Name: CheckIdentity, Status: Pass, Message: "the servers know this session as " + joinIDs(ids) + " (" + how + ")"})
	}
	out = append(out, r.identityConsistency(ids, c))
	out = append(out, r.audit(cctx, c, ids))
	out = append(out, dryRunElection(cctx, c))
	out = append(out, r.sessionTimeout(c))
	return out
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
func (r *run) identityConsistency(ids []acl.Identity, c *client.Client) Result {
	res := Result{Name: CheckIdentityConsistency}
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
	user, realm := splitPrincipal(ours)
	stripHost := strings.Contains(user, "/") && !strings.Contains(strings.TrimSuffix(saslID, "@"+realm), "/")
	stripRealm := !strings.Contains(saslID, "@")
	predict := func(p string) string {
		u, rl := splitPrincipal(p)
		if rl == "" {
			rl = realm
		}
		if stripHost {
			u, _, _ = strings.Cut(u, "/")
		}
		if stripRealm {
			return u
		}
		return u + "@" + rl
	}
	principals := append([]string{ours}, r.opts.JobManagerPrincipals...)
	byID := map[string][]string{}
	for _, p := range principals {
		id := predict(p)
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

func splitPrincipal(p string) (user, realm string) {
	if i := strings.LastIndex(p, "@"); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, ""
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// audit walks root → cluster-id → descendants.
func (r *run) audit(ctx context.Context, c *client.Client, ids []acl.Identity) Result {
	res := Result{Name: CheckACLAudit}
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

// dryRunElection campaigns on a scratch latch under the namespace and resigns, leaving nothing.
func dryRunElection(ctx context.Context, c *client.Client) Result {
	res := Result{Name: CheckElection}
	scratch := "/.zk-secure-check-" + uuid.NewString()
	e, err := election.New(c, election.Options{LatchPath: scratch + "/latch"})
	if err != nil {
		res.Status, res.Message, res.Fix = Fail, err.Error(), "report this as a bug"
		return res
	}
	t0 := time.Now()
	l, err := e.Campaign(ctx, []byte("zk-secure-check"))
	defer func() {
		c.Delete(context.WithoutCancel(ctx), scratch+"/latch", -1)
		c.Delete(context.WithoutCancel(ctx), scratch, -1)
	}()
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

func (r *run) sessionTimeout(c *client.Client) Result {
	res := Result{Name: CheckSessionTimeout}
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
