package rules

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// monitoringAlerts watch the monitoring stack itself: every scrape job's
// targets, and the prometheus and alertmanager jobs' own metrics (the
// Prometheus and Alertmanager mixins' alerts of the same names, with their
// thresholds and `for`, plus a head-series growth alert the mixins lack).
func monitoringAlerts(p *plan.Plan, f fixture) []Rule {
	m := p.Monitoring
	prom := map[string]string{"job": "prometheus", "namespace": m.Namespace, "pod": "prometheus-0", "instance": "10.0.0.9:9090"}
	with := func(l map[string]string, kv ...string) map[string]string {
		extra := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			extra[kv[i]] = kv[i+1]
		}
		return expect(l, nil, extra)
	}
	// TargetDown compares a job's targets across pods (every series of
	// the cluster); the others read one server's own metrics.
	out := []Rule{targetDown(p, f), {
		Alert: "PrometheusBadConfig",
		// max_over_time: a failed scrape must not hide a failed reload.
		Expr: `max_over_time(prometheus_config_last_reload_successful{job="prometheus"}[5m]) == 0`,
		For:  "10m", Labels: sev("critical"),
		Annotations: ann("Prometheus failed to reload its configuration.",
			"Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has failed to reload its configuration for 10 minutes: it keeps running the previous one."),
		Test: &Test{
			Fire:  Case{Series: []Series{{series("prometheus_config_last_reload_successful", prom), "1x5 0x25"}}, At: "25m", Expect: []map[string]string{prom}},
			Quiet: Case{Series: []Series{{series("prometheus_config_last_reload_successful", prom), "1x30"}}, At: "25m"},
		},
	}}
	if m.Prometheus.Agent { // an agent evaluates, alerts and compacts nothing: its reloads and remote write remain
		return monitoringTail(p, out)
	}
	out = append(out, []Rule{{
		Alert: "PrometheusRuleFailures",
		Expr:  `increase(prometheus_rule_evaluation_failures_total{job="prometheus"}[5m]) > 0`,
		For:   "15m", Labels: sev("critical"),
		Annotations: ann("Prometheus fails to evaluate rules.",
			"Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has failed to evaluate rules of group {{ $labels.rule_group }} for 15 minutes: their alerts cannot fire."),
		Test: &Test{
			Fire: Case{Series: []Series{{series("prometheus_rule_evaluation_failures_total", with(prom, "rule_group", "rules/obsgen-slos.yaml;obsgen-slo-shop")), "0+2x40"}}, At: "30m",
				Expect: []map[string]string{with(prom, "rule_group", "rules/obsgen-slos.yaml;obsgen-slo-shop")}},
			Quiet: Case{Series: []Series{{series("prometheus_rule_evaluation_failures_total", with(prom, "rule_group", "rules/obsgen-slos.yaml;obsgen-slo-shop")), "3x40"}}, At: "30m"},
		},
	}, {
		Alert: "PrometheusErrorSendingAlertsToSomeAlertmanagers", OwnLink: true,
		Expr: `(rate(prometheus_notifications_errors_total{job="prometheus"}[5m]) / rate(prometheus_notifications_sent_total{job="prometheus"}[5m]))
* 100 > 1`,
		For: "15m", Labels: sev("warning"),
		Annotations: ann("Prometheus fails to send alerts to an Alertmanager.",
			"Over 1% of the alerts Prometheus {{ $labels.namespace }}/{{ $labels.pod }} sent to {{ $labels.alertmanager }} have failed for 15 minutes: "+
				"check that a network policy or mTLS does not block it."),
		Test: &Test{
			Fire: Case{Series: []Series{
				{series("prometheus_notifications_errors_total", with(prom, "alertmanager", "http://10.0.0.7:9093/api/v2/alerts")), "0+1x30"},
				{series("prometheus_notifications_sent_total", with(prom, "alertmanager", "http://10.0.0.7:9093/api/v2/alerts")), "0+10x30"}},
				At: "25m", Expect: []map[string]string{with(prom, "alertmanager", "http://10.0.0.7:9093/api/v2/alerts")}},
			Quiet: Case{Series: []Series{
				{series("prometheus_notifications_errors_total", with(prom, "alertmanager", "http://10.0.0.7:9093/api/v2/alerts")), "0x30"},
				{series("prometheus_notifications_sent_total", with(prom, "alertmanager", "http://10.0.0.7:9093/api/v2/alerts")), "0+10x30"}},
				At: "25m"},
		},
	}, {
		Alert: "PrometheusTSDBCompactionsFailing",
		Expr:  `increase(prometheus_tsdb_compactions_failed_total{job="prometheus"}[3h]) > 0`,
		For:   "4h", Labels: sev("warning"),
		Annotations: ann("Prometheus fails to compact its TSDB.",
			"Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has failed to compact its blocks for 4 hours: the disk fills and queries slow down."),
		Test: &Test{
			Fire:  Case{Series: []Series{{series("prometheus_tsdb_compactions_failed_total", prom), "0+1x500"}}, At: "8h", Expect: []map[string]string{prom}},
			Quiet: Case{Series: []Series{{series("prometheus_tsdb_compactions_failed_total", prom), "2x500"}}, At: "8h"},
		},
	}, {
		Alert: "PrometheusHeadSeriesGrowth",
		// Not in the mixin: a cardinality explosion (a new label with
		// unbounded values) shows as fast head growth long before the
		// server runs out of memory.
		Expr: `prometheus_tsdb_head_series{job="prometheus"} > 1.5 * (prometheus_tsdb_head_series{job="prometheus"} offset 1h)
and prometheus_tsdb_head_series{job="prometheus"} > 10000`,
		For: "30m", Labels: sev("warning"),
		Annotations: ann("The Prometheus head series grow fast.",
			"Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has held over 1.5 times as many head series as an hour earlier for 30 minutes: "+
				"look for a new label with unbounded values (topk(10, count by (__name__) ({__name__=~\".+\"})))."),
		Test: &Test{
			Fire:  Case{Series: []Series{{series("prometheus_tsdb_head_series", prom), "20000x60 20000+1000x60"}}, At: "115m", Expect: []map[string]string{prom}},
			Quiet: Case{Series: []Series{{series("prometheus_tsdb_head_series", prom), "20000+10x120"}}, At: "115m"},
		},
	}}...)
	out = append(out, alertmanagerAlerts(p)...)
	return monitoringTail(p, out)
}

