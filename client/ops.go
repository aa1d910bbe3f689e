package client

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/go-zookeeper/zk"
)

// Whether a request is retried on connection loss: reads are, writes are not (a write may have
// been applied before the connection broke).
const (
	read  = true
	write = false
)

// do makes go-zookeeper's call (one of job.go's) with in, honouring ctx: when ctx ends first, do
// returns ctx's error and the call finishes in the background; its results travel only through its
// job (see job), so nothing is shared with the caller. Reads (retry true) are retried on connection
// loss as soon as the client has a session again (see awaitSession).
func (c *Client) do(ctx context.Context, retry bool, call func(*job), in args) (results, error) {
	j := newJob(c.conn, call, in)
	for attempts := 0; ; attempts++ {
		if !c.run(ctx, j) {
			return results{}, ctx.Err() // j is the worker's now
		}
		out, err := j.out, j.err
		if err == nil || !retry || !retriable(err) || c.cfg.MaxRetryAttempts < 0 || attempts >= c.cfg.MaxRetryAttempts {
			j.release()
			return out, c.wrap(err)
		}
		if werr := c.awaitSession(ctx, attempts, err); werr != nil {
			j.release()
			return results{}, werr
		}
		j.out, j.err = results{}, nil
	}
}

// run makes j's call under ctx. A context that can never end runs it on the calling goroutine;
// otherwise it runs on one of the client's workers (see workers) while the caller waits for its
// signal or for ctx — go-zookeeper's calls take no context, so the caller can return when ctx ends
// only if the call is on another goroutine. run returns false when ctx ended first: the worker
// owns j then, and the caller must not read, reuse or release it.
func (c *Client) run(ctx context.Context, j *job) (owned bool) {
	done := ctx.Done()
	if done == nil {
		j.call(j)
		return true
	}
	if err := ctx.Err(); err != nil {
		j.err = err
		return true
	}
	c.workers.run(j)
	select {
	case <-j.done:
		return true
	case <-done:
		select {
		case <-j.done: // finished too: its results are as good as an error
			return true
		default:
			return false
		}
	}
}

// request is every operation on one node: p is mapped into the namespace (created on first use),
// and the call runs on the full path as do runs it.
func (c *Client) request(ctx context.Context, p string, retry bool, call func(*job), in args) (results, error) {
	full, err := c.prepare(ctx, p)
	if err != nil {
		return results{}, err
	}
	in.path = full
	return c.do(ctx, retry, call, in)
}

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
	if c.nsReady.Load() {
		return nil
	}
	c.nsMu.Lock()
	defer c.nsMu.Unlock()
	if c.nsReady.Load() {
		return nil
	}
	// The namespace itself first: once it exists (every session but the first one's), one round trip
	// is all this costs.
	if r, err := c.do(ctx, read, existsCall, args{path: c.ns.base}); err != nil {
		return fmt.Errorf("client: checking the HA path %s: %w", c.ns.base, err)
	} else if r.ok {
		c.nsReady.Store(true)
		return nil
	}
	for _, p := range c.ns.chain() {
		r, err := c.do(ctx, read, existsCall, args{path: p})
		if err != nil {
			return fmt.Errorf("client: checking the HA path %s: %w", p, err)
		}
		if r.ok {
			continue
		}
		_, err = c.do(ctx, write, createCall, args{path: p, acl: c.cfg.ACL.ACL(p)})
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
	c.nsReady.Store(true)
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
	r, err := c.do(ctx, write, createCall, args{path: full, data: data, flags: flags, acl: acl})
	if err != nil {
		return "", err
	}
	return c.ns.rel(r.str), nil
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
	r, err := c.request(ctx, p, read, getCall, args{})
	return r.data, r.stat, err
}

// Set replaces a node's data if its version matches (-1: any version).
func (c *Client) Set(ctx context.Context, p string, data []byte, version int32) (*zk.Stat, error) {
	r, err := c.request(ctx, p, write, setCall, args{data: data, version: version})
	return r.stat, err
}

// Delete deletes a node if its version matches (-1: any version).
func (c *Client) Delete(ctx context.Context, p string, version int32) error {
	if full, err := c.ns.full(p); err == nil && full == c.ns.base {
		return fmt.Errorf("%w: refusing to delete the namespace root %s", ErrPath, full)
	}
	_, err := c.request(ctx, p, write, deleteCall, args{version: version})
	return err
}

// Exists reports whether a node exists, with its stat.
func (c *Client) Exists(ctx context.Context, p string) (bool, *zk.Stat, error) {
	r, err := c.request(ctx, p, read, existsCall, args{})
	return r.ok, r.stat, err
}

// Children lists a node's children (names, not paths).
func (c *Client) Children(ctx context.Context, p string) ([]string, *zk.Stat, error) {
	r, err := c.request(ctx, p, read, childrenCall, args{})
	return r.strs, r.stat, err
}

// GetACL returns a node's ACL.
func (c *Client) GetACL(ctx context.Context, p string) ([]zk.ACL, *zk.Stat, error) {
	r, err := c.request(ctx, p, read, getACLCall, args{})
	return r.acl, r.stat, err
}

// SetACL replaces a node's ACL if its ACL version matches (-1: any).
func (c *Client) SetACL(ctx context.Context, p string, acl []zk.ACL, version int32) (*zk.Stat, error) {
	r, err := c.request(ctx, p, write, setACLCall, args{acl: acl, version: version})
	return r.stat, err
}

// Sync makes the server the session is connected to catch up with the leader for p.
func (c *Client) Sync(ctx context.Context, p string) error {
	_, err := c.request(ctx, p, read, syncCall, args{})
	return err
}

// GetW is Get with a one-shot watch on the node's data (and deletion).
func (c *Client) GetW(ctx context.Context, p string) ([]byte, *zk.Stat, <-chan zk.Event, error) {
	r, err := c.request(ctx, p, read, getWCall, args{})
	return r.data, r.stat, c.relWatch(r.watch), err
}

// ExistsW is Exists with a one-shot watch on creation, deletion or data change.
func (c *Client) ExistsW(ctx context.Context, p string) (bool, *zk.Stat, <-chan zk.Event, error) {
	r, err := c.request(ctx, p, read, existsWCall, args{})
	return r.ok, r.stat, c.relWatch(r.watch), err
}

// ChildrenW is Children with a one-shot watch on the child list (and deletion).
func (c *Client) ChildrenW(ctx context.Context, p string) ([]string, *zk.Stat, <-chan zk.Event, error) {
	r, err := c.request(ctx, p, read, childrenWCall, args{})
	return r.strs, r.stat, c.relWatch(r.watch), err
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
	r, err := c.do(ctx, write, multiCall, args{ops: mapped})
	res := r.multi
	for i := range res {
		if res[i].String != "" {
			if rel := c.ns.rel(res[i].String); rel != "" {
				res[i].String = rel
			}
		}
	}
	return res, err
}
