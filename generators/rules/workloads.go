package rules

import "maps"

// fixture names the namespace, team and objects the unit tests use: the
// first namespace of the first team, so the series carry the labels the
// scrape jobs give that namespace's objects.
type fixture struct {
	ns, team string
	// thresholds override Thresholds' defaults, by alert.
	thresholds map[string]float64
	// teamCopy: the fixture of a team's own copy of a rule, whose test
	// holds only that team's series.
	teamCopy bool
	// reporter and proxyJob are the reporter of a service's request
	// metrics and the job that scrapes them (plan.Mesh.RequestReporter).
	reporter, proxyJob string
}

// threshold is the alert's threshold in this fixture's rules.
func (f fixture) threshold(alert string) float64 {
	if t, ok := f.thresholds[alert]; ok {
		return t
	}
	return Thresholds[alert].Default
}

// labels returns the series labels of an object in the fixture's
// namespace: job, namespace, team (when the namespace has one) and extra.
func (f fixture) labels(job string, extra map[string]string) map[string]string {
	l := map[string]string{"namespace": f.ns}
	if job != "" {
		l["job"] = job
	}
	if f.team != "" {
		l["team"] = f.team
	}
	maps.Copy(l, extra)
	return l
}

// series writes a series selector: name{labels}, labels sorted.
func series(name string, labels map[string]string) string {
	return name + labelString(labels)
}

// expect copies labels without job, for alerts whose expression
// aggregates it away, and adds extra.
func expect(labels map[string]string, drop []string, extra map[string]string) map[string]string {
	out := maps.Clone(labels)
	for _, d := range drop {
		delete(out, d)
	}
	maps.Copy(out, extra)
	return out
}

const ksm = `job="kube-state-metrics"`

// workloadAlerts are kubernetes-mixin's workload alerts (same names and
// meaning; thresholds and `for` as upstream), keyed by the team label that
// the kube-state-metrics, cAdvisor and kubelet jobs derive from the
// object's namespace, plus an OOM-kill alert the mixin lacks.
func workloadAlerts(f fixture) []Rule {
	// Each reads one job's series of one object (a pod's from the
	// kube-state-metrics target, a volume's from its node's kubelet, a
	// container's from its node's cAdvisor): right on any shard.
	return local(kubeWorkloadAlerts(f))
}

