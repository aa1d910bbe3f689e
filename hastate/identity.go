package hastate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/internal/ctxcall"
)

// Identities returns the authenticated ids the servers give this session, by creating an
// ephemeral creator-only node under parent (which must exist and let the session create
// children), reading its ACL and deleting it. Unlike client.Client.Identities it creates nothing
// else: parent may lie above the client's namespace, e.g. the HA root.
func Identities(ctx context.Context, c Conn, parent string) ([]acl.Identity, error) {
	p := strings.TrimSuffix(parent, "/") + fmt.Sprintf("/.zksecure-identity-%d", time.Now().UnixNano())
	created, err := ctxcall.Value(ctx, func() (string, error) { return c.Create(p, nil, zk.FlagEphemeral, zk.AuthACL(zk.PermAll)) })
	if err != nil {
		return nil, fmt.Errorf("%w: identity probe under %s: %w", ErrHAState, parent, err)
	}
	defer deleteNode(context.WithoutCancel(ctx), c, created)
	a, _, err := getACL(ctx, c, created)
	if err != nil {
		return nil, fmt.Errorf("%w: identity probe %s: %w", ErrHAState, created, err)
	}
	ids := make([]acl.Identity, 0, len(a))
	for _, e := range a {
		ids = append(ids, acl.Identity{Scheme: e.Scheme, ID: e.ID})
	}
	return ids, nil
}

// PredictSASLID predicts the sasl id the servers give principal, from how they named this
// session: self is the session's own principal ("flink/jm1@EXAMPLE.COM") and selfID its sasl id
// ("flink@EXAMPLE.COM" when the servers strip the host). A principal without a realm takes self's.
func PredictSASLID(self, selfID, principal string) string {
	user, realm := splitPrincipal(self)
	stripHost := strings.Contains(user, "/") && !strings.Contains(strings.TrimSuffix(selfID, "@"+realm), "/")
	stripRealm := !strings.Contains(selfID, "@")
	u, rl := splitPrincipal(principal)
	if rl == "" {
		rl = realm
	}
	if stripHost {
		u, _, _ = strings.Cut(u, "/")
	}
	if stripRealm {
		return u
	}
	return u + "@" + rl
}

func splitPrincipal(p string) (user, realm string) {
	if i := strings.LastIndex(p, "@"); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, ""
}