// monitoringTail adds the delivery alerts and, on a ruler, the alert on a
// cluster gone silent, and gives out[1:] to the platform team.
func monitoringTail(p *plan.Plan, out []Rule) []Rule {
	out = append(out, deliveryAlerts(p)...)
	if r, ok := targetsMissing(p); ok {
		out = append(out, r)
	}
	if p.Rules.ClusterScoped {
		out = append(out, clusterMetricsMissing(p), clusterTargetsDropped(p))
	}
	for i := range out[1:] {
		out[i+1].Labels["team"] = p.Alerting.PlatformTeam
		switch out[i+1].Alert {
		case "ClusterMetricsMissing", "ClusterTargetsDropped", "TargetsMissing":
			// Every series of the cluster: the global evaluator's.
		default:
			out[i+1].Local = true
		}
	}
	return out
}

// whileSending keeps an alert about missing series quiet while the
// cluster, or one of its shards, sends nothing: every series of the
// cluster vanishes then (ClusterMetricsMissing on a ruler), or every
// series of the targets on the dead shard (ClusterTargetsDropped, later).
// With shards, one is gone while fewer shards (the shard external label)
// send up series than the plan runs, for as long as it stays away, as
// ClusterTargetsDropped pages for it.
func whileSending(p *plan.Plan) string {
	return whileSendingJob(p, "")
}

