package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultRealm is the realm of a KDC started with a zero KDCOptions.
const DefaultRealm = "EXAMPLE.COM"

// AES is the list of encryption types every keytab gets by default. RC4 and DES are never
// enabled by default: with them the JDK sends RFC 1964 GSSAPI tokens (see DESIGN.md §3).
var AES = []string{"aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96"}

// KDCOptions configures StartKDC. The zero value is a realm EXAMPLE.COM with no principals.
type KDCOptions struct {
	// Realm is the Kerberos realm; empty means DefaultRealm.
	Realm string
	// Dir is where the database, configuration, logs and keytabs go; empty means a new
	// temporary folder, removed by Close.
	Dir string
	// Principals are created (with random keys) when the KDC starts, e.g. "zookeeper/localhost".
	// A name without "@" is in Realm.
	Principals []string
	// TicketLifetime is the longest ticket the KDC issues; zero means 24h.
	TicketLifetime time.Duration
	// ClockOffset runs the KDC with its clock shifted by this much (libfaketime), to test clock-skew
	// handling against a real KDC; zero means the true time.
	ClockOffset time.Duration
}

// KDC is a running Kerberos KDC with its own database and configuration: an MIT krb5kdc
// (StartKDC), or the KDC of a Samba Active Directory domain controller (StartAD; then its methods
// administer the domain with samba-tool). Its krb5.conf is private (never /etc/krb5.conf): point
// clients at it with KRB5_CONFIG / -Djava.security.krb5.conf.
type KDC struct {
	// Realm is the realm the KDC serves.
	Realm string
	// Dir is the KDC's folder.
	Dir string
	// Krb5Conf is the path of a krb5.conf that points at this KDC (TCP only, AES only,
	// no DNS canonicalization, no reverse DNS).
	Krb5Conf string
	// Addr is the KDC's "127.0.0.1:port" (TCP and UDP); a domain controller's "<its address>:88".
	Addr string

	kdcConf   string
	ownDir    bool
	offset    time.Duration
	proc      *process
	mu        sync.Mutex
	keytabSeq int
	ad        *AD // non-nil: the KDC of this domain controller
}

// StartKDC creates a realm database, the principals of opts, and starts krb5kdc; it returns once
// the KDC accepts connections.
func StartKDC(ctx context.Context, opts KDCOptions) (_ *KDC, err error) {
	kdcBin, err := lookPath("krb5kdc")
	if err != nil {
		return nil, err
	}
	kdbUtil, err := lookPath("kdb5_util")
	if err != nil {
		return nil, err
	}
	realm := opts.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	dir, ownDir, err := workDir(opts.Dir, "zksecure-kdc-")
	if err != nil {
		return nil, fmt.Errorf("testenv: KDC folder: %w", err)
	}
	k := &KDC{Realm: realm, Dir: dir, ownDir: ownDir, offset: opts.ClockOffset,
		Krb5Conf: filepath.Join(dir, "krb5.conf"), kdcConf: filepath.Join(dir, "kdc.conf")}
	defer func() {
		if err != nil {
			k.Close()
		}
	}()
	port, err := freeTCPUDPPort()
	if err != nil {
		return nil, err
	}
	k.Addr = "127.0.0.1:" + strconv.Itoa(port)
	life := opts.TicketLifetime
	if life <= 0 {
		life = 24 * time.Hour
	}
	if err := k.writeConfig(port, life); err != nil {
		return nil, err
	}
	// The master password only protects the stash of a throw-away database.
	if _, err := runTool(ctx, k.env(), "", kdbUtil, "-r", realm, "create", "-s", "-P", "zksecure-testenv-master"); err != nil {
		return nil, err
	}
	if len(opts.Principals) > 0 {
		if err := k.AddPrincipals(ctx, opts.Principals...); err != nil {
			return nil, err
		}
	}
	env, err := k.processEnv()
	if err != nil {
		return nil, err
	}
	k.proc, err = startProcess("krb5kdc", filepath.Join(dir, "krb5kdc.out"), dir, env,
		kdcBin, "-n", "-r", realm, "-P", filepath.Join(dir, "krb5kdc.pid"))
	if err != nil {
		return nil, err
	}
	if err := k.waitReady(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// NewKDC starts a KDC for the duration of a test; it is stopped by t.Cleanup, and its log is printed
// when the test has failed.
func NewKDC(t TB, opts KDCOptions) *KDC {
	t.Helper()
	Require(t)
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "kdc")
	}
	k, err := StartKDC(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("KDC log (%s):\n%s", k.LogPath(), tailFile(k.LogPath(), 40))
		}
		k.Close()
	})
	return k
}

