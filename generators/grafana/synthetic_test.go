package grafana

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// Synthetic series for a plan: what its scrape jobs would collect from a
// small, healthy cluster, with the metric and label names the jobs produce
// (the relabeling of templates/prometheus/_scrape-configs.tmpl, as the
// rules' unit-test fixtures write them): every target up, a pod per team
// service with its sidecar traffic (in ambient: ztunnel's TCP traffic and,
// where a waypoint serves the namespace, the waypoint's requests), the
// declared gateways' traffic, cAdvisor and kube-state-metrics series,
// istiod, and Prometheus' and Alertmanager's own metrics. One sample a
// minute for three hours.
//
// On a shared store the series carry the external labels, as remote write
// ships them, and another cluster's series sit next to them: the same
// names with other values, so a panel that does not select its cluster
// adds them in and shows other numbers.

// syntheticMinutes is how long the series run; panels are evaluated at the end.
const syntheticMinutes = 180

// otherCluster names the cluster whose series share the store.
const otherCluster = "other-cluster"

type synthetic struct {
	p     *plan.Plan
	lines []string
	// ext are the labels every series carries in the store: the external
	// labels on a shared store, none on this cluster's Prometheus.
	ext map[string]string
	// other writes the other cluster's series, unlike this one's in every
	// way a panel reads: each value v becomes 3v+1 (sums and ratios
	// change), flags flip (its reloads failed), each target has a twin
	// that is down, one more job and one more service have targets and
	// traffic, and its requests are slower and in plaintext.
	other bool
}

func (s *synthetic) add(metric string, labels map[string]string, values string) {
	all := maps.Clone(labels)
	maps.Copy(all, s.ext)
	parts := make([]string, 0, len(all))
	for _, k := range slices.Sorted(maps.Keys(all)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, all[k]))
	}
	s.lines = append(s.lines, fmt.Sprintf("  %s{%s} %s", metric, strings.Join(parts, ", "), values))
}

// counter grows by perMinute; gauge stays at v.
func (s *synthetic) counter(perMinute float64) string {
	return fmt.Sprintf("0+%gx%d", s.value(perMinute), syntheticMinutes)
}
func (s *synthetic) gauge(v float64) string {
	return fmt.Sprintf("%gx%d", s.value(v), syntheticMinutes)
}

// flag is a 0-or-1 gauge: v here, the opposite in the other cluster.
func (s *synthetic) flag(v float64) string {
	if s.other {
		v = 1 - v
	}
	return fmt.Sprintf("%gx%d", v, syntheticMinutes)
}

func (s *synthetic) value(v float64) float64 {
	if s.other {
		return 3*v + 1
	}
	return v
}

// upValue is up: 1 here; in the other cluster 1 (3v+1 would not be a
// flag), its down twins aside.
func (s *synthetic) upValue() string { return fmt.Sprintf("1x%d", syntheticMinutes) }

