package zktls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/zksecure/zksecure/internal/tlsprobe"
)

// verifyPeer checks the chain against the trust store, then the names as ZooKeeper's Java client
// does (ZKTrustManager): the connection's IP among the IP SANs, else the host among the DNS SANs —
// for an IP literal, its reverse-DNS name — else, with no SANs at all, the common name.
func (cl *Client) verifyPeer(member, host string, remoteIP net.IP, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return fmt.Errorf("%w: %s sent no certificate", ErrConfig, member)
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	now := time.Now()
	_, err := leaf.Verify(x509.VerifyOptions{Roots: cl.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return cl.describeChainError(member, leaf, certs, err, now)
	}
	if cl.cfg.NoHostnameVerification {
		return nil
	}
	return verifyName(member, host, remoteIP, leaf, cl.cfg.LookupAddr)
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

func verifyName(member, host string, remoteIP net.IP, leaf *x509.Certificate, lookup func(context.Context, string) ([]string, error)) error {
	ip := net.ParseIP(host)
	if remoteIP == nil {
		remoteIP = ip
	}
	if remoteIP == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		cancel()
		if err == nil && len(addrs) > 0 {
			remoteIP = addrs[0].IP
		}
	}
	if remoteIP != nil {
		for _, san := range leaf.IPAddresses {
			if san.Equal(remoteIP) {
				return nil
			}
		}
	}
	names := []string{host}
	if ip != nil {
		// The Java client verifies an IP literal's reverse-DNS name.
		if lookup == nil {
			lookup = net.DefaultResolver.LookupAddr
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rev, err := lookup(ctx, ip.String())
		cancel()
		names = nil
		if err == nil {
			for _, n := range rev {
				names = append(names, strings.TrimSuffix(n, "."))
			}
		}
	}
	for _, n := range names {
		if len(leaf.DNSNames) > 0 {
			if leaf.VerifyHostname(n) == nil {
				return nil
			}
		} else if len(leaf.IPAddresses) == 0 && strings.EqualFold(leaf.Subject.CommonName, n) {
			return nil
		}
	}
	var holds []string
	holds = append(holds, leaf.DNSNames...)
	for _, s := range leaf.IPAddresses {
		holds = append(holds, s.String())
	}
	if len(holds) == 0 {
		holds = append(holds, "CN="+leaf.Subject.CommonName)
	}
	wanted := host
	if remoteIP != nil && remoteIP.String() != host {
		wanted += " (" + remoteIP.String() + ")"
	}
	if ip != nil && len(names) > 0 {
		wanted += ", reverse DNS " + strings.Join(names, ", ")
	}
	return fmt.Errorf("%w: the certificate of %s is for %s, not for %s; connect by a name the certificate holds, or have the server's certificate reissued with this name",
		ErrHostname, member, strings.Join(holds, ", "), wanted)
}

// checkTrust verifies only that chain (leaf first) leads to a CA in the trust store, whatever the
// certificates' dates (checkValidity reports those): it follows the signatures from the leaf through
// the presented intermediates to a trusted CA. With the system CA pool, which cannot be listed, it
// falls back to Go's verifier at the current time. It returns ErrUnknownCA naming the member and the
// issuer.
func (cl *Client) checkTrust(member string, chain []*x509.Certificate) error {
	if len(chain) == 0 {
		return fmt.Errorf("%w: %s sent no certificate", ErrConfig, member)
	}
	if cl.rootList == nil {
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		_, err := chain[0].Verify(x509.VerifyOptions{Roots: cl.roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		var inv x509.CertificateInvalidError
		if err == nil || (errors.As(err, &inv) && inv.Reason == x509.Expired) {
			return nil
		}
		return cl.describeChainError(member, chain[0], chain, err, time.Now())
	}
	cur := chain[0]
	for depth := 0; depth < 10; depth++ {
		for _, root := range cl.rootList {
			if cur.Equal(root) || cur.CheckSignatureFrom(root) == nil {
				return nil
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
	}
	return cl.describeChainError(member, chain[0], chain, x509.UnknownAuthorityError{Cert: cur}, time.Now())
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

// checkHostname verifies the names in leaf as ZooKeeper's Java client does for member (see the
// package comment); remoteIP is the address connected to (nil: resolved from the host).
func (cl *Client) checkHostname(member string, remoteIP net.IP, leaf *x509.Certificate) error {
	host, _, err := net.SplitHostPort(member)
	if err != nil {
		host = member
	}
	if cl.cfg.ServerName != "" {
		host = cl.cfg.ServerName
	}
	return verifyName(member, host, remoteIP, leaf, cl.cfg.LookupAddr)
}

// probeConfig is a *tls.Config with the client certificate but without any verification, for
// inspecting what a server presents (its chain is then checked with checkTrust, checkValidity and
// checkHostname). Never use it to exchange data. Only preflight gets it, through tlsprobe.
func (cl *Client) probeConfig() *tls.Config {
	c := &tls.Config{InsecureSkipVerify: true, MinVersion: cl.min} // inspection only, see above
	if cl.cert != nil {
		c.Certificates = []tls.Certificate{*cl.cert}
	}
	return c
}

// init gives preflight, through internal/tlsprobe, the inspection side of a Client, which is not
// part of this package's API.
func init() {
	tlsprobe.For = func(client any) tlsprobe.Prober {
		cl := client.(*Client)
		return tlsprobe.Prober{Config: cl.probeConfig, Explain: cl.explain, CheckTrust: cl.checkTrust,
			CheckValidity: checkValidity, CheckHostname: cl.checkHostname}
	}
}