func (k *KDC) writeConfig(port int, life time.Duration) error {
	enc := strings.Join(AES, " ")
	krb5 := fmt.Sprintf(`# Written by zksecure testenv: a private krb5.conf for one test KDC.
[libdefaults]
    default_realm = %[1]s
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    ticket_lifetime = %[3]ds
    renew_lifetime = 7d
    forwardable = true
    default_tkt_enctypes = %[4]s
    default_tgs_enctypes = %[4]s
    permitted_enctypes = %[4]s

[realms]
    %[1]s = {
        kdc = 127.0.0.1:%[2]d
    }

[domain_realm]
    localhost = %[1]s
    .localhost = %[1]s
`, k.Realm, port, int(life.Seconds()), enc)
	var supported []string
	for _, e := range AES {
		supported = append(supported, e+":normal")
	}
	kdc := fmt.Sprintf(`# Written by zksecure testenv.
[kdcdefaults]
    kdc_listen = 127.0.0.1:%[2]d
    kdc_tcp_listen = 127.0.0.1:%[2]d

[realms]
    %[1]s = {
        database_name = %[3]s/principal
        key_stash_file = %[3]s/stash
        acl_file = %[3]s/kadm5.acl
        max_life = %[4]ds
        max_renewable_life = 7d
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = %[5]s
    }

[logging]
    kdc = FILE:%[3]s/kdc.log
    default = FILE:%[3]s/kdc.log
`, k.Realm, port, k.Dir, int(life.Seconds()), strings.Join(supported, " "))
	if err := os.WriteFile(k.Krb5Conf, []byte(krb5), 0o644); err != nil {
		return fmt.Errorf("testenv: writing krb5.conf: %w", err)
	}
	if err := os.WriteFile(k.kdcConf, []byte(kdc), 0o644); err != nil {
		return fmt.Errorf("testenv: writing kdc.conf: %w", err)
	}
	return os.WriteFile(filepath.Join(k.Dir, "kadm5.acl"), []byte("*/admin@"+k.Realm+" *\n"), 0o644)
}

// env is the environment every MIT tool run for this KDC gets.
func (k *KDC) env() []string {
	return []string{"KRB5_CONFIG=" + k.Krb5Conf, "KRB5_KDC_PROFILE=" + k.kdcConf}
}

// faketimeLib is Debian's libfaketime (package faketime).
const faketimeLib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

// processEnv is the krb5kdc process's environment: the tool environment, plus libfaketime when the
// clock is offset.
func (k *KDC) processEnv() ([]string, error) {
	env := k.env()
	if k.offset == 0 {
		return env, nil
	}
	if _, err := os.Stat(faketimeLib); err != nil {
		return nil, fmt.Errorf("%w: %s (Debian package faketime) for KDCOptions.ClockOffset", ErrMissingDependency, faketimeLib)
	}
	return append(env, "LD_PRELOAD="+faketimeLib, fmt.Sprintf("FAKETIME=%+ds", int(k.offset.Seconds())), "DONT_FAKE_MONOTONIC=1"), nil
}

// Env returns the environment variables a process needs to use this KDC (KRB5_CONFIG).
func (k *KDC) Env() []string { return []string{"KRB5_CONFIG=" + k.Krb5Conf} }

// LogPath is the KDC's own log (requests, errors).
func (k *KDC) LogPath() string {
	if k.ad != nil {
		return k.ad.LogPath()
	}
	return filepath.Join(k.Dir, "kdc.log")
}

// AD returns the domain controller whose KDC this is, or nil for an MIT KDC.
func (k *KDC) AD() *AD { return k.ad }

func (k *KDC) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := waitFor(ctx, 20*time.Millisecond, k.proc.exited(), func() error {
		c, err := net.DialTimeout("tcp", k.Addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		return fmt.Errorf("testenv: KDC at %s not ready: %w\n%s\n%s", k.Addr, err, k.proc.tail(20), tailFile(k.LogPath(), 20))
	}
	return nil
}

// Principal returns name qualified with the KDC's realm ("name@REALM") unless it has a realm.
func (k *KDC) Principal(name string) string {
	if strings.Contains(name, "@") {
		return name
	}
	return name + "@" + k.Realm
}

// kadmin runs kadmin.local queries (one per line) against the database. kadmin.local exits 0 even
// when a query fails, so every line it writes to stderr that is not one of its notices is an error.
func (k *KDC) kadmin(ctx context.Context, queries ...string) (string, error) {
	bin, err := lookPath("kadmin.local")
	if err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	cmd := exec.CommandContext(ctx, bin, "-r", k.Realm)
	cmd.Env = append(os.Environ(), k.env()...)
	cmd.Stdin = strings.NewReader(strings.Join(queries, "\n") + "\n")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("testenv: kadmin.local: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "No policy specified") || strings.HasPrefix(line, "Authenticating as") {
			continue
		}
		return stdout.String(), fmt.Errorf("testenv: kadmin.local: %s", line)
	}
	return stdout.String(), nil
}

// AddPrincipals creates principals with random AES keys. On a domain controller it creates user
// accounts and, for "service/host", a service account holding that SPN (see AD).
func (k *KDC) AddPrincipals(ctx context.Context, names ...string) error {
	if k.ad != nil {
		return k.ad.addPrincipals(ctx, names...)
	}
	qs := make([]string, 0, len(names))
	for _, n := range names {
		qs = append(qs, "addprinc -randkey "+k.Principal(n))
	}
	_, err := k.kadmin(ctx, qs...)
	return err
}

