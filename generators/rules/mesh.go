package rules

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// Windows of the per-service recording rules (plan.ServiceWindows).
var Windows = plan.ServiceWindows

// Quantiles recorded for the request duration, as name suffix and value.
var Quantiles = []struct {
	Name  string
	Value string
}{{"p50", "0.5"}, {"p90", "0.9"}, {"p99", "0.99"}}

// serviceBy are the labels of the per-service recordings: the team of the
// proxy that reports (the destination's, from the scrape job) and Istio's
// destination service.
const serviceBy = "team, destination_workload_namespace, destination_canonical_service"

// serviceRecordings record, per destination service, the request rate,
// the 5xx rate and ratio, the duration histogram's rate and its
// p50/p90/p99, as the service's reporter counts them without Prometheus'
// scrapes (plan.RequestMatchers).
//
// Only the 5m window reads the raw counters. The longer windows average
// the 5m recordings (avg_over_time), so a 3-day window reads a few
// thousand samples of one series per service instead of every pod's raw
// buckets at every evaluation. The 5xx rate always exists next to the
// request rate (0 without 5xx), so both averages cover the same samples
// and their ratio is the share of failed requests over the window. A
// ratio divides only by a rate above 0: an idle window records nothing
// rather than NaN (0/0), which would poison every window built on it.
func serviceRecordings(p *plan.Plan) []Rule {
	sel := p.RequestMatchers()
	out := []Rule{
		{Record: "service:istio_requests:rate5m",
			Expr: fmt.Sprintf(`sum by (%s) (rate(istio_requests_total{%s}[5m]))`, serviceBy, sel)},
		{Record: "service:istio_requests_errors:rate5m",
			Expr: plan.FailedRequestRate(serviceBy, sel, "5m") + ` or service:istio_requests:rate5m * 0`},
		{Record: "service:istio_request_duration_milliseconds_bucket:rate5m",
			Expr: fmt.Sprintf(`sum by (%s, le) (rate(istio_request_duration_milliseconds_bucket{%s}[5m]))`, serviceBy, sel)},
	}
	for _, w := range Windows[1:] {
		for _, name := range []string{"service:istio_requests:rate", "service:istio_requests_errors:rate", "service:istio_request_duration_milliseconds_bucket:rate"} {
			out = append(out, Rule{Record: name + w, Expr: fmt.Sprintf(`avg_over_time(%s5m[%s])`, name, w)})
		}
	}
	for _, w := range Windows {
		out = append(out, Rule{Record: "service:istio_requests_errors:ratio_rate" + w,
			Expr: fmt.Sprintf(`service:istio_requests_errors:rate%[1]s / (service:istio_requests:rate%[1]s > 0)`, w)})
		for _, q := range Quantiles {
			out = append(out, Rule{Record: fmt.Sprintf("service:istio_request_duration_milliseconds:%s_rate%s", q.Name, w),
				Expr: fmt.Sprintf(`histogram_quantile(%s, service:istio_request_duration_milliseconds_bucket:rate%s)`, q.Value, w)})
		}
	}
	return out
}

// requestSeries are the labels of istio_requests_total as the envoy-stats
// (or istio-merged) job scrapes it from the destination's sidecar.
func (f fixture) requestSeries(extra map[string]string) map[string]string {
	l := f.labels(f.proxyJob, map[string]string{"pod": "shop-7d9f", "reporter": f.reporter,
		"destination_workload_namespace": f.ns, "destination_canonical_service": "shop", "source_canonical_service": "web",
		"connection_security_policy": "mutual_tls", "response_code": "200"})
	maps.Copy(l, extra)
	return l
}

// serviceLabels are the labels of a per-service recording of the fixture.
func (f fixture) serviceLabels() map[string]string {
	l := map[string]string{"destination_workload_namespace": f.ns, "destination_canonical_service": "shop"}
	if f.team != "" {
		l["team"] = f.team
	}
	return l
}

// inNamespace gives each alert of a destination-service expression the
// service's namespace as `namespace`, the label the routing tree groups by
// and TargetDown carries: Alertmanager's inhibition compares labels of the
// same name only (`equal`, prometheus/alertmanager docs/configuration.md
// #inhibit_rule), so without it TargetDown of the proxies in one namespace
// muted a team's service alerts in all its namespaces, or none. Set in the
// expression, not as a templated rule label: before Prometheus 3.11 the
// restore of an alert's `for` state after a restart looked for the raw
// template in ALERTS_FOR_STATE (prometheus rules/alerting.go, fixed in
// e5c77afc), so such an alert went back to pending on every restart.
func inNamespace(expr string) string {
	return `label_replace(` + expr + `, "namespace", "$1", "destination_workload_namespace", "(.*)")`
}

