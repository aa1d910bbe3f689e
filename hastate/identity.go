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
