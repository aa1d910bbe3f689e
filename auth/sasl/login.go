package sasl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// DefaultLoginContext is the JAAS section the Java client reads (zookeeper.sasl.clientconfig;
// Flink's zookeeper.sasl.login-context-name).
const DefaultLoginContext = "Client"

// Login says where the client's Kerberos credentials come from. Exactly one source must be given:
// Keytab (with Principal), UseTicketCache, or JAASFile. The zero value has none and is an error:
// zksecure never falls back to an unauthenticated session.
type Login struct {
	// Principal is the client principal ("flink/jm1@EXAMPLE.COM"); without a realm, krb5.conf's
	// default_realm is used. Required with Keytab; with a ticket cache it must match the cache's
	// principal when set.
	Principal string
	// Keytab is the path of a keytab holding AES keys for Principal.
	Keytab string
	// UseTicketCache logs in from a ticket cache (a TGT from kinit): TicketCache, else $KRB5CCNAME,
	// else /tmp/krb5cc_<uid>.
	UseTicketCache bool
	// TicketCache is the cache's path ("FILE:" prefix allowed).
	TicketCache string
	// JAASFile is a JAAS configuration; the Krb5LoginModule entry of its section LoginContext is read
	// (useKeyTab, keyTab, principal, useTicketCache, ticketCache).
	JAASFile string
	// LoginContext names the JAAS section; empty means DefaultLoginContext.
	LoginContext string
	// Krb5Conf is the krb5.conf path; empty means $KRB5_CONFIG (first existing entry), else
	// /etc/krb5.conf.
	Krb5Conf string
}

// source is a resolved login: after JAAS expansion, one of keytab or ticket cache.
type source struct {
	principal string // as configured, may lack a realm
	keytab    string
	ccache    string // non-empty: ticket cache login
	jaas      string // the JAAS file it came from, for messages
	krb5conf  string
}

// resolve validates the login and expands a JAAS file into keytab or ticket cache settings.
func (l Login) resolve() (source, error) {
	n := 0
	if l.Keytab != "" {
		n++
	}
	if l.UseTicketCache || l.TicketCache != "" {
		n++
	}
	if l.JAASFile != "" {
		n++
	}
	if n == 0 {
		return source{}, fmt.Errorf("%w: no Kerberos login configured: set a keytab and principal, a ticket cache, or a JAAS file (or turn SASL off explicitly)", ErrConfig)
	}
	if n > 1 {
		return source{}, fmt.Errorf("%w: more than one Kerberos login source (keytab %q, ticket cache %v, JAAS file %q): choose one", ErrConfig, l.Keytab, l.UseTicketCache || l.TicketCache != "", l.JAASFile)
	}
	s := source{principal: l.Principal, krb5conf: l.Krb5Conf}
	switch {
	case l.Keytab != "":
		if l.Principal == "" {
			return source{}, fmt.Errorf("%w: keytab %s given without a principal", ErrConfig, l.Keytab)
		}
		s.keytab = l.Keytab
	case l.JAASFile != "":
		ctxName := l.LoginContext
		if ctxName == "" {
			ctxName = DefaultLoginContext
		}
		jc, err := LoadJAAS(l.JAASFile)
		if err != nil {
			return source{}, err
		}
		opts, err := jc.Krb5Options(ctxName)
		if err != nil {
			return source{}, err
		}
		s.jaas = l.JAASFile + " section " + ctxName
		if p := opts["principal"]; p != "" {
			s.principal = p
		}
		useKeyTab := strings.EqualFold(opts["useKeyTab"], "true")
		switch useCache := strings.EqualFold(opts["useTicketCache"], "true"); {
		case useKeyTab:
			s.keytab = opts["keyTab"]
			if s.keytab == "" {
				return source{}, fmt.Errorf("%w: %s: useKeyTab=true without keyTab=\"path\" (Java would fall back to the default keytab; zksecure wants it named)", ErrJAAS, s.jaas)
			}
			if s.principal == "" {
				return source{}, fmt.Errorf("%w: %s: useKeyTab=true without principal=\"...\"", ErrJAAS, s.jaas)
			}
			// With useTicketCache=true as well, Java tries the cache first; a service wants the
			// keytab (renewable without a person), so zksecure uses the keytab.
		case useCache:
			s.ccache = cachePath(opts["ticketCache"])
		default:
			return source{}, fmt.Errorf("%w: %s: neither useKeyTab=true nor useTicketCache=true; the JVM would prompt for a password, which a service cannot answer", ErrJAAS, s.jaas)
		}
	default:
		s.ccache = cachePath(l.TicketCache)
	}
	return s, nil
}

func cachePath(p string) string {
	if p == "" {
		p = os.Getenv("KRB5CCNAME")
	}
	if p == "" {
		p = "/tmp/krb5cc_" + strconv.Itoa(os.Getuid())
	}
	return strings.TrimPrefix(p, "FILE:")
}

