package grafana

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// Variables of a team baseline.
const (
	teamVar      = "team"
	namespaceVar = "namespace"
	workloadVar  = "workload"
)

// teamView is what a team baseline shows, as strings: the builder reads
// nothing else, so a baseline built from placeholders is the template of
// every team of the same shape (see shapes.go).
type teamView struct {
	uid, name  string
	namespaces []string
	services   []serviceView
	// l7 tells that request metrics exist for some of the team's
	// namespaces: always with sidecars; in ambient where a waypoint serves
	// one.
	l7 bool
	// extras are rows from the team-rows template; a team with extras is
	// built on its own.
	extras []extraRow
}

// serviceView is one team service.
type serviceView struct {
	name, namespace, canonical, job string
	// traced is the service's name in its spans (traceLink).
	traced string
	// waypoint serves the service in ambient; "" with sidecars, or when
	// none does (see l7).
	waypoint   string
	objectives []objective
	// l7 tells that request metrics exist for the service: always with
	// sidecars; in ambient only from its waypoint (viaWaypoint). Flags, not
	// strings, decide the panels: a shape's template is built from
	// placeholder strings.
	l7, viaWaypoint bool
}

func newTeamView(p *plan.Plan, t plan.Team, uid string) teamView {
	v := teamView{uid: uid, name: t.Name, namespaces: t.Namespaces, l7: !p.Mesh.Ambient}
	for _, w := range p.Mesh.Waypoints {
		for _, ns := range t.Namespaces {
			v.l7 = v.l7 || slices.Contains(w.Namespaces, ns)
		}
	}
	for _, s := range t.Services {
		v.services = append(v.services, serviceView{name: s.Name, namespace: s.Namespace,
			canonical: s.CanonicalService(), traced: tracedName(s), job: s.Job, waypoint: s.Waypoint, objectives: objectives(s),
			l7: !p.Mesh.Ambient || s.Waypoint != "", viaWaypoint: s.Waypoint != ""})
	}
	return v
}

// strings lists pointers to every string of the view, in a fixed order.
func (v *teamView) strings() []*string {
	out := []*string{&v.uid, &v.name}
	for i := range v.namespaces {
		out = append(out, &v.namespaces[i])
	}
	for i := range v.services {
		s := &v.services[i]
		out = append(out, &s.name, &s.namespace, &s.canonical, &s.traced, &s.job, &s.waypoint)
		for j := range s.objectives {
			out = append(out, &s.objectives[j].budget, &s.objectives[j].threshold)
		}
	}
	return out
}

// teamBaseline is one team's dashboard: an overview, the RED panels, peers,
// TCP traffic and SLOs of every service, and its workloads' resources.
func teamBaseline(p *plan.Plan, v teamView) (dashboard.Dashboard, error) {
	m := Meta{Kind: KindTeam, UID: v.uid, Title: teamTitle(p, v.name)}
	b := newBoard(p, m, "Requests, errors and duration of "+v.name+"'s services, their peers and SLOs, and the resources of its workloads.", tagTeam)
	pq := newQueries(p)
	b.WithVariable(dashboard.NewConstantVariableBuilder(teamVar).Value(dashboard.StringOrMap{String: cog.ToPtr(v.name)})).
		WithVariable(namespaceVariable(v.namespaces)).
		WithVariable(workloadVariable(pq, v.name))
	if p.Rules.Recorded() {
		b.Annotation(alertsAnnotation(pq.sel(eq("team", v.name))))
	}
	teamOverview(b, p, pq, v)
	for _, s := range v.services {
		servicePanels(b, p, pq, v.name, s)
	}
	workloadPanels(b, pq, v.name)
	for _, r := range v.extras {
		r.addTo(b)
	}
	return build(b)
}

// namespaceVariable selects among the team's namespaces; All is their
// alternation.
func namespaceVariable(namespaces []string) *dashboard.CustomVariableBuilder {
	all := dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}}
	return dashboard.NewCustomVariableBuilder(namespaceVar).Label("Namespace").
		Values(dashboard.StringOrMap{String: cog.ToPtr(strings.Join(namespaces, ","))}).
		Multi(true).IncludeAll(true).
		Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}}, Value: all})
}

