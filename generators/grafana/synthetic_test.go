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
// service with its sidecar (or ztunnel) traffic, cAdvisor and
// kube-state-metrics series, istiod, and Prometheus' and Alertmanager's
// own metrics. One sample a minute for three hours.

// syntheticMinutes is how long the series run; panels are evaluated at the end.
const syntheticMinutes = 180

type synthetic struct {
	p     *plan.Plan
	lines []string
}

func (s *synthetic) add(metric string, labels map[string]string, values string) {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	s.lines = append(s.lines, fmt.Sprintf("  %s{%s} %s", metric, strings.Join(parts, ", "), values))
}

// counter grows by perMinute; gauge stays at v.
func counter(perMinute float64) string { return fmt.Sprintf("0+%gx%d", perMinute, syntheticMinutes) }
func gauge(v float64) string           { return fmt.Sprintf("%gx%d", v, syntheticMinutes) }

// with copies labels and sets more.
func with(labels map[string]string, kv ...string) map[string]string {
	out := maps.Clone(labels)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// load is the promqltest input of the plan's series.
func syntheticLoad(p *plan.Plan) string {
	s := &synthetic{p: p}
	s.targets()
	if p.Mesh.Istio {
		for _, svc := range p.ServiceTargets {
			s.istioTraffic(svc)
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
	return "load 1m\n" + strings.Join(s.lines, "\n") + "\n"
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

// targets writes up and the scrape_* series of every job's targets.
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
			targets = append(targets, map[string]string{"job": j.Name, "instance": "10.1.0.3:15020", "namespace": istioNS, "pod": "ztunnel-x7k2p", "node": node})
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
		default: // annotation-driven jobs leave the team services' pods to their job
			for _, t := range s.p.Teams {
				for _, ns := range t.Namespaces {
					targets = append(targets, s.podTarget(j.Name, ns, "batch-5f6d7-abcde"))
				}
			}
		}
	}
	targets = append(targets, map[string]string{"job": JobPrometheus, "instance": "localhost:9090"})
	if !s.p.Monitoring.Prometheus.Agent {
		targets = append(targets, map[string]string{"job": JobAlertmanager, "instance": "alertmanager-0:9093"})
	}
	for _, l := range targets {
		s.add("up", l, gauge(1))
		s.add("scrape_duration_seconds", l, gauge(0.05))
		s.add("scrape_samples_scraped", l, gauge(500))
	}
}

// proxy labels the series a service's traffic is reported under: its
// sidecar's pod (envoy-stats, or with metrics merging the service's own job,
// which scrapes the merged :15020), or the node's ztunnel.
func (s *synthetic) proxy(svc plan.Service) map[string]string {
	for _, j := range s.p.Jobs {
		switch j.Kind {
		case plan.JobEnvoyStats:
			return s.podTarget(j.Name, svc.Namespace, podName(svc))
		case plan.JobIstioMerged:
			return with(s.podTarget(svc.Job, svc.Namespace, podName(svc)), "team", svc.Team, "service", svc.Name)
		case plan.JobZtunnel:
			return map[string]string{"job": j.Name, "instance": "10.1.0.3:15020", "namespace": s.p.Mesh.IstioNamespace, "pod": "ztunnel-x7k2p", "node": node}
		}
	}
	panic("no proxy job in an Istio plan")
}

// istioTraffic writes a service's requests (200s and some 503s from a
// client, over mTLS), its calls to a backend, its duration histogram and
// TCP bytes.
func (s *synthetic) istioTraffic(svc plan.Service) {
	canon := svc.CanonicalService()
	dest := with(s.proxy(svc), "reporter", "destination", "destination_workload_namespace", svc.Namespace,
		"destination_canonical_service", canon, "destination_workload", canon,
		"source_workload_namespace", svc.Namespace, "source_canonical_service", "client", "source_workload", "client",
		"connection_security_policy", "mutual_tls")
	s.add("istio_requests_total", with(dest, "response_code", "200"), counter(6000))
	s.add("istio_requests_total", with(dest, "response_code", "503"), counter(30))
	src := with(s.proxy(svc), "reporter", "source", "source_workload_namespace", svc.Namespace,
		"source_canonical_service", canon, "source_workload", canon,
		"destination_workload_namespace", svc.Namespace, "destination_canonical_service", "backend", "destination_workload", "backend",
		"connection_security_policy", "unknown", "response_code", "200")
	s.add("istio_requests_total", src, counter(3000))
	// 90% of the requests within 100 ms, 99% within 1 s.
	for _, le := range plan.IstioDurationBucketsMs {
		share := 0.5
		switch {
		case le >= 1000:
			share = 0.99
		case le >= 100:
			share = 0.9
		}
		s.add("istio_request_duration_milliseconds_bucket", with(dest, "le", fmt.Sprint(le)), counter(6030*share))
	}
	s.add("istio_request_duration_milliseconds_bucket", with(dest, "le", "+Inf"), counter(6030))
	s.add("istio_tcp_sent_bytes_total", dest, counter(6e6))
	s.add("istio_tcp_received_bytes_total", dest, counter(3e6))
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
	s.add("container_cpu_usage_seconds_total", c, counter(15))
	s.add("container_memory_working_set_bytes", c, gauge(2e8))
	s.add("container_cpu_cfs_periods_total", c, counter(600))
	s.add("container_cpu_cfs_throttled_periods_total", c, counter(12))
	k := with(obj, "job", "kube-state-metrics", "instance", "10.0.0.1:443")
	s.add("kube_pod_status_ready", with(k, "pod", pod, "condition", "true"), gauge(1))
	s.add("kube_pod_container_status_restarts_total", with(k, "pod", pod, "container", "app"), counter(0.01))
	s.add("kube_deployment_spec_replicas", with(k, "deployment", svc.CanonicalService()), gauge(2))
}

// statefulSet writes a StatefulSet with one pod in a team namespace.
func (s *synthetic) statefulSet(ns string) {
	obj := map[string]string{"namespace": ns, "team": s.teamOf(ns)}
	c := with(obj, "job", "cadvisor", "instance", node, "node", node, "pod", "cache-0", "container", "redis")
	s.add("container_cpu_usage_seconds_total", c, counter(3))
	s.add("container_memory_working_set_bytes", c, gauge(5e7))
	s.add("container_cpu_cfs_periods_total", c, counter(600))
	s.add("container_cpu_cfs_throttled_periods_total", c, counter(0))
	k := with(obj, "job", "kube-state-metrics", "instance", "10.0.0.1:443")
	s.add("kube_pod_status_ready", with(k, "pod", "cache-0", "condition", "true"), gauge(1))
	s.add("kube_pod_container_status_restarts_total", with(k, "pod", "cache-0", "container", "redis"), gauge(0))
	s.add("kube_statefulset_replicas", with(k, "statefulset", "cache"), gauge(1))
}

// istiod writes the control plane's series: pushes (and a few send
// errors), rejections, proxies, convergence time, certificates, injection.
func (s *synthetic) istiod() {
	l := map[string]string{"job": "istiod", "instance": "10.1.0.2:15014", "namespace": s.p.Mesh.IstioNamespace, "pod": "istiod-5c7b9"}
	for _, typ := range []string{"cds", "eds", "lds", "rds"} {
		s.add("pilot_xds_pushes", with(l, "type", typ), counter(60))
	}
	s.add("pilot_xds_pushes", with(l, "type", "cds_senderr"), counter(0.1))
	s.add("pilot_total_xds_rejects", with(l, "type", "lds"), counter(0.05))
	s.add("pilot_xds", with(l, "version", "1.27.0"), gauge(42))
	for le, share := range map[string]float64{"0.1": 0.5, "1": 0.9, "10": 0.99, "+Inf": 1} {
		s.add("pilot_proxy_convergence_time_bucket", with(l, "le", le), counter(100*share))
	}
	s.add("citadel_server_csr_count", l, counter(2))
	s.add("citadel_server_success_cert_issuance_count", l, counter(2))
	s.add("citadel_server_csr_sign_err_count", with(l, "error", "sign"), counter(0.01))
	s.add("sidecar_injection_success_total", l, counter(1))
	s.add("sidecar_injection_failure_total", l, counter(0.01))
	c := map[string]string{"job": "cadvisor", "instance": node, "node": node, "namespace": s.p.Mesh.IstioNamespace, "pod": "istiod-5c7b9", "container": "discovery"}
	s.add("container_cpu_usage_seconds_total", c, counter(6))
	s.add("container_memory_working_set_bytes", c, gauge(3e8))
}

// self writes Prometheus' and Alertmanager's own metrics.
func (s *synthetic) self() {
	prom := map[string]string{"job": JobPrometheus, "instance": "localhost:9090"}
	s.add("prometheus_config_last_reload_successful", prom, gauge(1))
	s.add("prometheus_tsdb_head_series", prom, gauge(12345))
	s.add("prometheus_rule_evaluation_failures_total", with(prom, "rule_group", "obsgen-monitoring"), gauge(0))
	am := map[string]string{"job": JobAlertmanager, "instance": "alertmanager-0:9093"}
	s.add("alertmanager_notifications_total", with(am, "integration", "webhook"), counter(1))
	s.add("alertmanager_notifications_failed_total", with(am, "integration", "webhook"), gauge(0))
}