// alertedService is the labels a service alert of the fixture carries:
// the recording's and the namespace.
func alertedService(svc map[string]string) map[string]string {
	return expect(svc, nil, map[string]string{"namespace": svc["destination_workload_namespace"]})
}

// trafficAlerts watch every destination service of the mesh: error ratio,
// p99 latency, traffic that stopped, and under STRICT plaintext requests.
func trafficAlerts(p *plan.Plan, f fixture) []Rule {
	ok := series("istio_requests_total", f.requestSeries(nil))
	bucket := func(le string) string {
		l := f.requestSeries(map[string]string{"le": le})
		delete(l, "response_code")
		return series("istio_request_duration_milliseconds_bucket", l)
	}
	svc := alertedService(f.serviceLabels())
	gone := series("istio_requests_total", f.requestSeries(map[string]string{"destination_canonical_service": "cart", "pod": "cart-6f5d"}))
	goneSvc := maps.Clone(svc)
	goneSvc["destination_canonical_service"] = "cart"
	clusterUp := series("up", map[string]string{"job": "kubelet", "instance": "10.0.0.2:10250"})
	out := []Rule{
		istioErrors(f, svc, ok),
		istioLatency(f, svc, bucket),
		{
			Alert: "IstioTrafficDropped",
			// A proxy creates istio_requests_total at its first request
			// (istio/proxy source/extensions/filters/http/istio_stats):
			// after a rollout whose new pods get no traffic the old pods'
			// series go stale and the new ones never exist, so the
			// recording has no series at all, which "== 0" cannot see.
			// Not while the whole cluster sends nothing (ClusterMetricsMissing
			// on a ruler): every service's series vanish then.
			Expr: inNamespace(`(service:istio_requests:rate5m offset 1h > 0) unless (service:istio_requests:rate5m > 0)` + whileSending(p)),
			// 10m, as TargetDown's: when the targets that report a
			// service stop answering, its recording ends about 5 minutes
			// later (rate() needs two samples in its window), and with
			// 5m this alert fired some two minutes before the TargetDown
			// whose inhibition mutes it; Alertmanager checks inhibitions
			// when it flushes a group, so only group_wait could save it
			// (TestTargetDownFiresBeforeTheTrafficItHides).
			For: "10m", Labels: sev("warning"),
			Annotations: ann("A service stopped receiving requests.",
				"{{ $labels.destination_canonical_service }} in {{ $labels.destination_workload_namespace }} received requests an hour ago and none in the last 15 minutes."),
			Test: &Test{
				// shop's counter stops; cart's pods are replaced by pods
				// that never receive a request (its series ends).
				Fire: shardsSend(p, Case{Series: []Series{{ok, "0+60x70 4200x60"}, {gone, "0+60x70"}, {clusterUp, "1x130"}}, At: "100m",
					Expect: []map[string]string{goneSvc, svc}}),
				Quiet: shardsSend(p, Case{Series: []Series{{ok, "0+60x130"}, {clusterUp, "1x130"}}, At: "100m"}),
				// The cluster stopped sending at 70m: its every series ends.
				AlsoQuiet: append([]Case{{Series: []Series{{ok, "0+60x70"}, {gone, "0+60x70"}, {clusterUp, "1x70"}}, At: "100m"}},
					shardDied(p, "100m", Series{ok, "0+60x70"}, Series{gone, "0+60x70"})...),
			},
		},
	}
	if p.Mesh.MTLS == v1alpha1.MTLSStrict && p.Scrape.Strategy != v1alpha1.StrategyPermissivePort {
		// Under permissive-port Prometheus' own scrapes are plaintext
		// requests to the metrics port, so the alert would always fire.
		plain := series("istio_requests_total", f.requestSeries(map[string]string{"connection_security_policy": "none"}))
		sel := p.RequestMatchers() + `, connection_security_policy!="mutual_tls"`
		var also []Case
		if m := p.Monitoring; m.InMesh {
			// An in-mesh monitoring stack takes plaintext on purpose on the
			// ports obsgen makes PERMISSIVE for it (Alertmanager,
			// kube-state-metrics, Grafana, the operator's webhook:
			// generators/istio MonitoringPorts), all in its namespace:
			// Prometheus' requests bypass its sidecar and carry no
			// principal, so the alert would fire for them forever.
			sel += fmt.Sprintf(`, destination_workload_namespace!=%q`, m.Namespace)
			toAM := f.requestSeries(map[string]string{"connection_security_policy": "none", "destination_workload_namespace": m.Namespace,
				"destination_canonical_service": "alertmanager", "source_principal": "unknown"})
			also = append(also, Case{Series: []Series{{ok, "0+60x30"}, {series("istio_requests_total", toAM), "0+10x30"}}, At: "20m"})
		}
		r := Rule{
			Alert: "IstioPlaintextRequests", Presence: true,
			Expr: inNamespace(fmt.Sprintf(`sum by (%s) (rate(istio_requests_total{%s}[5m])) > 0`,
				serviceBy, sel)),
			For: "5m", Labels: sev("warning"),
			Annotations: ann("A service receives requests without mTLS although the mesh is STRICT.",
				"{{ $labels.destination_canonical_service }} in {{ $labels.destination_workload_namespace }} receives requests without mutual TLS; check its PeerAuthentication."),
			Test: &Test{
				Fire:  Case{Series: []Series{{ok, "0+60x30"}, {plain, "0+10x30"}}, At: "20m", Expect: []map[string]string{svc}},
				Quiet: Case{Series: []Series{{ok, "0+60x30"}}, At: "20m"},
				// Prometheus' plaintext alerts to an in-mesh Alertmanager.
				AlsoQuiet: also,
			},
		}
		if p.Mesh.Ambient {
			r = ambientPlaintext(p, f, r, svc)
		}
		out = append(out, r)
	}
	if slices.ContainsFunc(p.Jobs, func(j plan.Job) bool { return j.Kind == plan.JobIstioMerged }) {
		out = append(out, appMetricsScrapeFailing(f))
	}
	return out
}

