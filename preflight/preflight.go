// Package preflight is the checks library behind zk-secure-check: it answers, per ensemble member
// and for the whole configuration, whether a JobManager-style client will reach ZooKeeper over the
// intended transport, authenticate, get the right identity, and own its HA root — and what to do
// about everything that will not work.
//
// Checks have stable names (the Check* constants), run in dependency order, and a check whose
// prerequisite failed is skipped with the reason. Every warning and failure carries a one-sentence
// fix. No secret is ever put into a result.
package preflight

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/flinkconf"
	"github.com/zksecure/zksecure/version"
)

// Stable check names.
const (
	CheckConfigLint          = "config-lint"
	CheckDNS                 = "dns"
	CheckTCP                 = "tcp"
	CheckVersion             = "version"
	CheckTLSChain            = "tls-chain"
	CheckTLSExpiry           = "tls-expiry"
	CheckTLSHostname         = "tls-hostname"
	CheckKrb5Conf            = "krb5-conf"
	CheckKDCReach            = "kdc-reach"
	CheckClockSkew           = "clock-skew"
	CheckLogin               = "login"
	CheckServicePrincipal    = "service-principal"
	CheckServiceTicket       = "service-ticket"
	CheckSASL                = "sasl"
	CheckIdentity            = "identity"
	CheckIdentityConsistency = "identity-consistency"
	CheckACLAudit            = "acl-audit"
	CheckElection            = "election"
	CheckSessionTimeout      = "session-timeout"
)

// AllChecks lists every check name in run order.
var AllChecks = []string{CheckConfigLint, CheckDNS, CheckTCP, CheckVersion, CheckTLSChain, CheckTLSExpiry, CheckTLSHostname,
	CheckKrb5Conf, CheckKDCReach, CheckClockSkew, CheckLogin, CheckServicePrincipal, CheckServiceTicket, CheckSASL,
	CheckIdentity, CheckIdentityConsistency, CheckACLAudit, CheckElection, CheckSessionTimeout}

// Options say what to check.
type Options struct {
	// Client is the effective client configuration (Flink configuration with flags applied).
	Client client.Config
	// Flink is what was read from a Flink configuration, if one was given (for the lint).
	Flink *flinkconf.Result
	// JavaRules are the service-principal rules Flink's JVM would apply (from its -D options and
	// defaults); compared with Client.Kerberos.PrincipalRules.
	JavaRules sasl.PrincipalRules
	// JobManagerPrincipals are the principals every JobManager of the cluster logs in as, for the
	// identity-consistency check; empty means only the checked principal.
	JobManagerPrincipals []string
	// Ignore turns failures of the named checks into warnings; IgnoreAll does it for every check.
	Ignore    map[string]bool
	IgnoreAll bool
	// Timeout bounds the whole run; zero means 60s.
	Timeout time.Duration
	// ExpiryWarning warns when a certificate expires within it; zero means 30 days.
	ExpiryWarning time.Duration
	// Logger receives the libraries' logs; nil discards them (the report says everything).
	Logger *slog.Logger
}

// run is one preflight run's state.
type run struct {
	opts    Options
	cfg     client.Config
	useTLS  bool
	tls     *zktls.Client
	tlsErr  error // why tls is nil when TLS is wanted
	sasl    bool
	log     *slog.Logger
	mu      sync.Mutex
	failed  map[string]bool // "name" or "name member" of failed checks
	members []string
	// versions are the members' versions as the version check found them (under mu).
	versions map[string]version.Version
}

// Run performs every check and returns the report.
func Run(ctx context.Context, opts Options) *Report {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.ExpiryWarning <= 0 {
		opts.ExpiryWarning = 30 * 24 * time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	r := &run{opts: opts, cfg: opts.Client, failed: map[string]bool{}, log: opts.Logger, versions: map[string]version.Version{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.cfg.Logger = r.log
	r.cfg.Kerberos.Logger = r.log
	if r.cfg.Transport == "" {
		r.cfg.Transport = client.TransportAuto
	}
	r.sasl = r.cfg.SASL == client.SASLKerberos
	r.useTLS = r.cfg.Transport == client.TransportTLS || (r.cfg.Transport == client.TransportAuto && r.cfg.TLS != nil)
	for _, m := range r.cfg.Members {
		if n, err := client.NormalizeMember(m); err == nil {
			m = n
		} // an invalid member is reported by config-lint, and fails dns/tcp as written
		r.members = append(r.members, m)
	}
	if r.useTLS {
		tc := zktls.Config{}
		if r.cfg.TLS != nil {
			tc = *r.cfg.TLS
		}
		r.tls, r.tlsErr = tc.Load() // reported by the version check
	}
	rep := &Report{Header: r.header()}
	emit := func(res Result) {
		if res.Status == Fail {
			// Recorded before --ignore applies: an ignored failure still means its dependents
			// cannot run; only its own status changes.
			r.mu.Lock()
			r.failed[res.Name] = true
			r.failed[res.Name+" "+res.Member] = true
			r.mu.Unlock()
			if opts.IgnoreAll || opts.Ignore[res.Name] {
				res.Status = Warn
				res.Message = "(ignored) " + res.Message
			}
		}
		rep.add(res)
	}
	for _, res := range r.lint() {
		emit(res)
	}
	for _, res := range r.kerberos(ctx) {
		emit(res)
	}
	// Members in parallel; each member's results stay together, in member order.
	perMember := make([][]Result, len(r.members))
	var wg sync.WaitGroup
	for i, m := range r.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			perMember[i] = r.member(ctx, m)
		}()
	}
	wg.Wait()
	for _, rs := range perMember {
		for _, res := range rs {
			emit(res)
		}
	}
	for _, res := range r.session(ctx) {
		emit(res)
	}
	return rep
}

func (r *run) header() string {
	transport := "plaintext"
	if r.useTLS {
		transport = "TLS"
	}
	auth := "no SASL"
	if r.sasl {
		l := r.cfg.Kerberos.Login
		switch {
		case l.Keytab != "":
			auth = "Kerberos as " + l.Principal + " (keytab " + l.Keytab + ")"
		case l.JAASFile != "":
			ctxName := l.LoginContext
			if ctxName == "" {
				ctxName = sasl.DefaultLoginContext
			}
			auth = "Kerberos from JAAS " + l.JAASFile + " section " + ctxName
		default:
			auth = "Kerberos from the ticket cache"
		}
	}
	root, cid := r.cfg.Root, r.cfg.ClusterID
	if root == "" {
		root = client.DefaultRoot
	}
	if cid == "" {
		cid = client.DefaultClusterID
	}
	aclName := "open"
	if r.cfg.ACL != nil {
		aclName = r.cfg.ACL.String()
	}
	return fmt.Sprintf("zk-secure-check: %d member(s) %s; transport %s; %s; HA root %s%s; ACL %s",
		len(r.members), strings.Join(r.members, ","), transport, auth, root, cid, aclName)
}

// failedAny reports whether any of the named checks failed (globally or for member).
func (r *run) failedAny(member string, names ...string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range names {
		if r.failed[n+" "] || (member != "" && r.failed[n+" "+member]) {
			return n
		}
	}
	return ""
}

func skipped(name, member, because string) Result {
	return Result{Name: name, Member: member, Status: Skip, Message: "skipped: " + because + " failed"}
}
