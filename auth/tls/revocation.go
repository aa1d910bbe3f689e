package zktls

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"
)

var (
	// ErrRevoked: a certificate of the server's chain is revoked (by a CRL or an OCSP responder).
	// The error names the certificate, its serial number, the revocation date and the source.
	ErrRevoked = errors.New("zktls: certificate revoked")
	// ErrRevocationUnknown: revocation checking is on (zookeeper.ssl.crl or zookeeper.ssl.ocsp)
	// and the status of a certificate of the server's chain could not be determined; as in the
	// Java client, the handshake then fails. The error lists what was tried.
	ErrRevocationUnknown = errors.New("zktls: revocation status unknown")
)

// Limits on what a revocation source may send.
const (
	maxCRLSize      = 16 << 20
	maxOCSPSize     = 1 << 20
	revocationFetch = 10 * time.Second // per request, within the handshake's own deadline
	clockSkew       = 5 * time.Minute
)

var (
	oidCRLNumber        = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndic    = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidReasonCode       = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidityDate   = asn1.ObjectIdentifier{2, 5, 29, 24}
)

// crlSource is one CRL with where it came from (a file, or a distribution point's URL).
type crlSource struct {
	crl    *x509.RevocationList
	source string
}

// loadCRLFile reads a CRL file: DER, or PEM with one or more "X509 CRL" blocks.
func loadCRLFile(path string) ([]crlSource, error) {
	data, err := readBounded(path, maxCRLSize, "CRL file")
	if err != nil {
		return nil, err
	}
	crls, err := parseCRLs(data)
	if err != nil {
		return nil, fmt.Errorf("%w: CRL file %s: %w", ErrConfig, path, err)
	}
	out := make([]crlSource, 0, len(crls))
	for _, c := range crls {
		out = append(out, crlSource{crl: c, source: "file " + path})
	}
	return out, nil
}

func parseCRLs(data []byte) ([]*x509.RevocationList, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, err
		}
		return []*x509.RevocationList{c}, nil
	}
	var out []*x509.RevocationList
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "X509 CRL" {
			continue
		}
		c, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New(`no "X509 CRL" PEM block`)
	}
	return out, nil
}

// revocation checks the server chain against CRLs and OCSP as ZooKeeper's Java client does with
// zookeeper.ssl.crl / zookeeper.ssl.ocsp: every certificate of the path except the trust anchor,
// hard-fail when a status cannot be determined; with OCSP, the responder is asked first and the CRL
// is the fallback. Fetched CRLs and OCSP answers are cached until their next update.
type revocation struct {
	crl, ocsp bool
	client    *http.Client

	mu       sync.Mutex
	crlCache map[string]crlSource      // by distribution point URL
	ocspResp map[string]*ocsp.Response // by issuer subject + serial
}

func newRevocation(crl, useOCSP bool) *revocation {
	if !crl && !useOCSP {
		return nil
	}
	return &revocation{crl: crl, ocsp: useOCSP,
		// No keep-alive: fetches are rare (answers are cached), and a Client has no Close that
		// could end idle connections' goroutines.
		client:   &http.Client{Timeout: revocationFetch, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true}},
		crlCache: map[string]crlSource{}, ocspResp: map[string]*ocsp.Response{}}
}

// check verifies chain (leaf first, trust anchor last) and returns one line per certificate saying
// how its status was established. stapled is the OCSP response the server sent with the leaf.
func (rv *revocation) check(ctx context.Context, member string, chain []*x509.Certificate, stapled []byte, files []crlSource) ([]string, error) {
	var out []string
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		var tried []string
		if rv.ocsp {
			st, why, err := rv.checkOCSP(ctx, member, cert, issuer, stapled, i == 0)
			if err != nil {
				return out, err
			}
			if st != "" {
				out = append(out, st)
				continue
			}
			tried = append(tried, why...)
		}
		st, why, err := rv.checkCRL(ctx, member, cert, issuer, files)
		if err != nil {
			return out, err
		}
		if st != "" {
			out = append(out, st)
			continue
		}
		tried = append(tried, why...)
		keys := "zookeeper.ssl.crl"
		if rv.ocsp {
			keys = "zookeeper.ssl.ocsp"
		}
		return out, fmt.Errorf("%w: %s is on and the revocation status of %s (serial %s) in the chain of %s cannot be determined: %s; publish a CRL at its distribution point, give one with zksecure.ssl.crlFile (Config.CRLFiles), or turn %s off",
			ErrRevocationUnknown, keys, cert.Subject, serialHex(cert), member, strings.Join(tried, "; "), keys)
	}
	return out, nil
}

