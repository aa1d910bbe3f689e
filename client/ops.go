package client

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/go-zookeeper/zk"
)

// Whether a request is retried on connection loss: reads are, writes are not (a write may have
// been applied before the connection broke).
const (
	read  = true
	write = false
)

// do runs f(full), honouring ctx: when ctx ends first, do returns ctx's error and f finishes in the
// background; its results travel only through the channel, so nothing is shared with the caller.
// Reads (retry true) are retried on connection loss. f runs on one of the client's workers (see
// call).
func do[T any](c *Client, ctx context.Context, retry bool, f func(full string) (T, error), full string) (T, error) {
	attempts := 0
	for {
		v, err := call(c, ctx, f, full)
		if err == nil || !retry || !retriable(err) || c.cfg.MaxRetryAttempts < 0 || attempts >= c.cfg.MaxRetryAttempts {
			return v, c.wrap(err)
		}
		wait := c.cfg.RetryWait << attempts
		attempts++
		c.log.Debug("retrying after connection loss", "attempt", attempts, "wait", wait, "error", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return v, ctx.Err()
		case <-c.done:
			return v, c.wrap(zk.ErrClosing)
		}
	}
}

// call runs f(full) under ctx as ctxcall.ValueOf does, but on one of the client's workers rather
// than on a goroutine of its own: a new goroutine's small first stack grew (a copy) on every call
// through go-zookeeper's deep request path — 3-6 µs a call on this project's loaded 2-core machine,
// 5-10% of a get — where a worker's grows once.
func call[T any](c *Client, ctx context.Context, f func(string) (T, error), full string) (T, error) {
	if ctx.Done() == nil {
		return f(full)
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	c.workers.run(func() {
		v, err := f(full)
		done <- result{v, err}
	})
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// request is every operation on one node: p is mapped into the namespace (created on first use),
// and f, go-zookeeper's call on the full path, runs under ctx as do runs it.
func request[T any](c *Client, ctx context.Context, p string, retry bool, f func(full string) (T, error)) (T, error) {
	full, err := c.prepare(ctx, p)
	if err != nil {
		var zero T
		return zero, err
	}
	return do(c, ctx, retry, f, full)
}

// request2 and request3 are request for go-zookeeper's calls with two and three results.
func request2[A, B any](c *Client, ctx context.Context, p string, retry bool, f func(string) (A, B, error)) (A, B, error) {
	r, err := request(c, ctx, p, retry, func(full string) (two[A, B], error) { a, b, err := f(full); return two[A, B]{a, b}, err })
	return r.a, r.b, err
}

func request3[A, B, C any](c *Client, ctx context.Context, p string, retry bool, f func(string) (A, B, C, error)) (A, B, C, error) {
	r, err := request(c, ctx, p, retry, func(full string) (three[A, B, C], error) {
		a, b, cc, err := f(full)
		return three[A, B, C]{a, b, cc}, err
	})
	return r.a, r.b, r.c, err
}

// two and three carry a call's results through do.
type (
	two[A, B any] struct {
		a A
		b B
	}
	three[A, B, C any] struct {
		a A
		b B
		c C
	}
)

func retriable(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer)
}

// wrap replaces go-zookeeper's closing errors by the reason the client closed.
func (c *Client) wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, zk.ErrClosing) {
		if aerr := c.Err(); aerr != nil {
			return aerr
		}
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// ensureNamespace creates <root>/<cluster-id> and its parents with the provider's ACLs, once.
func (c *Client) ensureNamespace(ctx context.Context) error {
	c.nsMu.Lock()
	defer c.nsMu.Unlock()
	if c.nsReady {
		return nil
	}
	has := func(p string) (bool, error) { ok, _, err := c.conn.Exists(p); return ok, err }
	// The namespace itself first: once it exists (every session but the first one's), one round trip
	// is all this costs.
	if ok, err := do(c, ctx, read, has, c.ns.base); err != nil {
		return fmt.Errorf("client: checking the HA path %s: %w", c.ns.base, err)
	} else if ok {
		c.nsReady = true
		return nil
	}
	for _, p := range c.ns.chain() {
		exists, err := do(c, ctx, read, has, p)
		if err != nil {
			return fmt.Errorf("client: checking the HA path %s: %w", p, err)
		}
		if exists {
			continue
		}
		_, err = do(c, ctx, write, func(p string) (string, error) { return c.conn.Create(p, nil, 0, c.cfg.ACL.ACL(p)) }, p)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			if errors.Is(err, zk.ErrNoAuth) {
				return fmt.Errorf("client: creating the HA path %s: %w: this identity may not create children of %s; ask its owner to create %s for you, or change the root",
					p, err, path.Dir(p), c.ns.base)
			}
			if errors.Is(err, zk.ErrInvalidACL) {
				return fmt.Errorf("client: creating the HA path %s with ACL %s: %w: the session has no authenticated identity", p, c.cfg.ACL, err)
			}
			return fmt.Errorf("client: creating the HA path %s: %w", p, err)
		}
	}
	c.nsReady = true
	return nil
}

