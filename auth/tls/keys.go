package zktls

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/zksecure/zksecure/internal/bounded"
)

// StoreType is the format of a keystore or truststore, as in zookeeper.ssl.keyStore.type.
type StoreType string

const (
	// TypeAuto infers the type from the file name: .p12/.pfx → PKCS12, .jks → JKS, else PEM.
	TypeAuto   StoreType = ""
	TypePEM    StoreType = "PEM"
	TypePKCS12 StoreType = "PKCS12"
	TypeJKS    StoreType = "JKS"
)

func (t StoreType) resolve(path string) (StoreType, error) {
	switch strings.ToUpper(string(t)) {
	case "":
		switch strings.ToLower(filepath.Ext(path)) {
		case ".p12", ".pfx", ".pkcs12":
			return TypePKCS12, nil
		case ".jks":
			return TypeJKS, nil
		}
		return TypePEM, nil
	case "PEM":
		return TypePEM, nil
	case "PKCS12", "PKCS#12", "P12":
		return TypePKCS12, nil
	case "JKS":
		return TypeJKS, nil
	case "BCFKS":
		return "", fmt.Errorf("%w: %s: BCFKS keystores need the Bouncy Castle FIPS provider; convert with keytool -importkeystore -srcstoretype BCFKS -deststoretype PKCS12", ErrConfig, path)
	}
	return "", fmt.Errorf("%w: %s: unknown store type %q (want PEM, PKCS12 or JKS)", ErrConfig, path, string(t))
}

var (
	oidPBES2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	// PBES1 (PKCS#5 v1.5) and the PKCS#12 PBE schemes, which youmark/pkcs8 does not decrypt.
	oidPBES1Prefix  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}
	oidPKCS12PBEPfx = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
)

type encryptedPrivateKeyInfo struct {
	Algo struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	EncryptedData []byte
}

// keyMaterial is what a keystore yields: the chain (leaf first) and the key.
type keyMaterial struct {
	chain []*x509.Certificate
	key   crypto.PrivateKey
}

// loadKeyStore reads a client keystore: PEM (certificates, and the key unless keyFile is set),
// PKCS#12 or JKS.
func loadKeyStore(path string, typ StoreType, keyFile string, pw password) (*keyMaterial, error) {
	t, err := typ.resolve(path)
	if err != nil {
		return nil, err
	}
	data, err := bounded.ReadFile(path, "keystore", bounded.Store)
	if err != nil {
		return nil, fmt.Errorf("%w: client certificate: %w", ErrConfig, err)
	}
	switch t {
	case TypePKCS12:
		secret, err := pw.get()
		if err != nil {
			return nil, err
		}
		key, leaf, cas, err := pkcs12.DecodeChain(data, string(secret))
		if err != nil {
			if errors.Is(err, pkcs12.ErrIncorrectPassword) {
				return nil, fmt.Errorf("%w: PKCS#12 keystore %s does not open with the password from %s", ErrKeyPassword, path, pw.source())
			}
			return nil, fmt.Errorf("%w: PKCS#12 keystore %s: %w", ErrConfig, path, err)
		}
		return &keyMaterial{chain: append([]*x509.Certificate{leaf}, cas...), key: key}, nil
	case TypeJKS:
		return loadJKSKey(path, data, pw)
	}
	km := &keyMaterial{}
	var keyBlocks []*pem.Block
	if km.chain, keyBlocks, err = splitPEM(path, data); err != nil {
		return nil, err
	}
	keyPath := path
	if keyFile != "" {
		kd, err := bounded.ReadFile(keyFile, "key file", bounded.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: client key: %w", ErrConfig, err)
		}
		var certsInKey []*x509.Certificate
		if certsInKey, keyBlocks, err = splitPEM(keyFile, kd); err != nil {
			return nil, err
		}
		km.chain = append(km.chain, certsInKey...)
		keyPath = keyFile
	}
	if len(km.chain) == 0 {
		return nil, fmt.Errorf("%w: %s holds no CERTIFICATE block", ErrConfig, path)
	}
	switch len(keyBlocks) {
	case 0:
		return nil, fmt.Errorf("%w: no private key for the client certificate: %s holds none (give the key file, or a PEM keystore with chain and key)", ErrConfig, keyPath)
	case 1:
	default:
		return nil, fmt.Errorf("%w: %s holds %d private keys; want one", ErrConfig, keyPath, len(keyBlocks))
	}
	if km.key, err = parseKeyBlock(keyPath, keyBlocks[0], pw); err != nil {
		return nil, err
	}
	return km, nil
}