func serialHex(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return "?"
	}
	return fmt.Sprintf("%X", c.SerialNumber)
}

var reasonNames = map[int]string{0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged",
	4: "superseded", 5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise"}

func revokedError(member string, cert *x509.Certificate, at time.Time, reason int, source string) error {
	r := reasonNames[reason]
	if r == "" {
		r = fmt.Sprintf("reason %d", reason)
	}
	return fmt.Errorf("%w: the certificate %s (serial %s) in the chain of %s was revoked on %s (%s) according to %s; the server needs a new certificate",
		ErrRevoked, cert.Subject, serialHex(cert), member, at.UTC().Format(time.RFC3339), r, source)
}

// checkCRL returns a status line when a usable CRL covers cert, or the reasons none did.
func (rv *revocation) checkCRL(ctx context.Context, member string, cert, issuer *x509.Certificate, files []crlSource) (string, []string, error) {
	var why []string
	now := time.Now()
	try := func(s crlSource) (string, bool, error) {
		if reason := crlApplies(s.crl, cert, issuer, now); reason != "" {
			why = append(why, s.source+": "+reason)
			return "", false, nil
		}
		for _, e := range s.crl.RevokedCertificateEntries {
			if e.SerialNumber != nil && e.SerialNumber.Cmp(cert.SerialNumber) == 0 && e.ReasonCode != 8 {
				return "", true, revokedError(member, cert, e.RevocationTime, e.ReasonCode, "the CRL from "+s.source)
			}
		}
		next := "no next update"
		if !s.crl.NextUpdate.IsZero() {
			next = "next update " + s.crl.NextUpdate.UTC().Format(time.RFC3339)
		}
		return fmt.Sprintf("%s (serial %s) not revoked: CRL from %s (%s)", cert.Subject, serialHex(cert), s.source, next), true, nil
	}
	for _, f := range files {
		if !bytes.Equal(f.crl.RawIssuer, cert.RawIssuer) {
			continue
		}
		if st, ok, err := try(f); ok || err != nil {
			return st, nil, err
		}
	}
	if len(cert.CRLDistributionPoints) == 0 {
		why = append(why, "the certificate has no CRL distribution point")
	}
	for _, u := range cert.CRLDistributionPoints {
		s, err := rv.fetchCRL(ctx, u, false)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		if crlStale(s.crl, now) {
			// Out of date in the cache: fetch again once.
			if s, err = rv.fetchCRL(ctx, u, true); err != nil {
				why = append(why, err.Error())
				continue
			}
		}
		if st, ok, err := try(s); ok || err != nil {
			return st, nil, err
		}
	}
	return "", why, nil
}

// crlApplies returns "" when crl is a current, correctly signed, complete CRL of issuer whose scope
// covers cert, else why not.
func crlApplies(crl *x509.RevocationList, cert, issuer *x509.Certificate, now time.Time) string {
	if !bytes.Equal(crl.RawIssuer, cert.RawIssuer) {
		return "issued by " + crl.Issuer.String() + ", not by the certificate's issuer " + cert.Issuer.String()
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return "its signature does not verify with the issuer's key: " + err.Error()
	}
	if crl.ThisUpdate.After(now.Add(clockSkew)) {
		return "not valid before " + crl.ThisUpdate.UTC().Format(time.RFC3339) + " (check this host's clock)"
	}
	if crlStale(crl, now) {
		return "out of date (its next update was " + crl.NextUpdate.UTC().Format(time.RFC3339) + ")"
	}
	for _, ext := range crl.Extensions {
		switch {
		case ext.Id.Equal(oidDeltaCRLIndic):
			return "a delta CRL (zksecure reads complete CRLs only)"
		case ext.Id.Equal(oidIssuingDistPoint):
			if reason := idpCovers(ext.Value, cert); reason != "" {
				return reason
			}
		case ext.Critical && !ext.Id.Equal(oidCRLNumber) && !ext.Id.Equal(oidAuthorityKeyID):
			return "it has a critical extension " + ext.Id.String() + " zksecure does not handle"
		}
	}
	for _, e := range crl.RevokedCertificateEntries {
		for _, ext := range e.Extensions {
			if ext.Critical && !ext.Id.Equal(oidReasonCode) && !ext.Id.Equal(oidInvalidityDate) {
				return "an entry has a critical extension " + ext.Id.String() + " (an indirect CRL?) zksecure does not handle"
			}
		}
	}
	return ""
}

// crlStale reports whether crl's next update has passed.
func crlStale(crl *x509.RevocationList, now time.Time) bool {
	return !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate.Add(clockSkew))
}

