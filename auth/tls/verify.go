package zktls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/zksecure/zksecure/internal/tlsprobe"
)

// verifyPeer checks the chain against the trust store (and, when configured, the revocation of
// its certificates), then the names by the configured HostnameRules.
func (cl *Client) verifyPeer(ctx context.Context, m *material, member, host string, remoteIP net.IP, cs tls.ConnectionState) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return fmt.Errorf("%w: %s sent no certificate", ErrConfig, member)
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	now := time.Now()
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: m.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return cl.describeChainError(member, leaf, certs, err, now)
	}
	if cl.rev != nil {
		if _, err := cl.rev.check(ctx, member, chains[0], cs.OCSPResponse, m.crls); err != nil {
			return err
		}
	}
	_, err = cl.matchName(ctx, member, host, remoteIP, leaf)
	return err
}

func (cl *Client) describeChainError(member string, leaf *x509.Certificate, certs []*x509.Certificate, err error, now time.Time) error {
	var ua x509.UnknownAuthorityError
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		store := cl.cfg.CAFile
		if store == "" {
			store = "the system CA pool"
		}
		return fmt.Errorf("%w: the certificate of %s (%s) is issued by %q, which is not in the trust store %s; add that CA's certificate to the trust store",
			ErrUnknownCA, member, leaf.Subject, certs[len(certs)-1].Issuer.String(), store)
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		bad := inv.Cert
		if bad == nil {
			bad = leaf
		}
		if now.Before(bad.NotBefore) {
			return fmt.Errorf("%w: the certificate %s of %s is not valid before %s (now %s): check this host's clock",
				ErrExpired, bad.Subject, member, bad.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		return fmt.Errorf("%w: the certificate %s of %s expired on %s (now %s); the server needs a renewed certificate",
			ErrExpired, bad.Subject, member, bad.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		return fmt.Errorf("%w: the certificate %s of %s is not for TLS servers (extended key usage lacks serverAuth)", ErrConfig, leaf.Subject, member)
	}
	return fmt.Errorf("zktls: the certificate of %s (%s) does not verify: %w", member, leaf.Subject, err)
}

// trustPath returns the path from the leaf of chain (leaf first, as presented) through the
// presented intermediates to a CA in the trust store, whatever the certificates' dates
// (checkValidity reports those). With the system CA pool, which cannot be listed, it uses Go's
// verifier at the current time. It returns ErrUnknownCA naming the member and the issuer.
func (cl *Client) trustPath(m *material, member string, chain []*x509.Certificate) ([]*x509.Certificate, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: %s sent no certificate", ErrConfig, member)
	}
	if m.rootList == nil {
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		chains, err := chain[0].Verify(x509.VerifyOptions{Roots: m.roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err == nil {
			return chains[0], nil
		}
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return chain, nil
		}
		return nil, cl.describeChainError(member, chain[0], chain, err, time.Now())
	}
	cur := chain[0]
	path := []*x509.Certificate{cur}
	for depth := 0; depth < 10; depth++ {
		for _, root := range m.rootList {
			if cur.Equal(root) {
				return path, nil
			}
			if cur.CheckSignatureFrom(root) == nil {
				return append(path, root), nil
			}
		}
		var next *x509.Certificate
		for _, c := range chain[1:] {
			if c != cur && !c.Equal(cur) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		cur = next
		path = append(path, cur)
	}
	return nil, cl.describeChainError(member, chain[0], chain, x509.UnknownAuthorityError{Cert: cur}, time.Now())
}

// checkTrust verifies only that chain leads to a CA in the trust store (see trustPath).
func (cl *Client) checkTrust(member string, chain []*x509.Certificate) error {
	_, err := cl.trustPath(cl.files.get(), member, chain)
	return err
}

// checkRevocation checks the revocation of chain's path to the trust store when CRL or OCSP is
// configured, returning one line per certificate (nil when revocation checking is off).
func (cl *Client) checkRevocation(ctx context.Context, member string, chain []*x509.Certificate, stapled []byte) ([]string, error) {
	if cl.rev == nil {
		return nil, nil
	}
	m := cl.files.get()
	path, err := cl.trustPath(m, member, chain)
	if err != nil {
		return nil, err
	}
	return cl.rev.check(ctx, member, path, stapled, m.crls)
}

// checkValidity reports the earliest expiry in chain, and ErrExpired when a certificate is expired
// or not yet valid at now. Only preflight uses it, through tlsprobe (a handshake checks the dates
// itself).
func checkValidity(member string, chain []*x509.Certificate, now time.Time) (earliest *x509.Certificate, err error) {
	for _, c := range chain {
		if earliest == nil || c.NotAfter.Before(earliest.NotAfter) {
			earliest = c
		}
		if now.After(c.NotAfter) {
			return c, fmt.Errorf("%w: the certificate %s of %s expired on %s (now %s); the server needs a renewed certificate",
				ErrExpired, c.Subject, member, c.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		if now.Before(c.NotBefore) {
			return c, fmt.Errorf("%w: the certificate %s of %s is not valid before %s (now %s): check this host's clock",
				ErrExpired, c.Subject, member, c.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	return earliest, nil
}

// checkHostname verifies the names in leaf for member by the configured rules (see the package
// comment); remoteIP is the address connected to (nil: resolved from the host).
func (cl *Client) checkHostname(member string, remoteIP net.IP, leaf *x509.Certificate) error {
	_, err := cl.hostnameMatch(context.Background(), member, remoteIP, leaf)
	return err
}

func (cl *Client) hostnameMatch(ctx context.Context, member string, remoteIP net.IP, leaf *x509.Certificate) (nameMatch, error) {
	host, _, err := net.SplitHostPort(member)
	if err != nil {
		host = member
	}
	if cl.cfg.ServerName != "" {
		host = cl.cfg.ServerName
	}
	return cl.matchName(ctx, member, host, remoteIP, leaf)
}

// probeConfig is a *tls.Config with the client certificate but without any verification, for
// inspecting what a server presents (its chain is then checked with checkTrust, checkValidity and
// checkHostname). Never use it to exchange data. Only preflight gets it, through tlsprobe.
func (cl *Client) probeConfig() *tls.Config {
	m := cl.files.get()
	c := &tls.Config{InsecureSkipVerify: true, MinVersion: cl.min, MaxVersion: cl.max, CipherSuites: cl.suites} // inspection only, see above
	if m.cert != nil {
		c.Certificates = []tls.Certificate{*m.cert}
	}
	return c
}

// init gives preflight, through internal/tlsprobe, the inspection side of a Client, which is not
// part of this package's API.
func init() {
	tlsprobe.For = func(client any) tlsprobe.Prober {
		cl := client.(*Client)
		return tlsprobe.Prober{Config: cl.probeConfig, Explain: cl.explain, CheckTrust: cl.checkTrust, CheckValidity: checkValidity,
			CheckHostname: cl.checkHostname, CheckRevocation: cl.checkRevocation,
			MatchHostname: func(ctx context.Context, member string, remoteIP net.IP, leaf *x509.Certificate) (tlsprobe.HostnameMatch, error) {
				nm, err := cl.hostnameMatch(ctx, member, remoteIP, leaf)
				hm := tlsprobe.HostnameMatch{Rule: nm.Rule, Description: nm.describe(member), Strict: nm.Strict}
				if !nm.Strict {
					hm.ZooKeeperOnly = nm.zooKeeperOnly()
				}
				return hm, err
			}}
	}
}
