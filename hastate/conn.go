package hastate

import (
	"context"
	"errors"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/internal/ctxcall"
)

// ErrHAState wraps the errors of this package that are not ZooKeeper's own.
var ErrHAState = errors.New("hastate")

// Conn is what this package needs of a ZooKeeper session, on absolute paths. *zk.Conn implements
// it; with zksecure, use client.Client.Conn() of an authenticated client.
type Conn interface {
	Get(path string) ([]byte, *zk.Stat, error)
	Children(path string) ([]string, *zk.Stat, error)
	GetACL(path string) ([]zk.ACL, *zk.Stat, error)
	SetACL(path string, acl []zk.ACL, version int32) (*zk.Stat, error)
	Delete(path string, version int32) error
	Create(path string, data []byte, flags int32, acl []zk.ACL) (string, error)
}

type aclStat struct {
	acl []zk.ACL
	st  *zk.Stat
}

func getACL(ctx context.Context, c Conn, p string) ([]zk.ACL, *zk.Stat, error) {
	r, err := ctxcall.Value(ctx, func() (aclStat, error) { a, st, err := c.GetACL(p); return aclStat{a, st}, err })
	return r.acl, r.st, err
}

func children(ctx context.Context, c Conn, p string) ([]string, error) {
	return ctxcall.Value(ctx, func() ([]string, error) { k, _, err := c.Children(p); return k, err })
}

func getData(ctx context.Context, c Conn, p string) ([]byte, error) {
	return ctxcall.Value(ctx, func() ([]byte, error) { d, _, err := c.Get(p); return d, err })
}

func setACL(ctx context.Context, c Conn, p string, acl []zk.ACL, version int32) error {
	_, err := ctxcall.Value(ctx, func() (*zk.Stat, error) { return c.SetACL(p, acl, version) })
	return err
}

func deleteNode(ctx context.Context, c Conn, p string) error {
	_, err := ctxcall.Value(ctx, func() (struct{}, error) { return struct{}{}, c.Delete(p, -1) })
	return err
}
