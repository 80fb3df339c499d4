package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// watchdog is the dead man's switch: an alert that always fires, on every
// evaluator (kube-prometheus' Watchdog). Alertmanager routes it to a
// heartbeat receiver that pages when the notifications stop: then the
// evaluator, its link to Alertmanager or Alertmanager itself is down.
func watchdog(p *plan.Plan) Rule {
	return Rule{
		Alert: "Watchdog", Expr: "vector(1)", Heartbeat: true,
		Labels: map[string]string{"severity": "none", "team": p.Alerting.PlatformTeam},
		Annotations: ann("The alerting pipeline works: this alert always fires.",
			"This alert fires all the time so a heartbeat receiver (a dead man's switch) notices when it stops: "+
				"then the evaluator, its link to Alertmanager or Alertmanager itself is down."),
		Test: &Test{Fire: Case{At: "5m", Expect: []map[string]string{{}}}, AlwaysFires: true},
	}
}

// prometheusSelf are a Prometheus server's own names in its metrics.
func prometheusSelf(p *plan.Plan) map[string]string {
	return map[string]string{"job": "prometheus", "namespace": p.Monitoring.Namespace, "pod": "prometheus-0", "instance": "10.0.0.9:9090"}
}

// deliveryAlerts watch what leaves a Prometheus server: its link to
// Alertmanager, and its remote write (the Prometheus mixin's alerts of
// the same names and thresholds; metric names from prometheus/prometheus
// notifier/metric.go and storage/remote/queue_manager.go, write.go).
func deliveryAlerts(p *plan.Plan) []Rule {
	prom := prometheusSelf(p)
	rw := expect(prom, nil, map[string]string{"remote_name": "store", "url": "https://store.example/api/v1/push"})
	var out []Rule
	if !p.Monitoring.Prometheus.Agent { // an agent sends no alerts
		out = append(out, Rule{
			Alert: "PrometheusNotConnectedToAlertmanagers", OwnLink: true,
			Expr: `max_over_time(prometheus_notifications_alertmanagers_discovered{job="prometheus"}[5m]) < 1`,
			For:  "10m", Labels: sev("warning"),
			Annotations: ann("Prometheus is not connected to any Alertmanager.",
				"Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has discovered no Alertmanager for 10 minutes: its alerts go nowhere."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("prometheus_notifications_alertmanagers_discovered", prom), "1x5 0x25"}}, At: "25m", Expect: []map[string]string{prom}},
				Quiet: Case{Series: []Series{{series("prometheus_notifications_alertmanagers_discovered", prom), "1x30"}}, At: "25m"},
			},
		})
	}
	if len(p.Monitoring.Prometheus.RemoteWrite) == 0 {
		return out
	}
	failed, all := series("prometheus_remote_storage_samples_failed_total", rw), series("prometheus_remote_storage_samples_total", rw)
	newest, sent := series("prometheus_remote_storage_queue_highest_timestamp_seconds", rw), series("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", rw)
	newestAll := series("prometheus_remote_storage_highest_timestamp_in_seconds", prom)
	old := expect(prom, nil, map[string]string{"pod": "prometheus-1", "instance": "10.0.0.10:9090"})
	rwOld := expect(old, nil, map[string]string{"remote_name": "store", "url": "https://store.example/api/v1/push"})
	newestAllOld, sentOld := series("prometheus_remote_storage_highest_timestamp_in_seconds", old), series("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", rwOld)
	return append(out, Rule{
		Alert: "PrometheusRemoteStorageFailures",
		Expr: `rate(prometheus_remote_storage_samples_failed_total{job="prometheus"}[5m])
/ (rate(prometheus_remote_storage_samples_failed_total{job="prometheus"}[5m]) + rate(prometheus_remote_storage_samples_total{job="prometheus"}[5m]))
* 100 > 1`,
		For: "15m", Labels: sev("critical"),
		Annotations: ann("Prometheus fails to send samples to remote storage.",
			"Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has failed to send over 1% of its samples to {{ $labels.remote_name }} ({{ $labels.url }}) for 15 minutes: "+
				"dashboards and rules reading the store see gaps. Check the endpoint, its credentials and the network policy to it."),
		Test: &Test{
			Fire:  Case{Series: []Series{{failed, "0+100x40"}, {all, "0+1000x40"}}, At: "30m", Expect: []map[string]string{rw}},
			Quiet: Case{Series: []Series{{failed, "0x40"}, {all, "0+1000x40"}}, At: "30m"},
		},
	}, Rule{
		Alert: "PrometheusRemoteWriteBehind",
		// Per queue: the newest sample enqueued against the newest sent
		// (storage/remote/queue_manager.go). The enqueued side exists
		// from Prometheus 3.7 on (CHANGELOG 3.7.0, #17065, which
		// deprecates the server-wide highest_timestamp_in_seconds the
		// mixin reads); older servers, 3.5 LTS and 2.x among them, have
		// only the deprecated one, which the second term reads as the
		// mixin does, for the queues the first does not cover.
		Expr: `(
  max_over_time(prometheus_remote_storage_queue_highest_timestamp_seconds{job="prometheus"}[5m])
  - max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{job="prometheus"}[5m])
or
  max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{job="prometheus"}[5m])
  - ignoring (remote_name, url) group_right
  max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{job="prometheus"}[5m])
) > 120`,
		For: "15m", Labels: sev("critical"),
		Annotations: ann("Prometheus remote write is falling behind.",
			"Prometheus {{ $labels.namespace }}/{{ $labels.pod }}'s remote write to {{ $labels.remote_name }} has been over 2 minutes behind for 15 minutes: "+
				"the store lags and its rules evaluate old data."),
		Test: &Test{
			// prometheus-0 runs 3.7 or later (both enqueued metrics),
			// prometheus-1 an older release (only the server-wide one).
			Fire: Case{Series: []Series{{newest, "0+60x50"}, {newestAll, "0+60x50"}, {sent, "0+60x10 600x40"},
				{newestAllOld, "0+60x50"}, {sentOld, "0+60x10 600x40"}}, At: "40m", Expect: []map[string]string{rw, rwOld}},
			Quiet: Case{Series: []Series{{newest, "0+60x50"}, {newestAll, "0+60x50"}, {sent, "0+60x50"},
				{newestAllOld, "0+60x50"}, {sentOld, "0+60x50"}}, At: "40m"},
		},
	})
}

