package rules

import (
	"maps"
	"slices"

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
		key := string(j.Kind)
		if slices.Contains(proxyJobs, key) {
			key = "istio-proxy"
		}
		for _, m := range MetricsByJob[key] {
			jobsOf[m] = append(jobsOf[m], j.Name)
		}
	}
	reads := map[string][]string{} // recording → metrics its expression reads
	var alerts []Rule
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				names, err := metricNames(r.Expr)
				if err != nil {
					return nil, err
				}
				if r.Record != "" {
					reads[r.Record] = append(reads[r.Record], names...)
				} else {
					alerts = append(alerts, r)
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
		for _, j := range jobsOf[metric] {
			out[j] = true
		}
		for _, m := range reads[metric] {
			jobsRead(m, seen, out)
		}
	}
	out := map[string][]string{}
	for _, a := range alerts {
		names, _ := metricNames(a.Expr)
		jobs := map[string]bool{}
		seen := map[string]bool{}
		for _, m := range names {
			jobsRead(m, seen, jobs)
		}
		for j := range jobs {
			if !slices.Contains(out[j], a.Alert) {
				out[j] = append(out[j], a.Alert)
			}
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
			names[vs.Name] = true
		}
		return nil
	})
	return slices.Sorted(maps.Keys(names)), nil
}
