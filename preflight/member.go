package preflight

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/internal/probed"
	"github.com/zksecure/zksecure/internal/session"
	"github.com/zksecure/zksecure/internal/tlsprobe"
	"github.com/zksecure/zksecure/version"
)

// tcp connects to the member's port. The version check goes on on that connection: the server
// sees one connection for both (one that closed before its TLS handshake costs a ZooKeeper server
// a TLS engine and an error in its log).
func tcp(ctx context.Context, r *run, m *member) Result {
	d := net.Dialer{Timeout: 5 * time.Second}
	t0 := time.Now()
	c, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return Result{Status: Fail, Message: fmt.Sprintf("cannot connect to %s: %v", m.addr, err),
			Fix: "start the server or open the firewall for this port; check the port in the quorum string (clientPort or secureClientPort)"}
	}
	m.conn = c
	r.onClose(m.closeConn) // when the version check does not take it
	return Result{Status: Pass, Message: fmt.Sprintf("connected to %s in %s", m.addr, time.Since(t0).Round(10*time.Microsecond))}
}

// detectVersion (version) detects the port's mode (TLS or plaintext) and the server's version.
func detectVersion(ctx context.Context, r *run, m *member) Result {
	var hs version.Handshaker
	if r.useTLS {
		<-r.tlsReady
		if r.tls == nil {
			m.closeConn()
			return Result{Status: Fail, Message: "TLS configuration could not be loaded: " + r.tlsErr.Error(),
				Fix: "correct the TLS files or password named in the message"}
		}
		// The verified handshake the sessions make: its TLS session is cached for this member, so
		// that the sasl check's and the session's handshakes resume it rather than repeat it.
		hs = r.tls
	}
	var det version.Member
	var derr error
	if raw := m.takeConn(); raw != nil {
		det, derr = version.DetectOn(ctx, raw, m.addr, hs)
	} else {
		det, derr = version.Detect(ctx, m.addr, hs)
	}
	if r.useTLS && derr != nil && len(det.Chain) == 0 && !errors.Is(derr, version.ErrPlaintextPort) && !errors.Is(derr, version.ErrUnreachable) {
		// The handshake failed (untrusted chain, expiry, names, a refused client certificate):
		// once more without verifying, for the chain the TLS checks judge one by one.
		det, derr = version.Detect(ctx, m.addr, version.FromConfig(tlsprobe.For(r.tls).Config()))
	}
	res := versionResult(det, derr, r.useTLS)
	if r.useTLS && derr != nil && !errors.Is(derr, version.ErrPlaintextPort) && !errors.Is(derr, version.ErrUnreachable) && !errors.Is(derr, version.ErrNoAnswer) {
		// The probe handshake itself failed: a refused client certificate, most often.
		ex := tlsprobe.For(r.tls).Explain(m.addr, derr)
		res = Result{Status: Fail, Message: ex.Error(), Fix: "configure a client certificate the servers trust (--tls-cert/--tls-key), or relax ssl.clientAuth on the servers"}
		if errors.Is(ex, zktls.ErrClientCertRequired) {
			m.refused = ex
		}
	}
	if r.useTLS && derr == nil {
		// The sessions of the later checks, with the same TLS client, need not probe it again.
		probed.Remember(r.tls, det)
	}
	if res.Status != Fail {
		m.det = det
		r.mu.Lock()
		r.versions[m.addr] = det.Version
		r.mu.Unlock()
	}
	return res
}

