package client

import (
	"context"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
)

// Identities returns the authenticated ids the server gave this session (sasl and/or x509), by
// creating an ephemeral creator-only node under the namespace, reading its ACL and deleting it — the
// same answer whoAmI gives on 3.7+, on every version. An unauthenticated session has none (nil, with
// no write made).
func (c *Client) Identities(ctx context.Context) ([]acl.Identity, error) {
	if c.auth == nil && (c.tls == nil || c.tls.Certificate() == nil || !c.useTLS) {
		return nil, nil
	}
	p := fmt.Sprintf("/.zksecure-identity-%x-%d", c.SessionID(), time.Now().UnixNano())
	created, err := c.Create(ctx, p, nil, zk.FlagEphemeral, zk.AuthACL(zk.PermAll))
	if err != nil {
		return nil, fmt.Errorf("client: identity probe %s: %w", p, err)
	}
	defer c.Delete(context.WithoutCancel(ctx), created, -1)
	a, _, err := c.GetACL(ctx, created)
	if err != nil {
		return nil, fmt.Errorf("client: identity probe %s: %w", p, err)
	}
	ids := make([]acl.Identity, 0, len(a))
	for _, e := range a {
		ids = append(ids, acl.Identity{Scheme: e.Scheme, ID: e.ID})
	}
	return ids, nil
}
