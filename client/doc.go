// Package client gives a service one secured ZooKeeper session for high availability, the way a
// Flink JobManager uses it: Connect negotiates the transport per ensemble member (TLS where it is
// configured and every member can do it, refusing downgrades and mixed ensembles), authenticates with
// Kerberos when configured, namespaces every path under <root>/<cluster-id>, creates that chain on
// first use with the ACL provider's ACLs, and reports connection states (Connected, Suspended,
// Reconnected, Lost, AuthFailed).
//
// An insecure client is the same code with Transport plaintext and SASL off: nothing else changes.
//
// Every operation takes a context. Reads are retried on connection loss (MaxRetryAttempts), each
// retry as soon as the client has a session again (at most RetryWait, doubled each time, after the
// failure), as Curator does; writes are not, because a lost reply leaves their outcome unknown — the
// caller decides.
package client
