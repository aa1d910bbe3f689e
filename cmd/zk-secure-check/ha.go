package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"

	"github.com/go-zookeeper/zk"
	"github.com/spf13/pflag"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/hastate"
	"github.com/zksecure/zksecure/preflight"
	"github.com/zksecure/zksecure/version"
)

// The subcommands beside the checks, with their one-line descriptions.
var subcommands = []struct{ name, about string }{
	{"migrate-acl", "plan (default) or --apply creator-only (or explicit) ACLs on an existing HA tree"},
	{"inventory", "list every cluster's HA state: latch, leader records, job graphs, checkpoints, owners, ACLs"},
	{"cleanup", "plan (default) or --apply the removal of one stopped cluster's HA nodes (--cluster-id)"},
}

// subcommand splits a leading subcommand name off args.
func subcommand(args []string) (string, []string) {
	if len(args) > 0 {
		for _, s := range subcommands {
			if args[0] == s.name {
				return s.name, args[1:]
			}
		}
	}
	return "", args
}

// extraFlags are the flags of the subcommands and of the continuous mode.
type extraFlags struct {
	apply    bool
	scope    string
	newACL   string
	admins   []string
	watch    watchFlags
	jobgraph string
}

// register adds the flags of sub ("" for the checks) to fs, and the usage text.
func (x *extraFlags) register(fs *pflag.FlagSet, sub string, stderr io.Writer) {
	switch sub {
	case "":
		x.watch.register(fs)
	case "migrate-acl":
		fs.BoolVar(&x.apply, "apply", false, "change the ACLs (default: dry run, print the plan)")
		fs.StringVar(&x.scope, "scope", string(hastate.ScopeCluster), "cluster (the root node, <root>/<cluster-id> and below) or root (everything under the root)")
		fs.StringVar(&x.newACL, "new-acl", "creator", "creator (this session's ids, all permissions) or principals (every --jobmanager-principals id)")
		fs.StringSliceVar(&x.admins, "admin", nil, "extra ACL entries scheme:id:perms, e.g. sasl:ops@EXAMPLE.COM:cdrwa")
	case "inventory":
		fs.StringVar(&x.jobgraph, "jobgraphs-path", "/jobgraphs", "high-availability.zookeeper.path.jobgraphs")
	case "cleanup":
		fs.BoolVar(&x.apply, "apply", false, "delete the nodes (default: dry run, print what would go)")
	}
	fs.Usage = func() {
		if sub == "" {
			fmt.Fprintf(stderr, "Usage: zk-secure-check [flags]            run the checks\n")
			for _, s := range subcommands {
				fmt.Fprintf(stderr, "       zk-secure-check %-11s [flags]  %s\n", s.name, s.about)
			}
		} else {
			fmt.Fprintf(stderr, "Usage: zk-secure-check %s [flags]\n", sub)
		}
		fmt.Fprintf(stderr, "\nFlags:\n%s", fs.FlagUsages())
	}
}

// runExtra runs a subcommand or the continuous mode; exit codes as for the checks: 0 done (or
// nothing to do), 1 refused or failed, 2 usage or configuration error.
func runExtra(ctx context.Context, f *flags, opts *preflight.Options, stdout, stderr io.Writer) int {
	if f.sub == "" {
		return runWatch(ctx, f, opts, stdout, stderr)
	}
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "zk-secure-check %s: %s\n", f.sub, fmt.Sprintf(format, args...))
		return code
	}
	switch f.sub {
	case "migrate-acl":
		if f.x.scope != string(hastate.ScopeCluster) && f.x.scope != string(hastate.ScopeRoot) {
			return fail(2, "--scope %q: want cluster or root", f.x.scope)
		}
		if f.x.newACL != "creator" && f.x.newACL != "principals" {
			return fail(2, "--new-acl %q: want creator or principals", f.x.newACL)
		}
	case "cleanup":
		if !f.fs.Changed("cluster-id") {
			return fail(2, "name the cluster to remove with --cluster-id (the configuration says %s; cleanup never takes a default)", opts.Client.ClusterID)
		}
	}
	var admins []zk.ACL
	for _, a := range f.x.admins {
		e, err := acl.ParseEntry(strings.TrimSpace(a))
		if err != nil {
			return fail(2, "--admin: %v", err)
		}
		admins = append(admins, e)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cfg := opts.Client
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.Kerberos.Logger = cfg.Logger
	c, err := client.Connect(ctx, cfg)
	if err != nil {
		return fail(1, "%v", err)
	}
	defer c.Close()
	cfg = c.Config() // with defaults
	root := path.Clean(cfg.Root)
	cluster := path.Join(root, cfg.ClusterID)
	h := haRun{f: f, c: c, root: root, cluster: cluster, stdout: stdout, fail: fail}
	switch f.sub {
	case "migrate-acl":
		return h.migrate(ctx, admins, opts.JobManagerPrincipals)
	case "inventory":
		return h.inventory(ctx)
	default:
		return h.cleanup(ctx)
	}
}

