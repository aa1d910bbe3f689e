package sasl

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"

	"github.com/zksecure/zksecure/internal/ctxcall"
)

// credFile identifies one version of the keytab or ticket cache file a login came from: a file
// replaced (rename), rewritten (kinit, kinit -R) or touched has another stamp.
type credFile struct {
	path    string
	modTime time.Time
	size    int64
	inode   uint64
	bad     bool // this version did not load; it is not tried again until the file changes
}

func (f credFile) same(o credFile) bool {
	return f.path == o.path && f.modTime.Equal(o.modTime) && f.size == o.size && f.inode == o.inode
}

// stampCredFile stamps the file a source logs in from (zero for none).
func stampCredFile(s source) credFile {
	path := s.keytab
	if path == "" {
		path = s.ccache
	}
	st, err := os.Stat(path)
	if err != nil {
		return credFile{path: path}
	}
	f := credFile{path: path, modTime: st.ModTime(), size: st.Size()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		f.inode = sys.Ino
	}
	return f
}

// krb returns the current gokrb5 client: the one loaded from the newest usable version of the
// keytab or ticket cache file.
func (a *Authenticator) krb() *krbclient.Client {
	a.credMu.Lock()
	defer a.credMu.Unlock()
	return a.cl
}

// reloadIfChanged runs before every login and service-ticket fetch. When the keytab or ticket
// cache file has changed since it was loaded — a keytab replaced with new keys, a ticket cache
// renewed or replaced by an external kinit or kinit -R — it loads the new version and switches to
// it, so that a long-running client never needs a restart to pick up rotated credentials. A new
// keytab is used only once the KDC has accepted it (a login with it); a version that does not load
// or log in (half-written, another principal, RC4 only, keys the KDC does not know yet) keeps the
// last good credentials and is logged with the reason, once per version.
func (a *Authenticator) reloadIfChanged(ctx context.Context) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	now := stampCredFile(a.src)
	a.credMu.Lock()
	prev := a.loaded
	a.credMu.Unlock()
	if now.same(prev) || now.modTime.IsZero() {
		return // unchanged, or gone for now (a rename in progress): keep what works
	}
	cl, full, err := newKrbClient(a.src)
	if err == nil && full != a.clientPrincipal {
		cl.Destroy()
		err = fmt.Errorf("%w: it now holds credentials of %s, not %s", ErrLogin, full, a.clientPrincipal)
	}
	kdcKVNO := 0
	if err == nil && a.src.keytab != "" {
		lctx, cancel := context.WithTimeout(ctx, a.kdcTimeout())
		err = ctxcall.Err(lctx, cl.Login)
		timedOut := lctx.Err() != nil
		cancel()
		if err != nil {
			cl.Destroy()
			if ncl, n, ok := a.loginNewerKVNO(ctx, err); ok {
				cl, kdcKVNO, err = ncl, n, nil
			}
		}
		if err != nil {
			if _, _, kind, _ := kdcFailure(err, a.clientPrincipal, "", a.kdcs, a.krb5conf); timedOut || kind == ErrKDCUnreachable {
				return // try this version again at the next login or ticket fetch
			}
		}
	}
	if err != nil {
		a.log.Warn("the credentials file changed but the new version cannot be used; keeping the previous credentials",
			"file", now.path, "modified", now.modTime.UTC().Format(time.RFC3339), "error", firstLine(err.Error()))
		// Remember the version as bad, so that every dial does not try it again.
		now.bad = true
		a.credMu.Lock()
		a.loaded = now
		a.credMu.Unlock()
		return
	}
	a.credMu.Lock()
	for _, old := range a.retired {
		old.Destroy()
	}
	// The old client may still be in use by a dial in progress: destroyed at the next reload.
	a.retired = []*krbclient.Client{a.cl}
	reloads := a.info.Reloads + 1
	a.cl, a.loaded = cl, now
	a.info = readCredInfo(a.src, a.clientPrincipal, now)
	a.info.Reloads, a.info.KDCKVNO = reloads, kdcKVNO
	info := a.info
	a.credMu.Unlock()
	a.log.Info("credentials reloaded from the changed file", "file", now.path, "modified", now.modTime.UTC().Format(time.RFC3339))
	if kdcKVNO != 0 {
		a.log.Warn(staleKeytabWarning(info, a.clientPrincipal))
	}
}

// loginStaleKVNO retries a failed login whose keytab lacks the KDC's key version with the same
// keys under that version (see loginNewerKVNO), and switches to that client when it works.
func (a *Authenticator) loginStaleKVNO(ctx context.Context, err error) bool {
	cl, kdcKVNO, ok := a.loginNewerKVNO(ctx, err)
	if !ok {
		return false
	}
	a.credMu.Lock()
	a.retired = append(a.retired, a.cl)
	a.cl = cl
	a.info.KDCKVNO = kdcKVNO
	info := a.info
	a.credMu.Unlock()
	a.log.Warn(staleKeytabWarning(info, a.clientPrincipal))
	return true
}

// explainExpiredCache names the ticket cache and the date its TGT ended when a ticket fetch failed
// after it. That is not permanent: an external kinit or kinit -R rewrites the cache, and the next
// attempt loads it.
func (a *Authenticator) explainExpiredCache(ae *AuthError) {
	c := a.Credentials()
	if a.src.ccache == "" || c.TGTEnd.IsZero() || time.Now().Before(c.TGTEnd) || ae.Kind == ErrKDCUnreachable {
		return
	}
	ae.Reason = fmt.Sprintf("the TGT of %s in ticket cache %s expired at %s", a.clientPrincipal, c.File, c.TGTEnd.UTC().Format(time.RFC3339))
	if !c.RenewTill.IsZero() && c.RenewTill.After(c.TGTEnd) {
		ae.Reason += fmt.Sprintf(" (renewable until %s, but nothing renewed it in time)", c.RenewTill.UTC().Format(time.RFC3339))
	}
	ae.Fix = "renew the cache before the TGT ends (kinit -R from cron or k5start), or run kinit again: the client reloads the cache when it changes; a keytab login renews itself"
	ae.Kind, ae.Permanent = ErrLogin, false
}
