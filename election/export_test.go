package election

import "github.com/zksecure/zksecure/client"

// Test and benchmark hooks, for package election_test only.

// WatchNotifications counts the watch events this election's campaigns have received — one per
// leadership change that concerns them (a contender watches only its predecessor).
func (e *Election) WatchNotifications() uint64 { return e.watchEvents.Load() }

// QuickLeads counts the campaigns of this election that led on their predecessor's deletion
// notification alone, without reading the latch again.
func (e *Election) QuickLeads() uint64 { return e.quickLeads.Load() }

// Client returns the client the election runs on.
func (e *Election) Client() *client.Client { return e.c }