// workloadQuery lists the team's Deployments and StatefulSets in the
// selected namespaces (kube-state-metrics), as query_result lines.
func workloadQuery(pq queries, team string) string {
	sel := pq.sel(eq("team", team), re("namespace", "$"+namespaceVar))
	return fmt.Sprintf(`query_result(count by (workload) (label_replace(kube_deployment_spec_replicas{%[1]s}, "workload", "$1", "deployment", "(.+)")`+
		` or label_replace(kube_statefulset_replicas{%[1]s}, "workload", "$1", "statefulset", "(.+)")))`, sel)
}

// podSuffix follows a workload's name in its pods' names: a Deployment's
// pods are <deployment>-<pod-template-hash>-<5 characters>, a StatefulSet's
// <statefulset>-<ordinal>. Kubernetes draws the hash and the suffix from
// a vowel-free alphabet (k8s.io/apimachinery pkg/util/rand, alphanums;
// pkg/controller ComputeHash; names.SimpleNameGenerator, 5 characters),
// so workload "api" does not take the pods of "api-gateway". The name
// generator cuts the "<replicaset>-" prefix to 58 characters
// (k8s.io/apiserver pkg/storage/names, MaxGeneratedNameLength) before the
// 5 characters: a Deployment name of 47 characters or more leaves a cut
// hash run into them, with no dash (5 to 15 characters). Optional, so the
// All value (.*) still matches every pod, DaemonSets' and Jobs' too.
const podSuffix = "(-([bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}|[bcdfghjklmnpqrstvwxz2456789]{5,15}|[0-9]+))?"

// workloadVariable selects workloads; their pods are matched by name
// (podSuffix).
func workloadVariable(pq queries, team string) *dashboard.QueryVariableBuilder {
	qr := workloadQuery(pq, team)
	return dashboard.NewQueryVariableBuilder(workloadVar).Label("Workload").Datasource(promDS()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(qr)}).Definition(qr).
		Regex(`/workload="([^"]+)"/`).Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).Multi(true).IncludeAll(true).AllValue(".*")
}

// teamNamespaces selects the Istio series of the team's selected namespaces.
func (pq queries) teamNamespaces(team string) string {
	return matchers(pq.team(team), re("destination_workload_namespace", "$"+namespaceVar))
}

func teamOverview(b *dashboard.DashboardBuilder, p *plan.Plan, pq queries, v teamView) {
	b.WithRow(row("Overview"))
	ready := q(fmt.Sprintf("sum(kube_pod_status_ready{%s})", pq.sel(`condition="true"`, eq("team", v.name), re("namespace", "$"+namespaceVar))), "ready")
	if !p.Mesh.Istio {
		b.WithPanel(singleStat("Ready pods", "Pods of the selected namespaces that are ready.", "short", 12, neutral, ready)).
			WithPanel(singleStat("Targets up", "Share of the team services' scrape targets that are up.", "percentunit", 12, healthyAtOne,
				q(upShare(pq.sel(eq("team", v.name), re("job", v.name+"/.+"))), "up")))
		return
	}
	sel := pq.teamNamespaces(v.name)
	if !v.l7 {
		tcp := pq.tcpInbound(sel)
		b.WithPanel(singleStat("Bytes received", noWaypoint("the team's namespaces")+" Bytes per second the team's workloads received (ztunnel).", "Bps", 8, neutral,
			q(fmt.Sprintf("sum(rate(istio_tcp_received_bytes_total{%s}[%s]))", tcp, rateInterval), "received"))).
			WithPanel(singleStat("Bytes sent", "Bytes per second the team's workloads sent back (ztunnel).", "Bps", 8, neutral,
				q(fmt.Sprintf("sum(rate(istio_tcp_sent_bytes_total{%s}[%s]))", tcp, rateInterval), "sent"))).
			WithPanel(singleStat("Ready pods", "Pods of the selected namespaces that are ready.", "short", 8, neutral, ready))
		return
	}
	b.WithPanel(singleStat("Requests", "Requests per second the team's services answered.", "reqps", 6, neutral, q(pq.requests("", sel), "requests"))).
		WithPanel(singleStat("5xx ratio", "Share of the team's requests that failed with an HTTP 5xx or a gRPC server status.", "percentunit", 6, errorRatio, q(pq.errorRatio("", sel), "5xx"))).
		WithPanel(singleStat("Slowest p99", "The highest p99 request duration among the team's services.", "ms", 6, latencyMs,
			q(fmt.Sprintf("max(%s)", pq.quantile("p99", "0.99", pq.byServiceIfRaw(), sel)), "p99"))).
		WithPanel(singleStat("Ready pods", "Pods of the selected namespaces that are ready.", "short", 6, neutral, ready))
}

