package zktls

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

func mkCRL(t *testing.T, ca *testCert, this, next time.Time, exts []pkix.Extension, revoked ...*x509.Certificate) *x509.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next, ExtraExtensions: exts}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: this, ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

// idp encodes an issuingDistributionPoint with the given URI and flags (tags 1, 2, 4).
func idp(t *testing.T, uri string, onlyUser, onlyCA, indirect bool) pkix.Extension {
	t.Helper()
	type idpT struct {
		DP       asn1.RawValue `asn1:"optional"`
		OnlyUser bool          `asn1:"optional,tag:1"`
		OnlyCA   bool          `asn1:"optional,tag:2"`
		Indirect bool          `asn1:"optional,tag:4"`
	}
	v := idpT{OnlyUser: onlyUser, OnlyCA: onlyCA, Indirect: indirect}
	if uri != "" {
		name, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(uri)})
		if err != nil {
			t.Fatal(err)
		}
		full, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: name}) // fullName
		if err != nil {
			t.Fatal(err)
		}
		v.DP = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: full} // distributionPoint
	}
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidIssuingDistPoint, Critical: true, Value: der}
}

// CRLs from files: a revoked serial fails with the serial and the source; a CRL out of date, of
// another issuer, or out of scope does not count, and then the status is unknown (hard fail, as in
// Java); the trust anchor itself is never checked.
func TestCRLChecks(t *testing.T) {
	ca, other := testCA(t), testCA(t)
	leafT := mkCert(t, ca, &x509.Certificate{Subject: pkix.Name{CommonName: "zk1"}, DNSNames: []string{"zk1"},
		CRLDistributionPoints: []string{"http://127.0.0.1:1/ca.crl"}})
	leaf := leafT.cert
	now := time.Now()
	rv := newRevocation(true, false)
	chain := []*x509.Certificate{leaf, ca.cert}
	check := func(crls ...*x509.RevocationList) ([]string, error) {
		var files []crlSource
		for i, c := range crls {
			files = append(files, crlSource{crl: c, source: "file crl" + string(rune('0'+i))})
		}
		// Nothing listens at the distribution point: only the files can answer.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return rv.check(ctx, "zk1:2281", chain, nil, files)
	}
	good := mkCRL(t, ca, now.Add(-time.Hour), now.Add(time.Hour), nil)
	if lines, err := check(good); err != nil || len(lines) != 1 || !strings.Contains(lines[0], "not revoked") {
		t.Errorf("current CRL without the serial: %q, %v", lines, err)
	}
	_, err := check(mkCRL(t, ca, now.Add(-time.Hour), now.Add(time.Hour), nil, leaf))
	if !errors.Is(err, ErrRevoked) || !strings.Contains(err.Error(), "serial "+serialHex(leaf)) || !strings.Contains(err.Error(), "file crl0") ||
		!strings.Contains(err.Error(), "keyCompromise") {
		t.Errorf("revoked: %v", err)
	}
	for name, crl := range map[string]*x509.RevocationList{
		"out of date":                mkCRL(t, ca, now.Add(-2*time.Hour), now.Add(-time.Hour), nil, leaf),
		"issued by another CA":       mkCRL(t, other, now.Add(-time.Hour), now.Add(time.Hour), nil, leaf),
		"for CA certificates":        mkCRL(t, ca, now.Add(-time.Hour), now.Add(time.Hour), []pkix.Extension{idp(t, "", false, true, false)}, leaf),
		"indirect":                   mkCRL(t, ca, now.Add(-time.Hour), now.Add(time.Hour), []pkix.Extension{idp(t, "", false, false, true)}, leaf),
		"another scope":              mkCRL(t, ca, now.Add(-time.Hour), now.Add(time.Hour), []pkix.Extension{idp(t, "http://other/x.crl", false, false, false)}, leaf),
		"delta":                      mkCRL(t, ca, now.Add(-time.Hour), now.Add(time.Hour), []pkix.Extension{{Id: oidDeltaCRLIndic, Critical: true, Value: []byte{2, 1, 1}}}, leaf),
		"unknown critical extension": mkCRL(t, ca, now.Add(-time.Hour), now.Add(time.Hour), []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte{5, 0}}}, leaf),
	} {
		_, err := check(crl)
		if !errors.Is(err, ErrRevocationUnknown) || !strings.Contains(err.Error(), "zookeeper.ssl.crl") {
			t.Errorf("%s: %v, want ErrRevocationUnknown", name, err)
		}
	}
	// A CRL in scope (end-entity only, this distribution point) counts.
	if _, err := check(mkCRL(t, ca, now.Add(-time.Hour), now.Add(time.Hour), []pkix.Extension{idp(t, "http://127.0.0.1:1/ca.crl", true, false, false)}, leaf)); !errors.Is(err, ErrRevoked) {
		t.Errorf("CRL with a matching issuing distribution point: %v", err)
	}
	// A self-signed server certificate that is itself the trust anchor has nothing to check.
	if lines, err := rv.check(context.Background(), "m", []*x509.Certificate{ca.cert}, nil, nil); err != nil || len(lines) != 0 {
		t.Errorf("trust anchor only: %q, %v", lines, err)
	}
}

