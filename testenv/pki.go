package testenv

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"
)

// KeyPassword is the password of every encrypted key and PKCS#12 bundle a PKI writes. It is test
// material only; it is also written to each Cert's PasswordFile so that tests can exercise the
// "password from a file" path.
const KeyPassword = "zksecure-test-password"

// Cert is a certificate with its key, written in every format a ZooKeeper client or server may be
// given. All paths are absolute.
type Cert struct {
	// Name is the PKI-local name the certificate was issued under ("server", "client", ...).
	Name string
	// Subject is the subject DN in RFC 2253 order as Java prints it, e.g.
	// "CN=client,OU=clients,O=zksecure" (the form ZooKeeper uses for x509 ACL ids).
	Subject string
	// DNSNames and IPs are the certificate's SANs.
	DNSNames            []string
	IPs                 []net.IP
	NotBefore, NotAfter time.Time

	// CertFile holds the certificate alone; ChainFile the certificate followed by its CA.
	CertFile, ChainFile string
	// KeyFile is the unencrypted PKCS#8 key ("PRIVATE KEY").
	KeyFile string
	// EncryptedKeyFile is the key as encrypted PKCS#8 with PBES2 (PBKDF2-SHA256 + AES-256-CBC),
	// password KeyPassword.
	EncryptedKeyFile string
	// PasswordFile contains KeyPassword (no newline).
	PasswordFile string
	// KeystorePEM is a ZooKeeper "PEM keystore": certificate chain and unencrypted key in one file.
	KeystorePEM string
	// PKCS12File is a PKCS#12 bundle of key, certificate and CA, password KeyPassword.
	PKCS12File string
	// JKSFile is a JKS keystore with the key and the chain (certificate and CA), store and key
	// password KeyPassword.
	JKSFile string

	// X509 and Key are the parsed certificate and its key.
	X509 *x509.Certificate
	Key  crypto.Signer
}

// CertOptions says what to issue. The zero value is a client certificate valid from an hour ago
// for a year, with no SANs.
type CertOptions struct {
	// CommonName and OrganizationalUnit make the subject CN=<cn>,OU=<ou>,O=zksecure.
	CommonName, OrganizationalUnit string
	DNSNames                       []string
	IPs                            []net.IP
	// Server adds the serverAuth extended key usage (clientAuth is always present).
	Server bool
	// NotBefore and NotAfter default to an hour ago and a year from now.
	NotBefore, NotAfter time.Time
	// ECDSA makes a P-256 key instead of RSA-2048.
	ECDSA bool
	// CRLDistributionPoints and OCSPServers are URLs put into the certificate (for example a
	// RevocationServer's CRLURL and OCSPURL); none by default.
	CRLDistributionPoints, OCSPServers []string
}

// PKI is a throw-away certificate authority with the certificates tests need.
type PKI struct {
	// Dir holds every file written.
	Dir string
	// CAFile is the CA certificate (PEM); TrustStorePKCS12 and TrustStoreJKS the same as a
	// PKCS#12 and a JKS truststore (password KeyPassword).
	CAFile, TrustStorePKCS12, TrustStoreJKS string
	// CA is the CA's own certificate and key.
	CA *Cert

	// Server: SANs localhost and 127.0.0.1, valid now.
	Server *Cert
	// Client and Client2: two different client identities (CN=client / CN=client2, OU=clients).
	Client, Client2 *Cert
	// ExpiredServer: SANs as Server, expired a day ago.
	ExpiredServer *Cert
	// WrongHostServer: valid now, SAN only "wrong.example" (hostname mismatch on localhost).
	WrongHostServer *Cert
	// UnknownCAServer: SANs as Server, but issued by another CA (UnknownCAFile) nobody trusts.
	UnknownCAServer *Cert
	// UnknownCAFile is the certificate of that other CA.
	UnknownCAFile string

	mu           sync.Mutex
	intermediate *Cert
}