// ambientPlaintext is IstioPlaintextRequests in ambient, where plaintext
// never reaches a waypoint: a waypoint takes HBONE only, so its reports say
// mutual_tls whatever the client sent (istio/proxy testdata/metric/
// server_waypoint_proxy_connect_request_total.yaml.tmpl). Plaintext to an
// enrolled pod goes through its node's ztunnel instead, which reports it
// as an inbound connection with connection_security_policy="unknown"
// (istio/ztunnel src/proxy/inbound_passthrough.rs). It reads the bytes
// such connections carry: ztunnel copies them only once its authorization
// (STRICT among it) let the connection in (assert_rbac before the copy),
// and counts them while the connection lasts (src/copy.rs), where a count
// of connections would see a denied one opened and a long-lived one only
// once it closes.
func ambientPlaintext(p *plan.Plan, f fixture, r Rule, svc map[string]string) Rule {
	job := string(plan.JobZtunnel)
	for _, j := range p.Jobs {
		if j.Kind == plan.JobZtunnel {
			job = j.Name
		}
	}
	sel := fmt.Sprintf(`job=%q, reporter="destination", connection_security_policy!="mutual_tls"`, job)
	if m := p.Monitoring; m.InMesh {
		sel += fmt.Sprintf(`, destination_workload_namespace!=%q`, m.Namespace)
	}
	conn := func(ns, service, policy, values string) Series {
		l := map[string]string{"job": job, "namespace": p.Mesh.IstioNamespace, "pod": "ztunnel-x7k2p", "reporter": "destination",
			"destination_workload_namespace": ns, "destination_canonical_service": service, "connection_security_policy": policy, "response_flags": "-"}
		if ns == f.ns && f.team != "" {
			l["team"] = f.team
		}
		return Series{series("istio_tcp_received_bytes_total", l), values}
	}
	mtls := conn(f.ns, "shop", "mutual_tls", "0+5000x30")
	r.Expr = inNamespace(fmt.Sprintf(`sum by (%s) (rate(istio_tcp_received_bytes_total{%s}[5m])) > 0`, serviceBy, sel))
	r.Annotations = ann("A service accepts connections without mTLS although the mesh is STRICT.",
		"{{ $labels.destination_canonical_service }} in {{ $labels.destination_workload_namespace }} receives data over plaintext connections (ztunnel let them in); check its PeerAuthentication.")
	r.Test = &Test{
		// A long-lived plaintext connection: its bytes grow, it never closes.
		Fire:  Case{Series: []Series{mtls, conn(f.ns, "shop", "unknown", "0+800x30")}, At: "20m", Expect: []map[string]string{svc}},
		Quiet: Case{Series: []Series{mtls}, At: "20m"},
		AlsoQuiet: []Case{
			// STRICT at work: ztunnel denied the plaintext connections,
			// which carried no byte.
			{Series: []Series{mtls, conn(f.ns, "shop", "unknown", "0x30")}, At: "20m"},
		},
	}
	if m := p.Monitoring; m.InMesh {
		r.Test.AlsoQuiet = append(r.Test.AlsoQuiet, Case{Series: []Series{mtls, conn(m.Namespace, "alertmanager", "unknown", "0+800x30")}, At: "20m"})
	}
	return r
}

