package testenv

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The Java peer's ZooKeeper commands (ZkPeer.java): the real Java client's view of a server.

// Connect opens a session (waiting for SASL authentication when sasl is true) and returns the
// session id and the time the Java client took, measured inside the JVM.
func (c *JavaClient) Connect(ctx context.Context, connect string, sessionTimeout time.Duration, sasl bool) (int64, time.Duration, error) {
	mode := "nosasl"
	if sasl {
		mode = "sasl"
	}
	out, err := c.Do(ctx, "connect", connect, strconv.Itoa(int(sessionTimeout/time.Millisecond)), mode)
	if err != nil {
		return 0, 0, err
	}
	sid, ns, _ := strings.Cut(out, " ")
	id, err := strconv.ParseUint(strings.TrimPrefix(sid, "0x"), 16, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("testenv: java peer: bad session id %q", sid)
	}
	n, _ := strconv.ParseInt(ns, 10, 64)
	return int64(id), time.Duration(n), nil
}

// ConnectUsable is Connect timed to a usable session: the clock inside the JVM runs from
// new ZooKeeper() to SyncConnected (and SaslAuthenticated when sasl is true) and one exists("/")
// answered, the way a Go caller times client.Connect then Exists.
func (c *JavaClient) ConnectUsable(ctx context.Context, connect string, sessionTimeout time.Duration, sasl bool) (time.Duration, error) {
	mode := "nosasl"
	if sasl {
		mode = "sasl"
	}
	out, err := c.Do(ctx, "connect", connect, strconv.Itoa(int(sessionTimeout/time.Millisecond)), mode, "exists")
	if err != nil {
		return 0, err
	}
	_, ns, _ := strings.Cut(out, " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("testenv: java peer: bad elapsed time %q", ns)
	}
	return time.Duration(n), nil
}

// Create creates a node; acl is "open", "creator", "read" or "scheme:id:perms|..." entries; mode is
// persistent, ephemeral, persistent_sequential or ephemeral_sequential.
func (c *JavaClient) Create(ctx context.Context, path, data, acl, mode string) (string, error) {
	return c.Do(ctx, "create", path, enc(data), aclSpec(acl), mode)
}

// Get returns a node's data.
func (c *JavaClient) Get(ctx context.Context, path string) (string, error) {
	out, err := c.Do(ctx, "get", path)
	if err != nil {
		return "", err
	}
	return url.QueryUnescape(out)
}

// GetACL returns a node's ACL as "scheme:id:perms" strings.
func (c *JavaClient) GetACL(ctx context.Context, path string) ([]string, error) {
	out, err := c.Do(ctx, "getacl", path)
	if err != nil {
		return nil, err
	}
	return decodeList(out)
}

// WhoAmI returns the session's authenticated ids as "scheme:id" (3.7+ servers only: a 3.4 server
// closes the session on the unknown opcode).
func (c *JavaClient) WhoAmI(ctx context.Context) ([]string, error) {
	out, err := c.Do(ctx, "whoami")
	if err != nil {
		return nil, err
	}
	return decodeList(out)
}

func decodeList(out string) ([]string, error) {
	if out == "" {
		return nil, nil
	}
	var res []string
	for _, part := range strings.Split(out, "|") {
		scheme, rest, _ := strings.Cut(part, ":")
		id, perms, hasPerms := rest, "", false
		if i := strings.LastIndex(rest, ":"); i >= 0 {
			id, perms, hasPerms = rest[:i], rest[i+1:], true
		}
		uid, err := url.QueryUnescape(id)
		if err != nil {
			return nil, err
		}
		s := scheme + ":" + uid
		if hasPerms {
			s += ":" + perms
		}
		res = append(res, s)
	}
	return res, nil
}

func enc(s string) string {
	if s == "" {
		return "-"
	}
	return url.QueryEscape(s)
}

// aclSpec percent-encodes the ids of explicit entries ("sasl:client@R:cdrwa|x509:CN=a,O=b:r").
func aclSpec(acl string) string {
	switch acl {
	case "open", "creator", "read":
		return acl
	}
	parts := strings.Split(acl, "|")
	for i, p := range parts {
		a, b := strings.Index(p, ":"), strings.LastIndex(p, ":")
		if a < 0 || b <= a {
			continue
		}
		parts[i] = p[:a+1] + url.QueryEscape(p[a+1:b]) + p[b:]
	}
	return strings.Join(parts, "|")
}

// GetRaw returns a node's bytes as the Java client reads them.
func (c *JavaClient) GetRaw(ctx context.Context, path string) ([]byte, error) {
	out, err := c.Do(ctx, "getraw", path)
	if err != nil {
		return nil, err
	}
	return unhex(out)
}
