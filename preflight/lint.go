package preflight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
)

// lint (config-lint) checks the configuration itself, for the pitfalls Flink users hit: one result
// per finding.
func lint(_ context.Context, r *run, _ *member) []Result {
	var out []Result
	fail := func(msg, fix string) { out = append(out, Result{Status: Fail, Message: msg, Fix: fix}) }
	warn := func(msg, fix string) { out = append(out, Result{Status: Warn, Message: msg, Fix: fix}) }
	if err := r.cfg.Validate(); err != nil {
		fix := "correct the setting named in the message"
		if errors.Is(err, acl.ErrNoIdentity) {
			fix = "enable SASL (zookeeper.sasl.disable: false with a login context) or a TLS client certificate, or use high-availability.zookeeper.client.acl: open"
		}
		fail(err.Error(), fix)
	}
	if f := r.opts.Flink; f != nil {
		for _, w := range f.Warnings {
			warn(w.Message, w.Fix)
		}
	}
	for _, w := range r.opts.Warnings {
		warn(w.Message, w.Fix)
	}
	if r.cfg.ClusterID == client.DefaultClusterID {
		warn("high-availability.cluster-id is the default /default: every Flink cluster on this ZooKeeper without its own cluster-id shares the same HA nodes",
			"set high-availability.cluster-id to a name unique to this cluster (a standalone or session cluster does not get one automatically)")
	}
	l := r.cfg.Kerberos.Login
	if r.sasl && l.Keytab != "" {
		if f, err := os.Open(l.Keytab); err != nil {
			fail(fmt.Sprintf("the keytab %s cannot be read: %v", l.Keytab, err),
				"make the keytab readable by the user the JobManager runs as (chmod 400, owned by that user)")
		} else {
			f.Close()
		}
	}
	if r.sasl && r.opts.Flink != nil && l.LoginContext != "" && len(r.opts.Flink.LoginContexts) > 0 && !slices.Contains(r.opts.Flink.LoginContexts, l.LoginContext) && l.JAASFile == "" {
		fail(fmt.Sprintf("login context %q is not in security.kerberos.login.contexts (%s)", l.LoginContext, strings.Join(r.opts.Flink.LoginContexts, ",")),
			"add "+l.LoginContext+" to security.kerberos.login.contexts")
	}
	if len(out) == 0 {
		out = append(out, Result{Status: Pass, Message: "configuration consistent"})
	}
	return out
}
