package client

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/zksecure/zksecure/version"
)

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