// whileSendingJob is whileSending for an alert that also fires on a job's
// targets being down: a shard away keeps it quiet only while the job has
// no up series at all (its targets were on that shard), so a down target
// a live shard still scrapes is seen.
func whileSendingJob(p *plan.Plan, job string) string {
	guard := " unless on () absent(up)"
	if p.Scrape.Shards > 1 {
		away := fmt.Sprintf("count(count by (%s) (up)) < %d", plan.ShardLabel, p.Scrape.Shards)
		if job != "" {
			away = fmt.Sprintf("(%s) and on () absent(up{job=%q})", away, job)
		}
		guard += " unless on () (" + away + ")"
	}
	return guard
}

// shardsSend adds to a case, for a sharded plan, the self-scrape of every
// shard: the alerts guarded by whileSending see every shard sending, as
// they would, for 250 minutes.
func shardsSend(p *plan.Plan, c Case) Case {
	if p.Scrape.Shards <= 1 {
		return c
	}
	c.Series = slices.Clone(c.Series)
	for i := range p.Scrape.Shards {
		c.Series = append(c.Series, Series{series("up", map[string]string{"job": "prometheus", "instance": fmt.Sprintf("10.0.9.%d:9090", i), plan.ShardLabel: strconv.Itoa(i)}), "1x250"})
	}
	return c
}

// shardDied is an AlsoQuiet scenario of a sharded plan: shard 1, and
// with it the series in extra, stops sending at 70m; shard 0 goes on.
func shardDied(p *plan.Plan, at string, extra ...Series) []Case {
	if p.Scrape.Shards <= 1 {
		return nil
	}
	up := func(shard, instance string) string {
		return series("up", map[string]string{"job": "kubelet", "instance": instance, plan.ShardLabel: shard})
	}
	return []Case{{Series: append([]Series{{up("0", "10.0.0.2:10250"), "1x250"}, {up("1", "10.0.0.3:10250"), "1x70"}}, extra...), At: at}}
}

// targetsMissing fires when Prometheus discovers no target at all for a
// job the Kubernetes alerts read: kube-state-metrics (the workload alerts,
// ZtunnelUnavailable), the kubelet (volume usage) and cAdvisor (CPU
// throttling). TargetDown is a share of the job's targets, so a job
// with none (the exporter not installed, in another namespace, under
// other labels, or its discovery refused) leaves every alert that reads
// it silent without a word. The kubernetes-mixin guards the kubelet the
// same way (KubeletDown, absent(up{job="kubelet"} == 1)); a target that
// is discovered but down is TargetDown's. Under a cluster that sends
// nothing at all (ClusterMetricsMissing on a ruler) it keeps quiet.
func targetsMissing(p *plan.Plan) (Rule, bool) {
	var absent []string
	var present []Series
	var expect []map[string]string
	for _, j := range p.Jobs {
		switch j.Kind {
		case plan.JobKubeStateMetrics, plan.JobKubelet, plan.JobCAdvisor, plan.JobZtunnel:
			absent = append(absent, fmt.Sprintf(`absent(up{job=%q})`, j.Name))
			present = append(present, Series{series("up", map[string]string{"job": j.Name, "instance": "10.0.0.2:10250"}), "0x30"})
			expect = append(expect, map[string]string{"job": j.Name})
		case plan.JobWaypoints:
			// Each declared waypoint: a waypoint not applied, misnamed or
			// in another namespace leaves the request alerts and
			// objectives of the services behind it silent (in ambient
			// only waypoints report requests).
			for _, w := range p.Mesh.Waypoints {
				l := map[string]string{"job": j.Name, "namespace": w.Namespace, plan.WaypointTargetLabel: w.Name}
				absent = append(absent, fmt.Sprintf(`absent(up{job=%q, namespace=%q, %s=%q})`, j.Name, w.Namespace, plan.WaypointTargetLabel, w.Name))
				present = append(present, Series{series("up", maps.Clone(l)), "0x30"})
				expect = append(expect, l)
			}
		}
	}
	if len(absent) == 0 {
		return Rule{}, false
	}
	ofWaypoint := ""
	if len(p.Mesh.Waypoints) > 0 {
		ofWaypoint = "{{ if $labels." + plan.WaypointTargetLabel + " }} of waypoint {{ $labels.namespace }}/{{ $labels." + plan.WaypointTargetLabel + " }}{{ end }}"
	}
	slices.SortFunc(expect, func(a, b map[string]string) int {
		return cmp.Or(strings.Compare(a["job"], b["job"]), strings.Compare(a["namespace"], b["namespace"]), strings.Compare(a[plan.WaypointTargetLabel], b[plan.WaypointTargetLabel]))
	})
	prom := Series{series("up", map[string]string{"job": "prometheus", "instance": "10.0.0.9:9090"}), "1x30"}
	return Rule{
		Alert: "TargetsMissing",
		Expr:  "(" + strings.Join(absent, " or ") + ")" + whileSending(p),
		For:   "15m", Labels: sev("critical"),
		Annotations: ann("Prometheus discovers no target of a job the Kubernetes alerts read.",
			"Prometheus has had no {{ $labels.job }} target"+ofWaypoint+" for 15 minutes: the alerts and dashboards that read its metrics see nothing and stay silent. "+
				"Check that it runs where the profile says (namespace and pod labels) and that Prometheus may discover it."),
		Test: &Test{
			// Only Prometheus itself is scraped: every job is missing.
			Fire: shardsSend(p, Case{Series: []Series{prom}, At: "25m", Expect: expect}),
			// Discovered but down is TargetDown's.
			Quiet: shardsSend(p, Case{Series: append([]Series{prom}, present...), At: "25m"}),
			// Nothing at all from the cluster: ClusterMetricsMissing's;
			// a dead shard: ClusterTargetsDropped's.
			AlsoQuiet: append([]Case{{At: "25m"}}, shardDied(p, "200m")...),
		},
	}, true
}