// clusterMetricsMissing fires on a ruler when the store holds no series of
// the cluster at all: its Prometheus or agent is down, or remote write
// fails entirely, which no alert evaluated from that data can tell.
func clusterMetricsMissing(p *plan.Plan) Rule {
	return Rule{
		Alert: "ClusterMetricsMissing", Expr: `absent(up)`, For: "10m",
		Labels: map[string]string{"severity": "critical", "team": p.Alerting.PlatformTeam},
		Annotations: ann("The store receives no metrics from the cluster.",
			"No series of cluster "+p.Cluster.Name+" have reached the store for 10 minutes: its Prometheus is down or cannot remote-write, "+
				"and every other alert of the cluster is blind."),
		Test: &Test{
			Fire:  Case{At: "15m", Expect: []map[string]string{{}}},
			Quiet: Case{Series: []Series{{series("up", map[string]string{"job": "kubelet", "instance": "10.0.0.2:10250"}), "1x20"}}, At: "15m"},
		},
	}
}

// certificateAlerts watch the mesh's certificates: the root of trust
// istiod signs with (security/pkg/server/ca/monitoring.go:
// citadel_server_root_cert_expiry_timestamp, seconds since the epoch),
// and the workload certificates, from the agent's metrics that the merged
// :15020 endpoint serves (security/pkg/nodeagent/cache: cert_expiry_seconds
// by SDS resource, "default" being the workload's own, exported as
// istio_agent_cert_expiry_seconds).
func certificateAlerts(p *plan.Plan, istiod map[string]string) []Rule {
	const day = 86400
	var out []Rule
	// Without istiod's CA (istio-csr) there is no root expiry to read:
	// the root is cert-manager's issuer's.
	if p.Mesh.IstiodCA() {
		out = append(out, Rule{
			Alert: "IstioRootCertificateExpiring",
			// The expiry each istiod reports of its own root: a target
			// that is down hides it, never raises it, so TargetDown mutes
			// it nowhere (Presence): with two replicas and one down, the
			// healthy one's warning must still go out.
			Presence: true,
			Expr:     `(citadel_server_root_cert_expiry_timestamp{job="istiod"} - time()) < 30 * 86400`,
			For:      "1h", Labels: sev("warning"),
			Annotations: ann("The mesh's root certificate expires within 30 days.",
				"The root certificate istiod {{ $labels.namespace }}/{{ $labels.pod }} signs with expires in less than 30 days: "+
					"rotate it (istio.io docs/ops/configuration/security/root-transition) before workloads stop trusting each other."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("citadel_server_root_cert_expiry_timestamp", istiod), strconv.Itoa(20*day) + "x100"}}, At: "90m", Expect: []map[string]string{istiod}},
				Quiet: Case{Series: []Series{{series("citadel_server_root_cert_expiry_timestamp", istiod), strconv.Itoa(400*day) + "x100"}}, At: "90m"},
			},
		})
	}
	// With istio-csr the workload certificates are istio-csr's, an hour
	// long by default (its --max-client-certificate-duration), so an
	// hour left is their normal state: the threshold below assumes
	// istiod's 24 hours.
	if !slices.ContainsFunc(p.Jobs, func(j plan.Job) bool { return j.Kind == plan.JobIstioMerged }) || !p.Mesh.IstiodCA() {
		return out
	}
	pod := map[string]string{"job": string(plan.JobIstioMerged), "namespace": "shop", "pod": "shop-7d9f", "resource_name": "default"}
	byPod := map[string]string{"namespace": "shop", "pod": "shop-7d9f"}
	// A declared service's pods are scraped on the same merged endpoint
	// by the team-services job, under the service's own job label.
	declared := map[string]string{"job": "shop/frontend", "namespace": "shop", "pod": "frontend-5c4b", "resource_name": "default"}
	byDeclared := map[string]string{"namespace": "shop", "pod": "frontend-5c4b"}
	return append(out, Rule{
		Alert: "IstioWorkloadCertificateExpiring",
		// A value each pod's own series shows: a target that is down
		// hides it, never raises it, so TargetDown mutes it nowhere
		// (Presence). Muting it by the proxies' job's TargetDown muted
		// pods that job does not even scrape (services with a job of
		// their own), while their own job's rule, which matches on
		// destination_canonical_service, could never match it.
		Presence: true,
		// Workload certificates live 24 hours and are renewed half-way
		// (SECRET_TTL, SECRET_GRACE_PERIOD_RATIO): one hour left means
		// renewal has failed for about 11 hours. The metric is the
		// agent's (istio/istio security/pkg/nodeagent/cache/monitoring.go,
		// prefixed istio_agent_ by pilot-agent's status server), on the
		// merged endpoint whichever job scrapes it: istio-merged,
		// team-services (each service's job label) or kubernetes-pods
		// (gateways), so no job matcher.
		Expr: `min by (namespace, pod) (istio_agent_cert_expiry_seconds{resource_name="default"}) < 3600`,
		For:  "10m", Labels: sev("warning"),
		Annotations: ann("A workload's mesh certificate is about to expire.",
			"The mTLS certificate of {{ $labels.namespace }}/{{ $labels.pod }} expires within an hour and was not renewed: "+
				"check the pod's istio-proxy logs and istiod's certificate signing."),
		Test: &Test{
			Fire: Case{Series: []Series{{series("istio_agent_cert_expiry_seconds", pod), "3000-1x30"}, {series("istio_agent_cert_expiry_seconds", declared), "3000-1x30"}},
				At: "20m", Expect: []map[string]string{byDeclared, byPod}},
			Quiet: Case{Series: []Series{{series("istio_agent_cert_expiry_seconds", pod), "43000-60x30"}, {series("istio_agent_cert_expiry_seconds", declared), "43000-60x30"}}, At: "20m"},
		},
	})
}

