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
	jobsOf := map[string][]string{}    // metric → jobs producing it
	kinds := map[string]plan.JobKind{} // job → its kind
	for _, j := range p.Jobs {
		for _, m := range JobMetrics(j.Kind) {
			jobsOf[m] = append(jobsOf[m], j.Name)
		}
		kinds[j.Name] = j.Kind
	}
	// A team service without a metrics port of its own is scraped on its
	// sidecar's merged endpoint (or Envoy's) by team-services, under the
	// job label <team>/<service>, and dropped from the proxies' jobs: its
	// Istio metrics come from that job.
	for _, s := range p.ServiceTargets {
		kind := proxyEndpointKind(s.Endpoint.Port)
		if kind == "" {
			continue
		}
		for _, m := range JobMetrics(kind) {
			jobsOf[m] = append(jobsOf[m], s.Job)
		}
		kinds[s.Job] = kind
	}
	// produces tells whether job can produce the series a selector of
	// Istio's reporter reads: a gateway reports as the client,
	// reporter="source" (istio.io docs/reference/config/metrics,
	// "Reporter": "source if report is from a client Istio proxy or a
	// gateway"), a waypoint as "waypoint" (istio pilot/pkg/model/
	// telemetry.go, SERVER_GATEWAY only for waypoints), sidecars and
	// ztunnel as "source" or "destination".
	produces := func(job, reporter string) bool {
		switch {
		case reporter == "":
			return true
		case kinds[job] == plan.JobGateways:
			return reporter == "source"
		case kinds[job] == plan.JobWaypoints:
			return reporter == "waypoint"
		}
		return reporter != "waypoint"
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
				switch {
				case r.Record != "":
					reads[r.Record] = names
				case r.Presence:
					// Partial data cannot raise it: nothing to mute.
				default:
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
		metric, reporter, _ := strings.Cut(metric, "#")
		if name, job, ok := strings.Cut(metric, "@"); ok { // a selector names its job
			if slices.Contains(jobsOf[name], job) && produces(job, reporter) {
				out[job] = true
			}
			return
		}
		for _, j := range jobsOf[metric] {
			if produces(j, reporter) {
				out[j] = true
			}
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

// proxyEndpointKind is the proxies' job whose metrics a scrape of port
// serves: the merged endpoint of the Istio agent (Envoy's, the agent's and
// the application's), in plaintext or on secure-port's mTLS listener, or
// Envoy's own; "" for another port.
func proxyEndpointKind(port int) plan.JobKind {
	switch port {
	case plan.PortMergedMetrics, plan.PortSecureMergedMetrics:
		return plan.JobIstioMerged
	case plan.PortEnvoyMetrics:
		return plan.JobEnvoyStats
	}
	return ""
}

// metricNames are the metric names an expression selects, but `up`, each
// followed by "@<job>" when the selector names its job and by
// "#<reporter>" when it names Istio's reporter.
func metricNames(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "up" {
			name, reporter := vs.Name, ""
			for _, m := range vs.LabelMatchers {
				switch {
				case m.Type != labels.MatchEqual:
				case m.Name == "job":
					name += "@" + m.Value
				case m.Name == "reporter":
					reporter = "#" + m.Value
				}
			}
			names[name+reporter] = true
		}
		return nil
	})
	return slices.Sorted(maps.Keys(names)), nil
}
