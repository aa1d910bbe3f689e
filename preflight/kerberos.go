package preflight

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/internal/bounded"
)

// krb5Conf (krb5-conf) reads krb5.conf and finds the realm and its KDCs.
func krb5Conf(_ context.Context, r *run, _ *member) Result {
	path := sasl.Krb5ConfPath(r.cfg.Kerberos.Login.Krb5Conf)
	cfg, err := loadKrb5Conf(path)
	if err != nil {
		return Result{Status: Fail, Message: fmt.Sprintf("krb5.conf %s: %v", path, err),
			Fix: "point --krb5-conf (or KRB5_CONFIG, -Djava.security.krb5.conf) at a readable krb5.conf"}
	}
	realm := cfg.LibDefaults.DefaultRealm
	if p := r.cfg.Kerberos.Login.Principal; strings.Contains(p, "@") {
		realm = p[strings.LastIndex(p, "@")+1:]
	}
	_, kdcs, kerr := cfg.GetKDCs(realm, true)
	switch {
	case realm == "":
		return Result{Status: Fail, Message: fmt.Sprintf("%s has no default_realm and the principal names none", path),
			Fix: "set default_realm under [libdefaults], or give the principal as name@REALM"}
	case kerr != nil || len(kdcs) == 0:
		return Result{Status: Fail, Message: fmt.Sprintf("%s lists no KDC for realm %s", path, realm),
			Fix: "add the realm with kdc = host:port under [realms] in " + path}
	}
	r.krb5Path, r.krb5, r.realm = path, cfg, realm
	for _, pref := range slices.Sorted(maps.Keys(kdcs)) { // keyed by preference
		r.kdcs = append(r.kdcs, kdcs[pref])
	}
	return Result{Status: Pass, Message: fmt.Sprintf("%s: realm %s, KDC %s", path, realm, strings.Join(r.kdcs, ", "))}
}

// kdcReach (kdc-reach): a TCP connection to any KDC of the realm.
func kdcReach(ctx context.Context, r *run, _ *member) Result {
	var reachErrs []string
	for _, a := range r.kdcs {
		d := net.Dialer{Timeout: 3 * time.Second}
		c, err := d.DialContext(ctx, "tcp", a)
		if err != nil {
			reachErrs = append(reachErrs, err.Error())
			continue
		}
		c.Close()
		r.kdc = a
		return Result{Status: Pass, Message: "KDC " + a + " accepts connections"}
	}
	return Result{Status: Fail, Message: fmt.Sprintf("no KDC of realm %s answers: %s", r.realm, strings.Join(reachErrs, "; ")),
		Fix: "start the KDC or open the network path to it (TCP and UDP port 88 by default), or fix kdc = in " + r.krb5Path}
}

// clockSkew asks the KDC for its time: an AS request for a principal that does not exist draws a
// KRB-ERROR, which carries the KDC's time to the microsecond. Kerberos refuses skews above 5 minutes.
func clockSkew(ctx context.Context, r *run, _ *member) Result {
	cfg, realm, kdc := r.krb5, r.realm, r.kdc
	res := Result{}
	unmeasured := func(why string) Result {
		res.Status, res.Message, res.Fix = Warn, "could not read the KDC's clock: "+why, "compare this host's clock with the KDC's by hand (date on both)"
		return res
	}
	req, err := messages.NewASReqForTGT(realm, cfg, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "zk-secure-check/clock-probe"))
	if err != nil {
		return unmeasured(err.Error())
	}
	b, err := req.Marshal()
	if err != nil {
		return unmeasured(err.Error())
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", kdc)
	if err != nil {
		return unmeasured(err.Error())
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	t0 := time.Now()
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	if _, err := c.Write(append(frame, b...)); err != nil {
		return unmeasured(err.Error())
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return unmeasured(err.Error())
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:])&0x7fffffff)
	if len(body) > 1<<20 {
		return unmeasured("oversized reply")
	}
	if _, err := io.ReadFull(c, body); err != nil {
		return unmeasured(err.Error())
	}
	mid := t0.Add(time.Since(t0) / 2)
	var ke messages.KRBError
	if err := ke.Unmarshal(body); err != nil {
		return unmeasured("its answer carries no time")
	}
	kdcTime := ke.STime.Add(time.Duration(ke.Susec) * time.Microsecond)
	skew := mid.Sub(kdcTime)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	msg := fmt.Sprintf("this host's clock is %s %s the KDC's", abs.Round(time.Millisecond), map[bool]string{true: "ahead of", false: "behind"}[skew >= 0])
	switch {
	case abs > 5*time.Minute:
		res.Status, res.Message, res.Fix = Fail, msg+": beyond Kerberos' 5-minute limit, every ticket will be refused (KRB_AP_ERR_SKEW)", "synchronise the clocks with NTP"
	case abs > 30*time.Second:
		res.Status, res.Message, res.Fix = Warn, msg, "synchronise the clocks with NTP before the skew reaches Kerberos' 5-minute limit"
	default:
		res.Status, res.Message = Pass, msg
	}
	return res
}

// login runs the Kerberos login with the configured source: the run's one login, which the later
// checks reuse (see run.authenticator).
func login(ctx context.Context, r *run, _ *member) Result {
	a, err := r.authenticator()
	if err != nil {
		return loginFailure(err)
	}
	if err := a.Login(ctx); err != nil {
		return loginFailure(err)
	}
	r.prefetchTickets(ctx, a)
	res := Result{Status: Pass, Message: fmt.Sprintf("logged in as %s from %s", a.ClientPrincipal(), a.Source())}
	return credentialWarnings(ctx, a, r.cfg.SessionTimeout, res)
}

// prefetchTickets asks for every member's service ticket now, beside the member checks that come
// before the service-ticket checks (dns, tcp, version, the TLS checks), which then find them cached;
// a failure is theirs to report. Run waits for it before it returns.
func (r *run) prefetchTickets(ctx context.Context, a *sasl.Authenticator) {
	var wg sync.WaitGroup
	for _, m := range r.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.ServiceTicket(ctx, m)
		}()
	}
	r.onClose(wg.Wait)
}

func loginFailure(err error) Result {
	fix := "run kinit -k -t <keytab> <principal> to see the KDC's answer, and correct the keytab or principal"
	switch {
	case errors.Is(err, sasl.ErrJAAS):
		fix = "add the login context section to the JAAS file, or name the existing one with --login-context"
	case errors.Is(err, sasl.ErrWeakEnctype):
		fix = "give the principal AES keys and export a new keytab"
	}
	res := Result{Status: Fail}
	res.Message, res.Fix = explain(err, fix)
	return res
}

// loadKrb5Conf reads a krb5.conf within bounded.Config, as the login does.
func loadKrb5Conf(path string) (*krbconfig.Config, error) {
	b, err := bounded.ReadFile(path, "krb5.conf", bounded.Config)
	if err != nil {
		return nil, err
	}
	return krbconfig.NewFromString(string(b))
}
