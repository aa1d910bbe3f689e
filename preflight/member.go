package preflight

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/internal/hostprovider"
	"github.com/zksecure/zksecure/internal/tlsprobe"
	"github.com/zksecure/zksecure/internal/zkopt"
	"github.com/zksecure/zksecure/version"
)

// member runs dns, tcp, version, the TLS checks, service-principal, service-ticket and sasl for one
// member, in order, skipping what depends on a failure.
func (r *run) member(ctx context.Context, m string) []Result {
	var out []Result
	add := func(res Result) Result { res.Member = m; out = append(out, res); return res }
	skipRest := func(because string, names ...string) []Result {
		for _, n := range names {
			add(skipped(n, m, because))
		}
		return out
	}
	tlsNames := []string{}
	if r.useTLS {
		tlsNames = []string{CheckTLSChain, CheckTLSExpiry, CheckTLSHostname}
	}
	saslNames := []string{CheckSASL}
	if r.sasl {
		saslNames = []string{CheckServicePrincipal, CheckServiceTicket, CheckSASL}
	}
	host, _, _ := net.SplitHostPort(m)

	// dns
	ip, res := dnsCheck(ctx, host)
	add(res)
	if res.Status == Fail {
		return skipRest(CheckDNS, append(append([]string{CheckTCP, CheckVersion}, tlsNames...), saslNames...)...)
	}
	// tcp
	d := net.Dialer{Timeout: 5 * time.Second}
	t0 := time.Now()
	c, err := d.DialContext(ctx, "tcp", m)
	if err != nil {
		add(Result{Name: CheckTCP, Status: Fail, Message: fmt.Sprintf("cannot connect to %s: %v", m, err),
			Fix: "start the server or open the firewall for this port; check the port in the quorum string (clientPort or secureClientPort)"})
		return skipRest(CheckTCP, append(append([]string{CheckVersion}, tlsNames...), saslNames...)...)
	}
	c.Close()
	add(Result{Name: CheckTCP, Status: Pass, Message: fmt.Sprintf("connected to %s in %s", m, time.Since(t0).Round(10*time.Microsecond))})

	// version (+ TLS)
	var hs version.Handshaker
	if r.useTLS {
		if r.tls == nil {
			add(Result{Name: CheckVersion, Status: Fail, Message: "TLS configuration could not be loaded: " + r.tlsErr.Error(),
				Fix: "correct the TLS files or password named in the message"})
			return skipRest(CheckVersion, append(tlsNames, saslNames...)...)
		}
		hs = version.FromConfig(tlsprobe.For(r.tls).Config())
	}
	det, derr := version.Detect(ctx, m, hs)
	r.mu.Lock()
	r.versions[m] = det.Version
	r.mu.Unlock()
	vres := versionResult(det, derr, r.useTLS)
	if r.useTLS && derr != nil && !errors.Is(derr, version.ErrPlaintextPort) && !errors.Is(derr, version.ErrUnreachable) && !errors.Is(derr, version.ErrNoAnswer) {
		// The probe handshake itself failed: a refused client certificate, most often.
		ex := tlsprobe.For(r.tls).Explain(m, derr)
		vres = Result{Name: CheckVersion, Status: Fail, Message: ex.Error(), Fix: "configure a client certificate the servers trust (--tls-cert/--tls-key), or relax ssl.clientAuth on the servers"}
		if errors.Is(ex, zktls.ErrClientCertRequired) {
			add(vres)
			add(Result{Name: CheckTLSChain, Status: Fail, Message: ex.Error(), Fix: "configure a client certificate issued by a CA in the servers' trust store"})
			return skipRest(CheckTLSChain, CheckTLSExpiry, CheckTLSHostname, CheckServicePrincipal, CheckServiceTicket, CheckSASL)
		}
	}
	add(vres)
	if vres.Status == Fail {
		return skipRest(CheckVersion, append(tlsNames, saslNames...)...)
	}
	tlsOK := true
	if r.useTLS {
		for _, res := range r.tlsChecks(m, ip, det.Chain) {
			add(res)
			if res.Status == Fail {
				tlsOK = false
			}
		}
	}
	if !tlsOK {
		return skipRest("TLS", saslNames...)
	}
	for _, res := range r.saslChecks(ctx, m, det.Version) {
		add(res)
	}
	return out
}

