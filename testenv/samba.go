package testenv

import (
	"bufio"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The encryption-type bits of msDS-SupportedEncryptionTypes (MS-KILE 2.2.7), for
// AD.SetSupportedEnctypes.
const (
	ADEnctypeDESCRC = 0x01
	ADEnctypeDESMD5 = 0x02
	ADEnctypeRC4    = 0x04
	ADEnctypeAES128 = 0x08
	ADEnctypeAES256 = 0x10
	// ADEnctypesAES is AES128 + AES256 (24), the value an account holding a ZooKeeper SPN needs.
	ADEnctypesAES = ADEnctypeAES128 | ADEnctypeAES256
)

// ADOptions configures StartAD. Network is required; the zero value of everything else is a domain
// with Active Directory's defaults, named after the network's domain.
type ADOptions struct {
	// Network is the isolated run's network (see Isolate): the domain controller gets a host of its
	// own there, <HostName>.<Network.Domain>, with its address on lo (Samba serves only addresses an
	// interface holds). The DNS domain and realm are the network's domain ("ad.test", AD.TEST).
	// Required.
	Network *Network
	// HostName is the DC's short name; empty means "dc1".
	HostName string
	// AES makes AES128+AES256 the domain's default for accounts without
	// msDS-SupportedEncryptionTypes (`kdc default domain supported enctypes = 24` in smb.conf).
	// Without it the domain has AD's defaults: an SPN on a user account gets RC4 service tickets
	// (with an AES session key), which a JDK server refuses. (exportkeytab for an SPN that is not
	// also the account's UPN then writes an RC4 key only; testenv's SPN accounts have the SPN as UPN,
	// so their keytabs hold the account's AES keys too — the tickets are RC4 all the same.)
	AES bool
	// Principals are created when the DC starts (see KDC.AddPrincipals): a name without "/" is a
	// user account; "service/host" is an SPN on a service account of its own.
	Principals []string
	// Dir holds the DC's files; empty means a new temporary folder, removed by Close.
	Dir string
}

// AD is a running Samba Active Directory domain controller (Debian's samba, samba-ad-dc). Its
// embedded KDC is usable wherever testenv takes an MIT KDC — SASLServer.KDC, keytabs, krb5.conf,
// Principal — and its methods run samba-tool instead of kadmin.local: AddPrincipals creates user
// accounts and SPNs (`samba-tool user create`, `samba-tool spn add`), Keytab exports keys
// (`samba-tool domain exportkeytab`), RandomizeKey resets an account's password.
type AD struct {
	*KDC
	// Domain is the DNS domain ("ad.test"); NetBIOS the NetBIOS domain ("AD").
	Domain, NetBIOS string
	// Host is the DC's named host; KDC.Addr is its address, port 88.
	Host Host
	// SmbConf is the DC's smb.conf: pass `-s SmbConf` to samba-tool to administer the domain.
	SmbConf string
	// AES reports ADOptions.AES.
	AES bool

	mu       sync.Mutex        // serialises administration (each operation is a transaction on sam.ldb)
	accounts map[string]string // principal (without realm) → the account holding it
	proc     *process
	ownDir   bool
}

// adminPassword is the domain Administrator's password in every testenv domain (throw-away, and
// meeting AD's complexity rules).
const adminPassword = "Zksecure-testenv-1"

// StartAD starts a domain controller from a provisioned template (see adTemplate: provisioning
// takes about 5 s, so it happens once per realm and Samba version, in the cache folder), creates
// the principals of opts and returns once its KDC accepts connections.
func StartAD(ctx context.Context, opts ADOptions) (_ *AD, err error) {
	samba, err := lookPath("samba")
	if err != nil {
		return nil, fmt.Errorf("%w (Debian packages samba, samba-ad-dc, samba-ad-provision)", err)
	}
	if _, err := lookPath("samba-tool"); err != nil {
		return nil, fmt.Errorf("%w (Debian package samba-ad-provision)", err)
	}
	if opts.Network == nil {
		return nil, errors.New("testenv: ADOptions.Network is required: Samba serves only an address on an interface, which a private namespace can give it (see Isolate)")
	}
	short := opts.HostName
	if short == "" {
		short = "dc1"
	}
	domain := opts.Network.Domain
	realm := strings.ToUpper(domain)
	netbios := strings.ToUpper(strings.SplitN(domain, ".", 2)[0])
	if len(netbios) > 15 {
		netbios = netbios[:15]
	}
	dir, ownDir := opts.Dir, false
	if dir == "" {
		if dir, err = os.MkdirTemp("", "zksecure-ad-"); err != nil {
			return nil, fmt.Errorf("testenv: AD folder: %w", err)
		}
		ownDir = true
	}
	host, err := opts.Network.AddHost(short, RoleKDC)
	if err != nil {
		return nil, err
	}
	ad := &AD{Domain: domain, NetBIOS: netbios, Host: host, AES: opts.AES, accounts: map[string]string{}, ownDir: ownDir,
		SmbConf: filepath.Join(dir, "etc", "smb.conf")}
	ad.KDC = &KDC{Realm: realm, Dir: dir, Krb5Conf: filepath.Join(dir, "krb5.conf"), Addr: net.JoinHostPort(host.Addr.String(), "88"), ad: ad}
	defer func() {
		if err != nil {
			ad.close()
		}
	}()
	tmpl, err := adTemplate(ctx, realm, netbios, host.Addr.String())
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if _, err := runTool(ctx, nil, "", "cp", "-a", tmpl, dir); err != nil {
		return nil, err
	}
	for _, d := range []string{"run", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := ad.writeConfig(); err != nil {
		return nil, err
	}
	ad.proc, err = startProcess("samba", filepath.Join(dir, "log", "samba.out"), dir, nil,
		samba, "-i", "-M", "single", "--debug-stdout", "-s", ad.SmbConf)
	if err != nil {
		return nil, err
	}
	if err := ad.waitReady(ctx); err != nil {
		return nil, err
	}
	if len(opts.Principals) > 0 {
		if err := ad.addPrincipals(ctx, opts.Principals...); err != nil {
			return nil, err
		}
	}
	return ad, nil
}

// NewAD starts a domain controller for the duration of a test: closed by t.Cleanup, with its log
// printed when the test has failed.
func NewAD(t TB, opts ADOptions) *AD {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "ad")
	}
	ad, err := StartAD(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Samba log (%s):\n%s", ad.LogPath(), tailFile(ad.LogPath(), 40))
		}
		ad.Close()
	})
	return ad
}