// dns resolves the member's host and its address's reverse name.
func dns(ctx context.Context, _ *run, m *member) Result {
	host, _, _ := net.SplitHostPort(m.addr)
	var res Result
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ip := net.ParseIP(host)
	if ip == nil {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil || len(addrs) == 0 {
			res.Status, res.Message, res.Fix = Fail, fmt.Sprintf("%s does not resolve: %v", host, err),
				"fix the host name in the quorum string, or its DNS / /etc/hosts entry"
			return res
		}
		ip = addrs[0].IP
	}
	m.ip = ip
	names, err := net.DefaultResolver.LookupAddr(ctx, ip.String())
	rev := ""
	if err == nil && len(names) > 0 {
		rev = strings.TrimSuffix(names[0], ".")
	}
	switch {
	case rev == "":
		res.Status = Warn
		res.Message = fmt.Sprintf("%s → %s, which has no reverse DNS name", host, ip)
		res.Fix = "add a PTR record: Kerberos canonicalization (on by default in the Java client) and TLS name checks of IP literals use it"
	case host != ip.String() && !strings.EqualFold(rev, host):
		res.Status = Pass
		res.Message = fmt.Sprintf("%s → %s → %s (the Java client asks for a ticket for zookeeper/%s unless canonicalization is off)", host, ip, rev, strings.ToLower(rev))
	default:
		res.Status = Pass
		res.Message = fmt.Sprintf("%s → %s → %s", host, ip, rev)
	}
	return res
}

func versionResult(det version.Member, err error, wantTLS bool) Result {
	var res Result
	switch {
	case err == nil:
		res.Status = Pass
		res.Message = fmt.Sprintf("%s port, ZooKeeper %s", det.Mode, det.Version.Raw())
		if det.ServerMode != "" {
			res.Message += " (" + det.ServerMode + ")"
		}
		if !wantTLS && det.Version.SupportsTLS() {
			res.Message += "; TLS is possible with this version but not configured"
		}
	case errors.Is(err, version.ErrPlaintextPort):
		res.Status, res.Message = Fail, err.Error()
		if !det.Version.IsZero() && !det.Version.SupportsTLS() {
			res.Fix = "use SASL over plaintext for this member (--transport plaintext with Kerberos), or upgrade it to ZooKeeper 3.5+ with a secureClientPort"
		} else {
			res.Fix = "use the member's secureClientPort in the quorum string, or configure one (secureClientPort, serverCnxnFactory=NettyServerCnxnFactory, ssl.keyStore.*)"
		}
	case errors.Is(err, version.ErrTLSPort):
		res.Status, res.Message = Fail, err.Error()
		res.Fix = "configure TLS (--tls-ca, --tls-cert, --tls-key or --tls-properties), or use the member's plaintext clientPort"
	default:
		res.Status, res.Message = Fail, err.Error()
		res.Fix = "check that this port belongs to a running ZooKeeper server (srvr must answer)"
	}
	return res
}

// tlsChain (tls-chain) judges the trust of the chain the member presented, apart from dates; or
// reports the client certificate the servers refused.
func tlsChain(ctx context.Context, r *run, m *member) Result {
	if m.refused != nil {
		return Result{Status: Fail, Message: m.refused.Error(), Fix: "configure a client certificate issued by a CA in the servers' trust store"}
	}
	chain := m.det.Chain
	if len(chain) == 0 {
		return Result{Status: Fail, Message: m.addr + " presented no certificate", Fix: "configure ssl.keyStore on the server"}
	}
	if err := tlsprobe.For(r.tls).CheckTrust(m.addr, chain); err != nil {
		return Result{Status: Fail, Message: err.Error(),
			Fix: "add the CA that issued the server certificate to --tls-ca (or the truststore), or reissue the server certificate from your CA"}
	}
	// With zookeeper.ssl.crl / ocsp: the revocation of the chain, and how each status was found.
	revocation, err := tlsprobe.For(r.tls).CheckRevocation(ctx, m.addr, chain, nil)
	if err != nil {
		return Result{Status: Fail, Message: err.Error(),
			Fix: "have the server's certificate replaced if it is revoked; if its status cannot be determined, publish the CRL (or OCSP responder) it names, or give a CRL file with zksecure.ssl.crlFile"}
	}
	msg := fmt.Sprintf("%s issued by %s, trusted", chain[0].Subject, chain[0].Issuer)
	if len(revocation) > 0 {
		msg += "; " + strings.Join(revocation, "; ")
	}
	return Result{Status: Pass, Message: msg}
}

