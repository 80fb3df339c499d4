package rules

import (
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/prometheus/prometheus/promql/parser"

	"obsgen.dev/obsgen/internal/plan"
)

// JobDependents maps each scrape job of the plan to the alerts that read
// its metrics, directly or through recording rules, sorted; `up` (every
// job's) does not count. When a job's targets are down, these alerts see
// partial data: Alertmanager's TargetDown inhibition mutes them.
func JobDependents(p *plan.Plan, files []File) (map[string][]string, error) {
	jobsOf := map[string][]string{} // metric → jobs producing it
	for _, j := range p.Jobs {
		for _, m := range JobMetrics(j.Kind) {
			jobsOf[m] = append(jobsOf[m], j.Name)
		}
	}
	// Rules of one name share their shape (the per-service SLO groups, a
	// team's copy of an alert): the first of each name tells what it reads.
	reads := map[string][]string{}      // recording → metrics its expression reads
	alertReads := map[string][]string{} // alert → metrics its expression reads
	var alerts []string
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				name := r.Record + r.Alert
				if _, seen := reads[name]; seen && r.Record != "" {
					continue
				}
				if _, seen := alertReads[name]; seen && r.Alert != "" {
					continue
				}
				names, err := metricNames(r.Expr)
				if err != nil {
					return nil, err
				}
				if r.Record != "" {
					reads[r.Record] = names
				} else {
					alertReads[r.Alert] = names
					alerts = append(alerts, r.Alert)
				}
			}
		}
	}
	var jobsRead func(metric string, seen map[string]bool, out map[string]bool)
	jobsRead = func(metric string, seen map[string]bool, out map[string]bool) {
		if seen[metric] {
			return
		}
		seen[metric] = true
		if name, job, ok := strings.Cut(metric, "@"); ok { // a selector names its job
			if slices.Contains(jobsOf[name], job) {
				out[job] = true
			}
			return
		}
		for _, j := range jobsOf[metric] {
			out[j] = true
		}
		for _, m := range reads[metric] {
			jobsRead(m, seen, out)
		}
	}
	out := map[string][]string{}
	for _, a := range alerts {
		jobs := map[string]bool{}
		seen := map[string]bool{}
		for _, m := range alertReads[a] {
			jobsRead(m, seen, jobs)
		}
		for j := range jobs {
			out[j] = append(out[j], a)
		}
	}
	for j := range out {
		slices.Sort(out[j])
	}
	return out, nil
}

// metricNames are the metric names an expression selects, but `up`.
func metricNames(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "up" {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == "job" && m.Type == labels.MatchEqual {
					name += "@" + m.Value
				}
			}
			names[name] = true
		}
		return nil
	})
	return slices.Sorted(maps.Keys(names)), nil
}
