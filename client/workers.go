package client

import "sync/atomic"

// maxWorkers bounds the goroutines a client keeps for its calls; calls beyond it get a goroutine
// of their own.
const maxWorkers = 8

// workers run go-zookeeper's calls for do on goroutines that outlive one call: a new goroutine
// starts with a small stack, which go-zookeeper's deep request path makes grow (a copy) on every
// call; a kept goroutine grows it once. Its zero value is not usable; see newWorkers.
type workers struct {
	jobs chan *job
	done <-chan struct{}
	n    atomic.Int32
}

func newWorkers(done <-chan struct{}) *workers { return &workers{jobs: make(chan *job), done: done} }

// run runs j on an idle worker, a new worker, or (beyond maxWorkers) a goroutine of its own; j's
// done channel is signalled when it has run.
func (w *workers) run(j *job) {
	select {
	case w.jobs <- j:
		return
	default:
	}
	if w.n.Add(1) <= maxWorkers {
		go w.loop(j)
		return
	}
	w.n.Add(-1)
	go j.runAndSignal()
}

// loop runs j, then every job handed to it, until the client closes.
func (w *workers) loop(j *job) {
	defer w.n.Add(-1)
	for {
		j.runAndSignal()
		select {
		case j = <-w.jobs:
		case <-w.done:
			return
		}
	}
}