// appMetricsScrapeFailing fires when a sidecar's agent cannot scrape the
// application it merges: with metrics merging the agent fetches the
// application's metrics from the port and path of the pod's own
// prometheus.io annotations on every scrape of :15020 and serves what it
// got with Envoy's and its own; a failure is only logged and counted
// (istio_agent_scrape_failures_total{type="application"}, istio/istio
// pilot/cmd/pilot-agent/metrics/metrics.go and status/server.go), while
// the target stays up. The application's metrics vanish from dashboards
// and rules with no TargetDown. Only pods with such annotations are
// scraped this way (pkg/kube/inject/webhook.go sets the agent's scrape
// configuration only when the pod has one), so it does not fire for pods
// that export nothing.
func appMetricsScrapeFailing(f fixture) Rule {
	pod := f.labels(f.proxyJob, map[string]string{"pod": "shop-7d9f", "type": "application"})
	scrapes := f.labels(f.proxyJob, map[string]string{"pod": "shop-7d9f"})
	return Rule{
		Alert: "IstioAppMetricsScrapeFailing", Presence: true,
		// The share of the agent's scrapes (each scrape of :15020,
		// istio_agent_scrapes_total) whose application fetch failed: an
		// occasional failure (a slow response, a restart) is no outage.
		Expr: `sum by (team, namespace, pod) (rate(istio_agent_scrape_failures_total{type="application"}[10m]))
/ sum by (team, namespace, pod) (rate(istio_agent_scrapes_total[10m]))
> 0.5`,
		For: "15m", Labels: sev("warning"),
		Annotations: ann("The sidecar cannot scrape the application's metrics.",
			"The Istio agent of {{ $labels.namespace }}/{{ $labels.pod }} has failed to fetch the application's metrics in most scrapes for 15 minutes (metrics merging): "+
				"they are missing although the target is up. Check the pod's prometheus.io/port and prometheus.io/path annotations (without a port the agent asks :80/metrics) against what the application serves."),
		Test: &Test{
			Fire: Case{Series: []Series{{series("istio_agent_scrape_failures_total", pod), "0+2x40"}, {series("istio_agent_scrapes_total", scrapes), "0+2x40"}},
				At: "30m", Expect: []map[string]string{expect(pod, []string{"job", "type"}, nil)}},
			// One fetch in twenty fails.
			Quiet: Case{Series: []Series{{series("istio_agent_scrape_failures_total", pod), "0+1x40"}, {series("istio_agent_scrapes_total", scrapes), "0+20x40"}}, At: "30m"},
		},
	}
}

