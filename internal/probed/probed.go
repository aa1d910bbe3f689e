// Package probed keeps, per process, what a transport probe (version.Detect: a TLS handshake and
// srvr) found about a member: that it speaks TLS with a given TLS client, and its version. A probe
// costs a ZooKeeper server more CPU than a session's own resumed handshake, and what it finds does
// not change while the member runs, so client.Connect probes a member once per TLS client and
// zk-secure-check's version check, which probes anyway, leaves its finding here for the sessions it
// opens right after. It is not part of the public API.
//
// An entry is keyed by TLS client, the generation of its files (zktls.Client.Generation: a
// reloaded certificate or trust store is probed again) and member. Whether a member can be reached
// is never kept here: that is the session's dial's to find out. A member whose TLS handshake later
// fails (another server on its port, a certificate the trust store no longer accepts) is forgotten
// and probed again.
package probed

import (
	"sync"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/version"
)

type key struct {
	tls    *zktls.Client
	gen    uint64
	member string
}

// maxEntries bounds the table: a process that loads ever new TLS clients (each kept alive by its
// entries) starts it afresh when it is full.
const maxEntries = 1024

var table = struct {
	mu sync.Mutex
	m  map[key]version.Member
}{m: map[key]version.Member{}}

// Remember keeps what a probe of det.Addr with cl found, if it found a TLS port (nothing else is
// worth keeping: a plaintext answer is refused, and is probed again to say so).
func Remember(cl *zktls.Client, det version.Member) {
	if det.Mode != version.TLS {
		return
	}
	table.mu.Lock()
	defer table.mu.Unlock()
	if len(table.m) >= maxEntries {
		clear(table.m)
	}
	table.m[key{cl, cl.Generation(), det.Addr}] = det
}

// Recall returns what a probe of member with cl, in cl's current generation, found.
func Recall(cl *zktls.Client, member string) (version.Member, bool) {
	table.mu.Lock()
	defer table.mu.Unlock()
	det, ok := table.m[key{cl, cl.Generation(), member}]
	return det, ok
}

// Forget drops what is known about member with cl, in every generation.
func Forget(cl *zktls.Client, member string) {
	table.mu.Lock()
	defer table.mu.Unlock()
	for k := range table.m {
		if k.tls == cl && k.member == member {
			delete(table.m, k)
		}
	}
}
