package election

import (
	"context"
	"errors"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/client"
)

// watchRead reads something and sets a watch on it: it returns the value, a key that changes when
// the value does, and the channel the watch fires on.
type watchRead[T any] func(ctx context.Context) (v T, key string, watch <-chan zk.Event, err error)

// watchLoop is the one loop behind Observe, ObserveLeader and a leadership's watch on its own node.
// It sends the first value read on a channel it returns, then every value whose key differs from
// the last one sent, reading again each time the watch fires; after a failed read it pauses and
// tries again. The channel closes when ctx ends or the client closes.
func watchLoop[T any](ctx context.Context, c *client.Client, read watchRead[T]) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		last, first := "", true
		for ctx.Err() == nil {
			v, key, watch, err := read(ctx)
			if err != nil {
				if !pause(ctx, c, err) {
					return
				}
				continue
			}
			if first || key != last {
				first, last = false, key
				select {
				case out <- v:
				case <-ctx.Done():
					return
				case <-c.Done():
					return
				}
			}
			select {
			case <-watch:
			case <-ctx.Done():
				return
			case <-c.Done():
				return
			}
		}
	}()
	return out
}

// readOrAwait runs readW (a read of p that sets a watch); when p does not exist it sets an exists
// watch instead, which fires on p's creation, and returns the zero V with found false.
func readOrAwait[V any](ctx context.Context, c *client.Client, p string,
	readW func(context.Context, string) (V, *zk.Stat, <-chan zk.Event, error)) (v V, found bool, watch <-chan zk.Event, err error) {
	for {
		v, _, watch, err = readW(ctx, p)
		if !errors.Is(err, zk.ErrNoNode) {
			return v, err == nil, watch, err
		}
		ok, _, watch, err := c.ExistsW(ctx, p)
		if err == nil && ok {
			continue // created in between: read it
		}
		var zero V
		return zero, false, watch, err
	}
}
