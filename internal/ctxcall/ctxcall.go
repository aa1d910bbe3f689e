// Package ctxcall runs a blocking call that takes no context — a go-zookeeper request, a gokrb5
// exchange with the KDC — under a context: the caller gets the call's result, or the context's
// error as soon as the context ends.
package ctxcall

import (
	"context"
	"sync"
)

// Value runs f and returns its result, or ctx's error when ctx ends first; f then finishes in the
// background and its result is dropped. The result travels only through a channel, so nothing is
// shared with the caller after Value returns. A context that can never end runs f on the calling
// goroutine; one that has already ended returns its error without calling f.
func Value[T any](ctx context.Context, f func() (T, error)) (T, error) { return In(nil, ctx, f) }

// In is Value that counts f in wg while it runs on a goroutine of its own (when wg is not nil), so
// that the owner of what f uses can wait (wg.Wait) for calls abandoned by their callers before it
// frees it.
func In[T any](wg *sync.WaitGroup, ctx context.Context, f func() (T, error)) (T, error) {
	if ctx.Done() == nil {
		return f()
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		if wg != nil {
			defer wg.Done()
		}
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// ErrIn is In for a call that returns only an error.
func ErrIn(wg *sync.WaitGroup, ctx context.Context, f func() error) error {
	_, err := In(wg, ctx, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// Err is Value for a call that returns only an error.
func Err(ctx context.Context, f func() error) error { return ErrIn(nil, ctx, f) }
