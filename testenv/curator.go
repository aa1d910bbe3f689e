package testenv

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Curator in the Java peer: LeaderLatch contenders, their leadership history and the resign
// benchmark, for comparing zksecure's election with Curator's in the same run; and the SharedCount
// Flink keeps its checkpoint counter in.

// CuratorLatch starts n Curator LeaderLatch contenders in the Java peer, each with its own
// CuratorFramework session (namespace without leading slash, as Curator wants it).
func (c *JavaClient) CuratorLatch(ctx context.Context, connect, namespace, latchPath string, n int, sessionTimeout time.Duration) error {
	return c.latchStart(ctx, connect, namespace, latchPath, n, sessionTimeout)
}

// CuratorLatchCreator is CuratorLatch with Flink's high-availability.zookeeper.client.acl: creator:
// every node the Curator contenders create (the latch's parents and their own nodes) gets
// ZooDefs.Ids.CREATOR_ALL_ACL, as Flink's SecureAclProvider gives it. The peer must log in with
// SASL (JavaClientOptions.JAASFile) for the servers to accept that ACL.
func (c *JavaClient) CuratorLatchCreator(ctx context.Context, connect, namespace, latchPath string, n int, sessionTimeout time.Duration) error {
	return c.latchStart(ctx, connect, namespace, latchPath, n, sessionTimeout, "creator")
}

func (c *JavaClient) latchStart(ctx context.Context, connect, namespace, latchPath string, n int, sessionTimeout time.Duration, extra ...string) error {
	args := append([]string{"latch-start", connect, strings.TrimPrefix(namespace, "/"), latchPath, strconv.Itoa(n),
		strconv.Itoa(int(sessionTimeout / time.Millisecond))}, extra...)
	_, err := c.Do(ctx, args...)
	return err
}

// CuratorSetCounter sets a Curator SharedCount at path (within namespace) to n, as Flink's
// ZooKeeperCheckpointIDCounter keeps <cluster>/jobs/<job-id>/checkpoint_id_counter, from a
// CuratorFramework session of its own that is closed afterwards. creator gives the nodes it
// creates Flink's creator-only ACL.
func (c *JavaClient) CuratorSetCounter(ctx context.Context, connect, namespace, path string, n int, creator bool) error {
	args := []string{"counter-set", connect, strings.TrimPrefix(namespace, "/"), path, strconv.Itoa(n)}
	if creator {
		args = append(args, "creator")
	}
	_, err := c.Do(ctx, args...)
	return err
}

// doList runs a command whose answer is a comma-separated list (empty: none) and parses each item.
func doList[T any](ctx context.Context, c *JavaClient, parse func(string) (T, error), args ...string) ([]T, error) {
	out, err := c.Do(ctx, args...)
	if err != nil || out == "" {
		return nil, err
	}
	var items []T
	for _, s := range strings.Split(out, ",") {
		v, err := parse(s)
		if err != nil {
			return nil, fmt.Errorf("testenv: java peer: %s: %w", args[0], err)
		}
		items = append(items, v)
	}
	return items, nil
}

// CuratorLeaders returns the indexes of the Curator contenders that believe they lead.
func (c *JavaClient) CuratorLeaders(ctx context.Context) ([]int, error) {
	return doList(ctx, c, strconv.Atoi, "latch-leaders")
}

// CuratorBench closes the Curator leader rounds times and returns, per round, the time until another
// Curator contender's isLeader() fired, measured in the JVM.
func (c *JavaClient) CuratorBench(ctx context.Context, rounds int) ([]time.Duration, error) {
	return doList(ctx, c, func(s string) (time.Duration, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		return time.Duration(n), err
	}, "latch-bench", strconv.Itoa(rounds))
}

// LatchEvent is one leadership change of a Curator contender, timed in the JVM.
type LatchEvent struct {
	// Index is the contender (as in CuratorLatch); Leader whether it gained (true) or lost leadership.
	Index  int
	Leader bool
	At     time.Time
}

// CuratorHistory returns the Curator contenders' leadership changes since the last call, in order.
// A contender closed with CuratorClose or latch-close while leading gets a loss event too (Curator
// itself does not call notLeader on close).
func (c *JavaClient) CuratorHistory(ctx context.Context) ([]LatchEvent, error) {
	return doList(ctx, c, func(item string) (LatchEvent, error) {
		f := strings.Split(item, ":")
		if len(f) == 3 && (f[1] == "lead" || f[1] == "notlead") {
			i, err1 := strconv.Atoi(f[0])
			us, err2 := strconv.ParseInt(f[2], 10, 64)
			if err1 == nil && err2 == nil {
				return LatchEvent{Index: i, Leader: f[1] == "lead", At: time.UnixMicro(us)}, nil
			}
		}
		return LatchEvent{}, fmt.Errorf("bad latch history item %q", item)
	}, "latch-history")
}

// CuratorClose closes Curator contender i and its CuratorFramework (its ZooKeeper session ends), as a
// JobManager that shuts down cleanly does.
func (c *JavaClient) CuratorClose(ctx context.Context, i int) error {
	_, err := c.Do(ctx, "latch-curator-close", strconv.Itoa(i))
	return err
}
