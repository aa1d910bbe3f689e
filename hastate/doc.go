// Package hastate inspects, secures and cleans the high-availability state Flink (and this
// project's election) keep in ZooKeeper under <path.root>/<cluster-id>:
//
//   - Inventory lists, per cluster under the root, the leader latch (contenders, their sessions,
//     who leads), the leader records (address, leader session id, owning session), the job graphs,
//     each job's completed checkpoints and checkpoint_id_counter, the owners and an ACL summary.
//     Only what can be verified is decoded — the leader record (election.DecodeLeaderRecord) and
//     the counter (a Curator SharedCount); everything else is listed by name and size.
//   - PlanMigration and MigrationPlan.Apply replace the ACLs of an existing HA tree by creator-only
//     (or explicit) ACLs, top-down, idempotently (nodes that already carry the new ACL are left
//     alone, so an interrupted run is finished by running it again), refusing a target ACL that
//     would lock out the identity running it or a JobManager principal.
//   - PlanCleanup and CleanupPlan.Apply delete one cluster's nodes bottom-up, refusing while any
//     session that owns a node of it (a latch contender, a leader record, a lock) is alive.
//
// Everything works on absolute paths through Conn, which the *zk.Conn of an authenticated
// client.Client (its Conn method) satisfies, so that the tools can see the root above a client's
// namespace. Nothing here prints a secret: node data is decoded only for the leader record and the
// counter, and otherwise reported by size.
package hastate
