package hastate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the plan as {"root",...,"changes":[{"path","old","new"}],"summary":{...}}.
func (p *MigrationPlan) WriteJSON(w io.Writer) error {
	type summary struct {
		Change     int `json:"change"`
		Unchanged  int `json:"unchanged"`
		Unreadable int `json:"unreadable"`
	}
	out := struct {
		*MigrationPlan
		Summary summary `json:"summary"`
	}{p, summary{len(p.Changes), p.Unchanged, len(p.Unreadable)}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteText writes the plan, one line per node to change: path, old ACL → new ACL.
func (p *MigrationPlan) WriteText(w io.Writer) error {
	var b strings.Builder
	what := p.Path + " and everything below it"
	if p.Scope == ScopeCluster {
		what = p.Root + " (the node alone), " + what
	}
	fmt.Fprintf(&b, "ACL migration of %s\nnew ACL: %s\n", what, p.ACL)
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	width := 0
	for _, c := range p.Changes {
		width = max(width, len(c.Path))
	}
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "  %-*s  %s  →  %s\n", width, c.Path, c.Old, c.New)
	}
	for _, u := range p.Unreadable {
		fmt.Fprintf(&b, "  %s: cannot be migrated by this identity: %s\n", u.Path, u.Error)
	}
	fmt.Fprintf(&b, "%d node(s) to change, %d already carry the new ACL", len(p.Changes), p.Unchanged)
	if len(p.Unreadable) > 0 {
		fmt.Fprintf(&b, ", %d unreadable", len(p.Unreadable))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
