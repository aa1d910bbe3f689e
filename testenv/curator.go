package testenv

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// CuratorLatchCreator is CuratorLatch with Flink's high-availability.zookeeper.client.acl: creator:
// every node the Curator contenders create (the latch's parents and their own nodes) gets
// ZooDefs.Ids.CREATOR_ALL_ACL, as Flink's SecureAclProvider gives it. The peer must log in with
// SASL (JavaClientOptions.JAASFile) for the servers to accept that ACL.
func (c *JavaClient) CuratorLatchCreator(ctx context.Context, connect, namespace, latchPath string, n int, sessionTimeout time.Duration) error {
	_, err := c.Do(ctx, "latch-start", connect, strings.TrimPrefix(namespace, "/"), latchPath, strconv.Itoa(n),
		strconv.Itoa(int(sessionTimeout/time.Millisecond)), "creator")
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