// NewPKI generates a CA and the standard set of certificates into dir.
func NewPKI(dir string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("testenv: PKI folder: %w", err)
	}
	p := &PKI{Dir: dir}
	var err error
	if p.CA, err = newCA(dir, "ca", "zksecure test CA", nil); err != nil {
		return nil, err
	}
	p.CAFile = p.CA.CertFile
	p.TrustStorePKCS12 = filepath.Join(dir, "truststore.p12")
	ts, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{p.CA.X509}, KeyPassword)
	if err != nil {
		return nil, fmt.Errorf("testenv: PKCS#12 truststore: %w", err)
	}
	if err := os.WriteFile(p.TrustStorePKCS12, ts, 0o644); err != nil {
		return nil, err
	}
	p.TrustStoreJKS = filepath.Join(dir, "truststore.jks")
	if err := writeJKSTrustStore(p.TrustStoreJKS, p.CA.X509); err != nil {
		return nil, err
	}
	local := CertOptions{DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}
	issue := func(name string, o CertOptions) (c *Cert) {
		if err != nil {
			return nil
		}
		c, err = p.Issue(name, o)
		return c
	}
	so := local
	so.CommonName, so.OrganizationalUnit = "zookeeper", "servers"
	p.Server = issue("server", so)
	p.Client = issue("client", CertOptions{CommonName: "client", OrganizationalUnit: "clients"})
	p.Client2 = issue("client2", CertOptions{CommonName: "client2", OrganizationalUnit: "clients"})
	eo := so
	eo.NotBefore, eo.NotAfter = time.Now().Add(-30*24*time.Hour), time.Now().Add(-24*time.Hour)
	p.ExpiredServer = issue("server-expired", eo)
	p.WrongHostServer = issue("server-wronghost", CertOptions{CommonName: "zookeeper", OrganizationalUnit: "servers",
		DNSNames: []string{"wrong.example"}, Server: true})
	if err != nil {
		return nil, err
	}
	other, err := newCA(dir, "unknown-ca", "zksecure untrusted CA", nil)
	if err != nil {
		return nil, err
	}
	p.UnknownCAFile = other.CertFile
	if p.UnknownCAServer, err = issueCert(dir, "server-unknownca", so, other); err != nil {
		return nil, err
	}
	return p, nil
}

// Issue signs a new certificate with the PKI's CA and writes it in every format.
func (p *PKI) Issue(name string, o CertOptions) (*Cert, error) {
	return issueCert(p.Dir, name, o, p.CA)
}

// Intermediate returns the PKI's intermediate CA (CN=zksecure test intermediate CA), signed by
// the root CA and made on first use. Certificates it issues (IssueIntermediate) are trusted by
// clients that trust CAFile alone, provided the server sends the intermediate: their ChainFile and
// KeystorePEM hold leaf + intermediate.
func (p *PKI) Intermediate() (*Cert, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.intermediate != nil {
		return p.intermediate, nil
	}
	c, err := newCA(p.Dir, "intermediate-ca", "zksecure test intermediate CA", p.CA)
	if err != nil {
		return nil, err
	}
	p.intermediate = c
	return c, nil
}

// IssueIntermediate signs a new certificate with the intermediate CA (see Intermediate).
func (p *PKI) IssueIntermediate(name string, o CertOptions) (*Cert, error) {
	ica, err := p.Intermediate()
	if err != nil {
		return nil, err
	}
	return issueCert(p.Dir, name, o, ica)
}

// newCA makes a CA certificate: self-signed when parent is nil, else an intermediate under parent.
func newCA(dir, name, cn string, parent *Cert) (*Cert, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"zksecure"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		SubjectKeyId:          keyID(key.Public()),
	}
	issuer, signer := tmpl, crypto.Signer(key)
	if parent != nil {
		tmpl.AuthorityKeyId = parent.X509.SubjectKeyId
		tmpl.MaxPathLenZero = true
		issuer, signer = parent.X509, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("testenv: CA certificate: %w", err)
	}
	crt, _ := x509.ParseCertificate(der)
	c := &Cert{Name: name, Subject: "CN=" + cn + ",O=zksecure", X509: crt, Key: key,
		NotBefore: crt.NotBefore, NotAfter: crt.NotAfter}
	return c, c.write(dir, parent)
}