// byServiceIfRaw groups raw buckets by service, as the recordings are.
func (pq queries) byServiceIfRaw() string {
	if pq.recorded {
		return ""
	}
	return byService
}

// noWaypoint says why a panel shows TCP traffic only: in ambient only a
// waypoint sees requests and reports them (reporter="waypoint"); ztunnel
// reports TCP bytes and connections (istio/ztunnel src/proxy/metrics.rs:
// istio_tcp_* only).
func noWaypoint(what string) string {
	return "No waypoint serves " + what + ": in ambient only a waypoint sees requests (reporter=\"waypoint\"); ztunnel reports TCP traffic only, " +
		"so there are no request, error or latency panels (add one with istioctl waypoint apply --enroll-namespace, and declare it under mesh.waypoints)."
}

// upShare is the share of the selected targets that are up, 0 when none
// is discovered (a broken discovery or network policy shows, not "No data").
func upShare(sel string) string {
	return fmt.Sprintf("(sum(up{%[1]s}) / count(up{%[1]s})) or vector(0)", sel)
}

func servicePanels(b *dashboard.DashboardBuilder, p *plan.Plan, pq queries, team string, s serviceView) {
	b.WithRow(row(fmt.Sprintf("Service %s (%s)", s.name, s.namespace)))
	up := q(upShare(pq.sel(eq("job", s.job))), "up")
	upHelp := "Share of the service's scrape targets (job " + s.job + ") that Prometheus scrapes successfully."
	if !p.Mesh.Istio {
		b.WithPanel(singleStat("Targets up", upHelp, "percentunit", 24, healthyAtOne, up))
		return
	}
	sel := pq.serviceSelector(team, s)
	if !s.l7 {
		tcpPanels(b, pq, s, sel, up, upHelp)
		return
	}
	requestsHelp := "Requests per second the service answered (rate)."
	if s.viaWaypoint {
		requestsHelp = "Requests per second the service answered (rate), as waypoint " + s.waypoint + " reports them: in ambient only waypoints see requests."
	}
	b.WithPanel(traceLink(p, s, graph("Requests", requestsHelp, "reqps", 6, q(pq.requests("", sel), "requests")))).
		WithPanel(graph("5xx ratio", "Share of requests that failed with an HTTP 5xx or a gRPC server status .", "percentunit", 6, q(pq.serviceErrorRatio(sel), "5xx"))).
		WithPanel(graph("Duration", "Request duration quantiles (duration).", "ms", 6,
			q(pq.quantile("p50", "0.5", "", sel), "p50"), q(pq.quantile("p90", "0.9", "", sel), "p90"), q(pq.quantile("p99", "0.99", "", sel), "p99"))).
		WithPanel(singleStat("Targets up", upHelp, "percentunit", 6, healthyAtOne, up).Height(graphHeight)).
		WithPanel(graph("Inbound by peer", "Requests per second the service received, by calling workload.", "reqps", 8,
			q(fmt.Sprintf("sum by (source_canonical_service, source_workload_namespace) (rate(istio_requests_total{%s}[%s]))", pq.inbound(sel), rateInterval),
				"{{source_canonical_service}}.{{source_workload_namespace}}"))).
		WithPanel(graph(pq.outboundTitle(), pq.outboundHelp(), "reqps", 8,
			q(fmt.Sprintf("sum by (destination_canonical_service, destination_workload_namespace) (rate(istio_requests_total{%s}[%s]))", pq.outbound(team, s), rateInterval),
				"{{destination_canonical_service}}.{{destination_workload_namespace}}"))).
		WithPanel(trafficPanel(pq, sel))
	if len(s.objectives) > 0 {
		sloPanels(b, pq, team, s)
	}
}

