package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/internal/session"
	"github.com/zksecure/zksecure/internal/wire"
)

// identities returns the ids the servers give the session c, and how they were learned.
//
// On a member that runs ZooKeeper 3.7+ the server itself was asked (whoAmI, opcode 107) on c's own
// connection, right after its SASL exchange and before go-zookeeper's first request (see
// askWhoAmI): go-zookeeper has no whoAmI, and a 3.4–3.6 server answers the request by closing the
// connection, so it is sent only where the version check found 3.7+. No write is needed (the probe
// node needs create permission in the namespace). Otherwise — every member older than 3.7, or whoAmI
// failing — it falls back to the probe node (client.Identities), which works on every version.
func (r *run) identities(ctx context.Context, c *client.Client, asked *whoAmIAnswer) ([]acl.Identity, string, error) {
	if member, ids, err, ok := asked.get(); ok {
		if err == nil {
			return ids, "whoAmI on " + member, nil
		}
		r.log.Debug("whoAmI failed; using the probe node", "member", member, "error", err.Error())
	}
	ids, err := c.Identities(ctx)
	return ids, "probe node", err
}

// whoAmIAnswer is what whoAmI said on a session's connection; its zero value has not been asked.
type whoAmIAnswer struct {
	mu     sync.Mutex
	asked  bool
	member string
	ids    []acl.Identity
	err    error
}

func (a *whoAmIAnswer) set(member string, ids []acl.Identity, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked, a.member, a.ids, a.err = true, member, ids, err
}

// get returns the answer, and whether whoAmI was asked at all (a nil answer never was).
func (a *whoAmIAnswer) get() (member string, ids []acl.Identity, err error, asked bool) {
	if a == nil {
		return "", nil, nil, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.member, a.ids, a.err, a.asked
}

// withWhoAmI returns ctx for a client.Connect whose session asks whoAmI on its first connection
// (see askWhoAmI), the answer going into into.
func (r *run) withWhoAmI(ctx context.Context, into *whoAmIAnswer) context.Context {
	withCert := r.useTLS && r.tls != nil && r.tls.Certificate() != nil
	if !r.sasl && !withCert {
		return ctx // nothing authenticates the session: the probe node says so as well
	}
	return session.WithPreamble(ctx, func(member string, rw io.ReadWriter) error {
		if !r.supportsWhoAmI(member) {
			return nil
		}
		ids, err := whoAmI(rw, member)
		into.set(member, ids, err)
		if errors.Is(err, errWhoAmIConn) {
			return err // what the connection holds now is unknown: go-zookeeper dials again
		}
		return nil // the server answered: the connection is in order
	})
}

// supportsWhoAmI reports whether the version check found member to run 3.7+.
func (r *run) supportsWhoAmI(member string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.versions[member]
	return ok && v.SupportsWhoAmI()
}

// errWhoAmIConn marks a whoAmI that failed on the connection itself (a write or a read), rather
// than in the server's answer.
var errWhoAmIConn = errors.New("preflight: whoAmI: the connection failed")

// whoAmIXid is distinct from the SASL exchange's xids and far above go-zookeeper's first ones.
const whoAmIXid = 1 << 20

// whoAmI asks whoAmI on rw, a session's connection before go-zookeeper's first request. The ip id
// every connection has is left out: it is never an authenticated identity (a creator ACL never
// carries it).
func whoAmI(rw io.ReadWriter, member string) ([]acl.Identity, error) {
	if _, err := rw.Write(wire.AppendRequest(nil, whoAmIXid, wire.OpWhoAmI)); err != nil {
		return nil, fmt.Errorf("%w: request to %s: %w", errWhoAmIConn, member, err)
	}
	for {
		_, body, err := wire.ReadFrame(rw)
		if err != nil {
			return nil, fmt.Errorf("%w: reply from %s: %w", errWhoAmIConn, member, err)
		}
		h, rest, err := wire.ParseReplyHeader(body)
		if err != nil {
			return nil, err
		}
		if h.Xid != whoAmIXid {
			continue // a ping or notification
		}
		if h.Err != wire.ErrCodeOK {
			return nil, fmt.Errorf("preflight: whoAmI: %s answered with error %d", member, h.Err)
		}
		infos, err := wire.ParseWhoAmIResponse(rest)
		if err != nil {
			return nil, err
		}
		ids := []acl.Identity{}
		for _, ci := range infos {
			if ci.Scheme != "ip" {
				ids = append(ids, acl.Identity{Scheme: ci.Scheme, ID: ci.User})
			}
		}
		return ids, nil
	}
}