// idpCovers parses an issuingDistributionPoint extension (RFC 5280 5.2.5) and says why the CRL does
// not cover cert, or "".
func idpCovers(der []byte, cert *x509.Certificate) string {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return "its issuing distribution point extension is malformed"
	}
	var dpURIs []string
	if seq.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		var dp, full cryptobyte.String
		if !seq.ReadASN1(&dp, cbasn1.Tag(0).ContextSpecific().Constructed()) {
			return "its issuing distribution point extension is malformed"
		}
		if dp.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific().Constructed()) {
			if !dp.ReadASN1(&full, cbasn1.Tag(0).ContextSpecific().Constructed()) {
				return "its issuing distribution point extension is malformed"
			}
			for !full.Empty() {
				var name cryptobyte.String
				var tag cbasn1.Tag
				if !full.ReadAnyASN1(&name, &tag) {
					return "its issuing distribution point extension is malformed"
				}
				if tag == cbasn1.Tag(6).ContextSpecific() {
					dpURIs = append(dpURIs, string(name))
				}
			}
		} else {
			return "its issuing distribution point is named relative to the CRL issuer, which zksecure does not handle"
		}
	}
	flag := func(n uint8) (bool, bool) {
		tag := cbasn1.Tag(n).ContextSpecific()
		if !seq.PeekASN1Tag(tag) {
			return false, true
		}
		var v cryptobyte.String
		if !seq.ReadASN1(&v, tag) || len(v) != 1 {
			return false, false
		}
		return v[0] != 0, true
	}
	onlyUser, ok1 := flag(1)
	onlyCA, ok2 := flag(2)
	if seq.PeekASN1Tag(cbasn1.Tag(3).ContextSpecific()) {
		return "it covers only some revocation reasons (a partitioned CRL zksecure does not handle)"
	}
	indirect, ok4 := flag(4)
	onlyAttr, ok5 := flag(5)
	if !ok1 || !ok2 || !ok4 || !ok5 {
		return "its issuing distribution point extension is malformed"
	}
	switch {
	case indirect:
		return "it is an indirect CRL, which zksecure does not handle"
	case onlyAttr:
		return "it covers attribute certificates only"
	case onlyUser && cert.IsCA:
		return "it covers end-entity certificates only, and this is a CA"
	case onlyCA && !cert.IsCA:
		return "it covers CA certificates only, and this is an end-entity certificate"
	}
	if len(dpURIs) > 0 && !slices.ContainsFunc(dpURIs, func(u string) bool { return slices.Contains(cert.CRLDistributionPoints, u) }) {
		return "its distribution point " + strings.Join(dpURIs, ", ") + " is not one the certificate names"
	}
	return ""
}

// fetchCRL returns the CRL at u, from the cache unless refresh.
func (rv *revocation) fetchCRL(ctx context.Context, u string, refresh bool) (crlSource, error) {
	rv.mu.Lock()
	c, ok := rv.crlCache[u]
	rv.mu.Unlock()
	if ok && !refresh && (c.crl.NextUpdate.IsZero() || time.Now().Before(c.crl.NextUpdate)) {
		return c, nil
	}
	data, err := rv.get(ctx, u, maxCRLSize)
	if err != nil {
		return crlSource{}, fmt.Errorf("distribution point %s: %w", u, err)
	}
	crls, err := parseCRLs(data)
	if err != nil {
		return crlSource{}, fmt.Errorf("distribution point %s: not a CRL: %w", u, err)
	}
	c = crlSource{crl: crls[0], source: u}
	rv.mu.Lock()
	rv.crlCache[u] = c
	rv.mu.Unlock()
	return c, nil
}

// get fetches an http(s) or file URL, at most limit bytes.
func (rv *revocation) get(ctx context.Context, raw string, limit int64) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		return readBounded(u.Path, limit, "CRL")
	case "http", "https":
	default:
		return nil, fmt.Errorf("%s URLs are not supported (http, https and file are)", u.Scheme)
	}
	ctx, cancel := context.WithTimeout(ctx, revocationFetch)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	return rv.do(req, limit)
}

