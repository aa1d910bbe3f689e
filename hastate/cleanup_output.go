package hastate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the plan as {"path","nodes":[...],"live":[...],"refused","summary":{...}}.
func (p *CleanupPlan) WriteJSON(w io.Writer) error {
	out := struct {
		*CleanupPlan
		Summary struct {
			Nodes int `json:"nodes"`
			Live  int `json:"live"`
		} `json:"summary"`
	}{CleanupPlan: p}
	out.Summary.Nodes, out.Summary.Live = len(p.Nodes), len(p.Live)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteText writes the plan: the nodes that would be deleted, deepest first; or, refused, the
// nodes of live sessions and why.
func (p *CleanupPlan) WriteText(w io.Writer) error {
	var b strings.Builder
	if len(p.Nodes) == 0 {
		fmt.Fprintf(&b, "cleanup of %s: nothing there\n", p.Path)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if p.Refused != "" {
		fmt.Fprintf(&b, "cleanup of %s (%d node(s)): refused\n", p.Path, len(p.Nodes))
		for _, n := range p.Live {
			fmt.Fprintf(&b, "  live: %s  (ephemeral of session %s)\n", n.Path, n.Owner)
		}
		fmt.Fprintf(&b, "refused: %s\n", p.Refused)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "cleanup of %s: %d node(s), deepest first\n", p.Path, len(p.Nodes))
	for _, n := range p.Nodes {
		owner := ""
		if n.Owner != "" {
			owner = ", ephemeral of session " + n.Owner
		}
		fmt.Fprintf(&b, "  %s  (%d bytes%s)\n", n.Path, n.Size, owner)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