// Krb5ConfPath returns the krb5.conf a login reads: explicit, else the first existing entry of
// $KRB5_CONFIG, else /etc/krb5.conf.
func Krb5ConfPath(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if env := os.Getenv("KRB5_CONFIG"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return "/etc/krb5.conf"
}

// isAES reports whether an encryption type is one of the AES types (RFC 3962, RFC 8009).
func isAES(e int32) bool {
	switch e {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96,
		etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192:
		return true
	}
	return false
}

// etypeName returns the MIT name of an encryption type (gokrb5's table has several aliases each).
func etypeName(e int32) string {
	switch e {
	case etypeID.AES128_CTS_HMAC_SHA1_96:
		return "aes128-cts-hmac-sha1-96"
	case etypeID.AES256_CTS_HMAC_SHA1_96:
		return "aes256-cts-hmac-sha1-96"
	case etypeID.AES128_CTS_HMAC_SHA256_128:
		return "aes128-cts-hmac-sha256-128"
	case etypeID.AES256_CTS_HMAC_SHA384_192:
		return "aes256-cts-hmac-sha384-192"
	case etypeID.RC4_HMAC:
		return "arcfour-hmac (rc4-hmac)"
	case etypeID.DES3_CBC_SHA1_KD:
		return "des3-cbc-sha1"
	case etypeID.DES_CBC_CRC, etypeID.DES_CBC_MD4, etypeID.DES_CBC_MD5:
		return "des-cbc (single DES)"
	}
	return "enctype " + strconv.Itoa(int(e))
}

// newKrbClient builds the gokrb5 client for a resolved source, checking files and enctypes. It does
// not contact the KDC.
func newKrbClient(s source) (*krbclient.Client, string, error) {
	confPath := Krb5ConfPath(s.krb5conf)
	cfg, err := krbconfig.Load(confPath)
	if err != nil {
		return nil, "", fmt.Errorf("%w: krb5.conf %s: %w", ErrConfig, confPath, err)
	}
	settings := []func(*krbclient.Settings){krbclient.DisablePAFXFAST(true)}
	if s.keytab != "" {
		user, realm := splitPrincipal(s.principal, cfg.LibDefaults.DefaultRealm)
		if realm == "" {
			return nil, "", fmt.Errorf("%w: principal %q has no realm and %s has no default_realm", ErrConfig, s.principal, confPath)
		}
		kt, err := keytab.Load(s.keytab)
		if err != nil {
			return nil, "", fmt.Errorf("%w: keytab %s: %w", ErrLogin, s.keytab, err)
		}
		full := user + "@" + realm
		var have, weak []string
		aes := false
		for _, e := range kt.Entries {
			p := e.Principal.String()
			if strings.EqualFold(p, full) || (e.Principal.Realm == realm && strings.Join(e.Principal.Components, "/") == user) {
				if isAES(e.Key.KeyType) {
					aes = true
				} else {
					weak = append(weak, etypeName(e.Key.KeyType))
				}
				continue
			}
			have = append(have, p)
		}
		if !aes && len(weak) == 0 {
			return nil, "", fmt.Errorf("%w: keytab %s holds no key for principal %s (it holds: %s); export the principal's keys into it (kadmin: ktadd -k %s %s)",
				ErrLogin, s.keytab, full, strings.Join(dedupe(have), ", "), s.keytab, full)
		}
		if !aes {
			return nil, "", fmt.Errorf("%w: keytab %s holds only %s keys for %s; ZooKeeper's JDK server would answer with RFC 1964 tokens zksecure does not speak — give the principal AES keys (kadmin: cpw -randkey -e aes256-cts-hmac-sha1-96:normal %s) and export them again",
				ErrWeakEnctype, s.keytab, strings.Join(dedupe(weak), ", "), full, full)
		}
		return krbclient.NewWithKeytab(user, realm, kt, cfg, settings...), full, nil
	}
	cc, err := credentials.LoadCCache(s.ccache)
	if err != nil {
		return nil, "", fmt.Errorf("%w: ticket cache %s: %w (run kinit first, or use a keytab)", ErrLogin, s.ccache, err)
	}
	pn := cc.GetClientPrincipalName()
	full := pn.PrincipalNameString() + "@" + cc.GetClientRealm()
	if s.principal != "" {
		user, realm := splitPrincipal(s.principal, cc.GetClientRealm())
		if user+"@"+realm != full {
			return nil, "", fmt.Errorf("%w: ticket cache %s belongs to %s, not the configured principal %s; kinit as %s or change the principal", ErrLogin, s.ccache, full, s.principal, s.principal)
		}
	}
	var tgtFound bool
	for _, c := range cc.GetEntries() {
		if len(c.Server.PrincipalName.NameString) > 0 && c.Server.PrincipalName.NameString[0] == "krbtgt" {
			tgtFound = true
			if time.Now().After(c.EndTime) {
				return nil, "", fmt.Errorf("%w: the TGT of %s in ticket cache %s expired at %s; run kinit again (or use a keytab, which zksecure renews by itself)", ErrLogin, full, s.ccache, c.EndTime.UTC().Format(time.RFC3339))
			}
			if !isAES(c.Key.KeyType) {
				return nil, "", fmt.Errorf("%w: the TGT in ticket cache %s has a %s session key; use AES (permitted_enctypes in krb5.conf)", ErrWeakEnctype, s.ccache, etypeName(c.Key.KeyType))
			}
		}
	}
	if !tgtFound {
		return nil, "", fmt.Errorf("%w: ticket cache %s has no TGT for %s; run kinit", ErrLogin, s.ccache, full)
	}
	cl, err := krbclient.NewFromCCache(cc, cfg, settings...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: ticket cache %s: %w", ErrLogin, s.ccache, err)
	}
	return cl, full, nil
}

func splitPrincipal(p, defRealm string) (user, realm string) {
	if i := strings.LastIndex(p, "@"); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, defRealm
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return sortedStrings(out)
}