// with copies labels and sets more.
func with(labels map[string]string, kv ...string) map[string]string {
	out := maps.Clone(labels)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// syntheticLoad is the promqltest input of the plan's series; with others,
// on a shared store, also another cluster's.
func syntheticLoad(p *plan.Plan, others bool) string {
	lines := clusterSeries(p, false)
	if others && p.Dashboards.Datasource.Shared {
		lines = append(lines, clusterSeries(p, true)...)
	}
	return "load 1m\n" + strings.Join(lines, "\n") + "\n"
}

// clusterSeries are one cluster's series.
func clusterSeries(p *plan.Plan, other bool) []string {
	s := &synthetic{p: p, other: other}
	if p.Dashboards.Datasource.Shared {
		s.ext = p.ExternalLabels.Map()
		if other {
			s.ext[clusterLabel] = otherCluster
		}
	}
	s.targets()
	if p.Mesh.Istio {
		services := p.ServiceTargets
		if other && len(services) > 0 {
			i := max(0, slices.IndexFunc(services, func(svc plan.Service) bool { return !p.Mesh.Ambient || svc.Waypoint != "" }))
			extra := services[i]
			extra.Name, extra.Selector = "intruder", plan.Labels{{Name: "app", Value: "intruder"}}
			services = append(slices.Clip(services), extra)
		}
		for _, svc := range services {
			s.istioTraffic(svc)
		}
		for _, gw := range p.Mesh.Gateways {
			s.gatewayTraffic(gw)
		}
		s.istiod()
	}
	for _, svc := range p.ServiceTargets {
		s.workload(svc)
	}
	for _, t := range p.Teams {
		s.statefulSet(t.Namespaces[0])
	}
	s.self()
	return s.lines
}

// teamOf is the team label the jobs derive from a namespace.
func (s *synthetic) teamOf(ns string) string {
	for _, t := range s.p.Teams {
		if slices.Contains(t.Namespaces, ns) {
			return t.Name
		}
	}
	return ""
}

// podTarget labels a pod target: namespace, pod, and team where the job
// derives it.
func (s *synthetic) podTarget(job, ns, pod string) map[string]string {
	l := map[string]string{"job": job, "instance": pod + ":9090", "namespace": ns, "pod": pod}
	if team := s.teamOf(ns); team != "" {
		l["team"] = team
	}
	return l
}

func podName(svc plan.Service) string { return svc.CanonicalService() + "-7d9f5c6b8-x2x4z" }

const node = "node-1"

// targets writes up and the scrape_* series of every job's targets, the
// declared gateways' and waypoints' included.
func (s *synthetic) targets() {
	istioNS := s.p.Mesh.IstioNamespace
	var targets []map[string]string
	for _, j := range s.p.Jobs {
		switch j.Kind {
		case plan.JobAPIServers, plan.JobKubeStateMetrics:
			targets = append(targets, map[string]string{"job": j.Name, "instance": "10.0.0.1:443"})
		case plan.JobKubelet, plan.JobCAdvisor, plan.JobNodeExporter:
			targets = append(targets, map[string]string{"job": j.Name, "instance": node, "node": node})
		case plan.JobIstiod:
			targets = append(targets, map[string]string{"job": j.Name, "instance": "10.1.0.2:15014", "namespace": istioNS, "pod": "istiod-5c7b9"})
		case plan.JobZtunnel:
			targets = append(targets, s.ztunnel())
		case plan.JobTeamServices:
			for _, svc := range s.p.ServiceTargets {
				l := s.podTarget(svc.Job, svc.Namespace, podName(svc))
				l["team"], l["service"] = svc.Team, svc.Name
				targets = append(targets, l)
			}
		case plan.JobEnvoyStats: // every sidecar, team services' included
			for _, svc := range s.p.ServiceTargets {
				targets = append(targets, s.podTarget(j.Name, svc.Namespace, podName(svc)))
			}
		case plan.JobGateways, plan.JobWaypoints: // written from the declarations below
		default: // annotation-driven jobs leave the team services' pods to their job
			for _, t := range s.p.Teams {
				for _, ns := range t.Namespaces {
					targets = append(targets, s.podTarget(j.Name, ns, "batch-5f6d7-abcde"))
				}
			}
		}
	}
	for _, gw := range s.p.Mesh.Gateways {
		targets = append(targets, gatewayTarget(gw))
	}
	for _, w := range s.p.Mesh.Waypoints {
		targets = append(targets, waypointTarget(w))
	}
	targets = append(targets, map[string]string{"job": JobPrometheus, "instance": "localhost:9090"})
	if !s.p.Monitoring.Prometheus.Agent {
		targets = append(targets, map[string]string{"job": JobAlertmanager, "instance": "alertmanager-0:9093"})
	}
	if s.other {
		targets = append(targets, map[string]string{"job": "other-only", "instance": "10.9.0.1:8080"})
	}
	for _, l := range targets {
		s.add("up", l, s.upValue())
		s.add("scrape_duration_seconds", l, s.gauge(0.05))
		s.add("scrape_samples_scraped", l, s.gauge(500))
		if s.other {
			s.add("up", with(l, "instance", l["instance"]+"-twin"), fmt.Sprintf("0x%d", syntheticMinutes))
		}
	}
}

// ztunnel labels the node's ztunnel target.
func (s *synthetic) ztunnel() map[string]string {
	return map[string]string{"job": string(plan.JobZtunnel), "instance": "10.1.0.3:15020", "namespace": s.p.Mesh.IstioNamespace,
		"pod": "ztunnel-x7k2p", "node": node}
}

// gatewayTarget labels a declared gateway's proxy as the istio-gateways
// job does: its declared name in the gateway label.
func gatewayTarget(gw plan.Gateway) map[string]string {
	pod := gw.Name + "-6c8d9f7b5-q4w2e"
	return map[string]string{"job": string(plan.JobGateways), plan.GatewayTargetLabel: gw.Name, "instance": pod + ":15090",
		"namespace": gw.Namespace, "pod": pod}
}

// waypointTarget labels a declared waypoint's proxy as the istio-waypoints
// job does: its declared name in the waypoint label.
func waypointTarget(w plan.Waypoint) map[string]string {
	pod := w.Name + "-5b7c8d9f6-m3n4p"
	return map[string]string{"job": string(plan.JobWaypoints), plan.WaypointTargetLabel: w.Name, "instance": pod + ":15020",
		"namespace": w.Namespace, "pod": pod}
}

// sidecar labels the series a service's sidecar reports: its pod
// (envoy-stats, or with metrics merging the service's own job, which
// scrapes the merged :15020).
func (s *synthetic) sidecar(svc plan.Service) map[string]string {
	for _, j := range s.p.Jobs {
		switch j.Kind {
		case plan.JobEnvoyStats:
			return s.podTarget(j.Name, svc.Namespace, podName(svc))
		case plan.JobIstioMerged:
			return with(s.podTarget(svc.Job, svc.Namespace, podName(svc)), "team", svc.Team, "service", svc.Name)
		}
	}
	panic("no sidecar job in a sidecar plan")
}

// waypointOf labels the series the waypoint serving a service reports,
// nil when none serves it.
func (s *synthetic) waypointOf(svc plan.Service) map[string]string {
	for _, w := range s.p.Mesh.Waypoints {
		if w.Name == svc.Waypoint && slices.Contains(w.Namespaces, svc.Namespace) {
			return waypointTarget(w)
		}
	}
	return nil
}

// istioTraffic writes a service's requests (200s and some 503s from a
// client, over mTLS), its calls to a backend in its namespace, its
// duration histogram and TCP bytes. With sidecars the service's sidecar
// reports them all (reporter destination, or source for its calls). In
// ambient its node's ztunnel reports the TCP bytes (reporter destination,
// istio/ztunnel src/proxy/inbound.rs) and only a waypoint reports requests
// (reporter waypoint, its calls to the backend included, which the same
// waypoint serves); a service without a waypoint has no request series.
func (s *synthetic) istioTraffic(svc plan.Service) {
	canon := svc.CanonicalService()
	peers := map[string]string{"destination_workload_namespace": svc.Namespace,
		"destination_canonical_service": canon, "destination_workload": canon,
		"source_workload_namespace": svc.Namespace, "source_canonical_service": "client", "source_workload": "client",
		"connection_security_policy": "mutual_tls"}
	if s.other { // not mutual TLS, and not the plaintext of scrapes the queries leave out
		peers["connection_security_policy"] = "unknown"
	}
	calls := map[string]string{"source_workload_namespace": svc.Namespace,
		"source_canonical_service": canon, "source_workload": canon,
		"destination_workload_namespace": svc.Namespace, "destination_canonical_service": "backend", "destination_workload": "backend",
		"connection_security_policy": "unknown", "response_code": "200"}
	var requests, sent, tcp map[string]string
	if s.p.Mesh.Ambient {
		tcp = with(s.ztunnel(), "reporter", "destination")
		if wp := s.waypointOf(svc); wp != nil {
			requests, sent = with(wp, "reporter", "waypoint"), with(wp, "reporter", "waypoint")
			calls["connection_security_policy"] = "mutual_tls"
		}
	} else {
		requests, sent, tcp = with(s.sidecar(svc), "reporter", "destination"), with(s.sidecar(svc), "reporter", "source"), with(s.sidecar(svc), "reporter", "destination")
	}
	// A sidecar counts istio_tcp_* only on chains it does not parse as
	// HTTP (istio/istio pilot/pkg/networking/core/networkfilter.go): here
	// each service also takes TCP on a port of its own, so every TCP
	// query has series to match.
	dest := merge(tcp, peers)
	s.add("istio_tcp_sent_bytes_total", dest, s.counter(6e6))
	s.add("istio_tcp_received_bytes_total", dest, s.counter(3e6))
	// Sidecars report connections too (Envoy's istio TCP stats), ztunnel
	// counts each inbound connection it opens (src/proxy/metrics.rs).
	s.add("istio_tcp_connections_opened_total", dest, s.counter(600))
	s.add("istio_tcp_connections_closed_total", dest, s.counter(590))
	if requests == nil {
		return
	}
	s.requests(merge(requests, peers), 6000, 30)
	s.add("istio_requests_total", merge(sent, calls), s.counter(3000))
}

// requests writes ok 200s and failed 503s a minute under labels, a tenth
// as many gRPC calls again (answered 200, with status OK and UNAVAILABLE:
// Istio's grpc_response_status), and the duration histogram of them all:
// 90% within 100 ms, 99.5% within 1 s, all within 2.5 s (in the other
// cluster 50% within 1 s, all within 10 s).
func (s *synthetic) requests(labels map[string]string, ok, failed float64) {
	s.add("istio_requests_total", with(labels, "response_code", "200"), s.counter(ok))
	s.add("istio_requests_total", with(labels, "response_code", "503"), s.counter(failed))
	grpc := with(labels, "response_code", "200")
	s.add("istio_requests_total", with(grpc, "grpc_response_status", "0"), s.counter(ok/10))
	s.add("istio_requests_total", with(grpc, "grpc_response_status", "14"), s.counter(failed/10))
	// Request and response sizes (Istio's standard istio_request_bytes
	// and istio_response_bytes histograms; the panels read their sums).
	s.add("istio_request_bytes_sum", labels, s.counter((ok+failed)*500))
	s.add("istio_response_bytes_sum", labels, s.counter((ok+failed)*2000))
	for _, le := range plan.IstioDurationBucketsMs {
		share := 0.5
		switch {
		case s.other && le >= 10000:
			share = 1
		case s.other && le >= 1000:
			share = 0.5
		case s.other:
			share = 0.1
		case le >= 2500:
			share = 1
		case le >= 1000:
			share = 0.995
		case le >= 100:
			share = 0.9
		}
		s.add("istio_request_duration_milliseconds_bucket", with(labels, "le", fmt.Sprint(le)), s.counter((ok+failed)*share))
	}
	s.add("istio_request_duration_milliseconds_bucket", with(labels, "le", "+Inf"), s.counter(ok+failed))
}

// gatewayTraffic writes what a gateway's proxy reports: as the client of
// the backends (reporter="source"), its requests to every team service, or
// to a service of its own namespace when there are none.
func (s *synthetic) gatewayTraffic(gw plan.Gateway) {
	from := with(gatewayTarget(gw), "reporter", "source", "source_workload", gw.Name, "source_canonical_service", gw.Name,
		"source_workload_namespace", gw.Namespace, "connection_security_policy", "unknown")
	dests := s.p.ServiceTargets
	if len(dests) == 0 {
		dests = []plan.Service{{Name: "web", Namespace: gw.Namespace}}
	}
	for _, svc := range dests {
		canon := svc.CanonicalService()
		s.requests(with(from, "destination_service", canon+"."+svc.Namespace+".svc.cluster.local",
			"destination_canonical_service", canon, "destination_workload_namespace", svc.Namespace), 1200, 12)
	}
	// A TLS passthrough route to a backend outside the team services:
	// the gateway records TCP bytes only (networkfilter.go), as the
	// client.
	tls := with(from, "destination_service", "db.external.svc.cluster.local", "destination_canonical_service", "db", "destination_workload_namespace", "external")
	s.add("istio_tcp_sent_bytes_total", tls, s.counter(4e5))
	s.add("istio_tcp_received_bytes_total", tls, s.counter(9e5))
}

// merge copies a and sets b's labels.
func merge(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// workload writes a service's pod as cAdvisor and kube-state-metrics see
// it; both jobs derive team from the object's namespace.
func (s *synthetic) workload(svc plan.Service) {
	pod, ns := podName(svc), svc.Namespace
	obj := map[string]string{"namespace": ns}
	if team := s.teamOf(ns); team != "" {
		obj["team"] = team
	}
	c := with(obj, "job", "cadvisor", "instance", node, "node", node, "pod", pod, "container", "app")
	s.add("container_cpu_usage_seconds_total", c, s.counter(15))
	s.add("container_memory_working_set_bytes", c, s.gauge(2e8))
	s.add("container_cpu_cfs_periods_total", c, s.counter(600))
	s.add("container_cpu_cfs_throttled_periods_total", c, s.counter(12))
	k := with(obj, "job", "kube-state-metrics", "instance", "10.0.0.1:443")
	s.add("kube_pod_status_ready", with(k, "pod", pod, "condition", "true"), s.gauge(1))
	s.add("kube_pod_container_status_restarts_total", with(k, "pod", pod, "container", "app"), s.counter(0.01))
	s.add("kube_deployment_spec_replicas", with(k, "deployment", svc.CanonicalService()), s.gauge(2))
}

// statefulSet writes a StatefulSet with one pod in a team namespace.
func (s *synthetic) statefulSet(ns string) {
	obj := map[string]string{"namespace": ns, "team": s.teamOf(ns)}
	c := with(obj, "job", "cadvisor", "instance", node, "node", node, "pod", "cache-0", "container", "redis")
	s.add("container_cpu_usage_seconds_total", c, s.counter(3))
	s.add("container_memory_working_set_bytes", c, s.gauge(5e7))
	s.add("container_cpu_cfs_periods_total", c, s.counter(600))
	s.add("container_cpu_cfs_throttled_periods_total", c, s.counter(0))
	k := with(obj, "job", "kube-state-metrics", "instance", "10.0.0.1:443")
	s.add("kube_pod_status_ready", with(k, "pod", "cache-0", "condition", "true"), s.gauge(1))
	s.add("kube_pod_container_status_restarts_total", with(k, "pod", "cache-0", "container", "redis"), s.gauge(0))
	s.add("kube_statefulset_replicas", with(k, "statefulset", "cache"), s.gauge(1))
}

// istiod writes the control plane's series: pushes (and a few send
// errors), rejections, proxies, convergence time, certificates, injection.
func (s *synthetic) istiod() {
	l := map[string]string{"job": "istiod", "instance": "10.1.0.2:15014", "namespace": s.p.Mesh.IstioNamespace, "pod": "istiod-5c7b9"}
	for _, typ := range []string{"cds", "eds", "lds", "rds"} {
		s.add("pilot_xds_pushes", with(l, "type", typ), s.counter(60))
	}
	s.add("pilot_xds_pushes", with(l, "type", "cds_senderr"), s.counter(0.1))
	s.add("pilot_total_xds_rejects", with(l, "type", "lds"), s.counter(0.05))
	s.add("pilot_xds", with(l, "version", "1.27.0"), s.gauge(42))
	for le, share := range map[string]float64{"0.1": 0.5, "1": 0.9, "10": 0.99, "+Inf": 1} {
		s.add("pilot_proxy_convergence_time_bucket", with(l, "le", le), s.counter(100*share))
	}
	s.add("citadel_server_csr_count", l, s.counter(2))
	s.add("citadel_server_success_cert_issuance_count", l, s.counter(2))
	s.add("citadel_server_csr_sign_err_count", with(l, "error", "sign"), s.counter(0.01))
	s.add("sidecar_injection_success_total", l, s.counter(1))
	s.add("sidecar_injection_failure_total", l, s.counter(0.01))
	c := map[string]string{"job": "cadvisor", "instance": node, "node": node, "namespace": s.p.Mesh.IstioNamespace, "pod": "istiod-5c7b9", "container": "discovery"}
	s.add("container_cpu_usage_seconds_total", c, s.counter(6))
	s.add("container_memory_working_set_bytes", c, s.gauge(3e8))
}

// self writes Prometheus' and Alertmanager's own metrics.
func (s *synthetic) self() {
	prom := map[string]string{"job": JobPrometheus, "instance": "localhost:9090"}
	s.add("prometheus_config_last_reload_successful", prom, s.flag(1))
	s.add("prometheus_tsdb_head_series", prom, s.gauge(12345))
	s.add("prometheus_rule_evaluation_failures_total", with(prom, "rule_group", "obsgen-monitoring"), s.counter(0))
	am := map[string]string{"job": JobAlertmanager, "instance": "alertmanager-0:9093"}
	s.add("alertmanager_notifications_total", with(am, "integration", "webhook"), s.counter(1))
	s.add("alertmanager_notifications_failed_total", with(am, "integration", "webhook"), s.counter(0))
}