func (ad *AD) writeConfig() error {
	d := ad.Dir
	enctypes := ""
	if ad.AES {
		enctypes = "\tkdc default domain supported enctypes = 24\n"
	}
	// Only the KDC runs: samba-tool works on sam.ldb directly. Every path is inside the DC's
	// folder, so that DCs of parallel test processes never share a pid file or socket.
	smb := fmt.Sprintf(`# Written by zksecure testenv: a Samba AD DC serving Kerberos only.
[global]
	netbios name = %[1]s
	realm = %[2]s
	workgroup = %[3]s
	server role = active directory domain controller
	server services = kdc
	interfaces = %[4]s
	bind interfaces only = yes
%[6]s	private dir = %[5]s/private
	lock directory = %[5]s
	state directory = %[5]s/state
	cache directory = %[5]s/cache
	binddns dir = %[5]s/bind-dns
	pid directory = %[5]s/run
	ncalrpc dir = %[5]s/run/ncalrpc
	winbindd socket directory = %[5]s/run/winbindd
	ntp signd socket directory = %[5]s/run/ntp_signd
	log file = %[5]s/log/log.%%m
	log level = 1 kerberos:3 auth_audit:3

[sysvol]
	path = %[5]s/state/sysvol
	read only = No

[netlogon]
	path = %[5]s/state/sysvol/%[7]s/scripts
	read only = No
`, strings.ToUpper(templateDC), ad.Realm, ad.NetBIOS, ad.Host.Addr, d, enctypes, ad.Domain)
	if err := os.WriteFile(ad.SmbConf, []byte(smb), 0o644); err != nil {
		return fmt.Errorf("testenv: writing smb.conf: %w", err)
	}
	enc := strings.Join(AES, " ")
	krb5 := fmt.Sprintf(`# Written by zksecure testenv: a private krb5.conf for an Active Directory domain.
[libdefaults]
    default_realm = %[1]s
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    forwardable = true
    default_tkt_enctypes = %[4]s
    default_tgs_enctypes = %[4]s
    permitted_enctypes = %[4]s

[realms]
    %[1]s = {
        kdc = %[2]s
    }

[domain_realm]
    %[3]s = %[1]s
    .%[3]s = %[1]s
    localhost = %[1]s
`, ad.Realm, ad.Addr, ad.Domain, enc)
	return os.WriteFile(ad.Krb5Conf, []byte(krb5), 0o644)
}

