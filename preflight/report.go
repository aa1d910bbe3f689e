package preflight

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Status of one check.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is the outcome of one check, for one member or (Member "") for the whole configuration.
type Result struct {
	Name    string `json:"name"`
	Member  string `json:"member"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Fix is one sentence saying what to do; set for every warn and fail.
	Fix string `json:"fix"`
}

// Summary counts results by status.
type Summary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// Report is the outcome of a run, in check order.
type Report struct {
	Checks  []Result `json:"checks"`
	Summary Summary  `json:"summary"`
	// Header describes what was checked (printed in text output, not part of the JSON contract).
	Header string `json:"-"`
}

func (r *Report) add(res Result) {
	r.Checks = append(r.Checks, res)
	switch res.Status {
	case Pass:
		r.Summary.Pass++
	case Warn:
		r.Summary.Warn++
	case Fail:
		r.Summary.Fail++
	case Skip:
		r.Summary.Skip++
	}
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

// WriteJSON writes the report as {"checks":[...],"summary":{...}}.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes one line per check, "[STATUS name member] message", with the fix on the next line
// for warnings and failures, then the summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Header != "" {
		b.WriteString(r.Header)
		b.WriteString("\n\n")
	}
	for _, c := range r.Checks {
		tag := strings.ToUpper(string(c.Status))
		if c.Member != "" {
			fmt.Fprintf(&b, "[%s %s %s] %s\n", tag, c.Name, c.Member, c.Message)
		} else {
			fmt.Fprintf(&b, "[%s %s] %s\n", tag, c.Name, c.Message)
		}
		if c.Fix != "" && (c.Status == Fail || c.Status == Warn) {
			fmt.Fprintf(&b, "       fix: %s\n", c.Fix)
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "\n%d passed, %d warnings, %d failed, %d skipped\n", s.Pass, s.Warn, s.Fail, s.Skip)
	_, err := io.WriteString(w, b.String())
	return err
}
