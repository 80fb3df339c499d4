// Package alertcatalog names the alerts obsgen's rules generator writes, their
// rule groups and tunable thresholds: what profile validation checks the
// alert knobs against. Package rules keeps it equal to the rules it
// generates (TestAlertGroupsListEveryAlert).
package alertcatalog

// Threshold describes an alert whose threshold a profile may override
// (alerting.overrides, teams[].alerting.overrides): its default, unit and
// accepted range.
type Threshold struct {
	Default  float64
	Unit     string
	Min, Max float64
	// Buckets: the value must be an Istio duration bucket boundary (not the
	// last one).
	Buckets bool
}

// Thresholds are the tunable alerts.
var Thresholds = map[string]Threshold{
	"TargetDown":         {Default: 10, Unit: "%", Min: 1, Max: 99},
	"CPUThrottlingHigh":  {Default: 25, Unit: "%", Min: 1, Max: 99},
	"IstioHighErrorRate": {Default: 5, Unit: "%", Min: 0.1, Max: 99},
	"IstioHighLatency":   {Default: 1000, Unit: "ms", Buckets: true},
	// A gateway's 5xx ratio and p99 latency (all its routes together).
	"IstioGatewayHighErrorRate": {Default: 5, Unit: "%", Min: 0.1, Max: 99},
	"IstioGatewayHighLatency":   {Default: 1000, Unit: "ms", Buckets: true},
}

// AlertGroups names every alert obsgen can generate, by rule group (the
// SLO alerts live in one group per service, named obsgen-slo-<team>-<service>,
// all under obsgen-slos here). A test keeps it equal to the generated rules.
var AlertGroups = map[string][]string{
	"obsgen-watchdog": {"Watchdog"},
	"obsgen-kubernetes-workloads": {"KubePodCrashLooping", "KubePodNotReady", "KubeDeploymentReplicasMismatch", "KubeStatefulSetReplicasMismatch",
		"KubeContainerWaiting", "KubeJobFailed", "KubeContainerOOMKilled", "CPUThrottlingHigh", "KubePersistentVolumeFillingUp"},
	"obsgen-monitoring": {"TargetDown", "PrometheusBadConfig", "PrometheusRuleFailures", "PrometheusErrorSendingAlertsToSomeAlertmanagers",
		"PrometheusTSDBCompactionsFailing", "PrometheusHeadSeriesGrowth", "AlertmanagerFailedReload", "AlertmanagerFailedToSendAlerts",
		"PrometheusNotConnectedToAlertmanagers", "PrometheusRemoteStorageFailures", "PrometheusRemoteWriteBehind", "TargetsMissing", "ClusterMetricsMissing", "ClusterTargetsDropped"},
	"obsgen-istio-services": {"IstioHighErrorRate", "IstioHighLatency", "IstioTrafficDropped", "IstioPlaintextRequests", "IstioAppMetricsScrapeFailing"},
	"obsgen-istio-control-plane": {"IstiodDown", "IstiodXdsPushErrors", "IstiodXdsRejected", "IstiodCertificateSigningErrors", "IstioSidecarInjectionFailures",
		"IstioRootCertificateExpiring", "IstioWorkloadCertificateExpiring", "ZtunnelUnavailable"},
	"obsgen-istio-gateways": {"IstioGatewayHighErrorRate", "IstioGatewayHighLatency"},
	"obsgen-slos":           {"ErrorBudgetBurn"},
}

// TeamAlerts are the alerts whose series carry the team label: a team may
// disable or tune them for itself. The rest are the platform team's.
var TeamAlerts = []string{"KubePodCrashLooping", "KubePodNotReady", "KubeDeploymentReplicasMismatch", "KubeStatefulSetReplicasMismatch",
	"KubeContainerWaiting", "KubeJobFailed", "KubeContainerOOMKilled", "CPUThrottlingHigh", "KubePersistentVolumeFillingUp",
	"TargetDown", "IstioHighErrorRate", "IstioHighLatency", "IstioTrafficDropped", "IstioPlaintextRequests", "IstioAppMetricsScrapeFailing", "ErrorBudgetBurn"}

// Known tells whether name is an alert or a rule group of AlertGroups.
func Known(name string) bool {
	if _, ok := AlertGroups[name]; ok {
		return true
	}
	for _, alerts := range AlertGroups {
		for _, a := range alerts {
			if a == name {
				return true
			}
		}
	}
	return false
}