func (ad *AD) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := waitFor(ctx, 20*time.Millisecond, ad.proc.exited(), func() error {
		c, err := net.DialTimeout("tcp", ad.Addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		return fmt.Errorf("testenv: Samba AD DC KDC at %s not ready: %w\n%s", ad.Addr, err, ad.proc.tail(20))
	}
	return nil
}

//go:embed samba/admin.py
var adminPy []byte

// adminOp is one operation of samba/admin.py; each does what one samba-tool command does.
type adminOp struct {
	Op        string `json:"op"` // user, spn, upn, enctypes, setpassword, exportkeytab
	Name      string `json:"name,omitempty"`
	Password  string `json:"password,omitempty"`
	SPN       string `json:"spn,omitempty"`
	Account   string `json:"account,omitempty"`
	Mask      int    `json:"mask,omitempty"`
	Keytab    string `json:"keytab,omitempty"`
	Principal string `json:"principal,omitempty"`
}

// admin runs operations on the domain's database in one process (one at a time): samba-tool would
// pay Python's and Samba's start-up, about 0.3 s, for each.
func (ad *AD) admin(ctx context.Context, ops ...adminOp) error {
	py, err := sambaPython()
	if err != nil {
		return err
	}
	ad.mu.Lock()
	defer ad.mu.Unlock()
	script := filepath.Join(ad.Dir, "run", "admin.py")
	if _, err := os.Stat(script); err != nil {
		if err := os.WriteFile(script, adminPy, 0o644); err != nil {
			return err
		}
	}
	in, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	if _, err := runTool(ctx, nil, string(in), py, script, ad.SmbConf); err != nil {
		return fmt.Errorf("testenv: administering domain %s: %w", ad.Realm, err)
	}
	return nil
}

// sambaPython is the interpreter samba-tool runs with (its #! line): the one Samba's Python
// modules are installed for, whatever python3 comes first on PATH.
func sambaPython() (string, error) {
	tool, err := lookPath("samba-tool")
	if err != nil {
		return "", err
	}
	f, err := os.Open(tool)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, _ := bufio.NewReader(io.LimitReader(f, 256)).ReadString('\n')
	if py, ok := strings.CutPrefix(strings.TrimSpace(line), "#!"); ok && strings.HasPrefix(strings.TrimSpace(py), "/") && !strings.Contains(strings.TrimSpace(py), " ") {
		py = strings.TrimSpace(py)
		return py, nil
	}
	return "/usr/bin/python3", nil
}

// randomPassword meets AD's complexity rules; it is never logged.
func randomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "Zk-" + hex.EncodeToString(b) + "-Aa1"
}

// Account returns the account that holds principal: the user itself, or the service account
// AddPrincipals made for an SPN. It is empty for a principal the domain does not have.
func (ad *AD) Account(principal string) string {
	name, _ := strings.CutSuffix(principal, "@"+ad.Realm)
	ad.mu.Lock()
	defer ad.mu.Unlock()
	return ad.accounts[name]
}

// addPrincipals creates a user account for every name without "/" and, for "service/host", a
// service account svc-<service>-<host's first label> (at most 20 characters, AD's limit for
// sAMAccountName) holding that SPN — the usual way an SPN gets into AD (`samba-tool user create`,
// `samba-tool spn add`) — whose userPrincipalName is the SPN, as `ktpass -princ SPN -mapuser
// account` sets it: AD lets a principal log in (AS-REQ) by its UPN only, and a JDK server's
// Krb5LoginModule logs in as its principal unless its JAAS section says isInitiator=false.
// Principals that exist already are left alone.
func (ad *AD) addPrincipals(ctx context.Context, names ...string) error {
	var ops []adminOp
	made := map[string]string{}
	for _, n := range names {
		name, _ := strings.CutSuffix(n, "@"+ad.Realm)
		if strings.Contains(name, "@") {
			return fmt.Errorf("testenv: principal %s is not in realm %s", n, ad.Realm)
		}
		if ad.Account(name) != "" || made[name] != "" {
			continue
		}
		account := name
		svc, host, isSPN := strings.Cut(name, "/")
		if isSPN {
			label, _, _ := strings.Cut(host, ".")
			account = ad.freeAccount("svc-"+svc+"-"+label, made)
		}
		ops = append(ops, adminOp{Op: "user", Name: account, Password: randomPassword()})
		if isSPN {
			ops = append(ops, adminOp{Op: "spn", SPN: name, Account: account},
				adminOp{Op: "upn", Name: name + "@" + ad.Realm, Account: account})
			made[account] = account
		}
		made[name] = account
	}
	if len(ops) == 0 {
		return nil
	}
	if err := ad.admin(ctx, ops...); err != nil {
		return err
	}
	ad.mu.Lock()
	for k, v := range made {
		ad.accounts[k] = v
	}
	ad.mu.Unlock()
	return nil
}

