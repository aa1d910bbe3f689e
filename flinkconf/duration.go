package flinkconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond, "nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
	"µs": time.Microsecond, "us": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond, "microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond, "millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
}

// ParseDuration reads a Flink duration: a whole number, optionally followed (with or without spaces)
// by a unit as Flink's TimeUtils accepts ("60000", "60 s", "1min", "500 ms"). No unit means
// milliseconds, as for Flink's millisecond-typed options.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q does not start with a number", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	unit := strings.ToLower(strings.TrimLeftFunc(t[i:], unicode.IsSpace))
	if unit == "" {
		return time.Duration(n) * time.Millisecond, nil
	}
	u, ok := durationUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%q: unknown time unit %q (ms, s, min, h, d, ...)", s, unit)
	}
	if n > int64(1<<62)/int64(u) {
		return 0, fmt.Errorf("%q overflows", s)
	}
	return time.Duration(n) * u, nil
}
