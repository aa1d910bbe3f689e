package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// TrustFrom sets up a one-way cross-realm trust that lets the clients of realm from use the
// services of k's realm, as kadmin does it: the principal krbtgt/<k.Realm>@<from.Realm> in both
// databases, with the same password (so the same AES keys and kvno). from's KDC then issues a
// cross-realm TGT that k's KDC accepts. Call it both ways for a two-way trust. MIT KDCs only.
func (k *KDC) TrustFrom(ctx context.Context, from *KDC) error {
	if k.ad != nil || from.ad != nil {
		return errors.New("testenv: TrustFrom is for MIT KDCs (an Active Directory trust is made with samba-tool domain trust)")
	}
	if k.Realm == from.Realm {
		return fmt.Errorf("testenv: a trust needs two realms, both are %s", k.Realm)
	}
	b := make([]byte, 24)
	rand.Read(b)
	pw := hex.EncodeToString(b) // only in kadmin's standard input, never on a command line
	princ := "krbtgt/" + k.Realm + "@" + from.Realm
	var keys []string
	for _, e := range AES {
		keys = append(keys, e+":normal")
	}
	q := fmt.Sprintf("addprinc -pw %s -e %s %s", pw, strings.Join(keys, ","), princ)
	for _, kdc := range []*KDC{from, k} {
		if _, err := kdc.kadmin(ctx, q); err != nil {
			return fmt.Errorf("testenv: trust %s → %s: %w", from.Realm, k.Realm, err)
		}
	}
	return nil
}

// WriteCrossRealmKrb5Conf writes a krb5.conf for clients of realm client that use services of the
// other realms, as a deployment with trusts sets it: every realm's KDC under [realms] (client's is
// the default realm), hosts and domains mapped to their service realm under [domain_realm] (keys are
// host names or ".domain"), and under [capaths] a direct path between the client realm and each other
// realm. It returns path.
func WriteCrossRealmKrb5Conf(path string, client *KDC, domainRealm map[string]string, others ...*KDC) (string, error) {
	enc := strings.Join(AES, " ")
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by zksecure testenv: clients of %[1]s using services of other realms across trusts.
[libdefaults]
    default_realm = %[1]s
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    forwardable = true
    default_tkt_enctypes = %[2]s
    default_tgs_enctypes = %[2]s
    permitted_enctypes = %[2]s

[realms]
`, client.Realm, enc)
	for _, k := range append([]*KDC{client}, others...) {
		fmt.Fprintf(&b, "    %s = {\n        kdc = %s\n    }\n", k.Realm, k.Addr)
	}
	b.WriteString("\n[domain_realm]\n")
	hosts := make([]string, 0, len(domainRealm))
	for h := range domainRealm {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, "    %s = %s\n", h, domainRealm[h])
	}
	// [capaths]: "." means the realms trust each other directly (no intermediate realm).
	b.WriteString("\n[capaths]\n")
	fmt.Fprintf(&b, "    %s = {\n", client.Realm)
	for _, o := range others {
		fmt.Fprintf(&b, "        %s = .\n", o.Realm)
	}
	b.WriteString("    }\n")
	for _, o := range others {
		fmt.Fprintf(&b, "    %s = {\n        %s = .\n    }\n", o.Realm, client.Realm)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("testenv: writing %s: %w", path, err)
	}
	return path, nil
}

// The realms of a CrossRealm.
const (
	ClientsRealm   = "CLIENTS.TEST"   // the clients' realm, trusted by ServicesRealm
	ServicesRealm  = "SERVICES.TEST"  // the ZooKeeper servers' realm
	UntrustedRealm = "LONELY.TEST"    // clients with no trust to ServicesRealm
	ReverseRealm   = "BACKWARDS.TEST" // a one-way trust the wrong way: ServicesRealm's clients may use its services
)

// CrossRealm is a deployment with a cross-realm trust: JobManager-like clients in one MIT realm,
// a ZooKeeper server in another, and two client realms whose trust is missing or one-way in the
// wrong direction, for negative tests.
type CrossRealm struct {
	// Clients (CLIENTS.TEST) holds the client principals; Services (SERVICES.TEST) trusts it
	// (krbtgt/SERVICES.TEST@CLIENTS.TEST in both) and holds zookeeper/localhost.
	Clients, Services *KDC
	// Untrusted (LONELY.TEST) has the same client principals and no trust; Reverse
	// (BACKWARDS.TEST) has them and only krbtgt/BACKWARDS.TEST@SERVICES.TEST.
	Untrusted, Reverse *KDC
	// ZooKeeper is a standalone 3.8 server keyed from Services (zookeeper/localhost@SERVICES.TEST).
	ZooKeeper *ZooKeeper
	// Krb5Confs are the krb5.conf of a client of each client realm, by realm: its realm (default)
	// and SERVICES.TEST, localhost mapped to SERVICES.TEST, [capaths] between them.
	Krb5Confs map[string]string
}

// NewCrossRealm starts the realms and the server for a test (closed by t.Cleanup); the principals
// are created in each client realm.
func NewCrossRealm(t TB, principals ...string) *CrossRealm {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	x := &CrossRealm{Krb5Confs: map[string]string{}}
	newKDC := func(realm string, princs ...string) *KDC {
		return NewKDC(t, KDCOptions{Realm: realm, Dir: dir + "/kdc-" + strings.ToLower(realm), Principals: princs})
	}
	x.Services = newKDC(ServicesRealm, "zookeeper/localhost")
	x.Clients = newKDC(ClientsRealm, principals...)
	x.Untrusted = newKDC(UntrustedRealm, principals...)
	x.Reverse = newKDC(ReverseRealm, principals...)
	if err := x.Services.TrustFrom(ctx, x.Clients); err != nil {
		t.Fatal(err)
	}
	if err := x.Reverse.TrustFrom(ctx, x.Services); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*KDC{x.Clients, x.Untrusted, x.Reverse} {
		p, err := WriteCrossRealmKrb5Conf(dir+"/krb5-"+strings.ToLower(c.Realm)+".conf", c,
			map[string]string{"localhost": ServicesRealm}, x.Services)
		if err != nil {
			t.Fatal(err)
		}
		x.Krb5Confs[c.Realm] = p
	}
	x.ZooKeeper = NewZooKeeper(t, ZooKeeperOptions{Dir: dir + "/zookeeper", SASL: &SASLServer{KDC: x.Services, Enforce: true}})
	return x
}