// trafficPanel is the bytes a service took in and gave out. In ambient its
// node's ztunnel counts every connection's bytes. A sidecar counts
// istio_tcp_* only on the chains it does not parse as HTTP (istio/istio
// pilot/pkg/networking/core/networkfilter.go): for an HTTP or gRPC
// service the bytes are the request and response sizes it records
// (istio_request_bytes, istio_response_bytes, Istio's standard metrics),
// so the panel shows both kinds, each where there is some.
func trafficPanel(pq queries, sel string) *timeseries.PanelBuilder {
	tcp := pq.tcpInbound(sel)
	tcpSent := q(fmt.Sprintf("sum(rate(istio_tcp_sent_bytes_total{%s}[%s]))", tcp, rateInterval), "TCP sent")
	tcpReceived := q(fmt.Sprintf("sum(rate(istio_tcp_received_bytes_total{%s}[%s]))", tcp, rateInterval), "TCP received")
	if pq.ambient {
		tcpSent.legend, tcpReceived.legend = "sent", "received"
		return graph("TCP traffic", "Bytes per second the service sent and received, as its node's ztunnel reports them.", "Bps", 8, tcpSent, tcpReceived)
	}
	return graph("Traffic", "Bytes per second the service received and sent: HTTP and gRPC request and response sizes (istio_request_bytes, istio_response_bytes), and TCP connections its sidecar does not parse as HTTP, which alone count in istio_tcp_*.", "Bps", 8,
		q(fmt.Sprintf("sum(rate(istio_request_bytes_sum{%s}[%s]))", pq.inbound(sel), rateInterval), "HTTP received"),
		q(fmt.Sprintf("sum(rate(istio_response_bytes_sum{%s}[%s]))", pq.inbound(sel), rateInterval), "HTTP sent"),
		tcpReceived, tcpSent)
}

// tcpPanels are what an ambient service without a waypoint has: the TCP
// traffic its node's ztunnel reports, and its targets. Validation refuses
// objectives for such a service.
func tcpPanels(b *dashboard.DashboardBuilder, pq queries, s serviceView, sel string, up query, upHelp string) {
	why := noWaypoint("namespace " + s.namespace)
	tcp := pq.tcpInbound(sel)
	b.WithPanel(graph("TCP traffic", why+" Bytes per second the service sent and received, as its node's ztunnel reports them.", "Bps", 10,
		q(fmt.Sprintf("sum(rate(istio_tcp_sent_bytes_total{%s}[%s]))", tcp, rateInterval), "sent"),
		q(fmt.Sprintf("sum(rate(istio_tcp_received_bytes_total{%s}[%s]))", tcp, rateInterval), "received"))).
		WithPanel(graph("TCP inbound by peer", why+" Bytes per second the service received, by calling workload.", "Bps", 8,
			q(fmt.Sprintf("sum by (source_canonical_service, source_workload_namespace) (rate(istio_tcp_received_bytes_total{%s}[%s]))", tcp, rateInterval),
				"{{source_canonical_service}}.{{source_workload_namespace}}"))).
		WithPanel(singleStat("Targets up", upHelp, "percentunit", 6, healthyAtOne, up).Height(graphHeight))
}

// serviceSelector selects a service's destination series.
func (pq queries) serviceSelector(team string, s serviceView) string {
	return matchers(pq.team(team), eq("destination_workload_namespace", s.namespace), eq("destination_canonical_service", s.canonical))
}

// outbound selects the requests a service sent: as its sidecar reports
// them, or in ambient as the destinations' waypoints do.
func (pq queries) outbound(team string, s serviceView) string {
	return pq.sel(eq("reporter", pq.outboundReporter), pq.team(team), eq("source_workload_namespace", s.namespace), eq("source_canonical_service", s.canonical))
}

// outboundTitle names the outbound panel; where waypoints report it, the
// title says that only destinations behind one appear.
func (pq queries) outboundTitle() string {
	if pq.outboundReporter == reporterSource {
		return "Outbound by peer"
	}
	return "Outbound by peer (to waypoint destinations)"
}

func (pq queries) outboundHelp() string {
	if pq.outboundReporter == reporterSource {
		return "Requests per second the service sent, by destination."
	}
	return "Requests per second the service sent, by destination, as the destinations' waypoints report them (destinations without a waypoint are missing)."
}

// burnWindows are the long windows of the page alerts.
var burnWindows = []string{"1h", "6h"}

