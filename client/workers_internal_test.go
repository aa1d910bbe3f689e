package client

import (
	"context"
	"errors"
	"strconv"
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

// A call whose context ends while it runs returns the context's error at once; its job is never
// given back to the pool, so when the call finishes late its results and its signal land in that
// job alone, and the calls made meanwhile get their own results.
func TestAbandonedCallNeverSharesItsJob(t *testing.T) {
	done := make(chan struct{})
	defer close(done)
	c := &Client{workers: newWorkers(done), done: done}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var abandoned *job
	started, release, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { <-started; cancel() }()
	_, err := c.do(ctx, read, func(j *job) {
		abandoned = j
		close(started)
		<-release
		j.out.str = "late"
		close(finished)
	}, args{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("call whose context ended: %v, want %v", err, context.Canceled)
	}
	<-started
	others := func() {
		for i := range 200 {
			want := strconv.Itoa(i)
			r, err := c.do(context.Background(), read, func(j *job) {
				if j == abandoned {
					t.Error("the abandoned call's job was reused")
				}
				j.out.str = want
			}, args{})
			if err != nil || r.str != want {
				t.Fatalf("call %d: %q, %v", i, r.str, err)
			}
		}
	}
	others()
	close(release)
	<-finished
	<-abandoned.done // its late signal, in its own channel
	others()
}

// testJob is a job whose call is f.
func testJob(f func()) *job {
	return &job{call: func(*job) { f() }, done: make(chan struct{}, 1)}
}
