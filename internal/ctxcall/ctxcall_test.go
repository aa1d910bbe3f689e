package ctxcall

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives its tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The call's result comes back; an ended context returns at once without calling; a context that
// ends while the call blocks returns its error, and the call still finishes.
func TestValueHonoursTheContext(t *testing.T) {
	if v, err := Value(context.Background(), func() (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Errorf("background: %d, %v", v, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	boom := errors.New("boom")
	if err := Err(ctx, func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("cancellable, not cancelled: %v", err)
	}
	cancel()
	called := false
	if _, err := Value(ctx, func() (int, error) { called = true; return 1, nil }); !errors.Is(err, context.Canceled) || called {
		t.Errorf("ended context: err %v, called %v", err, called)
	}
	ctx, cancel = context.WithCancel(context.Background())
	release, finished := make(chan struct{}), make(chan struct{})
	v, err := Value(ctx, func() (int, error) {
		defer close(finished)
		cancel()
		<-release
		return 1, nil
	})
	if v != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while blocked: %d, %v", v, err)
	}
	close(release)
	<-finished
}
