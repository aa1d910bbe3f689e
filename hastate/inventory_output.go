package hastate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the inventory as {"root":...,"clusters":[...]}.
func (inv *Inventory) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(inv)
}

// WriteText writes the inventory for a person: per cluster its latches, leader records, job graphs,
// jobs, other nodes, ACLs and owners.
func (inv *Inventory) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "HA root %s: %d cluster(s)\n", inv.Root, len(inv.Clusters))
	for _, cl := range inv.Clusters {
		fmt.Fprintf(&b, "\ncluster %s (%s): %d nodes\n", cl.ID, cl.Path, cl.Nodes)
		if len(cl.Latches) == 0 {
			b.WriteString("  latch: no contenders\n")
		}
		for _, l := range cl.Latches {
			fmt.Fprintf(&b, "  latch %s: %d contender(s), %d live session(s)\n", l.Path, len(l.Contenders), l.LiveSessions)
			for _, c := range l.Contenders {
				tag := "      "
				if c.Leads {
					tag = "leads "
				}
				fmt.Fprintf(&b, "    %s %s  session %s  %d bytes\n", tag, c.Node, c.Owner, c.Size)
			}
		}
		if len(cl.Leaders) == 0 {
			b.WriteString("  leader records: none\n")
		}
		for _, r := range cl.Leaders {
			owner := "persistent node, no owning session"
			if r.Owner != "" {
				owner = "owner " + r.Owner + " alive"
				if r.OwnerLeads {
					owner += ", holds the latch"
				} else {
					owner += ", does NOT hold a latch (stale record?)"
				}
			}
			if r.Error != "" {
				fmt.Fprintf(&b, "  leader %s: undecodable (%s); %s\n", r.Component, r.Error, owner)
			} else {
				fmt.Fprintf(&b, "  leader %s: %s, leader session %s; %s\n", r.Component, r.Address, r.LeaderSessionID, owner)
			}
		}
		fmt.Fprintf(&b, "  job graphs: %d\n", len(cl.JobGraphs))
		for _, g := range cl.JobGraphs {
			fmt.Fprintf(&b, "    %s  %d bytes, %d node(s) below\n", g.Name, g.Size, g.Descendants)
		}
		fmt.Fprintf(&b, "  jobs: %d\n", len(cl.Jobs))
		for _, j := range cl.Jobs {
			counter := "no checkpoint_id_counter"
			switch {
			case j.CheckpointIDCounter != nil:
				counter = fmt.Sprintf("checkpoint_id_counter %d", *j.CheckpointIDCounter)
			case j.CounterError != "":
				counter = "checkpoint_id_counter undecodable: " + j.CounterError
			}
			var cps []string
			for _, c := range j.Checkpoints {
				cps = append(cps, fmt.Sprintf("%s %d bytes", c.Name, c.Size))
			}
			cpText := "no checkpoints"
			if len(cps) > 0 {
				cpText = fmt.Sprintf("%d checkpoint(s) (%s)", len(cps), strings.Join(cps, ", "))
			}
			fmt.Fprintf(&b, "    %s: %s; %s\n", j.ID, cpText, counter)
		}
		for _, o := range cl.Other {
			fmt.Fprintf(&b, "  other: %s  %d bytes, %d node(s) below\n", o.Name, o.Size, o.Descendants)
		}
		var acls []string
		for _, a := range cl.ACLs {
			acls = append(acls, fmt.Sprintf("%d node(s) %s", a.Nodes, a.ACL))
		}
		fmt.Fprintf(&b, "  ACLs: %s\n", strings.Join(acls, "; "))
		if len(cl.Owners) > 0 {
			var os []string
			for _, o := range cl.Owners {
				os = append(os, fmt.Sprintf("%s %d", o.Session, o.Nodes))
			}
			fmt.Fprintf(&b, "  ephemeral nodes by session: %s\n", strings.Join(os, ", "))
		}
		for _, u := range cl.Unreadable {
			fmt.Fprintf(&b, "  unreadable: %s: %s\n", u.Path, u.Error)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
