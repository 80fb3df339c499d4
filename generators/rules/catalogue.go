package rules

import (
	"maps"
	"slices"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// MetricsByJob documents the metrics obsgen's rules (and dashboards) read,
// by the scrape job that produces them, with where the name comes from.
// A test fails when a rule reads a metric that no generated job produces
// and no recording rule records: an orphan would leave an alert silent.
var MetricsByJob = map[string][]string{
	// Prometheus itself, for every job (up, scrape_*).
	"*": {"up",
		"scrape_duration_seconds", "scrape_samples_scraped"},
	// kube-state-metrics (kubernetes/kube-state-metrics docs/metrics).
	"kube-state-metrics": {
		"kube_pod_container_status_waiting_reason", "kube_pod_status_phase", "kube_pod_owner",
		"kube_deployment_spec_replicas", "kube_deployment_status_replicas_available", "kube_deployment_status_replicas_updated",
		"kube_statefulset_status_replicas_ready", "kube_statefulset_replicas", "kube_statefulset_status_replicas_updated",
		"kube_job_failed", "kube_pod_container_status_restarts_total", "kube_pod_container_status_last_terminated_reason",
		"kube_pod_status_ready", "kube_daemonset_status_number_unavailable", "kube_pod_created",
	},
	// cAdvisor through the kubelet's /metrics/cadvisor.
	"cadvisor": {"container_cpu_cfs_throttled_periods_total", "container_cpu_cfs_periods_total",
		"container_cpu_usage_seconds_total", "container_memory_working_set_bytes"},
	// The kubelet's own /metrics.
	"kubelet": {"kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes", "kubelet_volume_stats_used_bytes"},
	// Prometheus' own /metrics (prometheus/prometheus: rules/manager.go,
	// config reloader, notifier/notifier.go, tsdb/head.go, tsdb/compact.go).
	"prometheus": {
		"prometheus_config_last_reload_successful", "prometheus_rule_evaluation_failures_total",
		"prometheus_notifications_errors_total", "prometheus_notifications_sent_total",
		"prometheus_tsdb_compactions_failed_total", "prometheus_tsdb_head_series",
		"prometheus_notifications_alertmanagers_discovered", "prometheus_remote_storage_samples_failed_total",
		"prometheus_remote_storage_samples_total", "prometheus_remote_storage_queue_highest_timestamp_seconds",
		"prometheus_remote_storage_highest_timestamp_in_seconds",
		"prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
	},
	// Alertmanager's own /metrics (prometheus/alertmanager: notify/notify.go,
	// config/coordinator.go).
	"alertmanager": {
		"alertmanager_config_last_reload_successful", "alertmanager_notifications_total", "alertmanager_notifications_failed_total",
	},
	// Envoy's Istio standard metrics (istio.io docs/reference/config/metrics),
	// scraped by envoy-stats, istio-merged or ztunnel.
	"istio-proxy": {"istio_requests_total", "istio_request_duration_milliseconds_bucket",
		"istio_request_bytes_sum", "istio_response_bytes_sum",
		"istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total",
		"istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total"},
	// ztunnel reports TCP metrics only (istio/ztunnel src/proxy/metrics.rs);
	// in ambient the requests come from waypoints.
	"ztunnel": {"istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total", "istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total"},
	// istiod's monitoring port (pilot/pkg/xds, pkg/xds, pkg/kube/inject and
	// security/pkg/server/ca monitoring.go; counters without _total).
	"istiod": {"pilot_xds_pushes", "pilot_total_xds_rejects", "citadel_server_csr_sign_err_count", "sidecar_injection_failure_total",
		"pilot_xds", "pilot_proxy_convergence_time_bucket", "citadel_server_csr_count", "citadel_server_success_cert_issuance_count",
		"sidecar_injection_success_total", "citadel_server_root_cert_expiry_timestamp"},
	// istio-agent's metrics, which only the merged :15020 endpoint serves
	// (security/pkg/nodeagent/cache, prefixed istio_agent_).
	"istio-agent": {"istio_agent_cert_expiry_seconds", "istio_agent_scrape_failures_total", "istio_agent_scrapes_total"},
}

// proxyJobs are the jobs that scrape Istio's standard metrics.
var proxyJobs = []plan.JobKind{plan.JobEnvoyStats, plan.JobIstioMerged, plan.JobGateways, plan.JobWaypoints}

// JobMetrics are the catalogued metrics a job of this kind produces.
func JobMetrics(kind plan.JobKind) []string {
	if kind == plan.JobIstioMerged {
		return append(slices.Clone(MetricsByJob["istio-proxy"]), MetricsByJob["istio-agent"]...)
	}
	if slices.Contains(proxyJobs, kind) {
		return MetricsByJob["istio-proxy"]
	}
	return MetricsByJob[string(kind)]
}

// Produced are the metrics a plan's Prometheus holds: what every job and
// each of the plan's jobs scrape, and what the recording rules of files
// record.
func Produced(p *plan.Plan, files []File) map[string]bool {
	out := map[string]bool{}
	for _, m := range MetricsByJob["*"] {
		out[m] = true
	}
	for _, j := range p.Jobs {
		for _, m := range JobMetrics(j.Kind) {
			out[m] = true
		}
	}
	if !p.Mesh.IstiodCA() {
		maps.DeleteFunc(out, func(m string, _ bool) bool { return strings.HasPrefix(m, "citadel_server_") })
	}
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					out[r.Record] = true
				}
			}
		}
	}
	return out
}