// controlPlaneAlerts watch istiod through the metrics its monitoring port
// serves. Istio exports counters under their declared names, without a
// _total suffix (pkg/monitoring).
func controlPlaneAlerts(p *plan.Plan) []Rule {
	istiod := map[string]string{"job": "istiod", "namespace": p.Mesh.IstioNamespace, "pod": "istiod-5c7b9"}
	with := func(k, v string) map[string]string { return expect(istiod, nil, map[string]string{k: v}) }
	byPod := map[string]string{"namespace": p.Mesh.IstioNamespace, "pod": "istiod-5c7b9"}
	out := []Rule{
		{
			Alert: "IstiodDown",
			// unless absent(up): a cluster that sends nothing at all is
			// ClusterMetricsMissing's (on a ruler), not istiod's.
			Expr: `absent(up{job="istiod"} == 1)` + whileSendingJob(p, "istiod"),
			For:  "5m", Labels: sev("critical"),
			Annotations: ann("No istiod is up.",
				"Prometheus has not scraped a healthy istiod for 5 minutes: proxies get no configuration or certificate updates."),
			Test: &Test{
				// absent() of a comparison cannot know the labels: none.
				Fire:  shardsSend(p, Case{Series: []Series{{series("up", istiod), "0x20"}}, At: "15m", Expect: []map[string]string{{}}}),
				Quiet: shardsSend(p, Case{Series: []Series{{series("up", istiod), "1x20"}}, At: "15m"}),
				// Nothing at all from the cluster: ClusterMetricsMissing's;
				// istiod's shard died: ClusterTargetsDropped's.
				AlsoQuiet: append([]Case{{At: "15m"}}, shardDied(p, "200m", Series{series("up", istiod), "1x70"})...),
			},
		},
		{
			Alert: "IstiodXdsPushErrors",
			// pilot_xds_pushes counts <type>_senderr and <type>_builderr
			// (pilot/pkg/xds/monitoring.go): a push istiod fails to build
			// never reaches the proxies either.
			Expr: `sum by (namespace, pod) (rate(pilot_xds_pushes{job="istiod", type=~".+_(senderr|builderr)"}[5m])) > 0`,
			For:  "10m", Labels: sev("warning"),
			Annotations: ann("istiod fails to build or send xDS pushes.",
				"istiod {{ $labels.namespace }}/{{ $labels.pod }} has been failing to build or send configuration to proxies for 10 minutes."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("pilot_xds_pushes", with("type", "cds_senderr")), "0+1x30"}}, At: "25m", Expect: []map[string]string{byPod}},
				Quiet: Case{Series: []Series{{series("pilot_xds_pushes", with("type", "cds")), "0+100x30"}}, At: "25m"},
			},
		},
		{
			Alert: "IstiodXdsRejected",
			Expr:  `sum by (namespace, pod, type) (increase(pilot_total_xds_rejects{job="istiod"}[10m])) > 0`,
			For:   "5m", Labels: sev("warning"),
			Annotations: ann("Proxies reject configuration from istiod.",
				"Proxies rejected {{ $labels.type }} configuration pushed by istiod {{ $labels.namespace }}/{{ $labels.pod }}; check the proxies' logs and recent Istio resources."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("pilot_total_xds_rejects", with("type", "lds")), "0+1x30"}}, At: "20m", Expect: []map[string]string{expect(byPod, nil, map[string]string{"type": "lds"})}},
				Quiet: Case{Series: []Series{{series("pilot_total_xds_rejects", with("type", "lds")), "5x30"}}, At: "20m"},
			},
		},
		{
			Alert: "IstiodCertificateSigningErrors",
			Expr:  `sum by (namespace, pod) (increase(citadel_server_csr_sign_err_count{job="istiod"}[10m])) > 0`,
			For:   "5m", Labels: sev("critical"),
			Annotations: ann("istiod fails to sign workload certificates.",
				"istiod {{ $labels.namespace }}/{{ $labels.pod }} failed to sign certificate requests: workloads cannot renew their mTLS certificates."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("citadel_server_csr_sign_err_count", with("error", "sign")), "0+1x30"}}, At: "20m", Expect: []map[string]string{byPod}},
				Quiet: Case{Series: []Series{{series("citadel_server_csr_sign_err_count", with("error", "sign")), "2x30"}}, At: "20m"},
			},
		},
	}
	if !p.Mesh.IstiodCA() {
		// No citadel_server_*: the alert could never fire.
		out = slices.DeleteFunc(out, func(r Rule) bool { return r.Alert == "IstiodCertificateSigningErrors" })
	}
	if p.Mesh.Sidecar {
		out = append(out, Rule{
			Alert: "IstioSidecarInjectionFailures",
			Expr:  `sum by (namespace, pod) (increase(sidecar_injection_failure_total{job="istiod"}[10m])) > 0`,
			For:   "5m", Labels: sev("warning"),
			Annotations: ann("Sidecar injection fails.",
				"istiod {{ $labels.namespace }}/{{ $labels.pod }} failed to inject sidecars: new pods start without a proxy (or not at all)."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("sidecar_injection_failure_total", istiod), "0+1x30"}}, At: "20m", Expect: []map[string]string{byPod}},
				Quiet: Case{Series: []Series{{series("sidecar_injection_failure_total", istiod), "3x30"}}, At: "20m"},
			},
		})
	}
	out = append(out, certificateAlerts(p, istiod)...)
	if p.Mesh.Ambient {
		out = append(out, ztunnelUnavailable(p))
	}
	// The control plane is the platform team's. Every alert but
	// IstiodDown (absent(): every istiod target) reads one istiod's series.
	for i := range out {
		out[i].Labels["team"] = p.Alerting.PlatformTeam
		out[i].Local = out[i].Alert != "IstiodDown"
	}
	return out
}

