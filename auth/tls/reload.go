package zktls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// material is what a Client reads from its files: the client certificate, the trust store and the
// configured CRLs.
type material struct {
	cert     *tls.Certificate
	certFile string // the file the certificate came from, for messages
	roots    *x509.CertPool
	rootList []*x509.Certificate // the trust store's CAs, nil for the system pool
	crls     []crlSource
}

// loadMaterial reads every file of c.
func loadMaterial(c Config, kp, cp password) (*material, error) {
	m := &material{certFile: c.CertFile}
	if c.CertFile != "" {
		km, err := loadKeyStore(c.CertFile, c.CertType, c.KeyFile, kp)
		if err != nil {
			return nil, err
		}
		tc, err := km.certificate(c.CertFile)
		if err != nil {
			return nil, err
		}
		m.cert = &tc
	}
	if c.CAFile != "" {
		certs, err := loadTrustStore(c.CAFile, c.CAType, cp)
		if err != nil {
			return nil, err
		}
		m.roots, m.rootList = x509.NewCertPool(), certs
		for _, crt := range certs {
			m.roots.AddCert(crt)
		}
	} else {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("%w: no CA file given and the system CA pool is unavailable: %w", ErrConfig, err)
		}
		m.roots = pool
	}
	for _, f := range c.CRLFiles {
		crls, err := loadCRLFile(f)
		if err != nil {
			return nil, err
		}
		m.crls = append(m.crls, crls...)
	}
	return m, nil
}

// certValid returns ErrExpired, naming the file and the date, when the client certificate is not
// valid at now.
func (m *material) certValid(now time.Time) error {
	if m.cert == nil {
		return nil
	}
	leaf := m.cert.Leaf
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Errorf("%w: the client certificate %s (serial %s) in %s expired on %s (now %s): replace the file (zksecure reads it again for every new connection)",
			ErrExpired, leaf.Subject, serialHex(leaf), m.certFile, leaf.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("%w: the client certificate %s (serial %s) in %s is not valid before %s (now %s): check this host's clock",
			ErrExpired, leaf.Subject, serialHex(leaf), m.certFile, leaf.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// stamp identifies one version of a file.
type stamp struct {
	path string
	info os.FileInfo // nil when the file could not be stat'ed
}

func (s stamp) same(o stamp) bool {
	if s.path != o.path || (s.info == nil) != (o.info == nil) {
		return false
	}
	return s.info == nil || os.SameFile(s.info, o.info) && s.info.ModTime().Equal(o.info.ModTime()) && s.info.Size() == o.info.Size()
}

// reloader holds a Client's material and reads the files again when one of them changed: before
// every new connection it stats them (cheap), so that replaced certificates, keys, CA bundles and
// CRLs are used by the next connection without a restart — the live session keeps its connection.
// A reload that fails (a file half-written, a key that does not match the certificate yet, an
// expired certificate) keeps the last good material and logs the file and why, once per version
// of the files.
type reloader struct {
	cfg    Config
	kp, cp password
	files  []string
	log    *slog.Logger

	mu     sync.Mutex
	cur    *material
	stamps []stamp
	failed []stamp // the file versions whose reload failure was logged
}

func newReloader(c Config, kp, cp password, log *slog.Logger) (*reloader, error) {
	r := &reloader{cfg: c, kp: kp, cp: cp, log: log}
	for _, f := range append([]string{c.CertFile, c.KeyFile, c.KeyPasswordFile, c.CAFile, c.CAPasswordFile}, c.CRLFiles...) {
		if f != "" {
			r.files = append(r.files, f)
		}
	}
	r.stamps = r.stat()
	m, err := loadMaterial(c, kp, cp)
	if err != nil {
		return nil, err
	}
	if err := m.certValid(time.Now()); err != nil {
		return nil, err
	}
	r.cur = m
	return r, nil
}

func (r *reloader) stat() []stamp {
	out := make([]stamp, len(r.files))
	for i, f := range r.files {
		out[i].path = f
		if fi, err := os.Stat(f); err == nil {
			out[i].info = fi
		}
	}
	return out
}

func sameStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].same(b[i]) {
			return false
		}
	}
	return true
}

// peek returns the current material without looking at the files.
func (r *reloader) peek() *material {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// get returns the current material, reading the files again first if any of them changed.
func (r *reloader) get() *material {
	now := r.stat()
	r.mu.Lock()
	defer r.mu.Unlock()
	if sameStamps(now, r.stamps) || sameStamps(now, r.failed) {
		return r.cur // unchanged, or this version of the files was tried and logged already
	}
	var changed []string
	for i := range now {
		if i >= len(r.stamps) || !now[i].same(r.stamps[i]) {
			changed = append(changed, now[i].path)
		}
	}
	m, err := loadMaterial(r.cfg, r.kp, r.cp)
	if err == nil {
		err = m.certValid(time.Now())
	}
	if err != nil {
		r.failed = now
		attrs := []any{"changed", strings.Join(changed, ", "), "error", err.Error()}
		if r.cur.cert != nil {
			attrs = append(attrs, "kept_certificate", r.cur.cert.Leaf.Subject.String(), "kept_serial", serialHex(r.cur.cert.Leaf),
				"kept_valid_until", r.cur.cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		r.log.Warn("zktls: TLS files changed but cannot be used; new connections keep the material loaded before", attrs...)
		return r.cur
	}
	r.cur, r.stamps, r.failed = m, now, nil
	attrs := []any{"changed", strings.Join(changed, ", ")}
	if m.cert != nil {
		attrs = append(attrs, "certificate", m.cert.Leaf.Subject.String(), "serial", serialHex(m.cert.Leaf),
			"valid_until", m.cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	r.log.Info("zktls: TLS files reloaded; new connections use them", attrs...)
	return r.cur
}