func (rv *revocation) do(req *http.Request, limit int64) ([]byte, error) {
	resp, err := rv.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// checkOCSP returns a status line when an OCSP response (stapled, cached or fetched) says cert is
// good, an ErrRevoked when it says revoked, or the reasons no answer was usable.
func (rv *revocation) checkOCSP(ctx context.Context, member string, cert, issuer *x509.Certificate, stapled []byte, leaf bool) (string, []string, error) {
	var why []string
	judge := func(resp *ocsp.Response, source string) (string, error) {
		switch resp.Status {
		case ocsp.Good:
			return fmt.Sprintf("%s (serial %s) not revoked: %s", cert.Subject, serialHex(cert), source), nil
		case ocsp.Revoked:
			return "", revokedError(member, cert, resp.RevokedAt, resp.RevocationReason, source)
		}
		why = append(why, source+": status unknown to the responder")
		return "", nil
	}
	if leaf && len(stapled) > 0 {
		resp, err := parseOCSP(stapled, cert, issuer)
		if err != nil {
			why = append(why, "stapled OCSP response: "+err.Error())
		} else if st, err := judge(resp, "the OCSP response stapled by the server"); st != "" || err != nil {
			return st, nil, err
		}
	}
	key := string(cert.RawIssuer) + "\x00" + cert.SerialNumber.String()
	rv.mu.Lock()
	cached := rv.ocspResp[key]
	rv.mu.Unlock()
	if cached != nil && (cached.NextUpdate.IsZero() && time.Since(cached.ThisUpdate) < clockSkew || time.Now().Before(cached.NextUpdate)) {
		if st, err := judge(cached, "the OCSP responder "+strings.Join(cert.OCSPServer, ", ")+" (cached answer)"); st != "" || err != nil {
			return st, nil, err
		}
	}
	if len(cert.OCSPServer) == 0 {
		why = append(why, "the certificate names no OCSP responder")
	}
	for _, u := range cert.OCSPServer {
		resp, err := rv.queryOCSP(ctx, u, cert, issuer)
		if err != nil {
			why = append(why, "OCSP responder "+u+": "+err.Error())
			continue
		}
		rv.mu.Lock()
		rv.ocspResp[key] = resp
		rv.mu.Unlock()
		if st, err := judge(resp, "the OCSP responder "+u); st != "" || err != nil {
			return st, nil, err
		}
	}
	return "", why, nil
}

func (rv *revocation) queryOCSP(ctx context.Context, u string, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return nil, errors.New("only http and https responders are supported")
	}
	body, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, revocationFetch)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	req.Header.Set("Accept", "application/ocsp-response")
	b, err := rv.do(req, maxOCSPSize)
	if err != nil {
		return nil, err
	}
	return parseOCSP(b, cert, issuer)
}

// parseOCSP parses and checks a response for cert: signed by the issuer, or by a responder
// certificate the issuer signed for OCSP signing (id-kp-OCSPSigning) and valid now; current.
func parseOCSP(b []byte, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	resp, err := ocsp.ParseResponseForCert(b, cert, issuer)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if rc := resp.Certificate; rc != nil && !rc.Equal(issuer) {
		if !slices.Contains(rc.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
			return nil, fmt.Errorf("signed by %s, which is not authorized for OCSP signing (no id-kp-OCSPSigning)", rc.Subject)
		}
		if now.Before(rc.NotBefore) || now.After(rc.NotAfter) {
			return nil, fmt.Errorf("signed by %s, which is not valid now", rc.Subject)
		}
	}
	if resp.ThisUpdate.After(now.Add(clockSkew)) {
		return nil, fmt.Errorf("issued in the future (%s): check this host's clock", resp.ThisUpdate.UTC().Format(time.RFC3339))
	}
	if !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate.Add(clockSkew)) {
		return nil, fmt.Errorf("out of date (next update was %s)", resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	return resp, nil
}

// readBounded reads a file of at most limit bytes, naming it and the limit otherwise.
func readBounded(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, what, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", ErrConfig, what, path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s %s is larger than %d bytes: not a %s", ErrConfig, what, path, limit, what)
	}
	return b, nil
}
