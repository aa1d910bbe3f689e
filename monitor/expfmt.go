package monitor

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The metrics are written in the Prometheus text exposition format, version 0.0.4 — what every
// Prometheus server and node_exporter's textfile collector read — by the few lines below rather
// than by github.com/prometheus/client_golang: the exporter has a handful of gauges computed at
// scrape time from a snapshot, and linking client_golang (its registry, protobuf, the Go and process
// collectors, all set up at package init) took every zk-secure-check run, --watch or not, from
// ≈13 to ≈20 MiB of resident memory.

// contentType is the text format's media type, as Prometheus asks for it.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// Gatherer writes a set of metrics in the Prometheus text format; Monitor.Gatherer returns the
// zksecure_* ones.
type Gatherer interface {
	WriteMetrics(w io.Writer) error
}

// metricType is a family's # TYPE.
type metricType string

const (
	gaugeType   metricType = "gauge"
	counterType metricType = "counter"
)

// desc describes one metric family: its name, help, type and label names (in the order their
// values are given, which is also the order they are written in).
type desc struct {
	name, help string
	typ        metricType
	labels     []string
}

func newDesc(name, help string, labels []string) *desc {
	return &desc{name: name, help: help, typ: gaugeType, labels: labels}
}

// sample is one series of a family.
type sample struct {
	d      *desc
	value  float64
	labels []string // values, in d.labels' order
}

// families keeps samples grouped by family, in the order the families first appear: the text
// format wants every family's series together, under one # HELP and # TYPE.
type families struct {
	order []*desc
	by    map[*desc][]sample
}

func (f *families) add(d *desc, v float64, labels ...string) {
	if f.by == nil {
		f.by = map[*desc][]sample{}
	}
	if _, ok := f.by[d]; !ok {
		f.order = append(f.order, d)
	}
	f.by[d] = append(f.by[d], sample{d: d, value: v, labels: labels})
}

// write writes every family: # HELP, # TYPE, then its series.
func (f *families) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, d := range f.order {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", d.name, escapeHelp(d.help), d.name, d.typ)
		for _, s := range f.by[d] {
			bw.WriteString(d.name)
			if len(d.labels) > 0 {
				bw.WriteByte('{')
				for i, l := range d.labels {
					if i > 0 {
						bw.WriteByte(',')
					}
					v := ""
					if i < len(s.labels) {
						v = s.labels[i]
					}
					fmt.Fprintf(bw, "%s=\"%s\"", l, escapeLabel(v))
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			bw.WriteString(formatValue(s.value))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

// formatValue writes v as the text format wants it: Go's shortest float, +Inf, -Inf or NaN.
func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteTextfile writes g's metrics to path in the text format, atomically (a temporary file in the
// same folder renamed into place), as node_exporter's textfile collector wants them (path ending in
// .prom).
func WriteTextfile(path string, g Gatherer) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("monitor: writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing left to remove
	if err := g.WriteMetrics(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("monitor: writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("monitor: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("monitor: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("monitor: writing %s: %w", path, err)
	}
	return nil
}
