package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/testenv"
)

// quiet drops the library's log: the demo prints every outcome itself.
var quiet = slog.New(slog.DiscardHandler)

// demo starts a kerberized ZooKeeper, authenticates to it with Kerberos, proves the identity the
// server assigned with a creator-only node, and shows another principal being refused.
func demo(ctx context.Context, stdout, stderr io.Writer) int {
	step := func(format string, args ...any) { fmt.Fprintf(stdout, "==> "+format+"\n", args...) }
	fail := func(err error) int { fmt.Fprintf(stderr, "demo: %v\n", err); return 1 }
	if err := testenv.Check(); err != nil {
		return fail(err)
	}
	start := time.Now()
	step("starting an MIT KDC and a kerberized ZooKeeper 3.8 (SASL enforced) from testenv")
	env, err := testenv.StartEnv(ctx, testenv.EnvOptions{EnforceSASL: true})
	if err != nil {
		return fail(err)
	}
	defer env.Close()
	env.Describe(stdout)
	step("environment up in %v", time.Since(start).Round(time.Millisecond))

	members := strings.Split(env.ZooKeeper.ConnectString(), ",")
	connect := func(principal, keytab string) (*zk.Conn, *sasl.Authenticator, error) {
		a, err := sasl.New(sasl.Config{Login: sasl.Login{Principal: principal, Keytab: keytab, Krb5Conf: env.KDC.Krb5Conf}, Logger: quiet})
		if err != nil {
			return nil, nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		t0 := time.Now()
		c, _, err := sasl.Connect(cctx, a, members, 10*time.Second, nil)
		if err != nil {
			a.Close()
			return nil, nil, err
		}
		spn, _ := a.ServicePrincipal(ctx, members[0])
		step("authenticated as %s to %s (service principal %s) in %v; session 0x%x",
			a.ClientPrincipal(), members[0], spn, time.Since(t0).Round(time.Microsecond), c.SessionID())
		return c, a, nil
	}

	step("connecting with Kerberos (GSSAPI) as %s, keytab %s", env.ClientPrincipal, env.ClientKeytab)
	c, a, err := connect(env.ClientPrincipal, env.ClientKeytab)
	if err != nil {
		return fail(err)
	}
	defer a.Close()
	defer c.Close()
	path := "/zksecure-demo"
	if _, err := c.Create(path, []byte("only my principal may touch this"), 0, zk.AuthACL(zk.PermAll)); err != nil {
		return fail(fmt.Errorf("creating a creator-only node: %w", err))
	}
	acl, _, err := c.GetACL(path)
	if err != nil {
		return fail(err)
	}
	for _, e := range acl {
		step("%s has ACL %s:%s (perms %d): the server assigned our Kerberos identity", path, e.Scheme, e.ID, e.Perms)
	}

	other := env.JobManagerPrincipals[0]
	step("connecting as another principal, %s, and reading %s", other, path)
	c2, a2, err := connect(other, env.JobManagerKeytabs[0])
	if err != nil {
		return fail(err)
	}
	defer a2.Close()
	defer c2.Close()
	if _, _, err := c2.Get(path); errors.Is(err, zk.ErrNoAuth) {
		step("refused as expected: %v", err)
	} else {
		return fail(fmt.Errorf("another principal could read the creator-only node (err = %v)", err))
	}

	step("connecting with a wrong service principal, which the server must reject")
	wrong, err := sasl.New(sasl.Config{Login: sasl.Login{Principal: env.ClientPrincipal, Keytab: env.ClientKeytab, Krb5Conf: env.KDC.Krb5Conf},
		PrincipalRules: sasl.PrincipalRules{ServerPrincipal: env.JobManagerPrincipals[1]}, Logger: quiet})
	if err != nil {
		return fail(err)
	}
	defer wrong.Close()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, _, err := sasl.Connect(cctx, wrong, members, 10*time.Second, nil); err != nil {
		step("refused, and nothing was sent unauthenticated:\n    %v", err)
	} else {
		return fail(errors.New("a session with a wrong service principal was accepted"))
	}
	step("demo done in %v: Kerberos authentication, identity and ACL enforcement all work", time.Since(start).Round(time.Millisecond))
	return 0
}
