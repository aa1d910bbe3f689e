package hastate

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Flink's node names within <root>/<cluster-id> (ZooKeeperUtils, Flink 1.15+): the leader latch
// and the leader records, the job graphs (high-availability.zookeeper.path.jobgraphs), and per job
// the completed checkpoints and the checkpoint id counter.
//
//	leader/latch/_c_<uuid>-latch-<seq>        EPHEMERAL_SEQUENTIAL, one per contending JobManager
//	leader/<component>/connection_info        EPHEMERAL, the leader record (address, leader session id)
//	jobgraphs/<job-id>                        a pointer to the job graph in high-availability.storageDir
//	jobs/<job-id>/checkpoints/<checkpoint-id> a pointer to a completed checkpoint
//	jobs/<job-id>/checkpoint_id_counter       a Curator SharedCount: the next checkpoint id
const (
	LeaderNode              = "leader"
	LatchNode               = "latch"
	ConnectionInfoNode      = "connection_info"
	JobGraphsNode           = "jobgraphs"
	JobsNode                = "jobs"
	CheckpointsNode         = "checkpoints"
	CheckpointIDCounterNode = "checkpoint_id_counter"
	// LockName is what the LeaderLatch puts before a contender's sequence number.
	LockName = "latch-"
)

// ErrCounter is returned for bytes that are not a Curator SharedCount.
var ErrCounter = fmt.Errorf("%w: not a checkpoint_id_counter (Curator SharedCount)", ErrHAState)

// DecodeCheckpointIDCounter reads a checkpoint_id_counter node: Curator's SharedCount stores its
// value as a 4-byte big-endian int (Flink's ZooKeeperCheckpointIDCounter keeps the next checkpoint
// id in it).
func DecodeCheckpointIDCounter(b []byte) (int32, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%w: %d bytes, want 4", ErrCounter, len(b))
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// latchSortKey is what orders a latch's contenders (Curator's standardFixForSorting): what follows
// the last "latch-".
func latchSortKey(name string) string {
	if i := strings.LastIndex(name, LockName); i >= 0 {
		return name[i+len(LockName):]
	}
	return name
}

// SessionID formats a ZooKeeper session id as the servers log it ("0x1000a2b3c4d0001").
func SessionID(id int64) string { return fmt.Sprintf("0x%x", uint64(id)) }