// alertmanagerAlerts are the Alertmanager mixin's reload and notification
// alerts (alertmanager_notifications_failed_total has a reason label that
// alertmanager_notifications_total lacks, hence ignoring (reason)).
func alertmanagerAlerts(p *plan.Plan) []Rule {
	am := map[string]string{"job": "alertmanager", "namespace": p.Monitoring.Alertmanager.Namespace, "pod": "alertmanager-0", "instance": "10.0.0.7:9093"}
	integration := expect(am, nil, map[string]string{"integration": "webhook"})
	failed := expect(integration, nil, map[string]string{"reason": "other"})
	return []Rule{{
		Alert: "AlertmanagerFailedReload",
		Expr:  `max_over_time(alertmanager_config_last_reload_successful{job="alertmanager"}[5m]) == 0`,
		For:   "10m", Labels: sev("critical"),
		Annotations: ann("Alertmanager failed to reload its configuration.",
			"Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} has failed to reload its configuration for 10 minutes: it keeps routing with the previous one."),
		Test: &Test{
			Fire:  Case{Series: []Series{{series("alertmanager_config_last_reload_successful", am), "1x5 0x25"}}, At: "25m", Expect: []map[string]string{am}},
			Quiet: Case{Series: []Series{{series("alertmanager_config_last_reload_successful", am), "1x30"}}, At: "25m"},
		},
	}, {
		Alert: "AlertmanagerFailedToSendAlerts",
		Expr: `rate(alertmanager_notifications_failed_total{job="alertmanager"}[5m])
/ ignoring (reason) group_left
rate(alertmanager_notifications_total{job="alertmanager"}[5m])
> 0.01`,
		For: "5m", Labels: sev("warning"),
		Annotations: ann("Alertmanager fails to deliver notifications.",
			"Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} has failed to send over 1% of its {{ $labels.integration }} notifications ({{ $labels.reason }}) for 5 minutes: "+
				"check the receiver and network.alertmanagerEgress."),
		Test: &Test{
			Fire: Case{Series: []Series{
				{series("alertmanager_notifications_failed_total", failed), "0+1x20"},
				{series("alertmanager_notifications_total", integration), "0+4x20"}},
				At: "15m", Expect: []map[string]string{failed}},
			Quiet: Case{Series: []Series{
				{series("alertmanager_notifications_failed_total", failed), "0x20"},
				{series("alertmanager_notifications_total", integration), "0+4x20"}},
				At: "15m"},
		},
	}}
}