func sloPanels(b *dashboard.DashboardBuilder, pq queries, team string, s serviceView) {
	var left, burn []query
	for _, o := range s.objectives {
		left = append(left, q(pq.budgetRemaining(team, s, o), o.name))
		for _, w := range burnWindows {
			burn = append(burn, q(fmt.Sprintf("(%s) / %s", pq.sliError(team, s, o, w), o.budget), o.name+" "+w))
		}
	}
	b.WithPanel(singleStat("Error budget remaining", "Share of each objective's 30-day error budget left.", "percentunit", 8, budgetLeft, left...).Height(graphHeight)).
		WithPanel(graph("Burn rate", "How fast each objective spends its budget: 1 lasts 30 days; the alerts page at 14.4 (1h) and 6 (6h).", "short", 16, burn...).
			Thresholds(thresholds(burnRates)))
}

func workloadPanels(b *dashboard.DashboardBuilder, pq queries, team string) {
	sel := pq.sel(eq("team", team), re("namespace", "$"+namespaceVar), re("pod", "$"+workloadVar+podSuffix))
	containers := matchers(sel, `container!=""`)
	b.WithRow(row("Workloads")).
		WithPanel(graph("CPU", "CPU cores used, by pod (cAdvisor).", "short", 12,
			q(fmt.Sprintf("sum by (pod) (rate(container_cpu_usage_seconds_total{%s}[%s]))", containers, rateInterval), "{{pod}}"))).
		WithPanel(graph("Memory", "Working set, by pod (cAdvisor).", "bytes", 12,
			q(fmt.Sprintf("sum by (pod) (container_memory_working_set_bytes{%s})", containers), "{{pod}}"))).
		WithPanel(graph("Restarts", "Container restarts in the last hour, by pod (kube-state-metrics).", "short", 8,
			q(fmt.Sprintf("sum by (pod) (increase(kube_pod_container_status_restarts_total{%s}[1h]))", sel), "{{pod}}"))).
		WithPanel(graph("Ready pods", "Ready pods, by namespace (kube-state-metrics).", "short", 8,
			q(fmt.Sprintf("sum by (namespace) (kube_pod_status_ready{%s})", matchers(`condition="true"`, sel)), "{{namespace}}"))).
		WithPanel(graph("CPU throttling", "Share of CFS periods in which containers were throttled, by pod (cAdvisor).", "percentunit", 8,
			q(fmt.Sprintf("sum by (pod) (increase(container_cpu_cfs_throttled_periods_total{%[1]s}[%[2]s])) / sum by (pod) (increase(container_cpu_cfs_periods_total{%[1]s}[%[2]s]))",
				containers, rateInterval), "{{pod}}")))
}

// traceLink links a service's request panel to its traces in Jaeger's UI
// (tracing.query.externalURL), over the dashboard's time range (Jaeger's
// search takes microseconds). Tempo has no UI of its own: its traces are
// explored in Grafana through a Tempo data source, which obsgen does not
// write.
func traceLink(p *plan.Plan, s serviceView, b *timeseries.PanelBuilder) *timeseries.PanelBuilder {
	t := p.Tracing
	if t == nil || t.Query == nil || t.Query.ExternalURL == "" || t.Query.Provider != v1alpha1.TracingJaeger {
		return b
	}
	url := strings.TrimSuffix(t.Query.ExternalURL, "/") + "/search?service=" + s.traced + "&lookback=custom&start=${__from}000&end=${__to}000"
	return b.Links([]cog.Builder[dashboard.DashboardLink]{
		dashboard.NewDashboardLinkBuilder("Traces of " + s.name).Type(dashboard.DashboardLinkTypeLink).Url(url).TargetBlank(true),
	})
}

// tracedName is the name Istio's proxies give the service in its spans:
// with the default tracingServiceName APP_LABEL_AND_NAMESPACE,
// <name>.<namespace> where name is the pod's app label, else its
// app.kubernetes.io/name, else its canonical name (pkg/bootstrap/config.go
// serviceClusterOrDefault). The selector's labels stand for the pods'.
func tracedName(s plan.Service) string {
	name := s.CanonicalService()
	for _, key := range []string{"app.kubernetes.io/name", "app"} {
		if v, ok := s.Selector.Get(key); ok {
			name = v
		}
	}
	return name + "." + s.Namespace
}