func issueCert(dir, name string, o CertOptions, ca *Cert) (*Cert, error) {
	var key crypto.Signer
	var err error
	if o.ECDSA {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	nb, na := o.NotBefore, o.NotAfter
	if nb.IsZero() {
		nb = now.Add(-time.Hour)
	}
	if na.IsZero() {
		na = now.Add(365 * 24 * time.Hour)
	}
	cn := o.CommonName
	if cn == "" {
		cn = name
	}
	subj := pkix.Name{CommonName: cn, Organization: []string{"zksecure"}}
	dn := "CN=" + cn
	if o.OrganizationalUnit != "" {
		subj.OrganizationalUnit = []string{o.OrganizationalUnit}
		dn += ",OU=" + o.OrganizationalUnit
	}
	dn += ",O=zksecure"
	usage := x509.KeyUsageDigitalSignature
	if !o.ECDSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if o.Server {
		eku = append(eku, x509.ExtKeyUsageServerAuth)
	}
	tmpl := &x509.Certificate{
		SerialNumber:   serial(),
		Subject:        subj,
		NotBefore:      nb,
		NotAfter:       na,
		KeyUsage:       usage,
		ExtKeyUsage:    eku,
		DNSNames:       o.DNSNames,
		IPAddresses:    o.IPs,
		SubjectKeyId:   keyID(key.Public()),
		AuthorityKeyId: ca.X509.SubjectKeyId,

		CRLDistributionPoints: o.CRLDistributionPoints,
		OCSPServer:            o.OCSPServers,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.X509, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("testenv: certificate %s: %w", name, err)
	}
	crt, _ := x509.ParseCertificate(der)
	c := &Cert{Name: name, Subject: dn, DNSNames: o.DNSNames, IPs: o.IPs, X509: crt, Key: key,
		NotBefore: crt.NotBefore, NotAfter: crt.NotAfter}
	return c, c.write(dir, ca)
}

// write puts the certificate and key on disk in every format.
func (c *Cert) write(dir string, ca *Cert) error {
	base := filepath.Join(dir, c.Name)
	c.CertFile = base + ".crt"
	c.ChainFile = base + "-chain.pem"
	c.KeyFile = base + ".key"
	c.EncryptedKeyFile = base + "-pkcs8-encrypted.key"
	c.PasswordFile = base + ".password"
	c.KeystorePEM = base + "-keystore.pem"
	c.PKCS12File = base + ".p12"
	c.JKSFile = base + ".jks"

	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.X509.Raw})
	chain := append([]byte{}, certPEM...)
	var caCerts []*x509.Certificate
	if ca != nil {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.X509.Raw})...)
		caCerts = []*x509.Certificate{ca.X509}
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	enc, err := pkcs8.MarshalPrivateKey(c.Key, []byte(KeyPassword), &pkcs8.Opts{
		Cipher:  pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: 10000, HMACHash: crypto.SHA256},
	})
	if err != nil {
		return fmt.Errorf("testenv: encrypting key %s: %w", c.Name, err)
	}
	encPEM := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc})
	p12, err := pkcs12.Modern.Encode(c.Key, c.X509, caCerts, KeyPassword)
	if err != nil {
		return fmt.Errorf("testenv: PKCS#12 %s: %w", c.Name, err)
	}
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{c.CertFile, certPEM, 0o644},
		{c.ChainFile, chain, 0o644},
		{c.KeyFile, keyPEM, 0o600},
		{c.EncryptedKeyFile, encPEM, 0o600},
		{c.PasswordFile, []byte(KeyPassword), 0o600},
		{c.KeystorePEM, append(append([]byte{}, chain...), keyPEM...), 0o600},
		{c.PKCS12File, p12, 0o600},
	}
	jks, err := jksKeyStore(der, append([]*x509.Certificate{c.X509}, caCerts...))
	if err != nil {
		return fmt.Errorf("testenv: JKS %s: %w", c.Name, err)
	}
	files = append(files, struct {
		path string
		data []byte
		mode os.FileMode
	}{c.JKSFile, jks, 0o600})
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return fmt.Errorf("testenv: writing %s: %w", f.path, err)
		}
	}
	return nil
}

// jksKeyStore encodes a JKS keystore holding the PKCS#8 key der with chain, alias "key".
func jksKeyStore(der []byte, chain []*x509.Certificate) ([]byte, error) {
	ks := keystore.New()
	e := keystore.PrivateKeyEntry{CreationTime: time.Now(), PrivateKey: der}
	for _, c := range chain {
		e.CertificateChain = append(e.CertificateChain, keystore.Certificate{Type: "X509", Content: c.Raw})
	}
	if err := ks.SetPrivateKeyEntry("key", e, []byte(KeyPassword)); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := ks.Store(&b, []byte(KeyPassword)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJKSTrustStore(path string, cas ...*x509.Certificate) error {
	ks := keystore.New()
	for i, c := range cas {
		if err := ks.SetTrustedCertificateEntry(fmt.Sprintf("ca%d", i), keystore.TrustedCertificateEntry{
			CreationTime: time.Now(), Certificate: keystore.Certificate{Type: "X509", Content: c.Raw}}); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	if err := ks.Store(&b, []byte(KeyPassword)); err != nil {
		return fmt.Errorf("testenv: JKS truststore: %w", err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

func keyID(pub crypto.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	h := sha256.Sum256(der)
	return h[:20]
}

// String describes the certificate without any key material.
func (c *Cert) String() string {
	var sans []string
	sans = append(sans, c.DNSNames...)
	for _, ip := range c.IPs {
		sans = append(sans, ip.String())
	}
	return fmt.Sprintf("%s (%s; SANs %s; valid %s to %s)", c.Name, c.Subject, strings.Join(sans, ","),
		c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
}