// ztunnelUnavailable fires when a node has no ready ztunnel: every ambient
// pod on it loses its traffic (kube-state-metrics'
// kube_daemonset_status_number_unavailable).
func ztunnelUnavailable(p *plan.Plan) Rule {
	ds := map[string]string{"job": "kube-state-metrics", "namespace": p.Mesh.IstioNamespace, "daemonset": "ztunnel"}
	return Rule{
		Alert: "ZtunnelUnavailable",
		Expr:  fmt.Sprintf(`kube_daemonset_status_number_unavailable{job="kube-state-metrics", namespace=%q, daemonset="ztunnel"} > 0`, p.Mesh.IstioNamespace),
		For:   "10m", Labels: sev("critical"),
		Annotations: ann("ztunnel is not running on some nodes.",
			"Some nodes have had no ready ztunnel for 10 minutes: the ambient pods on them can neither send nor receive traffic."),
		Test: &Test{
			Fire:  Case{Series: []Series{{series("kube_daemonset_status_number_unavailable", ds), "1x30"}}, At: "20m", Expect: []map[string]string{ds}},
			Quiet: Case{Series: []Series{{series("kube_daemonset_status_number_unavailable", ds), "0x30"}}, At: "20m"},
		},
	}
}

// gatewayAlerts watch the declared gateways' own traffic: a gateway's
// proxy is the client of the backends it routes to, so Istio's stats
// plugin reports its requests with reporter="source" (the outbound
// side; istio.io docs/reference/config/metrics, "reporter"), scraped by
// the istio-gateways job, whose targets carry the gateway label.
func gatewayAlerts(p *plan.Plan, f fixture) []Rule {
	gw := map[string]string{"job": string(plan.JobGateways), "namespace": p.Mesh.Gateways[0].Namespace,
		plan.GatewayTargetLabel: p.Mesh.Gateways[0].Name, "pod": "gateway-5f7d", "reporter": "source"}
	by := map[string]string{"namespace": gw["namespace"], plan.GatewayTargetLabel: gw[plan.GatewayTargetLabel]}
	t := f.threshold("IstioGatewayHighErrorRate")
	fire, quiet := failureMix(t, series("istio_requests_total", expect(gw, nil, map[string]string{"response_code": "200"})), func(code, grpc string) string {
		return series("istio_requests_total", expect(gw, nil, map[string]string{"response_code": code, "grpc_response_status": grpc}))
	})
	lat := int(f.threshold("IstioGatewayHighLatency"))
	next := strconv.Itoa(plan.IstioDurationBucketsMs[slices.Index(plan.IstioDurationBucketsMs, lat)+1])
	bucket := func(le string) string {
		return series("istio_request_duration_milliseconds_bucket", expect(gw, nil, map[string]string{"le": le}))
	}
	sel := `job="istio-gateways", reporter="source"`
	out := []Rule{{
		Alert: "IstioGatewayHighErrorRate",
		Expr: plan.FailedRequestRate("namespace, gateway", sel, "5m") + fmt.Sprintf(`
/ sum by (namespace, gateway) (rate(istio_requests_total{%s}[5m])) > %s`, sel, ratio(t)),
		For: "10m", Labels: sev("critical"),
		Annotations: ann("More than "+percent(t)+" of a gateway's requests fail with a server error.",
			"More than "+percent(t)+" of the requests through gateway {{ $labels.gateway }} ({{ $labels.namespace }}) failed for 10 minutes (an HTTP 5xx, or a gRPC status such as UNAVAILABLE or INTERNAL): users see errors."),
		Test: &Test{
			Fire:  Case{Series: fire, At: "30m", Expect: []map[string]string{by}},
			Quiet: Case{Series: quiet, At: "30m"},
		},
	}, {
		Alert: "IstioGatewayHighLatency",
		Expr: fmt.Sprintf(`histogram_quantile(0.99, sum by (namespace, gateway, le) (rate(istio_request_duration_milliseconds_bucket{%s}[5m]))) > %d`,
			sel, lat),
		For: "10m", Labels: sev("warning"),
		Annotations: ann(fmt.Sprintf("A gateway's p99 latency is above %d ms.", lat),
			fmt.Sprintf("The 99th percentile latency through gateway {{ $labels.gateway }} ({{ $labels.namespace }}) has been above %d ms for 10 minutes.", lat)),
		Test: &Test{
			Fire:  Case{Series: []Series{{bucket(strconv.Itoa(lat)), "0+60x40"}, {bucket(next), "0+100x40"}, {bucket("+Inf"), "0+100x40"}}, At: "30m", Expect: []map[string]string{by}},
			Quiet: Case{Series: []Series{{bucket(strconv.Itoa(lat)), "0+100x40"}, {bucket(next), "0+100x40"}, {bucket("+Inf"), "0+100x40"}}, At: "30m"},
		},
	}}
	for i := range out {
		out[i].Labels["team"] = p.Alerting.PlatformTeam
	}
	return out
}