// splitPEM separates certificates from key blocks.
func splitPEM(path string, data []byte) (certs []*x509.Certificate, keys []*pem.Block, err error) {
	rest := data
	found := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		found = true
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %s: certificate %d: %w", ErrConfig, path, len(certs)+1, err)
			}
			certs = append(certs, c)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			keys = append(keys, b)
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: %s is not PEM (no -----BEGIN block); for PKCS#12 or JKS set the store type", ErrConfig, path)
	}
	return certs, keys, nil
}

// parseKeyBlock decodes one PEM key block, decrypting PBES2-encrypted PKCS#8 with the password.
func parseKeyBlock(path string, b *pem.Block, pw password) (crypto.PrivateKey, error) {
	if b.Headers["Proc-Type"] != "" || b.Headers["DEK-Info"] != "" {
		return nil, fmt.Errorf("%w: %s holds a legacy OpenSSL-encrypted key (Proc-Type: %s); only encrypted PKCS#8 (PBES2) is supported. Convert it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in %s -out %s.pkcs8",
			ErrUnsupportedKey, path, b.Headers["Proc-Type"], path, path)
	}
	switch b.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: PKCS#8 key: %w", ErrConfig, path, err)
		}
		return k, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: RSA key: %w", ErrConfig, path, err)
		}
		return k, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: EC key: %w", ErrConfig, path, err)
		}
		return k, nil
	case "ENCRYPTED PRIVATE KEY":
		var info encryptedPrivateKeyInfo
		if _, err := asn1.Unmarshal(b.Bytes, &info); err != nil {
			return nil, fmt.Errorf("%w: %s: encrypted PKCS#8 key: %w", ErrConfig, path, err)
		}
		alg := info.Algo.Algorithm
		if !alg.Equal(oidPBES2) {
			scheme := "an unknown scheme " + alg.String()
			if hasPrefix(alg, oidPBES1Prefix) {
				scheme = "PBES1 (PKCS#5 v1.5, OID " + alg.String() + ")"
			} else if hasPrefix(alg, oidPKCS12PBEPfx) {
				scheme = "PBES1 (a PKCS#12 PBE scheme, as openssl pkcs8 -v1 writes; OID " + alg.String() + ")"
			}
			return nil, fmt.Errorf("%w: %s is encrypted with %s; only PBES2 (PBKDF2 or scrypt with AES or 3DES) is supported. Re-encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in %s -out %s.pbes2",
				ErrUnsupportedKey, path, scheme, path, path)
		}
		secret, err := pw.get()
		if err != nil {
			return nil, fmt.Errorf("%w (the key in %s is encrypted)", err, path)
		}
		k, err := pkcs8.ParsePKCS8PrivateKey(b.Bytes, secret)
		if err != nil {
			// A wrong password usually fails the padding check; a correct-looking padding with
			// garbage inside fails the x509 parse youmark/pkcs8 does after decrypting.
			if strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "pkcs8: ") {
				return nil, fmt.Errorf("%w: the encrypted key in %s does not decrypt with the password from %s", ErrKeyPassword, path, pw.source())
			}
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: %s: unsupported key block %q", ErrUnsupportedKey, path, b.Type)
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	if len(oid) < len(prefix) {
		return false
	}
	return oid[:len(prefix)].Equal(prefix)
}

