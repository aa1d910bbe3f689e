package monitor

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// The exporter's own metrics on /metrics, under the names and meanings client_golang's Go and
// process collectors give them (dashboards for Go exporters read these). The process_* ones come
// from /proc and are absent where it cannot be read.
var (
	descGoroutines = newDesc("go_goroutines", "Number of goroutines that currently exist.", nil)
	descGoInfo     = newDesc("go_info", "Information about the Go environment.", []string{"version"})
	descHeapAlloc  = newDesc("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use.", nil)
	descGoSys      = newDesc("go_memstats_sys_bytes", "Number of bytes obtained from system.", nil)
	descGCs        = &desc{name: "go_memstats_gc_completed_total", help: "Number of completed GC cycles.", typ: counterType}
	descCPU        = &desc{name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", typ: counterType}
	descRSS        = newDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil)
	descVSZ        = newDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", nil)
	descOpenFDs    = newDesc("process_open_fds", "Number of open file descriptors.", nil)
	descMaxFDs     = newDesc("process_max_fds", "Maximum number of open file descriptors.", nil)
	descStart      = newDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", nil)
)

// userHZ is the kernel's clock tick for /proc times: 100 on every Linux architecture Go supports.
const userHZ = 100

// addSelf adds the exporter's own metrics to f.
func addSelf(f *families) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	f.add(descGoroutines, float64(runtime.NumGoroutine()))
	f.add(descGoInfo, 1, runtime.Version())
	f.add(descHeapAlloc, float64(ms.HeapAlloc))
	f.add(descGoSys, float64(ms.Sys))
	f.add(descGCs, float64(ms.NumGC))

	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return
	}
	// The command may hold spaces: the fields after it start past the last ')'; field 3 (state)
	// is fs[0].
	fs := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fs) < 22 {
		return
	}
	num := func(i int) float64 {
		v, _ := strconv.ParseFloat(fs[i], 64)
		return v
	}
	f.add(descCPU, (num(11)+num(12))/userHZ)          // utime, stime
	f.add(descVSZ, num(20))                           // vsize
	f.add(descRSS, num(21)*float64(os.Getpagesize())) // rss, pages
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		f.add(descOpenFDs, float64(len(fds)))
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		f.add(descMaxFDs, float64(lim.Cur))
	}
	if bt := bootTime(); bt > 0 {
		f.add(descStart, bt+num(19)/userHZ) // starttime, ticks since boot
	}
}

// bootTime is the system's boot time in Unix seconds (/proc/stat's btime), or 0.
func bootTime() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			t, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return t
		}
	}
	return 0
}
