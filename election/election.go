package election

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/client"
)

// Layout constants shared with Curator's LeaderLatch and Flink.
const (
	// DefaultLatchPath is Flink's latch path within the cluster namespace.
	DefaultLatchPath = "/leader/latch"
	// LockName is the node name prefix LeaderLatch uses before the sequence number.
	LockName = "latch-"
	// ProtectedPrefix starts the protection id Curator puts in front of the node name.
	ProtectedPrefix = "_c_"
)

var (
	// ErrNoLeader: no contender (or no published leader).
	ErrNoLeader = errors.New("election: no leader")
	// ErrResigned: leadership ended by Resign.
	ErrResigned = errors.New("election: resigned")
	// ErrSuspended: leadership revoked because the connection was suspended (default policy).
	ErrSuspended = errors.New("election: connection suspended; leadership revoked")
	// ErrSessionLost: the session (and with it the latch node) is gone.
	ErrSessionLost = errors.New("election: session lost")
	// ErrNodeDeleted: the latch node was deleted by someone else.
	ErrNodeDeleted = errors.New("election: latch node deleted")
	// ErrNotLeader: Publish after leadership ended.
	ErrNotLeader = errors.New("election: not the leader")
	// ErrInvalidComponent: a component name that is not one path segment (or is "latch"), returned
	// at once by Publish, ReadLeader and ObserveLeader.
	ErrInvalidComponent = errors.New("election: invalid component")
)

// Options configures New. The zero value uses DefaultLatchPath and the default connection policy
// (a Suspended connection revokes leadership).
type Options struct {
	// LatchPath is the latch's path within the client's namespace; empty means DefaultLatchPath.
	LatchPath string
	// TolerateSuspendedConnections is Flink's
	// high-availability.zookeeper.client.tolerate-suspended-connections (flinkconf.Result.Election
	// carries it from a Flink configuration). False (the default): a Suspended connection revokes
	// leadership at once. True: only Lost does.
	//
	// Warning: with true, for up to the session timeout after a partition two processes may both
	// believe they lead (see "Connection policy" in the package documentation).
	TolerateSuspendedConnections bool
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Election is one latch path on one client. It is safe for concurrent use; several campaigns may run
// on one client (each its own contender node).
type Election struct {
	c        *client.Client
	latch    string
	tolerate bool
	log      *slog.Logger

	watchEvents atomic.Uint64 // watch events received; read by the benchmarks (export_test.go)
	quickLeads  atomic.Uint64 // campaigns that led on a notification alone, without a read (export_test.go)
}

// New returns an election on the latch path of opts within c's namespace.
func New(c *client.Client, opts Options) (*Election, error) {
	latch := opts.LatchPath
	if latch == "" {
		latch = DefaultLatchPath
	}
	if !strings.HasPrefix(latch, "/") || latch == "/" || path.Clean(latch) != latch {
		return nil, fmt.Errorf("election: latch path %q must be a clean absolute path below the namespace root", latch)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Election{c: c, latch: latch, tolerate: opts.TolerateSuspendedConnections,
		log: log.With("component", "zksecure/election", "latch", c.Namespace()+latch)}, nil
}

// retryPause is how long a loop waits after a failed request before it tries again, unless the
// request failed because the connection was lost (see pause).
const retryPause = 100 * time.Millisecond

// pause waits after a failed request before it is tried again; false when ctx or the client ended.
// After a connection loss it waits for the connection to come back and returns on the Reconnected,
// not after a fixed time (while the client still reports Connected, the loss not yet told, it waits
// for the next state event, at most retryPause). After other errors it waits retryPause.
func pause(ctx context.Context, c *client.Client, err error) bool {
	var states <-chan client.Event
	if connectionLoss(err) {
		st, cancel := c.States()
		defer cancel()
		states = st
	}
	t := time.NewTimer(retryPause)
	defer t.Stop()
	timeout, first := t.C, true
	for {
		select {
		case ev, ok := <-states:
			if !ok {
				return false
			}
			was := first
			first = false
			switch {
			case isConnected(ev.State) && !was:
				return true // back
			case !isConnected(ev.State):
				timeout = nil // down: wait for the connection, however long it takes
			}
		case <-timeout:
			return true
		case <-ctx.Done():
			return false
		case <-c.Done():
			return false
		}
	}
}

// connectionLoss reports whether err is go-zookeeper's report that the connection went away (or
// that no member could be reached) before the request was answered.
func connectionLoss(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer)
}

func (e *Election) closedErr() error {
	if err := e.c.Err(); err != nil {
		return err
	}
	return client.ErrClosed
}

// ended is the error of a wait cut short by ctx or by the client's end: the client's when it has
// closed (a lifetime context ends with it), else ctx's.
func (e *Election) ended(ctx context.Context) error {
	select {
	case <-e.c.Done():
		return e.closedErr()
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.closedErr()
}

// lifetime returns a context that ends when the client closes (or cancel is called): what work
// that must finish after its caller has gone is bounded by.
func (e *Election) lifetime() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-e.c.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func isConnected(s client.State) bool { return s == client.Connected || s == client.Reconnected }

// awaitConnected returns once the client is connected, or with an error when ctx ends or the client
// closes.
func (e *Election) awaitConnected(ctx context.Context) error {
	if isConnected(e.c.State()) {
		return nil
	}
	states, cancel := e.c.States()
	defer cancel()
	for {
		select {
		case ev, ok := <-states:
			if !ok {
				return e.closedErr()
			}
			if isConnected(ev.State) {
				return nil
			}
			if ev.State == client.AuthFailed {
				return errors.Join(ev.Err, e.closedErr())
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// retry runs op once the client is connected, and again after a pause while it fails with an error
// that leaves the outcome open, until op succeeds, the server refuses (see refused), ctx ends or the
// client closes.
func (e *Election) retry(ctx context.Context, op func() error) error {
	for {
		if err := e.awaitConnected(ctx); err != nil {
			return err
		}
		err := op()
		if err == nil || refused(err) || ctx.Err() != nil {
			return err
		}
		if !pause(ctx, e.c, err) {
			return e.ended(ctx)
		}
	}
}

// refused reports whether err is a server's answer that proves a write was not applied. Connection
// loss, timeouts and cancellations leave the outcome unknown.
func refused(err error) bool {
	for _, r := range []error{zk.ErrNoNode, zk.ErrNoAuth, zk.ErrBadVersion, zk.ErrNodeExists, zk.ErrNotEmpty,
		zk.ErrInvalidACL, zk.ErrBadArguments, zk.ErrNoChildrenForEphemerals, zk.ErrInvalidPath, zk.ErrInvalidFlags,
		zk.ErrAuthFailed, client.ErrPath} {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}