// tlsExpiry (tls-expiry) checks the chain's validity dates, warning within ExpiryWarning.
func tlsExpiry(_ context.Context, r *run, m *member) Result {
	now := time.Now()
	earliest, err := tlsprobe.For(r.tls).CheckValidity(m.addr, m.det.Chain, now)
	switch {
	case err != nil:
		return Result{Status: Fail, Message: err.Error(), Fix: "renew the server certificate and reload it (ZooKeeper reads the keystore at start)"}
	case earliest.NotAfter.Sub(now) < r.opts.ExpiryWarning:
		return Result{Status: Warn,
			Message: fmt.Sprintf("%s expires on %s, in %s", earliest.Subject, earliest.NotAfter.UTC().Format(time.RFC3339), earliest.NotAfter.Sub(now).Round(time.Hour)),
			Fix:     "renew the certificate before it expires"}
	}
	return Result{Status: Pass, Message: fmt.Sprintf("valid until %s", earliest.NotAfter.UTC().Format(time.RFC3339))}
}

// tlsHostname (tls-hostname) checks the leaf certificate's names by the configured rules, says which
// rule passed, and warns when the member passes only by a ZooKeeper-only rule.
func tlsHostname(ctx context.Context, r *run, m *member) Result {
	hm, err := tlsprobe.For(r.tls).MatchHostname(ctx, m.addr, m.ip, m.det.Chain[0])
	switch {
	case err != nil:
		return Result{Status: Fail, Message: err.Error(),
			Fix: "connect by a name the certificate holds, or reissue it with this member's name and address as SANs"}
	case hm.Rule == "off":
		return Result{Status: Warn, Message: hm.Description + ": any certificate the trust store accepts is taken for " + m.addr,
			Fix: "turn hostname verification back on (zookeeper.ssl.hostnameVerification=true) once the servers' certificates name them"}
	case !hm.Strict:
		return Result{Status: Warn,
			Message: "the certificate names " + m.addr + " only by a ZooKeeper-only rule: " + hm.Description + "; that is " + hm.ZooKeeperOnly +
				", which strict hostname rules (--tls-strict-hostnames, zksecure.ssl.strictHostnames=true) refuse",
			Fix: "reissue the server certificate with this member's host name as a DNS SAN (and its address as an IP SAN if it is dialed by address)"}
	}
	return Result{Status: Pass, Message: "the certificate names " + m.addr + ": " + hm.Description}
}

// servicePrincipal (service-principal) compares the service principal this check uses with the one
// Flink's JVM would ask for.
func servicePrincipal(ctx context.Context, r *run, m *member) Result {
	root, err := r.authenticator()
	if err != nil {
		res := Result{Status: Fail}
		res.Message, res.Fix = explain(err, "correct the Kerberos login named in the message")
		return res
	}
	// The run's login and tickets, with a failure latch of this member's own: one member's
	// AuthFailed must not fail the others' checks.
	a := root.Fork()
	r.onClose(a.Close)
	m.auth = a
	ours, err := a.ServicePrincipal(ctx, m.addr)
	if err != nil {
		return Result{Status: Fail, Message: err.Error(), Fix: "fix the member's host name"}
	}
	m.spn = ours
	java, jerr := a.ServicePrincipalFor(ctx, r.opts.JavaRules, m.addr) // the realm as the JDK maps the host
	if jerr == nil && java != ours {
		return Result{Status: Warn,
			Message: fmt.Sprintf("this check uses %s, but Flink's JVM would ask for %s", ours, java),
			Fix:     "make the JVM settings (zookeeper.server.principal, zookeeper.sasl.client.username, canonicalization) and this check's flags agree; the JobManagers use " + java}
	}
	return Result{Status: Pass, Message: ours + " (the Java client would use the same)"}
}