// OCSP responses must be for the certificate, signed by its issuer or by a responder the issuer
// authorized for OCSP signing, and current.
func TestOCSPResponseChecks(t *testing.T) {
	ca := testCA(t)
	leaf := leafCert(t, ca, "zk1", []string{"zk1"}, nil)
	now := time.Now().Truncate(time.Second)
	respond := func(signer *testCert, status int, this, next time.Time) []byte {
		t.Helper()
		tmpl := ocsp.Response{Status: status, SerialNumber: leaf.SerialNumber,
			ThisUpdate: this, NextUpdate: next, RevokedAt: this, RevocationReason: ocsp.KeyCompromise}
		if signer != ca {
			tmpl.Certificate = signer.cert // a delegated responder sends its certificate
		}
		b, err := ocsp.CreateResponse(ca.cert, signer.cert, tmpl, signer.key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	delegated := mkCert(t, ca, &x509.Certificate{Subject: pkix.Name{CommonName: "responder"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}})
	notAuthorized := mkCert(t, ca, &x509.Certificate{Subject: pkix.Name{CommonName: "not a responder"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if r, err := parseOCSP(respond(ca, ocsp.Good, now.Add(-time.Minute), now.Add(time.Hour)), leaf, ca.cert); err != nil || r.Status != ocsp.Good {
		t.Errorf("signed by the issuer: %v", err)
	}
	if _, err := parseOCSP(respond(delegated, ocsp.Good, now.Add(-time.Minute), now.Add(time.Hour)), leaf, ca.cert); err != nil {
		t.Errorf("signed by an authorized responder: %v", err)
	}
	if _, err := parseOCSP(respond(notAuthorized, ocsp.Good, now.Add(-time.Minute), now.Add(time.Hour)), leaf, ca.cert); err == nil || !strings.Contains(err.Error(), "OCSPSigning") {
		t.Errorf("signed by a certificate not authorized for OCSP: %v", err)
	}
	if _, err := parseOCSP(respond(ca, ocsp.Good, now.Add(-2*time.Hour), now.Add(-time.Hour)), leaf, ca.cert); err == nil || !strings.Contains(err.Error(), "out of date") {
		t.Errorf("stale response: %v", err)
	}
	// A stapled "revoked" answer fails the chain with the serial, without asking anyone.
	rv := newRevocation(false, true)
	_, err := rv.check(context.Background(), "zk1:2281", []*x509.Certificate{leaf, ca.cert}, respond(ca, ocsp.Revoked, now.Add(-time.Minute), now.Add(time.Hour)), nil)
	if !errors.Is(err, ErrRevoked) || !strings.Contains(err.Error(), serialHex(leaf)) || !strings.Contains(err.Error(), "stapled") {
		t.Errorf("stapled revoked response: %v", err)
	}
	// Without any source the status is unknown, and the error names zookeeper.ssl.ocsp.
	if _, err := rv.check(context.Background(), "zk1:2281", []*x509.Certificate{leaf, ca.cert}, nil, nil); !errors.Is(err, ErrRevocationUnknown) ||
		!strings.Contains(err.Error(), "zookeeper.ssl.ocsp") || !strings.Contains(err.Error(), "no OCSP responder") {
		t.Errorf("no responder, no CRL: %v", err)
	}
}
