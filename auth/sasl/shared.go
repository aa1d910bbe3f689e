package sasl

import (
	"sync"
	"time"
)

// SharedLinger is how long Shared keeps credentials that no one holds any more, so that a process
// that connects again soon (a new client, a restarted component) does not log in again.
const SharedLinger = 30 * time.Second

// shared holds the process-wide Authenticators of Shared, by configuration.
var shared = struct {
	mu sync.Mutex
	m  map[Config]*sharedEntry
}{m: map[Config]*sharedEntry{}}

type sharedEntry struct {
	a    *Authenticator
	refs int
	idle *time.Timer // closes a after SharedLinger without holders
}

// Shared returns the process-wide Authenticator for cfg, made with New by the first caller: every
// caller with an equal Config gets the same one, so a process logs in once and fetches each
// service ticket once, however many sessions it opens. client.Connect uses it when
// client.Config.Authenticator is not set. Authenticate each session with a Fork of it (a failure
// then latches only in that session's Fork), and call release when the session is closed; once no
// one holds it, it is closed after SharedLinger (or by CloseIdle). A Config with a Resolver is not
// shared: it gets an Authenticator of its own, closed by release.
func Shared(cfg Config) (a *Authenticator, release func(), err error) {
	if cfg.Resolver != nil { // an interface: it may not be comparable, and its identity is the caller's
		a, err := New(cfg)
		if err != nil {
			return nil, nil, err
		}
		return a, a.Close, nil
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	e := shared.m[cfg]
	if e == nil {
		a, err := New(cfg)
		if err != nil {
			return nil, nil, err
		}
		e = &sharedEntry{a: a}
		shared.m[cfg] = e
	}
	if e.idle != nil {
		e.idle.Stop()
		e.idle = nil
	}
	e.refs++
	var once sync.Once
	return e.a, func() { once.Do(func() { e.release(cfg) }) }, nil
}

func (e *sharedEntry) release(cfg Config) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if e.refs--; e.refs > 0 {
		return
	}
	e.idle = time.AfterFunc(SharedLinger, func() {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		if e.refs == 0 && shared.m[cfg] == e {
			delete(shared.m, cfg)
			e.a.Close()
		}
	})
}

// CloseIdle closes at once the shared Authenticators that no one holds (rather than after
// SharedLinger), ending their TGT renewal: for a program or a test that checks that no goroutine
// is left behind.
func CloseIdle() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for cfg, e := range shared.m {
		if e.refs == 0 {
			if e.idle != nil {
				e.idle.Stop()
			}
			delete(shared.m, cfg)
			e.a.Close()
		}
	}
}
