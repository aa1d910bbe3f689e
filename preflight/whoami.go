package preflight

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/internal/wire"
)

// whoAmITimeout bounds the whoAmI session: connect, SASL, one request.
const whoAmITimeout = 10 * time.Second

// identities returns the ids the servers give this client's sessions, and how they were learned.
//
// On a member that runs ZooKeeper 3.7+ it asks the server itself (whoAmI, opcode 107) on a short
// session of its own, made with the same TLS and SASL settings as c: go-zookeeper has no whoAmI, and
// the only connection zksecure owns before go-zookeeper's first request is the SASL wrapper's, which
// must not send a request a 3.4–3.6 server answers by closing the connection. The dialers are the
// same as the session's, the server's answer is the same, and no write is needed (the probe node
// needs create permission in the namespace). Otherwise — every member older than 3.7, or whoAmI
// failing — it falls back to the probe node (client.Identities), which works on every version.
func (r *run) identities(ctx context.Context, c *client.Client) ([]acl.Identity, string, error) {
	withCert := r.useTLS && r.tls != nil && r.tls.Certificate() != nil
	if m := r.whoAmIMember(c.Config().Members); m != "" && (r.sasl || withCert) {
		ids, err := r.whoAmI(ctx, m)
		if err == nil {
			return ids, "whoAmI on " + m, nil
		}
		r.log.Debug("whoAmI failed; using the probe node", "member", m, "error", err.Error())
	}
	ids, err := c.Identities(ctx)
	return ids, "probe node", err
}

// whoAmIMember is the first member known to run 3.7+, or "".
func (r *run) whoAmIMember(members []string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range members {
		if v, ok := r.versions[m]; ok && v.SupportsWhoAmI() {
			return m
		}
	}
	return ""
}

// whoAmI opens a session on member alone with the checker's dialers, asks whoAmI and closes the
// session. The ip id every connection has is left out: it is never an authenticated identity (a
// creator ACL never carries it).
func (r *run) whoAmI(ctx context.Context, member string) ([]acl.Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, whoAmITimeout)
	defer cancel()
	var dial zk.Dialer = net.DialTimeout
	if r.useTLS {
		dial = r.tls.Dialer(nil)
	}
	if r.sasl {
		a, err := sasl.New(r.cfg.Kerberos)
		if err != nil {
			return nil, err
		}
		defer a.Close()
		if err := a.Login(ctx); err != nil {
			return nil, err
		}
		dial = a.Dialer(dial)
	}
	deadline, _ := ctx.Deadline()
	conn, err := dial("tcp", member, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	if _, err := conn.Write(wire.AppendConnectRequest(nil, int32(whoAmITimeout/time.Millisecond))); err != nil {
		return nil, err
	}
	_, body, err := wire.ReadFrame(conn) // with SASL: authenticated before this returns
	if err != nil {
		return nil, fmt.Errorf("preflight: whoAmI: ConnectResponse from %s: %w", member, err)
	}
	cr, err := wire.ParseConnectResponse(body)
	if err != nil {
		return nil, err
	}
	if cr.SessionID == 0 {
		return nil, errors.New("preflight: whoAmI: the server refused the session")
	}
	const xid = 1 << 20 // distinct from the SASL exchange's xids
	if _, err := conn.Write(wire.AppendRequest(nil, xid, wire.OpWhoAmI)); err != nil {
		return nil, err
	}
	defer conn.Write(wire.AppendRequest(nil, xid+1, wire.OpCloseSession))
	for {
		_, body, err := wire.ReadFrame(conn)
		if err != nil {
			return nil, fmt.Errorf("preflight: whoAmI: reply from %s: %w", member, err)
		}
		h, rest, err := wire.ParseReplyHeader(body)
		if err != nil {
			return nil, err
		}
		if h.Xid != xid {
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
