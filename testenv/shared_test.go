package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zksecure/zksecure/testenv"
)

// runFunc is a testing.M stand-in: Run calls the function and returns its exit code.
type runFunc func() int

func (f runFunc) Run() int { return f() }

// recordingTB is a testenv.TB that records a Fatal instead of ending the goroutine.
type recordingTB struct {
	testing.TB // only for the methods Require does not call
	mu         sync.Mutex
	fatal      string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fatal = fmt.Sprintf(format, args...)
}

// A Shared sets up nothing until a test requires it; then exactly once, however many tests ask at
// the same time; a failed setup fails every test that requires it, with the setup's error; Run
// removes Dir after the tests.
func TestSharedSetsUpLazilyOnce(t *testing.T) {
	testenv.Require(t) // Require checks the dependencies before setup runs
	var calls atomic.Int32
	idle := testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		calls.Add(1)
		return nil
	})
	if code := idle.Run(runFunc(func() int { return 0 })); code != 0 || calls.Load() != 0 || idle.Dir != "" {
		t.Fatalf("no test required it, yet: exit %d, %d setups, Dir %q", code, calls.Load(), idle.Dir)
	}

	boom := errors.New("boom")
	var dir string
	failing := testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		calls.Add(1)
		dir = s.Dir
		if st, err := os.Stat(s.Dir); err != nil || !st.IsDir() {
			return fmt.Errorf("s.Dir %q not made before setup: %w", s.Dir, err)
		}
		return boom
	})
	tbs := make([]*recordingTB, 8)
	failing.Run(runFunc(func() int {
		var wg sync.WaitGroup
		for i := range tbs {
			tbs[i] = &recordingTB{TB: t}
			wg.Add(1)
			go func() {
				defer wg.Done()
				failing.Require(tbs[i])
			}()
		}
		wg.Wait()
		return 0
	}))
	if n := calls.Load(); n != 1 {
		t.Errorf("%d setups for 8 concurrent Require calls, want 1", n)
	}
	for i, tb := range tbs {
		if tb.fatal != "test environment: "+boom.Error() {
			t.Errorf("Require %d: Fatal %q, want the setup's error", i, tb.fatal)
		}
	}
	if dir == "" {
		t.Fatal("setup saw no Dir")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dir %s still there after Run: %v", dir, err)
	}
}