func kubeWorkloadAlerts(f fixture) []Rule {
	pod := f.labels("kube-state-metrics", map[string]string{"pod": "shop-7d9f", "container": "app"})
	crash := expect(pod, nil, map[string]string{"reason": "CrashLoopBackOff"})
	waiting := expect(pod, nil, map[string]string{"reason": "ImagePullBackOff"})
	phase := f.labels("kube-state-metrics", map[string]string{"pod": "shop-7d9f", "phase": "Pending"})
	owner := f.labels("kube-state-metrics", map[string]string{"pod": "shop-7d9f", "owner_kind": "ReplicaSet", "owner_name": "shop-7d9f"})
	deploy := f.labels("kube-state-metrics", map[string]string{"deployment": "shop"})
	sts := f.labels("kube-state-metrics", map[string]string{"statefulset": "db"})
	job := f.labels("kube-state-metrics", map[string]string{"job_name": "nightly"})
	container := f.labels("cadvisor", map[string]string{"pod": "shop-7d9f", "container": "app"})
	pvc := f.labels("kubelet", map[string]string{"persistentvolumeclaim": "data-db-0"})
	oom := expect(pod, nil, map[string]string{"reason": "OOMKilled"})
	fresh := f.labels("kube-state-metrics", map[string]string{"pod": "shop-5b2c", "container": "app"})
	freshOOM := expect(fresh, nil, map[string]string{"reason": "OOMKilled"})
	born := f.labels("kube-state-metrics", map[string]string{"pod": "shop-3a7e", "container": "app"})
	bornOOM := expect(born, nil, map[string]string{"reason": "OOMKilled"})
	bornPod := f.labels("kube-state-metrics", map[string]string{"pod": "shop-3a7e"})
	old := f.labels("kube-state-metrics", map[string]string{"pod": "shop-0c9d", "container": "app"})
	oldOOM := expect(old, nil, map[string]string{"reason": "OOMKilled"})
	oldPod := f.labels("kube-state-metrics", map[string]string{"pod": "shop-0c9d"})
	again := f.labels("kube-state-metrics", map[string]string{"pod": "shop-8e1a", "container": "app"})
	againOOM := expect(again, nil, map[string]string{"reason": "OOMKilled"})
	againError := expect(again, nil, map[string]string{"reason": "Error"})
	return []Rule{
		{
			Alert: "KubePodCrashLooping",
			Expr:  `max_over_time(kube_pod_container_status_waiting_reason{` + ksm + `, reason="CrashLoopBackOff"}[5m]) >= 1`,
			For:   "15m", Labels: sev("warning"),
			Annotations: ann("Pod is crash looping.",
				"Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in waiting state (reason: CrashLoopBackOff)."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("kube_pod_container_status_waiting_reason", crash), "1x30"}}, At: "20m", Expect: []map[string]string{crash}},
				Quiet: Case{Series: []Series{{series("kube_pod_container_status_waiting_reason", crash), "0x30"}}, At: "20m"},
			},
		},
		{
			Alert: "KubePodNotReady",
			Expr: `sum by (namespace, pod, team) (max by (namespace, pod, team) (kube_pod_status_phase{` + ksm + `, phase=~"Pending|Unknown|Failed"})` +
				` * on (namespace, pod) group_left (owner_kind) topk by (namespace, pod) (1, max by (namespace, pod, owner_kind) (kube_pod_owner{` + ksm + `, owner_kind!="Job"}))) > 0`,
			For: "15m", Labels: sev("warning"),
			Annotations: ann("Pod has been in a non-ready state for more than 15 minutes.",
				"Pod {{ $labels.namespace }}/{{ $labels.pod }} has been in a non-ready state for longer than 15 minutes."),
			Test: &Test{
				Fire: Case{Series: []Series{{series("kube_pod_status_phase", phase), "1x30"}, {series("kube_pod_owner", owner), "1x30"}},
					At: "20m", Expect: []map[string]string{expect(phase, []string{"job", "phase"}, nil)}},
				Quiet: Case{Series: []Series{{series("kube_pod_status_phase", phase), "0x30"}, {series("kube_pod_owner", owner), "1x30"}}, At: "20m"},
			},
		},
		{
			Alert: "KubeDeploymentReplicasMismatch",
			Expr: `(kube_deployment_spec_replicas{` + ksm + `} > kube_deployment_status_replicas_available{` + ksm + `})` +
				` and (changes(kube_deployment_status_replicas_updated{` + ksm + `}[10m]) == 0)`,
			For: "15m", Labels: sev("warning"),
			Annotations: ann("Deployment has not matched the expected number of replicas.",
				"Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has not matched the expected number of replicas for longer than 15 minutes."),
			Test: &Test{
				Fire: Case{Series: []Series{{series("kube_deployment_spec_replicas", deploy), "3x40"},
					{series("kube_deployment_status_replicas_available", deploy), "1x40"}, {series("kube_deployment_status_replicas_updated", deploy), "3x40"}},
					At: "30m", Expect: []map[string]string{deploy}},
				Quiet: Case{Series: []Series{{series("kube_deployment_spec_replicas", deploy), "3x40"},
					{series("kube_deployment_status_replicas_available", deploy), "3x40"}, {series("kube_deployment_status_replicas_updated", deploy), "3x40"}}, At: "30m"},
			},
		},
		{
			Alert: "KubeStatefulSetReplicasMismatch",
			Expr: `(kube_statefulset_status_replicas_ready{` + ksm + `} != kube_statefulset_replicas{` + ksm + `})` +
				` and (changes(kube_statefulset_status_replicas_updated{` + ksm + `}[10m]) == 0)`,
			For: "15m", Labels: sev("warning"),
			Annotations: ann("StatefulSet has not matched the expected number of replicas.",
				"StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has not matched the expected number of replicas for longer than 15 minutes."),
			Test: &Test{
				Fire: Case{Series: []Series{{series("kube_statefulset_status_replicas_ready", sts), "2x40"},
					{series("kube_statefulset_replicas", sts), "3x40"}, {series("kube_statefulset_status_replicas_updated", sts), "3x40"}},
					At: "30m", Expect: []map[string]string{sts}},
				Quiet: Case{Series: []Series{{series("kube_statefulset_status_replicas_ready", sts), "3x40"},
					{series("kube_statefulset_replicas", sts), "3x40"}, {series("kube_statefulset_status_replicas_updated", sts), "3x40"}}, At: "30m"},
			},
		},
		{
			Alert: "KubeContainerWaiting",
			Expr:  `sum by (namespace, pod, container, reason, team) (kube_pod_container_status_waiting_reason{` + ksm + `, reason!="CrashLoopBackOff"}) > 0`,
			For:   "1h", Labels: sev("warning"),
			Annotations: ann("Pod container waiting longer than 1 hour.",
				"Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} has been waiting ({{ $labels.reason }}) for longer than 1 hour."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("kube_pod_container_status_waiting_reason", waiting), "1x90"}}, At: "80m", Expect: []map[string]string{expect(waiting, []string{"job"}, nil)}},
				Quiet: Case{Series: []Series{{series("kube_pod_container_status_waiting_reason", waiting), "1x30 0x60"}}, At: "80m"},
			},
		},
		{
			Alert: "KubeJobFailed",
			Expr:  `kube_job_failed{` + ksm + `} > 0`,
			For:   "15m", Labels: sev("warning"),
			Annotations: ann("Job failed to complete.",
				"Job {{ $labels.namespace }}/{{ $labels.job_name }} failed to complete. Removing the failed job after investigation clears this alert."),
			Test: &Test{
				Fire:  Case{Series: []Series{{series("kube_job_failed", job), "1x30"}}, At: "20m", Expect: []map[string]string{job}},
				Quiet: Case{Series: []Series{{series("kube_job_failed", job), "0x30"}}, At: "20m"},
			},
		},
		{
			// Not in kubernetes-mixin: a restart within 10 minutes whose last
			// termination throughout the window was an OOM kill, so it fires
			// once per kill rather than for as long as the reason stays set.
			Alert: "KubeContainerOOMKilled",
			// A restart in the last 10 minutes whose termination, the
			// container's last (kube-state-metrics exports only the last
			// reason: docs/metrics/workload/pod-metrics.md), was an OOM
			// kill. increase() and not "offset 10m": a new pod's series
			// has no sample 10 minutes back; the current reason and not
			// min_over_time: an OOM kill followed by a restart for
			// another reason is not this alert's.
			// A container killed before kube-state-metrics' first look at
			// it has no sample of 0 to increase from: a count above 0 on a
			// series younger than 10 minutes counts too, for a pod created
			// in those 10 minutes (kube_pod_created), not for every old one
			// whose series merely went missing while kube-state-metrics was.
			Expr: `(increase(kube_pod_container_status_restarts_total{` + ksm + `}[10m]) > 0` +
				` or ((kube_pod_container_status_restarts_total{` + ksm + `} > 0 unless kube_pod_container_status_restarts_total{` + ksm + `} offset 10m)` +
				` and on (namespace, pod) (time() - kube_pod_created{` + ksm + `} < 600)))` +
				` and ignoring (reason) kube_pod_container_status_last_terminated_reason{` + ksm + `, reason="OOMKilled"} == 1`,
			Labels: sev("warning"),
			Annotations: ann("Container was OOM-killed.",
				"Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} was killed for running out of memory in the last 10 minutes."),
			Test: &Test{
				// app: killed at 11m; fresh: a pod whose series start at
				// 10m, killed at 11m; born: killed before its first sample.
				Fire: Case{Series: []Series{{series("kube_pod_container_status_restarts_total", pod), "0x10 1x20"},
					{series("kube_pod_container_status_last_terminated_reason", oom), "0x10 1x20"},
					{series("kube_pod_container_status_restarts_total", fresh), "_x9 0 1x20"},
					{series("kube_pod_container_status_last_terminated_reason", freshOOM), "_x9 0 1x20"},
					{series("kube_pod_container_status_restarts_total", born), "_x10 1x20"},
					{series("kube_pod_container_status_last_terminated_reason", bornOOM), "_x10 1x20"},
					{series("kube_pod_created", bornPod), "_x10 570x20"}},
					At: "15m", Expect: []map[string]string{pod, born, fresh}},
				// app: restarted, not for memory; again: killed at 6m,
				// then restarted at 10m for another reason.
				Quiet: Case{Series: []Series{{series("kube_pod_container_status_restarts_total", pod), "0x10 1x20"},
					{series("kube_pod_container_status_last_terminated_reason", oom), "0x30"},
					{series("kube_pod_container_status_restarts_total", again), "0x5 1x4 2x20"},
					{series("kube_pod_container_status_last_terminated_reason", againOOM), "0x5 1x4 stale"},
					{series("kube_pod_container_status_last_terminated_reason", againError), "_x9 1x20"},
					// old: killed long ago; kube-state-metrics was away from
					// 0m to 10m, so its series have no sample 10 minutes back.
					{series("kube_pod_container_status_restarts_total", old), "_x10 3x20"},
					{series("kube_pod_container_status_last_terminated_reason", oldOOM), "_x10 1x20"},
					{series("kube_pod_created", oldPod), "_x10 0x20"}}, At: "15m"},
			},
		},
		cpuThrottling(f, container),
		{
			Alert: "KubePersistentVolumeFillingUp",
			Expr: `kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"} < 0.03` +
				` and kubelet_volume_stats_used_bytes{job="kubelet"} > 0`,
			For: "1m", Labels: sev("critical"),
			Annotations: ann("PersistentVolume is filling up.",
				"The volume claimed by {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 3% free space."),
			Test: &Test{
				Fire: Case{Series: []Series{{series("kubelet_volume_stats_available_bytes", pvc), "2x20"},
					{series("kubelet_volume_stats_capacity_bytes", pvc), "100x20"}, {series("kubelet_volume_stats_used_bytes", pvc), "98x20"}},
					At: "10m", Expect: []map[string]string{pvc}},
				Quiet: Case{Series: []Series{{series("kubelet_volume_stats_available_bytes", pvc), "50x20"},
					{series("kubelet_volume_stats_capacity_bytes", pvc), "100x20"}, {series("kubelet_volume_stats_used_bytes", pvc), "50x20"}}, At: "10m"},
			},
		},
		{
			// kubernetes-mixin's second rule of the same name.
			Alert: "KubePersistentVolumeFillingUp",
			Expr: `kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"} < 0.15` +
				` and kubelet_volume_stats_used_bytes{job="kubelet"} > 0` +
				` and predict_linear(kubelet_volume_stats_available_bytes{job="kubelet"}[6h], 4 * 24 * 3600) < 0`,
			For: "1h", Labels: sev("warning"),
			Annotations: ann("PersistentVolume is predicted to fill up within four days.",
				"Based on the last 6 hours, the volume claimed by {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} fills up within four days."),
			Test: &Test{
				// 14% free of 100 bytes and shrinking by 0.01 a minute: the
				// trend says empty in about a day, well within four.
				Fire: Case{Series: []Series{{series("kubelet_volume_stats_available_bytes", pvc), "14-0.01x120"},
					{series("kubelet_volume_stats_capacity_bytes", pvc), "100x120"}, {series("kubelet_volume_stats_used_bytes", pvc), "86+0.01x120"}},
					At: "90m", Expect: []map[string]string{pvc}},
				// The same fill level, but steady: no alert.
				Quiet: Case{Series: []Series{{series("kubelet_volume_stats_available_bytes", pvc), "14x120"},
					{series("kubelet_volume_stats_capacity_bytes", pvc), "100x120"}, {series("kubelet_volume_stats_used_bytes", pvc), "86x120"}}, At: "90m"},
			},
		},
	}
}

