// Package preflight is the checks library behind zk-secure-check: it answers, per ensemble member
// and for the whole configuration, whether a JobManager-style client will reach ZooKeeper over the
// intended transport, authenticate, get the right identity, and own its HA root — and what to do
// about everything that will not work.
//
// Checks have stable names (the Check* constants) and are declared as data, in one table
// (checks.go): their order, which run per member, and what each needs. A check whose prerequisite
// failed is skipped with the reason. Every warning and failure carries a one-sentence fix. No secret
// is ever put into a result.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	krbconfig "github.com/jcmturner/gokrb5/v8/config"

	"github.com/zksecure/zksecure/acl"
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

// AllChecks lists every check name in run (and report) order.
var AllChecks = checkNames(table)

// IgnoreAll in Options.Ignore turns the failures of every check into warnings.
const IgnoreAll = "all"

// ErrUnknownCheck is returned by Options.Validate for a name that is not a check.
var ErrUnknownCheck = errors.New("preflight: unknown check")

// Options say what to check.
type Options struct {
	// Client is the effective client configuration (Flink configuration with flags applied).
	Client client.Config
	// Flink is what was read from a Flink configuration, if one was given (for the lint).
	Flink *flinkconf.Result
	// Warnings are further configuration findings that config-lint reports, such as those of a
	// ZooKeeper client properties file (zktls.Properties.Warnings, Key set to the file).
	Warnings []flinkconf.Warning
	// JavaRules are the service-principal rules Flink's JVM would apply (from its -D options and
	// defaults); compared with Client.Kerberos.PrincipalRules.
	JavaRules sasl.PrincipalRules
	// JobManagerPrincipals are the principals every JobManager of the cluster logs in as, for the
	// identity-consistency check; empty means only the checked principal.
	JobManagerPrincipals []string
	// Ignore names the checks whose failures are reported as warnings (IgnoreAll: every check). An
	// ignored failure still skips the checks that need it. Validate refuses unknown names; Run
	// ignores them.
	Ignore []string
	// Timeout bounds the whole run; zero means DefaultTimeout.
	Timeout time.Duration
	// ExpiryWarning warns when a certificate expires within it; zero means DefaultExpiryWarning.
	ExpiryWarning time.Duration
	// Logger receives the libraries' logs; nil discards them (the report says everything).
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultTimeout       = 60 * time.Second
	DefaultExpiryWarning = 30 * 24 * time.Hour
)

// Validate checks Options.Ignore: every name must be a check (or IgnoreAll). The client
// configuration is not validated here: the config-lint check reports it.
func (o Options) Validate() error {
	for _, n := range o.Ignore {
		if n != IgnoreAll && !slices.Contains(AllChecks, n) {
			return fmt.Errorf("%w %q (checks: %s, or %s)", ErrUnknownCheck, n, strings.Join(AllChecks, ", "), IgnoreAll)
		}
	}
	return nil
}

// withDefaults fills every zero field, the client configuration's by client.Config.WithDefaults:
// the checks read the result and default nothing themselves.
func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ExpiryWarning <= 0 {
		o.ExpiryWarning = DefaultExpiryWarning
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Client.Logger = o.Logger
	o.Client.Kerberos.Logger = o.Logger
	o.Client = o.Client.WithDefaults()
	return o
}

// run is one preflight run's state: the configuration, and what the checks learned for the checks
// after them.
type run struct {
	opts    Options
	cfg     client.Config // opts.Client with its defaults
	members []string      // cfg.Members, normalized when valid
	useTLS  bool
	// tls and tlsErr are set when tlsReady is closed (the version check waits for it).
	tlsReady chan struct{}
	tls      *zktls.Client
	tlsErr   error // why tls is nil when TLS is wanted
	sasl     bool
	creds    credentials // the run's one Kerberos login (session.go)
	log      *slog.Logger
	runner   *runner
	// passing is set by the runner before a check that is not per member runs: the members that
	// passed that check's per-member needs (every member when it has none).
	passing []string

	// krb5-conf and kdc-reach
	krb5Path string
	krb5     *krbconfig.Config
	realm    string
	kdcs     []string
	kdc      string // the KDC that answered

	// identity: the session the checks after it use (nil when none could be opened)
	session    *client.Client
	sessionCtx context.Context
	ids        []acl.Identity

	mu       sync.Mutex
	closers  []func()
	sessions map[string]kept // the sasl check's sessions, by member (keep)
	// versions are the members' versions where version passed (under mu), for whoAmI.
	versions map[string]version.Version
}

// member is one ensemble member and what its checks learned, for the checks after them.
type member struct {
	index int
	addr  string // "host:port", normalized when valid
	ip    net.IP // dns
	// conn is the tcp check's connection, until the version check takes it (takeConn).
	connMu sync.Mutex
	conn   net.Conn
	// det is what version detected (and the chain the member presented), set when version passed.
	det version.Member
	// refused is set by version when the servers refused the client certificate; tls-chain reports it.
	refused error
	auth    *sasl.Authenticator // service-principal
	spn     string              // service-principal: the service principal used
	whoAmI  whoAmIAnswer        // sasl: what whoAmI said on the sasl check's session
}

// onClose registers f to run when Run returns (last registered, first run).
func (r *run) onClose(f func()) {
	r.mu.Lock()
	r.closers = append(r.closers, f)
	r.mu.Unlock()
}

// Run performs every check and returns the report.
func Run(ctx context.Context, opts Options) *Report {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	r := &run{opts: opts, cfg: opts.Client, log: opts.Logger, versions: map[string]version.Version{}}
	r.sasl = r.cfg.SASL == client.SASLKerberos
	r.useTLS = r.cfg.Transport == client.TransportTLS || (r.cfg.Transport == client.TransportAuto && r.cfg.TLS != nil)
	for _, m := range r.cfg.Members {
		if n, err := client.NormalizeMember(m); err == nil {
			m = n
		} // an invalid member is reported by config-lint, and fails dns/tcp as written
		r.members = append(r.members, m)
	}
	defer func() {
		for i := len(r.closers) - 1; i >= 0; i-- {
			r.closers[i]()
		}
	}()
	if r.useTLS {
		// Loaded beside the first checks (an encrypted key's PBKDF2 takes milliseconds): the
		// version check waits for it, and every check that reads r.tls comes after a version check.
		tc := zktls.Config{}
		if r.cfg.TLS != nil {
			tc = *r.cfg.TLS
		}
		tc.Logger = r.log
		r.tlsReady = make(chan struct{})
		r.onClose(func() { <-r.tlsReady }) // runs last
		go func() {
			defer close(r.tlsReady)
			t0 := time.Now()
			r.tls, r.tlsErr = tc.Load() // reported by the version check
			r.log.Debug("TLS files loaded", "took", time.Since(t0))
		}()
	}
	rep := &Report{Header: r.header()}
	t0 := time.Now()
	for _, res := range r.execute(ctx, table) {
		rep.add(res)
	}
	r.log.Debug("checks done", "took", time.Since(t0))
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
	return fmt.Sprintf("zk-secure-check: %d member(s) %s; transport %s; %s; HA root %s%s; ACL %s",
		len(r.members), strings.Join(r.members, ","), transport, auth, r.cfg.Root, r.cfg.ClusterID, r.cfg.ACL)
}