// freeAccount shortens base to AD's 20 characters and makes it unique among the accounts made here
// and in pending.
func (ad *AD) freeAccount(base string, pending map[string]string) string {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	taken := map[string]bool{}
	for _, m := range []map[string]string{ad.accounts, pending} {
		for _, a := range m {
			taken[strings.ToLower(a)] = true
		}
	}
	cand := base
	if len(cand) > 20 {
		cand = cand[:20]
	}
	for i := 2; taken[strings.ToLower(cand)]; i++ {
		suffix := fmt.Sprintf("-%d", i)
		cand = base[:min(len(base), 20-len(suffix))] + suffix
	}
	return cand
}

// keytab exports the keys of the principals as samba-tool domain exportkeytab does: what the
// domain holds for them; for an SPN, the keys of its account under the SPN's name.
func (ad *AD) keytab(ctx context.Context, path string, principals ...string) error {
	ops := make([]adminOp, 0, len(principals))
	for _, p := range principals {
		name, _ := strings.CutSuffix(p, "@"+ad.Realm)
		ops = append(ops, adminOp{Op: "exportkeytab", Keytab: path, Principal: name})
	}
	return ad.admin(ctx, ops...)
}

// keytabs exports each principal into its own file, in one run.
func (ad *AD) keytabs(ctx context.Context, paths map[string]string) error {
	ops := make([]adminOp, 0, len(paths))
	for p, path := range paths {
		name, _ := strings.CutSuffix(p, "@"+ad.Realm)
		ops = append(ops, adminOp{Op: "exportkeytab", Keytab: path, Principal: name})
	}
	return ad.admin(ctx, ops...)
}

// randomizeKey resets the password of the account holding principal (`samba-tool user
// setpassword`): new keys with the next kvno, the old ones retired.
func (ad *AD) randomizeKey(ctx context.Context, principal string) error {
	account := ad.Account(principal)
	if account == "" {
		return fmt.Errorf("testenv: %s has no account in domain %s", principal, ad.Realm)
	}
	return ad.admin(ctx, adminOp{Op: "setpassword", Account: account, Password: randomPassword()})
}

// SetSupportedEnctypes sets msDS-SupportedEncryptionTypes (a sum of the ADEnctype* bits) on the
// accounts holding the principals — AD's per-account switch for the tickets' encryption types — and
// resets their passwords, as an administrator would, so that keys of every type exist. Export the
// keytabs again afterwards: the kvno has changed.
func (ad *AD) SetSupportedEnctypes(ctx context.Context, mask int, principals ...string) error {
	var ops []adminOp
	for _, p := range principals {
		account := ad.Account(p)
		if account == "" {
			return fmt.Errorf("testenv: %s has no account in domain %s", p, ad.Realm)
		}
		ops = append(ops, adminOp{Op: "enctypes", Account: account, Mask: mask},
			adminOp{Op: "setpassword", Account: account, Password: randomPassword()})
	}
	return ad.admin(ctx, ops...)
}

// LogPath is the DC's output (Samba logs to stdout with -i), where the KDC's requests appear.
func (ad *AD) LogPath() string { return filepath.Join(ad.Dir, "log", "samba.out") }

// stop stops the samba process; start brings it back with the same database.
func (ad *AD) stop() error {
	if ad.proc == nil {
		return nil
	}
	return ad.proc.stop(syscall.SIGTERM, 5*time.Second)
}

func (ad *AD) start(ctx context.Context) error {
	if ad.proc.running() {
		return nil
	}
	samba, err := lookPath("samba")
	if err != nil {
		return err
	}
	if err := ad.proc.start(ad.Dir, nil, samba, "-i", "-M", "single", "--debug-stdout", "-s", ad.SmbConf); err != nil {
		return err
	}
	return ad.waitReady(ctx)
}

// close stops the DC and removes its folder if StartAD made it.
func (ad *AD) close() error {
	err := ad.stop()
	if ad.ownDir {
		os.RemoveAll(ad.Dir)
	}
	return err
}

// Close stops the domain controller and removes its folder if StartAD created it. Safe to call
// twice; KDC.Close does the same.
func (ad *AD) Close() error { return ad.close() }