func sev(s string) map[string]string { return map[string]string{"severity": s} }

// ann holds an alert's summary and description; runbook_url is added for
// every alert by the generator.
func ann(summary, description string) map[string]string {
	return map[string]string{"summary": summary, "description": description}
}

// cpuThrottling fires when a container is throttled in more than the
// threshold's share of its CPU periods. The test throttles 1000 periods a
// minute half-way between the threshold and 100% (fires) and at half the
// threshold (quiet).
func cpuThrottling(f fixture, container map[string]string) Rule {
	t := f.threshold("CPUThrottlingHigh")
	periods := series("container_cpu_cfs_periods_total", container)
	throttled := series("container_cpu_cfs_throttled_periods_total", container)
	return Rule{
		Alert: "CPUThrottlingHigh",
		Expr: `sum by (namespace, pod, container, team) (increase(container_cpu_cfs_throttled_periods_total{job="cadvisor", container!=""}[5m]))` +
			` / sum by (namespace, pod, container, team) (increase(container_cpu_cfs_periods_total{job="cadvisor", container!=""}[5m])) > ` + ratio(t),
		For: "15m", Labels: sev("info"),
		Annotations: ann("Processes experience elevated CPU throttling.",
			"Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} is throttled in more than "+percent(t)+" of its CPU periods."),
		Test: &Test{
			Fire: Case{Series: []Series{{periods, "0+1000x40"}, {throttled, perMille(above(t))}}, At: "30m",
				Expect: []map[string]string{expect(container, []string{"job"}, nil)}},
			Quiet: Case{Series: []Series{{periods, "0+1000x40"}, {throttled, perMille(t / 2)}}, At: "30m"},
		},
	}
}

// local marks rules that read single series (see place.go).
func local(rules []Rule) []Rule {
	for i := range rules {
		rules[i].Local = true
	}
	return rules
}