// prepare maps p into the namespace and makes sure the namespace exists.
func (c *Client) prepare(ctx context.Context, p string) (string, error) {
	full, err := c.ns.full(p)
	if err != nil {
		return "", err
	}
	if err := c.ensureNamespace(ctx); err != nil {
		return "", err
	}
	return full, nil
}

// EnsureNamespace creates <root>/<cluster-id> (with the ACL provider's ACLs) if it does not exist.
// Every operation does this on first use; call it to surface permission problems early.
func (c *Client) EnsureNamespace(ctx context.Context) error { return c.ensureNamespace(ctx) }

// Create creates a node; acl nil means the ACL provider's ACL. It returns the created path (relative
// to the namespace; with a sequence number for sequential modes).
func (c *Client) Create(ctx context.Context, p string, data []byte, flags int32, acl []zk.ACL) (string, error) {
	full, err := c.prepare(ctx, p)
	if err != nil {
		return "", err
	}
	if acl == nil {
		acl = c.cfg.ACL.ACL(full)
	}
	// The ACL is computed here, not in the goroutine that runs the call (see do).
	created, err := do(c, ctx, write, func(full string) (string, error) { return c.conn.Create(full, data, flags, acl) }, full)
	if err != nil {
		return "", err
	}
	return c.ns.rel(created), nil
}

// CreateAll creates p and any missing parents (parents empty, all with the provider's ACL);
// an existing p is not an error.
func (c *Client) CreateAll(ctx context.Context, p string) error {
	full, err := c.prepare(ctx, p)
	if err != nil {
		return err
	}
	rel := c.ns.rel(full)
	if rel == "/" {
		return nil
	}
	for i := 1; i <= len(rel); i++ {
		if i < len(rel) && rel[i] != '/' {
			continue
		}
		sub := rel[:i]
		_, err := c.Create(ctx, sub, nil, 0, nil)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("client: creating %s: %w", sub, err)
		}
	}
	return nil
}

// Get returns a node's data and stat.
func (c *Client) Get(ctx context.Context, p string) ([]byte, *zk.Stat, error) {
	return request2(c, ctx, p, read, c.conn.Get)
}

// Set replaces a node's data if its version matches (-1: any version).
func (c *Client) Set(ctx context.Context, p string, data []byte, version int32) (*zk.Stat, error) {
	return request(c, ctx, p, write, func(full string) (*zk.Stat, error) { return c.conn.Set(full, data, version) })
}

// Delete deletes a node if its version matches (-1: any version).
func (c *Client) Delete(ctx context.Context, p string, version int32) error {
	if full, err := c.ns.full(p); err == nil && full == c.ns.base {
		return fmt.Errorf("%w: refusing to delete the namespace root %s", ErrPath, full)
	}
	_, err := request(c, ctx, p, write, func(full string) (struct{}, error) { return struct{}{}, c.conn.Delete(full, version) })
	return err
}

// Exists reports whether a node exists, with its stat.
func (c *Client) Exists(ctx context.Context, p string) (bool, *zk.Stat, error) {
	return request2(c, ctx, p, read, c.conn.Exists)
}

// Children lists a node's children (names, not paths).
func (c *Client) Children(ctx context.Context, p string) ([]string, *zk.Stat, error) {
	return request2(c, ctx, p, read, c.conn.Children)
}