// failureMix is the input of an error-ratio alert's test at threshold t
// (a percentage), 1000 requests a minute of the series req names by HTTP
// and gRPC status, ok the successful ones (plan.FailedRequests): to fire,
// gRPC calls answered HTTP 200 with status UNAVAILABLE fail half-way
// between the threshold and 100% (a response_code matcher alone misses
// them); to stay quiet, HTTP 503s that also carry a gRPC status (counted
// once) at 0.6 of the threshold, and clients' errors at 20% each: gRPC
// NOT_FOUND, and HTTP 429 from a proxy, to which Envoy gives the gRPC
// status UNAVAILABLE.
func failureMix(t float64, ok string, req func(code, grpc string) string) (fire, quiet []Series) {
	perMinute := func(n int) string { return fmt.Sprintf("0+%dx40", n) }
	failing := int(above(t) * 10)
	both, notFound, throttled := int(t*6), 200, 200
	fire = []Series{{ok, perMinute(1000 - failing)}, {req("200", "14"), perMinute(failing)}}
	quiet = []Series{{ok, perMinute(1000 - both - notFound - throttled)}, {req("503", "14"), perMinute(both)},
		{req("200", "5"), perMinute(notFound)}, {req("429", "14"), perMinute(throttled)}}
	return fire, quiet
}

// istioErrors fires when more than the threshold's share of a service's
// requests fail on the server's side (plan.FailedRequests); failureMix
// is its test's input.
func istioErrors(f fixture, svc map[string]string, ok string) Rule {
	t := f.threshold("IstioHighErrorRate")
	fire, quiet := failureMix(t, ok, func(code, grpc string) string {
		return series("istio_requests_total", f.requestSeries(map[string]string{"response_code": code, "grpc_response_status": grpc}))
	})
	return Rule{
		Alert: "IstioHighErrorRate",
		Expr:  inNamespace(`service:istio_requests_errors:ratio_rate5m > ` + ratio(t) + ` and service:istio_requests:rate5m > 0`),
		For:   "10m", Labels: sev("warning"),
		Annotations: ann("More than "+percent(t)+" of a service's requests fail with a server error.",
			"More than "+percent(t)+" of the requests to {{ $labels.destination_canonical_service }} in {{ $labels.destination_workload_namespace }} failed in the last 5 minutes (an HTTP 5xx, or a gRPC status such as UNAVAILABLE or INTERNAL)."),
		Test: &Test{
			Fire:  Case{Series: fire, At: "30m", Expect: []map[string]string{svc}},
			Quiet: Case{Series: quiet, At: "30m"},
		},
	}
}

// istioLatency fires when a service's p99 latency is above the threshold,
// an Istio bucket boundary. The test puts 40% of the requests in the bucket
// above the threshold (p99 interpolates above it) or none.
func istioLatency(f fixture, svc map[string]string, bucket func(le string) string) Rule {
	t := int(f.threshold("IstioHighLatency"))
	i := slices.Index(plan.IstioDurationBucketsMs, t)
	next := strconv.Itoa(plan.IstioDurationBucketsMs[i+1])
	le := strconv.Itoa(t)
	return Rule{
		Alert: "IstioHighLatency",
		Expr:  inNamespace(fmt.Sprintf(`service:istio_request_duration_milliseconds:p99_rate5m > %d`, t)),
		For:   "10m", Labels: sev("warning"),
		Annotations: ann(fmt.Sprintf("A service's p99 latency is above %d ms.", t),
			fmt.Sprintf("The 99th percentile latency of {{ $labels.destination_canonical_service }} in {{ $labels.destination_workload_namespace }} has been above %d ms for 10 minutes.", t)),
		Test: &Test{
			Fire: Case{Series: []Series{{bucket(le), "0+60x40"}, {bucket(next), "0+100x40"}, {bucket("+Inf"), "0+100x40"}},
				At: "30m", Expect: []map[string]string{svc}},
			Quiet: Case{Series: []Series{{bucket(le), "0+100x40"}, {bucket(next), "0+100x40"}, {bucket("+Inf"), "0+100x40"}}, At: "30m"},
		},
	}
}
