package grafana

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"obsgen.dev/obsgen/internal/plan"
)

// Self-monitoring jobs: Prometheus and Alertmanager scrape their own
// metrics under these job names.
const (
	JobPrometheus   = string(plan.JobPrometheus)
	JobAlertmanager = string(plan.JobAlertmanager)
)

// teamServicesJob matches the job label of every team service
// (<team>/<service>).
const teamServicesJob = `job=~".+/.+"`

// monitoringHealth answers "is Prometheus actually scraping the mesh?":
// targets up for every job the plan generates, per job and namespace,
// scrape cost, and whether rules and notifications work.
func monitoringHealth(p *plan.Plan, m Meta) (dashboard.Dashboard, error) {
	b := newBoard(p, m, "Whether Prometheus scrapes every target obsgen configured, under this mTLS mode and network policy, and whether rules and notifications work.", tagPlatform)
	pq := newQueries(p)
	if p.Rules.Recorded() {
		b.Annotation(alertsAnnotation(pq.sel(`alertname="TargetDown"`)))
	}
	var jobs []query
	for _, sel := range expectedJobs(p) {
		jobs = append(jobs, q(upShare(pq.sel(sel.matcher)), sel.name))
	}
	all := pq.sel()
	// The table groups as TargetDown counts: by waypoint too where the
	// plan scrapes waypoints, whose targets carry the waypoint's name
	// (two waypoints of one namespace may serve different namespaces).
	by, per := "job, namespace", "job and namespace"
	if slices.ContainsFunc(p.Jobs, func(j plan.Job) bool { return j.Kind == plan.JobWaypoints }) {
		by, per = "job, namespace, "+plan.WaypointTargetLabel, "job, namespace and waypoint"
	}
	b.WithRow(row("Scraping")).
		WithPanel(singleStat(scrapeTitle(p), "Share of each job's targets that are up; 0 when a job discovers none. "+
			"Scrape strategy "+string(p.Scrape.Strategy)+": "+p.Scrape.Reason, "percentunit", 24, healthyAtOne, jobs...).Height(6)).
		WithPanel(instantTable("Targets up per "+per, "Share of targets up, for every "+per+".", "percentunit", 16,
			q(fmt.Sprintf("sum by (%[2]s) (up{%[1]s}) / count by (%[2]s) (up{%[1]s})", all, by), ""))).
		WithPanel(singleStat("Targets down", "Targets Prometheus failed to scrape.", "short", 8, badAboveZero,
			q(fmt.Sprintf("count(up{%s} == 0) or vector(0)", all), "down")).Height(tableHeight)).
		WithPanel(graph("Scrape duration", "Slowest scrape of each job.", "s", 12, q(fmt.Sprintf("max by (job) (scrape_duration_seconds{%s})", all), "{{job}}"))).
		WithPanel(graph("Samples scraped", "Samples per scrape, summed by job.", "short", 12, q(fmt.Sprintf("sum by (job) (scrape_samples_scraped{%s})", all), "{{job}}")))
	self := pq.sel(eq("job", JobPrometheus))
	b.WithRow(row("Prometheus and Alertmanager")).
		WithPanel(singleStat("Configuration reloaded", "1 when Prometheus' last configuration reload succeeded.", "short", 12, atLeastOne,
			q(fmt.Sprintf("min(prometheus_config_last_reload_successful{%s})", self), "reload")))
	if p.Monitoring.Prometheus.Agent {
		b.WithPanel(singleStat("Scrape jobs", "Jobs with at least one target.", "short", 12, neutral, q(fmt.Sprintf("count(count by (job) (up{%s}))", all), "jobs")))
		return build(b)
	}
	b.WithPanel(singleStat("Head series", "Series in Prometheus' head block.", "short", 12, neutral,
		q(fmt.Sprintf("sum(prometheus_tsdb_head_series{%s})", self), "series"))).
		WithPanel(graph("Rule evaluation failures", "Failed rule evaluations per second, by group.", "ops", 12,
			q(fmt.Sprintf("sum by (rule_group) (rate(prometheus_rule_evaluation_failures_total{%s}[%s]))", self, rateInterval), "{{rule_group}}"))).
		WithPanel(graph("Alertmanager notifications", "Notifications per second sent and failed, by integration.", "ops", 12,
			q(fmt.Sprintf("sum by (integration) (rate(alertmanager_notifications_total{%s}[%s]))", pq.sel(eq("job", JobAlertmanager)), rateInterval), "sent {{integration}}"),
			q(fmt.Sprintf("sum by (integration) (rate(alertmanager_notifications_failed_total{%s}[%s]))", pq.sel(eq("job", JobAlertmanager)), rateInterval), "failed {{integration}}")))
	return build(b)
}

// scrapeTitle says under which mesh and network settings the jobs run.
func scrapeTitle(p *plan.Plan) string {
	var parts []string
	if p.Mesh.Istio {
		parts = append(parts, string(p.Mesh.MTLS)+" mTLS")
	}
	parts = append(parts, string(p.Network.Stance)+" network")
	return "Targets up by job (" + strings.Join(parts, ", ") + ", " + string(p.Scrape.Strategy) + ")"
}

// expectedJob is a job the plan generates and the matcher of its targets.
type expectedJob struct {
	name, matcher string
}

// expectedJobs lists the plan's scrape jobs; team services share one
// entry (each service's job is <team>/<service>).
func expectedJobs(p *plan.Plan) []expectedJob {
	var out []expectedJob
	for _, j := range p.Jobs {
		if j.Kind == plan.JobTeamServices {
			out = append(out, expectedJob{name: "team services", matcher: teamServicesJob})
			continue
		}
		out = append(out, expectedJob{name: j.Name, matcher: eq("job", j.Name)})
	}
	return out
}