// clusterTargetsDropped fires on a ruler when a fifth of the cluster's
// targets vanished from the store within the hour: a shard (or an agent
// replica) that died writes no `up == 0`, its targets' series just stop,
// and the surviving shard keeps ClusterMetricsMissing quiet. With shards
// it also names each shard none of whose series arrive, by absent() on its
// shard external label (which remote write adds to every series that has
// no label of that name: prometheus storage/remote/queue_manager.go,
// processExternalLabels; no target label is named shard), for as long as
// it stays away: with six shards or more a dead shard takes fewer than a
// fifth of the cluster's targets, and a comparison with an hour ago
// forgets it once its last series are an hour old. The count stays
// cluster-wide: hashmod sharding moves targets between shards whenever
// their number changes, which a count per shard would take for a loss.
func clusterTargetsDropped(p *plan.Plan) Rule {
	shards := p.Scrape.Shards > 1
	up := func(i int) string {
		l := map[string]string{"job": "kubelet", "instance": "10.0.0." + strconv.Itoa(i) + ":10250"}
		if shards {
			l[plan.ShardLabel] = strconv.Itoa(i % 2)
		}
		return series("up", l)
	}
	var fire, quiet []Series
	for i := range 10 {
		quiet = append(quiet, Series{up(i), "1x120"})
		switch {
		case shards && i%2 == 1, !shards && i >= 5:
			// Shard 1 dies at 60m; without shards half the targets go.
			fire = append(fire, Series{up(i), "1x60"})
		default:
			fire = append(fire, Series{up(i), "1x120"})
		}
	}
	r := Rule{
		Alert: "ClusterTargetsDropped", Expr: `count(up) < 0.8 * count(up offset 1h)`, For: "15m",
		Labels: map[string]string{"severity": "critical", "team": p.Alerting.PlatformTeam},
		Annotations: ann("A fifth of the cluster's targets vanished from the store.",
			"Cluster "+p.Cluster.Name+" has written fewer than 80% of the targets it wrote an hour ago for 15 minutes: "+
				"a Prometheus shard or agent is down, or its remote write fails; the other alerts cannot see those targets."),
		Test: &Test{
			Fire:  Case{Series: fire, At: "90m", Expect: []map[string]string{{}}},
			Quiet: Case{Series: quiet, At: "90m"},
		},
	}
	if shards {
		gone := make([]string, p.Scrape.Shards)
		for i := range gone {
			gone[i] = fmt.Sprintf("absent(up{%s=%q})", plan.ShardLabel, strconv.Itoa(i))
		}
		r.Expr = "count(up) < 0.8 * count(up offset 1h) or ((" + strings.Join(gone, " or ") + ") unless on () absent(up))"
		r.Annotations = ann("A Prometheus shard's or a fifth of the cluster's targets vanished from the store.",
			"{{ with $labels."+plan.ShardLabel+" }}Shard {{ . }} of cluster "+p.Cluster.Name+" has written none of its targets{{ else }}Cluster "+p.Cluster.Name+" has written fewer than 80% of the targets it wrote an hour ago{{ end }} for 15 minutes: "+
				"a Prometheus shard is down, or its remote write fails; the other alerts cannot see those targets.")
		// Half the targets went with shard 1: both parts fire.
		r.Test.Fire.Expect = []map[string]string{{}, {plan.ShardLabel: "1"}}
		// The whole cluster silent is ClusterMetricsMissing's.
		r.Test.AlsoQuiet = []Case{{At: "90m"}}
	}
	return r
}
