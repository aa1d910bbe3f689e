package testenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPUTime is the CPU time (user + system) the member's server process has used so far, from
// /proc; 0 when it is not running or cannot be read. Benchmarks use it to show the servers' share
// of a measurement.
func (m *Member) CPUTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.PID()))
	if err != nil {
		return 0
	}
	// The command may hold spaces: the fields after it start past the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// LoadAverage is the machine's load average over 1, 5 and 15 minutes, as uptime prints it ("?"
// when unknown): benchmarks log it beside their figures, which a loaded machine distorts.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