// serviceTicket (service-ticket) asks the KDC for the member's service ticket and judges its
// encryption types (see ticketResult).
func serviceTicket(ctx context.Context, _ *run, m *member) Result {
	return ticketResult(ctx, m.auth, m.addr, m.spn)
}

// saslSession (sasl) runs the real SASL exchange with this member alone. Without SASL, it reports
// whether the member enforces it.
func saslSession(ctx context.Context, r *run, m *member) Result {
	if !r.sasl {
		return r.plainSession(ctx, m.addr)
	}
	a, ours := m.auth, m.spn
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// The session as the JobManagers' client makes it, with this member alone; the session checks
	// reuse it (see identity) rather than set up another.
	cfg, reusable := r.cfg, true
	if cfg.Validate() != nil { // config-lint reports it; the session checks will not run
		cfg, reusable = client.Config{SessionTimeout: 10 * time.Second, Logger: r.log}, false
	}
	cfg.Members, cfg.SASL, cfg.Authenticator, cfg.TLS, cfg.TLSClient = []string{m.addr}, client.SASLKerberos, a, nil, r.tls
	cfg.Transport = client.TransportPlaintext
	if r.useTLS {
		cfg.Transport = client.TransportTLS
	}
	cfg.ConnectionTimeout = 15 * time.Second
	t0 := time.Now()
	// The version check has probed the member with the run's TLS client (internal/probed): Connect
	// does not again. The session asks whoAmI on its connection for the identity check (3.7+).
	c, err := client.Connect(r.withWhoAmI(cctx, &m.whoAmI), cfg)
	if err != nil {
		res := Result{Status: Fail}
		res.Message, res.Fix = explain(err, "check the server log for the reason")
		var ae *sasl.AuthError
		if errors.As(err, &ae) {
			switch ae.Code {
			case sasl.CodeAuthFailed:
				res.Message = "AUTH_FAILED: " + res.Message
			case sasl.CodeSASLRequired:
				res.Message = "AUTH_FAILED (the server enforces SASL): " + res.Message
			}
		}
		return res
	}
	took := time.Since(t0)
	if reusable {
		r.keep(m.addr, kept{c, &m.whoAmI})
	} else {
		c.Close()
	}
	return Result{Status: Pass, Message: fmt.Sprintf("authenticated as %s with %s in %s", a.ClientPrincipal(), ours, took.Round(10*time.Microsecond))}
}

// plainSession opens an unauthenticated session (the session builder's, with the run's TLS) and
// makes one request: a server that enforces SASL closes it (error -124).
func (r *run) plainSession(ctx context.Context, m string) Result {
	spec := session.Spec{Members: []string{m}, SessionTimeout: 10 * time.Second, Logger: r.log}
	if r.useTLS {
		spec.TLS = r.tls.Dialer
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := session.Open(sctx, spec)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return Result{Status: Fail, Message: ctx.Err().Error(), Fix: "raise --timeout"}
	case sctx.Err() != nil:
		return Result{Status: Fail, Message: "no session within 10s", Fix: "check the server's health"}
	default:
		return Result{Status: Fail, Message: err.Error(), Fix: "check the member address"}
	}
	defer s.Conn.Close()
	if _, _, err := s.Conn.Exists("/"); err != nil {
		return Result{Status: Fail,
			Message: fmt.Sprintf("the server refused an unauthenticated session (%v): it enforces SASL", err),
			Fix:     "configure Kerberos for this client (--keytab/--principal, --jaas or --use-ticket-cache)"}
	}
	return Result{Status: Pass, Message: "SASL is not configured; the server accepts unauthenticated sessions"}
}

// takeConn returns the tcp check's connection, once (nil after that, or when there is none).
func (m *member) takeConn() net.Conn {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	c := m.conn
	m.conn = nil
	return c
}

func (m *member) closeConn() {
	if c := m.takeConn(); c != nil {
		c.Close()
	}
}
