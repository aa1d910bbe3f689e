// Package hatest holds zksecure's high-availability tests, soak and failover benchmarks: leader
// election under real faults — packets dropped by nftables, members frozen with SIGSTOP, killed,
// restarted one by one, the quorum taken away, the KDC stopped — inside a private network
// namespace with named hosts, with Go contenders in processes of their own and a Curator
// LeaderLatch as a peer. It has no API; see its tests.
package hatest
