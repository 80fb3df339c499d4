package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/plan"
)

// explainRules tells where each rule group is evaluated and why, with its
// alert and recording counts per evaluator.
func explainRules(w io.Writer, p *plan.Plan) {
	r := p.Rules
	fmt.Fprintf(w, "Profile %s (cluster %s): the rules that need every series run on %s: %s.\n", p.Name, p.Cluster.Name, r.GlobalName(), r.Why)
	switch {
	case !r.Ruler():
		fmt.Fprintln(w, "Prometheus evaluates every rule.")
	case r.Local:
		fmt.Fprintf(w, "Each Prometheus server (every shard) evaluates the rules that read single series; the %s the rest, reading only cluster=%q.\n",
			r.GlobalName(), p.Cluster.Name)
	default:
		fmt.Fprintf(w, "The agent evaluates nothing; the %s evaluates every rule, reading only cluster=%q.\n", r.GlobalName(), p.Cluster.Name)
	}
	if p.Mesh.Istio {
		fmt.Fprintf(w, "A service's requests are those matching {%s}.\n", p.RequestMatchers())
	}
	placed := rules.Place(p, rules.Files(p))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\ngroup\tevaluator\talerts\trecordings")
	for _, side := range []struct {
		name  string
		files []rules.File
	}{{"prometheus", placed.Server}, {r.GlobalName(), placed.Ruler}} {
		for _, f := range side.files {
			for _, g := range f.Groups {
				alerts, records := 0, 0
				for _, rule := range g.Rules {
					if rule.Alert != "" {
						alerts++
					} else {
						records++
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", g.Name, side.name, alerts, records)
			}
		}
	}
	tw.Flush()
}
