// Package hostprovider is a zk.HostProvider that keeps the ensemble members exactly as the connect
// string names them. go-zookeeper/zk's default provider resolves names to IP addresses before
// dialing, which loses what Kerberos (the service principal zookeeper/<host>) and TLS (the server
// name to verify) need.
package hostprovider

import (
	"errors"
	"sync"
)

// Static cycles through the members in the order given to Init. Its zero value is ready for Init.
type Static struct {
	mu      sync.Mutex
	servers []string
	cur     int // index of the member last returned by Next
	last    int // index of the member last connected to; -1 before the first connection
}

// Init stores the members ("host:port").
func (s *Static) Init(servers []string) error {
	if len(servers) == 0 {
		return errors.New("hostprovider: no servers")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers = append([]string(nil), servers...)
	s.cur, s.last = -1, -1
	return nil
}

// Len returns the number of members.
func (s *Static) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.servers)
}

// Next returns the next member; retryStart is true when every member has been tried since the last
// successful connection (go-zookeeper then pauses a second before going round again).
func (s *Static) Next() (server string, retryStart bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = (s.cur + 1) % len(s.servers)
	retryStart = s.cur == s.last
	if s.last == -1 {
		s.last = 0
	}
	return s.servers[s.cur], retryStart
}

// Connected records that the member last returned by Next is connected.
func (s *Static) Connected() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = s.cur
}
