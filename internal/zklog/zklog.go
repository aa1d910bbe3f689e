// Package zklog adapts log/slog to go-zookeeper/zk's Printf-style Logger.
package zklog

import (
	"context"
	"fmt"
	"log/slog"
)

// Logger sends go-zookeeper's messages to a slog.Logger at Debug level, with the attribute
// component=go-zookeeper (they are many and mostly about reconnects, which zksecure reports itself).
type Logger struct{ L *slog.Logger }

// New returns a Logger for l (slog.Default() when nil).
func New(l *slog.Logger) Logger {
	if l == nil {
		l = slog.Default()
	}
	return Logger{L: l.With("component", "go-zookeeper")}
}

// Printf implements zk.Logger.
func (l Logger) Printf(format string, args ...any) {
	if l.L.Enabled(context.Background(), slog.LevelDebug) {
		l.L.Debug(fmt.Sprintf(format, args...))
	}
}