// GetACL returns a node's ACL.
func (c *Client) GetACL(ctx context.Context, p string) ([]zk.ACL, *zk.Stat, error) {
	return request2(c, ctx, p, read, c.conn.GetACL)
}

// SetACL replaces a node's ACL if its ACL version matches (-1: any).
func (c *Client) SetACL(ctx context.Context, p string, acl []zk.ACL, version int32) (*zk.Stat, error) {
	return request(c, ctx, p, write, func(full string) (*zk.Stat, error) { return c.conn.SetACL(full, acl, version) })
}

// Sync makes the server the session is connected to catch up with the leader for p.
func (c *Client) Sync(ctx context.Context, p string) error {
	_, err := request(c, ctx, p, read, c.conn.Sync)
	return err
}

// GetW is Get with a one-shot watch on the node's data (and deletion).
func (c *Client) GetW(ctx context.Context, p string) ([]byte, *zk.Stat, <-chan zk.Event, error) {
	data, st, ch, err := request3(c, ctx, p, read, c.conn.GetW)
	return data, st, c.relWatch(ch), err
}

// ExistsW is Exists with a one-shot watch on creation, deletion or data change.
func (c *Client) ExistsW(ctx context.Context, p string) (bool, *zk.Stat, <-chan zk.Event, error) {
	ok, st, ch, err := request3(c, ctx, p, read, c.conn.ExistsW)
	return ok, st, c.relWatch(ch), err
}

// ChildrenW is Children with a one-shot watch on the child list (and deletion).
func (c *Client) ChildrenW(ctx context.Context, p string) ([]string, *zk.Stat, <-chan zk.Event, error) {
	kids, st, ch, err := request3(c, ctx, p, read, c.conn.ChildrenW)
	return kids, st, c.relWatch(ch), err
}

// relWatch rewrites the path of a watch event into the namespace. The returned channel delivers at
// most one event and is closed after it (or when the client closes).
func (c *Client) relWatch(in <-chan zk.Event) <-chan zk.Event {
	if in == nil {
		return nil
	}
	out := make(chan zk.Event, 1)
	go func() {
		defer close(out)
		ev, ok := <-in
		if !ok {
			return
		}
		if rel := c.ns.rel(ev.Path); rel != "" {
			ev.Path = rel
		}
		out <- ev
	}()
	return out
}

// Multi runs operations atomically: *zk.CreateRequest (nil Acl means the provider's),
// *zk.DeleteRequest, *zk.SetDataRequest, *zk.CheckVersionRequest, with namespace paths. The
// caller's requests are not modified; created paths in the responses are relative.
func (c *Client) Multi(ctx context.Context, ops ...any) ([]zk.MultiResponse, error) {
	if err := c.ensureNamespace(ctx); err != nil {
		return nil, err
	}
	mapped := make([]any, len(ops))
	for i, op := range ops {
		var err error
		switch r := op.(type) {
		case *zk.CreateRequest:
			cp := *r
			if cp.Path, err = c.ns.full(r.Path); err == nil && cp.Acl == nil {
				cp.Acl = c.cfg.ACL.ACL(cp.Path)
			}
			mapped[i] = &cp
		case *zk.DeleteRequest:
			cp := *r
			cp.Path, err = c.ns.full(r.Path)
			mapped[i] = &cp
		case *zk.SetDataRequest:
			cp := *r
			cp.Path, err = c.ns.full(r.Path)
			mapped[i] = &cp
		case *zk.CheckVersionRequest:
			cp := *r
			cp.Path, err = c.ns.full(r.Path)
			mapped[i] = &cp
		default:
			return nil, fmt.Errorf("client: Multi: unsupported operation %T", op)
		}
		if err != nil {
			return nil, err
		}
	}
	res, err := do(c, ctx, false, func(string) ([]zk.MultiResponse, error) { return c.conn.Multi(mapped...) }, "")
	for i := range res {
		if res[i].String != "" {
			if rel := c.ns.rel(res[i].String); rel != "" {
				res[i].String = rel
			}
		}
	}
	return res, err
}
