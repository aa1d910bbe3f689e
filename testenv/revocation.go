package testenv

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// CRL returns a CRL of the PKI's root CA, signed by it, listing revoked (revoked an hour ago, reason
// keyCompromise), valid from an hour ago until nextUpdate from now (a negative nextUpdate makes an
// out-of-date CRL), as DER.
func (p *PKI) CRL(nextUpdate time.Duration, revoked ...*Cert) ([]byte, error) {
	return p.crl(time.Now().Add(-time.Hour), time.Now().Add(nextUpdate), revoked...)
}

func (p *PKI) crl(thisUpdate, nextUpdate time.Time, revoked ...*Cert) ([]byte, error) {
	if !nextUpdate.After(thisUpdate) {
		thisUpdate = nextUpdate.Add(-time.Hour)
	}
	tmpl := &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: thisUpdate, NextUpdate: nextUpdate}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: c.X509.SerialNumber, RevocationTime: time.Now().Add(-time.Hour).UTC().Truncate(time.Second), ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, p.CA.X509, p.CA.Key)
	if err != nil {
		return nil, fmt.Errorf("testenv: CRL: %w", err)
	}
	return der, nil
}

// WriteCRL writes the root CA's CRL listing revoked (see CRL, next update in a day) to path as PEM.
func (p *PKI) WriteCRL(path string, revoked ...*Cert) error {
	der, err := p.CRL(24*time.Hour, revoked...)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
}

// RevocationServer is the root CA's CRL distribution point and OCSP responder, over HTTP on
// loopback, as a real CA publishes them: certificates issued with CertOptions{CRLDistributionPoints:
// []string{s.CRLURL}, OCSPServers: []string{s.OCSPURL}} are checked against it. Revoke and Unrevoke
// change what both answer from the next request on.
type RevocationServer struct {
	// CRLURL serves the CA's current CRL (DER, next update in an hour); OCSPURL answers OCSP
	// requests (POST) for certificates of the CA, signed by the CA.
	CRLURL, OCSPURL string

	pki     *PKI
	srv     *http.Server
	done    chan struct{}
	mu      sync.Mutex
	revoked map[string]*Cert // by serial
	counts  map[string]int   // requests served, by "crl" and "ocsp"
}

// StartRevocationServer starts the PKI's revocation server on 127.0.0.1 (a port from the OS).
func (p *PKI) StartRevocationServer() (*RevocationServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testenv: revocation server: %w", err)
	}
	base := "http://" + ln.Addr().String()
	s := &RevocationServer{CRLURL: base + "/ca.crl", OCSPURL: base + "/ocsp", pki: p, done: make(chan struct{}),
		revoked: map[string]*Cert{}, counts: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ca.crl", s.serveCRL)
	mux.HandleFunc("/ocsp", s.serveOCSP)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Revoke makes the CRL and the OCSP responder report c as revoked (an hour ago, keyCompromise).
func (s *RevocationServer) Revoke(c *Cert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[c.X509.SerialNumber.String()] = c
}

// Unrevoke takes c off the revocation list again.
func (s *RevocationServer) Unrevoke(c *Cert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.revoked, c.X509.SerialNumber.String())
}

// Requests returns how many CRL and OCSP requests the server answered so far.
func (s *RevocationServer) Requests() (crl, ocsp int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts["crl"], s.counts["ocsp"]
}

func (s *RevocationServer) snapshot(kind string) []*Cert {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[kind]++
	out := make([]*Cert, 0, len(s.revoked))
	for _, c := range s.revoked {
		out = append(out, c)
	}
	return out
}

func (s *RevocationServer) serveCRL(w http.ResponseWriter, _ *http.Request) {
	der, err := s.pki.CRL(time.Hour, s.snapshot("crl")...)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(der)
}

func (s *RevocationServer) serveOCSP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "POST an OCSP request", http.StatusBadRequest)
		return
	}
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)}
	for _, c := range s.snapshot("ocsp") {
		if c.X509.SerialNumber.Cmp(req.SerialNumber) == 0 {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, now.Add(-time.Hour), ocsp.KeyCompromise
		}
	}
	resp, err := ocsp.CreateResponse(s.pki.CA.X509, s.pki.CA.X509, tmpl, s.pki.CA.Key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// Close stops the server.
func (s *RevocationServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
