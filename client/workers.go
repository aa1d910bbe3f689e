package client

import "sync/atomic"

// maxWorkers bounds the goroutines a client keeps for its calls; calls beyond it get a goroutine
// of their own.
const maxWorkers = 8

// workers run go-zookeeper's calls for do on goroutines that outlive one call: a new goroutine
// starts with a small stack, which go-zookeeper's deep request path makes grow (a copy) on every
// call; a kept goroutine grows it once. Its zero value is not usable; see newWorkers.
type workers struct {
	jobs chan func()
	done <-chan struct{}
	n    atomic.Int32
}

func newWorkers(done <-chan struct{}) *workers { return &workers{jobs: make(chan func()), done: done} }

// run runs f on an idle worker, a new worker, or (beyond maxWorkers) a goroutine of its own.
func (w *workers) run(f func()) {
	select {
	case w.jobs <- f:
		return
	default:
	}
	if w.n.Add(1) <= maxWorkers {
		go w.loop(f)
		return
	}
	w.n.Add(-1)
	go f()
}

// loop runs f, then every call handed to it, until the client closes.
func (w *workers) loop(f func()) {
	defer w.n.Add(-1)
	for {
		f()
		select {
		case f = <-w.jobs:
		case <-w.done:
			return
		}
	}
}
