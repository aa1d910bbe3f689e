// Package probed carries the transport probes a caller inside this module has already made — the
// version check of zk-secure-check, with the same TLS client — into client.Connect, so that the
// session it opens right after does not probe the same member again (a TLS handshake and a srvr
// each, which cost a ZooKeeper server more CPU than the session's own resumed handshake). It is
// not part of the public API.
package probed

import (
	"context"

	"github.com/zksecure/zksecure/version"
)

type key struct{}

// With returns ctx carrying det, what version.Detect found for det.Addr without error.
func With(ctx context.Context, det version.Member) context.Context {
	known := map[string]version.Member{}
	if prev, ok := ctx.Value(key{}).(map[string]version.Member); ok {
		for k, v := range prev {
			known[k] = v
		}
	}
	known[det.Addr] = det
	return context.WithValue(ctx, key{}, known)
}

// Lookup returns what ctx carries for member, if anything.
func Lookup(ctx context.Context, member string) (version.Member, bool) {
	known, _ := ctx.Value(key{}).(map[string]version.Member)
	det, ok := known[member]
	return det, ok
}