type haRun struct {
	f             *flags
	c             *client.Client
	root, cluster string
	stdout        io.Writer
	fail          func(code int, format string, args ...any) int
}

func (h haRun) json() bool { return h.f.output == "json" }

func (h haRun) inventory(ctx context.Context) int {
	opts := hastate.InventoryOptions{JobGraphsPath: h.f.x.jobgraph}
	if h.f.fs.Changed("cluster-id") {
		opts.Clusters = []string{h.c.Config().ClusterID}
	}
	inv, err := hastate.TakeInventory(ctx, h.c.Conn(), h.root, opts)
	if err != nil {
		return h.fail(1, "%v", err)
	}
	if h.json() {
		inv.WriteJSON(h.stdout)
	} else {
		inv.WriteText(h.stdout)
	}
	return 0
}

func (h haRun) migrate(ctx context.Context, admins []zk.ACL, principals []string) int {
	conn := h.c.Conn()
	if ok, _, err := conn.Exists(h.root); err != nil || !ok {
		if err != nil {
			return h.fail(1, "reading %s: %v", h.root, err)
		}
		fmt.Fprintf(h.stdout, "nothing to migrate: the HA root %s does not exist\n", h.root)
		return 0
	}
	self, err := hastate.Identities(ctx, conn, h.root)
	if err != nil {
		return h.fail(1, "this session's identity: %v. Fix: run the migration as a principal that may create nodes in %s (its owner)", err, h.root)
	}
	target := hastate.Target{Self: self, Explicit: h.f.x.newACL == "principals", Admins: admins, ExistsNeedsRead: existsNeedsRead(ctx, h.c)}
	target.JobManagerIDs = jobManagerIDs(h.c, self, principals)
	newACL, notes, err := target.ACL()
	if err != nil {
		return h.fail(1, "refused: %v", err)
	}
	opts := hastate.MigrationOptions{Root: h.root, ClusterID: h.c.Config().ClusterID, Scope: hastate.Scope(h.f.x.scope), ACL: newACL}
	plan, err := hastate.PlanMigration(ctx, conn, opts)
	if err != nil {
		return h.fail(1, "%v", err)
	}
	plan.Notes = append(plan.Notes, notes...)
	if !h.f.x.apply {
		if h.json() {
			plan.WriteJSON(h.stdout)
		} else {
			plan.WriteText(h.stdout)
			fmt.Fprintf(h.stdout, "dry run: nothing changed; run again with --apply to change %d node(s)\n", len(plan.Changes))
		}
		if len(plan.Unreadable) > 0 {
			return 1
		}
		return 0
	}
	var progress func(hastate.ACLChange, error)
	if !h.json() {
		fmt.Fprintf(h.stdout, "applying to %d node(s); new ACL %s\n", len(plan.Changes), plan.ACL)
		progress = func(ch hastate.ACLChange, err error) {
			switch {
			case err == nil:
				fmt.Fprintf(h.stdout, "  set %s  (was %s)\n", ch.Path, ch.Old)
			case errors.Is(err, zk.ErrNoNode):
				fmt.Fprintf(h.stdout, "  gone %s  (deleted meanwhile)\n", ch.Path)
			default:
				fmt.Fprintf(h.stdout, "  FAILED %s: %v\n", ch.Path, err)
			}
		}
	}
	res, aerr := plan.Apply(ctx, conn, progress)
	after, err := hastate.PlanMigration(ctx, conn, opts)
	if err != nil {
		return h.fail(1, "verifying: %v", err)
	}
	if h.json() {
		writeJSON(h.stdout, struct {
			Plan      *hastate.MigrationPlan  `json:"plan"`
			Result    hastate.MigrationResult `json:"result"`
			Remaining []hastate.ACLChange     `json:"remaining"`
		}{plan, res, after.Changes})
	} else {
		fmt.Fprintf(h.stdout, "%d node(s) changed, %d gone meanwhile, %d failed; ", res.Changed, res.Gone, len(res.Failed))
		if len(after.Changes) == 0 && len(after.Unreadable) == 0 {
			fmt.Fprintf(h.stdout, "verified: all %d node(s) in scope carry %s\n", after.Unchanged, after.ACL)
		} else {
			fmt.Fprintf(h.stdout, "%d node(s) still differ (created meanwhile with another ACL?): run again; set high-availability.zookeeper.client.acl: creator on every JobManager\n", len(after.Changes)+len(after.Unreadable))
		}
	}
	if aerr != nil {
		return h.fail(1, "%v", aerr)
	}
	if len(after.Changes)+len(after.Unreadable) > 0 {
		return 1
	}
	return 0
}

