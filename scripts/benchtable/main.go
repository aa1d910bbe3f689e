// Command benchtable prints the summary table of `make bench`: it reads the output of the go test
// -bench runs (files named as arguments, or standard input) and prints, for each figure of the
// issues' performance goals, zksecure's value, the Java client's / Curator's (or the baseline's) in
// the same run, their ratio with each run's ratio listed, and the goal — as a Markdown table, to
// be copied into README.md. A figure whose benchmark did not run shows "—". It is a development
// tool: `make bench` runs it; it reads no flags.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	var inputs []io.Reader
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	if len(inputs) == 0 {
		inputs = append(inputs, os.Stdin)
	}
	res := results{}
	for _, in := range inputs {
		if err := res.read(in); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
	write(os.Stdout, table, res)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(os.Stdout, "\nload average at the end (1, 5, 15 min): %s\n", strings.Join(strings.Fields(string(b))[:3], " "))
	}
}

// results holds every metric of every benchmark line read: package → benchmark → unit → values
// (one per run, in order).
type results map[string]map[string]map[string][]float64

// read adds the benchmark lines of r ("pkg: ..." names the package of the lines after it).
func (res results) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	pkg := ""
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		name, metrics, ok := parseLine(line)
		if !ok {
			continue
		}
		if res[pkg] == nil {
			res[pkg] = map[string]map[string][]float64{}
		}
		if res[pkg][name] == nil {
			res[pkg][name] = map[string][]float64{}
		}
		for unit, v := range metrics {
			res[pkg][name][unit] = append(res[pkg][name][unit], v)
		}
	}
	return sc.Err()
}

// parseLine reads "BenchmarkX/sub-2  N  v1 unit1  v2 unit2 ...", dropping the -GOMAXPROCS suffix.
func parseLine(line string) (string, map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return "", nil, false
	}
	if _, err := parseFloat(f[1]); err != nil {
		return "", nil, false
	}
	name := f[0]
	if i := strings.LastIndex(name, "-"); i > 0 && allDigits(name[i+1:]) {
		name = name[:i]
	}
	m := map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := parseFloat(f[i])
		if err != nil {
			return "", nil, false
		}
		m[f[i+1]] = v
	}
	return name, m, true
}

// values returns the runs of a metric, found by package path suffix.
func (res results) values(m metric) []float64 {
	if m.unit == "" {
		return nil
	}
	for pkg, benches := range res {
		if pkg == m.pkg || strings.HasSuffix(pkg, "/"+m.pkg) {
			if v := benches[m.bench][m.unit]; len(v) > 0 {
				return v
			}
		}
	}
	return nil
}