func loadJKSKey(path string, data []byte, pw password) (*keyMaterial, error) {
	secret, err := pw.get()
	if err != nil {
		return nil, err
	}
	if err := checkJKS(path, data); err != nil {
		return nil, err
	}
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), secret); err != nil {
		if strings.Contains(err.Error(), "digest") {
			return nil, fmt.Errorf("%w: JKS keystore %s does not open with the password from %s", ErrKeyPassword, path, pw.source())
		}
		return nil, fmt.Errorf("%w: JKS keystore %s: %w", ErrConfig, path, err)
	}
	for _, alias := range ks.Aliases() {
		if !ks.IsPrivateKeyEntry(alias) {
			continue
		}
		e, err := ks.GetPrivateKeyEntry(alias, secret)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q in JKS keystore %s does not open with the password from %s (zksecure uses the store password for the key, as ZooKeeper does)", ErrKeyPassword, alias, path, pw.source())
		}
		key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("%w: JKS keystore %s, key %q: %w", ErrConfig, path, alias, err)
		}
		km := &keyMaterial{key: key}
		for _, c := range e.CertificateChain {
			crt, err := x509.ParseCertificate(c.Content)
			if err != nil {
				return nil, fmt.Errorf("%w: JKS keystore %s, key %q: %w", ErrConfig, path, alias, err)
			}
			km.chain = append(km.chain, crt)
		}
		return km, nil
	}
	return nil, fmt.Errorf("%w: JKS keystore %s has no private key entry", ErrConfig, path)
}

// loadTrustStore reads CA certificates: a PEM bundle, a PKCS#12 truststore or a JKS truststore.
func loadTrustStore(path string, typ StoreType, pw password) ([]*x509.Certificate, error) {
	t, err := typ.resolve(path)
	if err != nil {
		return nil, err
	}
	data, err := bounded.ReadFile(path, "trust store", bounded.Store)
	if err != nil {
		return nil, fmt.Errorf("%w: trust store: %w", ErrConfig, err)
	}
	switch t {
	case TypePKCS12:
		secret, err := pw.optional()
		if err != nil {
			return nil, err
		}
		certs, err := pkcs12.DecodeTrustStore(data, string(secret))
		if err != nil {
			if errors.Is(err, pkcs12.ErrIncorrectPassword) {
				return nil, fmt.Errorf("%w: PKCS#12 truststore %s does not open with the password from %s", ErrKeyPassword, path, pw.source())
			}
			return nil, fmt.Errorf("%w: PKCS#12 truststore %s: %w", ErrConfig, path, err)
		}
		return nonEmpty(path, certs)
	case TypeJKS:
		secret, err := pw.optional()
		if err != nil {
			return nil, err
		}
		if err := checkJKS(path, data); err != nil {
			return nil, err
		}
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(data), secret); err != nil {
			return nil, fmt.Errorf("%w: JKS truststore %s: %w", ErrConfig, path, err)
		}
		var certs []*x509.Certificate
		for _, alias := range ks.Aliases() {
			if e, err := ks.GetTrustedCertificateEntry(alias); err == nil {
				c, err := x509.ParseCertificate(e.Certificate.Content)
				if err != nil {
					return nil, fmt.Errorf("%w: JKS truststore %s, entry %q: %w", ErrConfig, path, alias, err)
				}
				certs = append(certs, c)
			}
		}
		return nonEmpty(path, certs)
	}
	certs, _, err := splitPEM(path, data)
	if err != nil {
		return nil, err
	}
	return nonEmpty(path, certs)
}

func nonEmpty(path string, certs []*x509.Certificate) ([]*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: trust store %s holds no certificate", ErrConfig, path)
	}
	return certs, nil
}

// certificate turns key material into a tls.Certificate, checking that key and certificate match.
func (km *keyMaterial) certificate(path string) (tls.Certificate, error) {
	signer, ok := km.key.(crypto.Signer)
	if !ok {
		return tls.Certificate{}, fmt.Errorf("%w: %s: key of type %T cannot sign", ErrUnsupportedKey, path, km.key)
	}
	if !publicKeysEqual(signer.Public(), km.chain[0].PublicKey) {
		return tls.Certificate{}, fmt.Errorf("%w: the private key does not belong to the certificate %s in %s", ErrConfig, km.chain[0].Subject, path)
	}
	c := tls.Certificate{PrivateKey: km.key, Leaf: km.chain[0]}
	for _, crt := range km.chain {
		c.Certificate = append(c.Certificate, crt.Raw)
	}
	return c, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	switch k := a.(type) {
	case *rsa.PublicKey:
		return k.Equal(b)
	case *ecdsa.PublicKey:
		return k.Equal(b)
	case ed25519.PublicKey:
		return k.Equal(b)
	}
	return false
}