// existsNeedsRead reports whether any member runs a version whose exists() needs READ (or the
// version is unknown).
func existsNeedsRead(ctx context.Context, c *client.Client) bool {
	if reps := c.Members(ctx); len(reps) > 0 {
		for _, r := range reps {
			if hastate.ExistsNeedsRead(r.Version) {
				return true
			}
		}
		return false
	}
	for _, m := range c.Config().Members {
		d, err := version.Detect(ctx, m, nil)
		if err != nil || hastate.ExistsNeedsRead(d.Version) {
			return true
		}
	}
	return false
}

// jobManagerIDs predicts the sasl id of every JobManager principal (and of this session's
// principal, which is one of them when it runs as a JobManager) from how the servers named this
// session.
func jobManagerIDs(c *client.Client, self []acl.Identity, principals []string) []string {
	var selfSASL string
	for _, id := range self {
		if id.Scheme == "sasl" {
			selfSASL = id.ID
		}
	}
	var ours string
	if a := c.Authenticator(); a != nil {
		ours = a.ClientPrincipal()
	}
	var ids []string
	seen := map[string]bool{}
	for _, p := range principals {
		id := strings.TrimSpace(p)
		if ours != "" && selfSASL != "" {
			id = acl.PredictSASLID(ours, selfSASL, id)
		}
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

func (h haRun) cleanup(ctx context.Context) int {
	conn := h.c.Conn()
	if ok, _, err := conn.Exists(h.cluster); err != nil || !ok {
		if err != nil {
			return h.fail(1, "reading %s: %v", h.cluster, err)
		}
		fmt.Fprintf(h.stdout, "nothing to clean: %s does not exist\n", h.cluster)
		return 0
	}
	self, _ := hastate.Identities(ctx, conn, h.root) // unknown when it may not create there: the plan says why
	name := ""
	if a := h.c.Authenticator(); a != nil {
		name = "Kerberos principal " + a.ClientPrincipal()
	}
	plan, err := hastate.PlanCleanup(ctx, conn, h.cluster, hastate.CleanupOptions{Self: self, Name: name})
	if plan == nil {
		return h.fail(1, "%v", err)
	}
	if !h.f.x.apply || plan.Refused != "" {
		if h.json() {
			plan.WriteJSON(h.stdout)
		} else {
			plan.WriteText(h.stdout)
			if plan.Refused == "" {
				fmt.Fprintf(h.stdout, "dry run: nothing deleted; run again with --apply to delete %d node(s)\n", len(plan.Nodes))
			}
		}
		if plan.Refused != "" {
			return 1
		}
		return 0
	}
	var removed func(string)
	if !h.json() {
		fmt.Fprintf(h.stdout, "deleting %d node(s) of %s, deepest first\n", len(plan.Nodes), h.cluster)
		removed = func(p string) { fmt.Fprintf(h.stdout, "  removed %s\n", p) }
	}
	done, err := plan.Apply(ctx, conn, removed)
	if h.json() {
		writeJSON(h.stdout, struct {
			Path    string   `json:"path"`
			Removed []string `json:"removed"`
			Error   string   `json:"error,omitempty"`
		}{h.cluster, append([]string{}, done...), errString(err)})
	} else {
		fmt.Fprintf(h.stdout, "removed %d node(s)\n", len(done))
	}
	if err != nil {
		return h.fail(1, "%v", err)
	}
	return 0
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