func dnsCheck(ctx context.Context, host string) (net.IP, Result) {
	res := Result{Name: CheckDNS}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ip := net.ParseIP(host)
	if ip == nil {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil || len(addrs) == 0 {
			res.Status, res.Message, res.Fix = Fail, fmt.Sprintf("%s does not resolve: %v", host, err),
				"fix the host name in the quorum string, or its DNS / /etc/hosts entry"
			return nil, res
		}
		ip = addrs[0].IP
	}
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
	return ip, res
}

func versionResult(det version.Member, err error, wantTLS bool) Result {
	res := Result{Name: CheckVersion}
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

// tlsChecks evaluates the chain a member presented: trust, validity (warn within ExpiryWarning),
// names.
func (r *run) tlsChecks(m string, ip net.IP, chain []*x509.Certificate) []Result {
	if len(chain) == 0 {
		return []Result{{Name: CheckTLSChain, Status: Fail, Message: m + " presented no certificate", Fix: "configure ssl.keyStore on the server"},
			skipped(CheckTLSExpiry, "", CheckTLSChain), skipped(CheckTLSHostname, "", CheckTLSChain)}
	}
	var out []Result
	leaf := chain[0]
	if err := tlsprobe.For(r.tls).CheckTrust(m, chain); err != nil {
		out = append(out, Result{Name: CheckTLSChain, Status: Fail, Message: err.Error(),
			Fix: "add the CA that issued the server certificate to --tls-ca (or the truststore), or reissue the server certificate from your CA"})
	} else {
		out = append(out, Result{Name: CheckTLSChain, Status: Pass, Message: fmt.Sprintf("%s issued by %s, trusted", leaf.Subject, leaf.Issuer)})
	}
	now := time.Now()
	earliest, err := zktls.CheckValidity(m, chain, now)
	switch {
	case err != nil:
		out = append(out, Result{Name: CheckTLSExpiry, Status: Fail, Message: err.Error(), Fix: "renew the server certificate and reload it (ZooKeeper reads the keystore at start)"})
	case earliest.NotAfter.Sub(now) < r.opts.ExpiryWarning:
		out = append(out, Result{Name: CheckTLSExpiry, Status: Warn,
			Message: fmt.Sprintf("%s expires on %s, in %s", earliest.Subject, earliest.NotAfter.UTC().Format(time.RFC3339), earliest.NotAfter.Sub(now).Round(time.Hour)),
			Fix:     "renew the certificate before it expires"})
	default:
		out = append(out, Result{Name: CheckTLSExpiry, Status: Pass, Message: fmt.Sprintf("valid until %s", earliest.NotAfter.UTC().Format(time.RFC3339))})
	}
	if err := tlsprobe.For(r.tls).CheckHostname(m, ip, leaf); err != nil {
		out = append(out, Result{Name: CheckTLSHostname, Status: Fail, Message: err.Error(),
			Fix: "connect by a name the certificate holds, or reissue it with this member's name and address as SANs"})
	} else {
		out = append(out, Result{Name: CheckTLSHostname, Status: Pass, Message: "the certificate names " + m})
	}
	return out
}

// saslChecks: service-principal (Java's choice vs ours), service-ticket, and the real SASL exchange
// with this member alone. Without SASL, sasl reports whether the member enforces it.
func (r *run) saslChecks(ctx context.Context, m string, v version.Version) []Result {
	var base zk.Dialer
	if r.useTLS {
		base = r.tls.Dialer(nil)
	}
	if !r.sasl {
		return []Result{r.plainSession(ctx, m, base)}
	}
	if failed := r.failedAny("", CheckKrb5Conf, CheckKDCReach, CheckLogin); failed != "" {
		return []Result{skipped(CheckServicePrincipal, m, failed), skipped(CheckServiceTicket, m, failed), skipped(CheckSASL, m, failed)}
	}
	var out []Result
	a, err := sasl.New(r.cfg.Kerberos)
	if err != nil {
		return []Result{skipped(CheckServicePrincipal, m, CheckLogin), skipped(CheckServiceTicket, m, CheckLogin), skipped(CheckSASL, m, CheckLogin)}
	}
	defer a.Close()
	ours, err := a.ServicePrincipal(ctx, m)
	if err != nil {
		out = append(out, Result{Name: CheckServicePrincipal, Status: Fail, Message: err.Error(), Fix: "fix the member's host name"})
		return append(out, skipped(CheckServiceTicket, m, CheckServicePrincipal), skipped(CheckSASL, m, CheckServicePrincipal))
	}
	realm := a.ClientPrincipal()[strings.LastIndex(a.ClientPrincipal(), "@")+1:]
	java, jerr := r.opts.JavaRules.ServicePrincipal(ctx, nil, m, realm)
	switch {
	case jerr == nil && java != ours:
		out = append(out, Result{Name: CheckServicePrincipal, Status: Warn,
			Message: fmt.Sprintf("this check uses %s, but Flink's JVM would ask for %s", ours, java),
			Fix:     "make the JVM settings (zookeeper.server.principal, zookeeper.sasl.client.username, canonicalization) and this check's flags agree; the JobManagers use " + java})
	default:
		out = append(out, Result{Name: CheckServicePrincipal, Status: Pass, Message: ours + " (the Java client would use the same)"})
	}
	if _, err := a.ServiceTicket(ctx, m); err != nil {
		res := Result{Name: CheckServiceTicket, Status: Fail, Message: err.Error()}
		res.Message, res.Fix = splitFix(err.Error(), "check the service principal in the KDC (kadmin: getprinc "+ours+")")
		return append(out, res, skipped(CheckSASL, m, CheckServiceTicket))
	}
	out = append(out, Result{Name: CheckServiceTicket, Status: Pass, Message: "ticket for " + ours + " issued"})
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	t0 := time.Now()
	c, _, err := sasl.Connect(cctx, a, []string{m}, 10*time.Second, base)
	if err != nil {
		res := Result{Name: CheckSASL, Status: Fail}
		res.Message, res.Fix = splitFix(err.Error(), "check the server log for the reason")
		var ae *sasl.AuthError
		if errors.As(err, &ae) {
			switch ae.Code {
			case sasl.CodeAuthFailed:
				res.Message = "AUTH_FAILED: " + res.Message
			case sasl.CodeSASLRequired:
				res.Message = "AUTH_FAILED (the server enforces SASL): " + res.Message
			}
		}
		return append(out, res)
	}
	defer c.Close()
	out = append(out, Result{Name: CheckSASL, Status: Pass, Message: fmt.Sprintf("authenticated as %s with %s in %s", a.ClientPrincipal(), ours, time.Since(t0).Round(10*time.Microsecond))})
	return out
}

// plainSession opens an unauthenticated session and makes one request: a server that enforces SASL
// closes it (error -124).
func (r *run) plainSession(ctx context.Context, m string, base zk.Dialer) Result {
	if base == nil {
		base = net.DialTimeout
	}
	c, ev, err := zk.Connect([]string{m}, 10*time.Second, zkopt.Bounded(zk.WithDialer, base, 10*time.Second,
		zk.WithHostProvider(&hostprovider.Static{}), zk.WithLogInfo(false), zk.WithLogger(discardZK{}))...)
	if err != nil {
		return Result{Name: CheckSASL, Status: Fail, Message: err.Error(), Fix: "check the member address"}
	}
	defer c.Close()
	deadline := time.After(10 * time.Second)
	for connected := false; !connected; {
		select {
		case e := <-ev:
			connected = e.State == zk.StateHasSession
		case <-deadline:
			return Result{Name: CheckSASL, Status: Fail, Message: "no session within 10s", Fix: "check the server's health"}
		case <-ctx.Done():
			return Result{Name: CheckSASL, Status: Fail, Message: ctx.Err().Error(), Fix: "raise --timeout"}
		}
	}
	if _, _, err := c.Exists("/"); err != nil {
		return Result{Name: CheckSASL, Status: Fail,
			Message: fmt.Sprintf("the server refused an unauthenticated session (%v): it enforces SASL", err),
			Fix:     "configure Kerberos for this client (--keytab/--principal, --jaas or --use-ticket-cache)"}
	}
	return Result{Name: CheckSASL, Status: Pass, Message: "SASL is not configured; the server accepts unauthenticated sessions"}
}

type discardZK struct{}

func (discardZK) Printf(string, ...any) {}

// splitFix separates "... Fix: ..." messages into message and fix.
func splitFix(msg, fallback string) (string, string) {
	if i := strings.Index(msg, ". Fix: "); i >= 0 {
		return msg[:i], msg[i+len(". Fix: "):]
	}
	return msg, fallback
}
