package client

import (
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// Calls in flight beyond maxWorkers still run (on goroutines of their own), an idle worker takes
// the next call, and every worker ends once the client is done. No server is needed.
func TestWorkersRunEveryCallAndEndWithTheClient(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	done := make(chan struct{})
	w := newWorkers(done)
	const inFlight = 3 * maxWorkers
	release := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(inFlight)
	finished.Add(inFlight)
	for range inFlight {
		w.run(testJob(func() {
			started.Done()
			<-release
			finished.Done()
		}))
	}
	started.Wait() // all of them at once: none waits for a worker
	close(release)
	finished.Wait()
	if n := w.n.Load(); n > maxWorkers {
		t.Fatalf("%d workers, want at most %d", n, maxWorkers)
	}
	for range 100 { // sequential calls reuse the idle workers
		j := testJob(func() {})
		w.run(j)
		<-j.done
	}
	if n := w.n.Load(); n > maxWorkers {
		t.Fatalf("%d workers after sequential calls, want at most %d", n, maxWorkers)
	}
	close(done)
	if err := goleak.Find(ignore); err != nil {
		t.Fatalf("workers left after the client closed: %v", err)
	}
}

// testJob is a job whose call is f.
func testJob(f func()) *job {
	return &job{call: func(*job) { f() }, done: make(chan struct{}, 1)}
}
