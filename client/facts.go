package client

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/version"
)

// A transport probe (version.Detect: a TLS handshake and srvr) costs a ZooKeeper server more CPU
// than the session's own resumed handshake, and every Connect with TLS used to probe every member.
// What a probe finds about a member that answered fully — it speaks TLS with this TLS client, and
// its version — does not change while the member runs, so it is kept per process, by TLS client,
// the generation of its files (zktls.Client.Generation: a reloaded certificate or trust store is
// probed again) and member. Whether the member can be reached is never taken from here: the
// session's dial finds out for the members it tries, and Client.Members opens a TCP connection to
// each (not Connect: a ZooKeeper TLS port logs an error for a connection that closes without a
// handshake). A member whose TLS handshake later fails (another server on its
// port, a certificate the trust store no longer accepts) is forgotten, and probed again by the
// next Connect.

type factKey struct {
	tls    *zktls.Client
	gen    uint64
	member string
}

type fact struct {
	mode    version.PortMode
	version version.Version
}

// maxFacts bounds the table: a process that loads ever new TLS clients (each kept alive by its
// entries) starts it afresh when it is full.
const maxFacts = 1024

var facts = struct {
	mu sync.Mutex
	m  map[factKey]fact
}{m: map[factKey]fact{}}

func recallFact(k factKey) (fact, bool) {
	facts.mu.Lock()
	defer facts.mu.Unlock()
	f, ok := facts.m[k]
	return f, ok
}

func rememberFact(k factKey, f fact) {
	facts.mu.Lock()
	defer facts.mu.Unlock()
	if len(facts.m) >= maxFacts {
		clear(facts.m)
	}
	facts.m[k] = f
}

// forgetFacts drops what is known about member with cl, in every generation.
func forgetFacts(cl *zktls.Client, member string) {
	facts.mu.Lock()
	defer facts.mu.Unlock()
	for k := range facts.m {
		if k.tls == cl && k.member == member {
			delete(facts.m, k)
		}
	}
}

// reach opens a TCP connection to member and closes it at once: whether the member can be
// reached now, which a fact does not say. The error is version.Detect's for an unreachable member.
// A ZooKeeper TLS port logs the connection as an unsuccessful handshake.
func reach(ctx context.Context, member string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second) // version.Detect's bound
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", member)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", version.ErrUnreachable, member, err)
	}
	conn.Close()
	return nil
}