// Keytab writes the current keys of the principals (AES only) into a new keytab file under the KDC's
// folder and returns its path. The keys are not changed, so several keytabs of one principal agree.
// A domain controller exports what it holds (samba-tool domain exportkeytab).
func (k *KDC) Keytab(ctx context.Context, principals ...string) (string, error) {
	k.mu.Lock()
	k.keytabSeq++
	name := fmt.Sprintf("%02d-%s.keytab", k.keytabSeq, sanitize(principals[0]))
	k.mu.Unlock()
	path := filepath.Join(k.Dir, "keytabs", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if k.ad != nil {
		if err := k.ad.keytab(ctx, path, principals...); err != nil {
			return "", err
		}
		return path, nil
	}
	// -norandkey exports the keys as they are: AES only, since the realm supports nothing else.
	qs := make([]string, 0, len(principals))
	for _, p := range principals {
		qs = append(qs, fmt.Sprintf("ktadd -k %s -norandkey %s", path, k.Principal(p)))
	}
	if _, err := k.kadmin(ctx, qs...); err != nil {
		return "", err
	}
	return path, nil
}

// Keytabs writes one keytab per principal (as Keytab does, in one batch: one samba run on a domain
// controller) and returns their paths by principal as given.
func (k *KDC) Keytabs(ctx context.Context, principals ...string) (map[string]string, error) {
	paths := make(map[string]string, len(principals))
	for _, p := range principals {
		k.mu.Lock()
		k.keytabSeq++
		paths[p] = filepath.Join(k.Dir, "keytabs", fmt.Sprintf("%02d-%s.keytab", k.keytabSeq, sanitize(p)))
		k.mu.Unlock()
	}
	if err := os.MkdirAll(filepath.Join(k.Dir, "keytabs"), 0o755); err != nil {
		return nil, err
	}
	if k.ad != nil {
		if err := k.ad.keytabs(ctx, paths); err != nil {
			return nil, err
		}
		return paths, nil
	}
	qs := make([]string, 0, len(principals))
	for p, path := range paths {
		qs = append(qs, fmt.Sprintf("ktadd -k %s -norandkey %s", path, k.Principal(p)))
	}
	if _, err := k.kadmin(ctx, qs...); err != nil {
		return nil, err
	}
	return paths, nil
}

// RandomizeKey gives a principal new keys, so every keytab written before holds stale keys
// ("wrong keytab").
func (k *KDC) RandomizeKey(ctx context.Context, name string) error {
	if k.ad != nil {
		return k.ad.randomizeKey(ctx, name)
	}
	_, err := k.kadmin(ctx, "cpw -randkey "+k.Principal(name))
	return err
}

// SetPassword gives a principal keys derived from password, with the next key version. Setting
// the same password twice keeps the keys and raises the kvno — what makes a keytab's kvno older
// than the KDC's while its keys still work. The password goes to kadmin (or Samba) on standard
// input only.
func (k *KDC) SetPassword(ctx context.Context, name, password string) error {
	if k.ad != nil {
		account := k.ad.Account(name)
		if account == "" {
			return fmt.Errorf("testenv: %s has no account in domain %s", name, k.Realm)
		}
		return k.ad.admin(ctx, adminOp{Op: "setpassword", Account: account, Password: password})
	}
	_, err := k.kadmin(ctx, "cpw -pw "+password+" "+k.Principal(name))
	return err
}

// Stop stops the KDC process but keeps its database: Start brings it back on the same port.
// Used to test "KDC unreachable".
func (k *KDC) Stop() error {
	if k.ad != nil {
		return k.ad.stop()
	}
	if k.proc == nil {
		return nil
	}
	return k.proc.stop(syscall.SIGTERM, 5*time.Second)
}

// Start restarts a stopped KDC on the same address.
func (k *KDC) Start(ctx context.Context) error {
	if k.ad != nil {
		return k.ad.start(ctx)
	}
	if k.proc.running() {
		return nil
	}
	kdcBin, err := lookPath("krb5kdc")
	if err != nil {
		return err
	}
	env, err := k.processEnv()
	if err != nil {
		return err
	}
	if err := k.proc.start(k.Dir, env, kdcBin, "-n", "-r", k.Realm, "-P", filepath.Join(k.Dir, "krb5kdc.pid")); err != nil {
		return err
	}
	return k.waitReady(ctx)
}

// Close stops the KDC and removes its folder if StartKDC created it. It is safe to call twice.
func (k *KDC) Close() error {
	if k.ad != nil {
		return k.ad.close()
	}
	var err error
	if k.proc != nil {
		err = k.proc.stop(syscall.SIGTERM, 5*time.Second)
	}
	if k.ownDir {
		os.RemoveAll(k.Dir)
	}
	return err
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}