// targetDown fires when more than the threshold's share of a job's targets
// in a namespace are down. Targets of platform jobs carry no team label:
// they are the platform team's. The test runs 20 envoy-stats targets (5%
// each) and a kube-state-metrics one: enough of them down to pass the
// threshold (fires, for both), or as many as stay at or under it.
func targetDown(p *plan.Plan, f fixture) Rule {
	t := f.threshold("TargetDown")
	// The kube-state-metrics job gives its target no namespace or pod (its
	// relabelings only keep, drop and set the address, and the operator
	// flavour's labelkeep drops the operator's): up has job and instance.
	platformUp := map[string]string{"job": "kube-state-metrics", "instance": "10.244.0.5:8080"}
	waypoints := slices.ContainsFunc(p.Jobs, func(j plan.Job) bool { return j.Kind == plan.JobWaypoints })
	waypointUp := func(name string) map[string]string {
		return f.labels(string(plan.JobWaypoints), map[string]string{"pod": name + "-0", plan.WaypointTargetLabel: name})
	}
	// A team's own copy (team="<team>") sees only the team's targets.
	targets := func(down int, ksm string) []Series {
		var out []Series
		if !f.teamCopy {
			out = append(out, Series{series("up", platformUp), ksm})
		}
		for i := range 20 {
			v := "1x30"
			if i < down {
				v = "0x30"
			}
			out = append(out, Series{series("up", f.labels("envoy-stats", map[string]string{"pod": fmt.Sprintf("shop-%02d", i)})), v})
		}
		if waypoints {
			// Two waypoints of one namespace, a pod each: the first down
			// (with kube-state-metrics) fires for it alone; by namespace
			// only, half the targets would fire without the waypoint.
			out = append(out, Series{series("up", waypointUp("a")), ksm}, Series{series("up", waypointUp("b")), "1x30"})
		}
		return out
	}
	expected := []map[string]string{f.labels("envoy-stats", nil)}
	if waypoints {
		expected = append(expected, expect(waypointUp("a"), []string{"pod"}, nil))
	}
	if !f.teamCopy {
		expected = append(expected, expect(platformUp, []string{"instance"}, map[string]string{"team": p.Alerting.PlatformTeam}))
	}
	return Rule{
		Alert: "TargetDown",
		// By waypoint too: one waypoint's targets down blind the
		// namespaces it serves, not those of another waypoint in its
		// namespace (the inhibitions match each waypoint's); other jobs'
		// targets have no such label.
		Expr: fmt.Sprintf(`label_replace(100 * (count by (job, namespace, team, %[3]s) (up == 0) / count by (job, namespace, team, %[3]s) (up)) > %[1]s, "team", %[2]q, "team", "")`,
			strconv.FormatFloat(t, 'f', -1, 64), p.Alerting.PlatformTeam, plan.WaypointTargetLabel),
		For: "10m", Labels: sev("warning"),
		Annotations: ann("Prometheus cannot scrape some targets of a job.",
			"More than "+percent(t)+" of the {{ $labels.job }} targets{{ with $labels.waypoint }} of waypoint {{ . }}{{ end }}{{ with $labels.namespace }} in namespace {{ . }}{{ end }} have been down for 10 minutes: "+
				"the target, a network policy or mTLS keeps Prometheus from scraping them."),
		Test: &Test{
			Fire:  Case{Series: targets(int(t/5)+1, "0x30"), At: "20m", Expect: expected},
			Quiet: Case{Series: targets(int(t/5), "1x30"), At: "20m"},
		},
	}
}
