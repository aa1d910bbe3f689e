package sasl_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/testenv"
)

// replaceFile replaces path with src's bytes the way rotation tools do: written aside, renamed over.
func replaceFile(t *testing.T, src, path string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// writeUntilOK retries a creator-only write under p until the session has reconnected.
func writeUntilOK(t *testing.T, ctx context.Context, c *zk.Conn, a *sasl.Authenticator, p string) {
	t.Helper()
	var err error
	for ctx.Err() == nil {
		if _, err = c.Create(p, nil, 0, zk.AuthACL(zk.PermAll)); err == nil || errors.Is(err, zk.ErrNodeExists) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("write after the reconnection: %v (auth error: %v, last: %v)", err, a.Err(), a.LastError())
}

// A keytab replaced under a live session with new keys (kvno+1, the old keys retired at the KDC)
// is used by the next login: after a forced reconnection the session authenticates with it.
// A copy of the old keytab no longer logs in, and the error names the file, its kvno and date.
func TestKeytabRotatedUnderALiveSession(t *testing.T) {
	forEachKDC(t, func(t *testing.T, r *kdcEnv) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		princ := "rotated"
		if err := r.kdc.AddPrincipals(ctx, princ); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		kt, old := filepath.Join(dir, "jm.keytab"), filepath.Join(dir, "old.keytab")
		first, err := r.kdc.Keytab(ctx, princ)
		if err != nil {
			t.Fatal(err)
		}
		replaceFile(t, first, kt)
		replaceFile(t, first, old)
		m := r.servers[zk38].Members[0]
		proxy := testenv.NewProxy(t, m.Addr())
		cfg := sasl.Config{Login: sasl.Login{Principal: princ, Keytab: kt}}
		cfg.ServerPrincipal = m.ServicePrincipal // the proxy's address is not the member's host
		a := r.newAuth(t, cfg)
		c := connectTo(t, a, []string{proxy.Addr}, nil)
		p := uniquePath(t)
		writeUntilOK(t, ctx, c, a, p)
		before := a.Credentials()
		sid := c.SessionID()

		if err := r.kdc.RandomizeKey(ctx, princ); err != nil {
			t.Fatal(err)
		}
		rotated, err := r.kdc.Keytab(ctx, princ)
		if err != nil {
			t.Fatal(err)
		}
		replaceFile(t, rotated, kt)
		proxy.Block() // every connection cut: the session reconnects, and the dial logs in anew
		proxy.Unblock()
		writeUntilOK(t, ctx, c, a, p+"/after-rotation")
		after := a.Credentials()
		if after.Reloads != 1 || after.KeytabKVNO != before.KeytabKVNO+1 || a.Err() != nil {
			t.Fatalf("after the rotation: %+v (before %+v), auth error %v", after, before, a.Err())
		}
		if c.SessionID() != sid {
			t.Errorf("the session changed from 0x%x to 0x%x", sid, c.SessionID())
		}

		stale := r.newAuth(t, sasl.Config{Login: sasl.Login{Principal: princ, Keytab: old}})
		err = stale.Login(ctx)
		t.Logf("old keytab: %v", err)
		for _, want := range []string{old, "kvno " + strconv.Itoa(before.KeytabKVNO), "written " + time.Now().UTC().Format("2006-01-02")} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("login from the old keytab: %v, want it to mention %q", err, want)
			}
		}
		if !errors.Is(err, sasl.ErrLogin) {
			t.Errorf("login from the old keytab: %v is not ErrLogin", err)
		}
	})
}

// A keytab whose kvno is older than the KDC's while the keys are the same (a password set again to
// the same value, a keytab written with a stale kvno) still logs in, as a JVM's does, and the
// Authenticator reports both versions.
func TestKeytabOlderKVNOSameKeys(t *testing.T) {
	forEachKDC(t, func(t *testing.T, r *kdcEnv) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		princ := "samekeys"
		if err := r.kdc.AddPrincipals(ctx, princ); err != nil {
			t.Fatal(err)
		}
		const pw = "Same-password-twice-1"
		if err := r.kdc.SetPassword(ctx, princ, pw); err != nil {
			t.Fatal(err)
		}
		kt, err := r.kdc.Keytab(ctx, princ)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.kdc.SetPassword(ctx, princ, pw); err != nil {
			t.Fatal(err)
		}
		a := r.newAuth(t, sasl.Config{Login: sasl.Login{Principal: princ, Keytab: kt}})
		if err := a.Login(ctx); err != nil {
			t.Fatalf("login with the older kvno: %v", err)
		}
		info := a.Credentials()
		kdcKVNO, err := a.KDCKeyVersion(ctx)
		if err != nil || info.KeytabKVNO == 0 || kdcKVNO != info.KeytabKVNO+1 {
			t.Fatalf("credentials %+v, KDC kvno %d (%v): want the KDC one kvno ahead", info, kdcKVNO, err)
		}
		connect(t, a, r.servers[zk38], nil)
	})
}
