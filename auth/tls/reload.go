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

// loadIdentity reads the client certificate and key; nil without CertFile.
func loadIdentity(c Config, kp password) (*tls.Certificate, error) {
	if c.CertFile == "" {
		return nil, nil
	}
	km, err := loadKeyStore(c.CertFile, c.CertType, c.KeyFile, kp)
	if err != nil {
		return nil, err
	}
	tc, err := km.certificate(c.CertFile)
	if err != nil {
		return nil, err
	}
	return &tc, nil
}

// trust is the trust store as loaded.
type trust struct {
	roots    *x509.CertPool
	rootList []*x509.Certificate // nil for the system pool
}

func loadTrust(c Config, cp password) (trust, error) {
	if c.CAFile == "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return trust{}, fmt.Errorf("%w: no CA file given and the system CA pool is unavailable: %w", ErrConfig, err)
		}
		return trust{roots: pool}, nil
	}
	certs, err := loadTrustStore(c.CAFile, c.CAType, cp)
	if err != nil {
		return trust{}, err
	}
	t := trust{roots: x509.NewCertPool(), rootList: certs}
	for _, crt := range certs {
		t.roots.AddCert(crt)
	}
	return t, nil
}

func loadCRLFiles(c Config) ([]crlSource, error) {
	var out []crlSource
	for _, f := range c.CRLFiles {
		crls, err := loadCRLFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, crls...)
	}
	return out, nil
}

// certValid returns ErrExpired, naming the file and the date, when the client certificate is not
// valid at now.
func (m *material) certValid(now time.Time) error { return certValid(m.cert, m.certFile, now) }

func certValid(cert *tls.Certificate, file string, now time.Time) error {
	if cert == nil {
		return nil
	}
	leaf := cert.Leaf
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Errorf("%w: the client certificate %s (serial %s) in %s expired on %s (now %s): replace the file (zksecure reads it again for every new connection)",
			ErrExpired, leaf.Subject, serialHex(leaf), file, leaf.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("%w: the client certificate %s (serial %s) in %s is not valid before %s (now %s): check this host's clock",
			ErrExpired, leaf.Subject, serialHex(leaf), file, leaf.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
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

// part is one piece of a Client's material — the client identity, the trust store, the CRL files
// — with the files it is read from. It is read again when one of its files changed; a reload that
// fails keeps the piece's last good value, so that a broken certificate does not hold back a new CA
// bundle and the other way round.
type part[T any] struct {
	what   string
	files  []string
	load   func() (T, error)
	cur    T
	stamps []stamp
	failed []stamp // the file versions whose reload failure was logged
}

func newPart[T any](what string, load func() (T, error), files ...string) (*part[T], error) {
	p := &part[T]{what: what, load: load}
	for _, f := range files {
		if f != "" {
			p.files = append(p.files, f)
		}
	}
	p.stamps = p.stat()
	var err error
	p.cur, err = load()
	return p, err
}

func (p *part[T]) stat() []stamp {
	out := make([]stamp, len(p.files))
	for i, f := range p.files {
		out[i].path = f
		if fi, err := os.Stat(f); err == nil {
			out[i].info = fi
		}
	}
	return out
}

// refresh reads the files again if they changed, and reports what happened for the log (nil
// attrs: nothing changed or nothing new to report).
func (p *part[T]) refresh() (ok bool, attrs []any) {
	now := p.stat()
	if sameStamps(now, p.stamps) || sameStamps(now, p.failed) {
		return true, nil // unchanged, or this version of the files was tried and logged already
	}
	var changed []string
	for i := range now {
		if i >= len(p.stamps) || !now[i].same(p.stamps[i]) {
			changed = append(changed, now[i].path)
		}
	}
	v, err := p.load()
	if err != nil {
		p.failed = now
		return false, []any{"what", p.what, "changed", strings.Join(changed, ", "), "error", err.Error()}
	}
	p.cur, p.stamps, p.failed = v, now, nil
	return true, []any{"what", p.what, "changed", strings.Join(changed, ", ")}
}

// reloader holds a Client's material and reads the files again when one of them changed: before
// every new connection it stats them (cheap), so that replaced certificates, keys, CA bundles and
// CRLs are used by the next connection without a restart — the live session keeps its connection.
// A reload that fails (a file half-written, a key that does not match the certificate yet, an
// expired certificate) keeps that piece's last good material and logs the file and why, once per
// version of the files.
type reloader struct {
	certFile string
	log      *slog.Logger

	mu       sync.Mutex
	identity *part[*tls.Certificate]
	trust    *part[trust]
	crls     *part[[]crlSource]
	cur      *material
	gen      uint64 // counts the assemblies of cur: a new value after every successful reload
}

func newReloader(c Config, kp, cp password, log *slog.Logger) (*reloader, error) {
	r := &reloader{certFile: c.CertFile, log: log}
	var err error
	if r.identity, err = newPart("client certificate", func() (*tls.Certificate, error) {
		cert, err := loadIdentity(c, kp)
		if err == nil {
			err = certValid(cert, c.CertFile, time.Now())
		}
		return cert, err
	}, c.CertFile, c.KeyFile, c.KeyPasswordFile); err != nil {
		return nil, err
	}
	if r.trust, err = newPart("trust store", func() (trust, error) { return loadTrust(c, cp) }, c.CAFile, c.CAPasswordFile); err != nil {
		return nil, err
	}
	if r.crls, err = newPart("CRL files", func() ([]crlSource, error) { return loadCRLFiles(c) }, c.CRLFiles...); err != nil {
		return nil, err
	}
	r.cur = r.assemble()
	return r, nil
}

func (r *reloader) assemble() *material {
	return &material{cert: r.identity.cur, certFile: r.certFile, roots: r.trust.cur.roots, rootList: r.trust.cur.rootList, crls: r.crls.cur}
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

// get returns the current material, reading the files of a piece again first if any of them
// changed.
func (r *reloader) get() *material {
	r.mu.Lock()
	defer r.mu.Unlock()
	reloaded := false
	report := func(ok bool, attrs []any) {
		switch {
		case attrs == nil:
		case !ok:
			if c := r.cur.cert; c != nil && attrs[1] == "client certificate" {
				attrs = append(attrs, "kept_certificate", c.Leaf.Subject.String(), "kept_serial", serialHex(c.Leaf),
					"kept_valid_until", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
			}
			r.log.Warn("zktls: TLS files changed but cannot be used; new connections keep the ones loaded before", attrs...)
		default:
			reloaded = true
			if c := r.identity.cur; c != nil && attrs[1] == "client certificate" {
				attrs = append(attrs, "certificate", c.Leaf.Subject.String(), "serial", serialHex(c.Leaf),
					"valid_until", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
			}
			r.log.Info("zktls: TLS files reloaded; new connections use them", attrs...)
		}
	}
	report(r.identity.refresh())
	report(r.trust.refresh())
	report(r.crls.refresh())
	if reloaded {
		r.cur = r.assemble()
		r.gen++
	}
	return r.cur
}

// generation is get's material and its generation.
func (r *reloader) generation() uint64 {
	r.get()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen
}

// current reports whether every piece was loaded from its files as they are now (none changed
// since, none failed to load) and the client certificate is valid at now: what a new Load of the
// same Config would find, short of reading the files.
func (r *reloader) current(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sameStamps(r.identity.stat(), r.identity.stamps) && sameStamps(r.trust.stat(), r.trust.stamps) &&
		sameStamps(r.crls.stat(), r.crls.stamps) && r.cur.certValid(now) == nil
}
