// Package election is leader election and leader retrieval on a client.Client, with the same API
// whether the client is secured (Kerberos, TLS) or open, compatible with the znode layout of Curator's
// LeaderLatch and of Flink's JobManager high availability:
//
//	<namespace>/leader/latch/_c_<uuid>-latch-<seq>             contenders (EPHEMERAL_SEQUENTIAL)
//	<namespace>/leader/<component>/connection_info            the leader's address and session id
//
// The contender with the lowest sequence number leads; every other contender watches only its
// predecessor, so a leadership change wakes exactly one contender. Nodes are created with the
// client's ACL provider, and nothing ZooKeeper 3.4 lacks (create2, TTL or container nodes) is used.
//
// # Connection policy
//
// By default a Suspended connection revokes leadership at once: the leader cannot know whether its
// session — and so its latch node — still exists, and another contender may already lead. With
// Options.TolerateSuspendedConnections (Flink's
// high-availability.zookeeper.client.tolerate-suspended-connections) only Lost revokes it: fewer
// failovers on short network blips, at the price of a window, up to the session timeout, in which two
// processes may both believe they lead. Choose tolerance only when the work a leader does is safe to
// run twice for that long (or is fenced by the leader session id).
package election
