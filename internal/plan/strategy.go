package plan

import (
	"fmt"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// SecurePortMinor is the first Istio 1.x release with the mTLS metrics
// listeners: ENVOY_SECURE_MERGED_METRICS_PORT (istio/istio#60391,
// pilot/cmd/pilot-agent/options/options.go; istio.io 1.31.0 change notes,
// "Telemetry"; istio.io docs/tasks/observability/metrics/secure-metrics:
// "Starting with Istio 1.31").
const SecurePortMinor = 31

// IstioMinor returns the minor number of an Istio version written as
// major.minor or major.minor.patch (1.31 and 1.31.2 give 31); ok is false
// for anything else.
func IstioMinor(version string) (minor int, ok bool) {
	rest, found := strings.CutPrefix(version, "1.")
	if minorPart, patch, hasPatch := strings.Cut(rest, "."); hasPatch {
		if !digits(patch) {
			return 0, false
		}
		rest = minorPart
	}
	if !found || !digits(rest) {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

func digits(s string) bool {
	return s != "" && len(s) <= 4 && strings.TrimLeft(s, "0123456789") == ""
}

// ScrapeClassMinor is the first Prometheus Operator 0.x release whose
// scrape classes give their TLS files to PodMonitors, Probes and
// ScrapeConfigs (prometheus-operator#6573, CHANGELOG 0.74.0; scrape
// classes themselves came with 0.72.0, #6199).
const ScrapeClassMinor = 74

// The Prometheus Operator releases whose CRDs (example/prometheus-operator-crd
// of each tag) first hold a field the operator flavour writes; a field a
// CRD does not define is refused by kubectl's default strict field
// validation, or pruned. internal/e2e checks the output against the CRDs
// of these releases.
const (
	// OperatorMinimumMinor: ScrapeConfigs are sharded with the Prometheus
	// resource's shards (CHANGELOG 0.72.0, #6135; before it every shard
	// scrapes every target of a ScrapeConfig), and their Kubernetes
	// discovery takes namespaces from 0.71 (#6178); without either a job
	// would scrape other targets than the raw one.
	OperatorMinimumMinor = 72
	// ScrapeConfigJobNameMinor: ScrapeConfig spec.jobName (CHANGELOG
	// 0.75.0, #6618).
	ScrapeConfigJobNameMinor = 75
	// PodMonitorPortNumberMinor: PodMetricsEndpoint portNumber (#7150,
	// 0.79.0); targetPort before.
	PodMonitorPortNumberMinor = 79
	// AlertmanagerRelabelingsMinor: the Prometheus resource's Alertmanager
	// endpoints take alertRelabelings (#6450, CRD of v0.74.0), written as
	// that endpoint's alert_relabel_configs (Prometheus 2.51 or later).
	AlertmanagerRelabelingsMinor = 74
)

// OperatorMinor returns the minor number of a Prometheus Operator version
// written as 0.minor or 0.minor.patch; ok is false for anything else.
func OperatorMinor(version string) (minor int, ok bool) {
	if !strings.HasPrefix(version, "0.") {
		return 0, false
	}
	return IstioMinor("1." + strings.TrimPrefix(version, "0."))
}

// hasSecurePort tells whether the profile's Istio version has the mTLS
// metrics listeners.
func hasSecurePort(m v1alpha1.Mesh) bool {
	minor, ok := IstioMinor(m.Version)
	return ok && minor >= SecurePortMinor
}

// certSource says where Prometheus' mesh certificates come from.
func certSource(p *v1alpha1.Profile) string {
	if p.Monitoring.Prometheus.IstioCertificates.Source == v1alpha1.CertificatesCertManager {
		return "from cert-manager (a Certificate for its SPIFFE identity)"
	}
	return "from a certificate-writing sidecar"
}

// NeedsIstioCerts tells whether Prometheus presents Istio certificates
// under the strategy, from the certificate-writing sidecar.
func NeedsIstioCerts(s v1alpha1.ScrapeStrategy) bool {
	return s == v1alpha1.StrategyIstioCerts || s == v1alpha1.StrategySecurePort
}

// ChooseStrategy resolves mesh.scrapeStrategy for a defaulted profile: an
// explicit choice is kept, `auto` picks from the data plane, the mTLS mode
// and metrics merging. The reason is written for a newcomer and lands in the
// plan, `obsgen explain` and the generated config's comments.
func ChooseStrategy(p *v1alpha1.Profile) (v1alpha1.ScrapeStrategy, string) {
	if s := p.Mesh.ScrapeStrategy; s != v1alpha1.StrategyAuto && s != "" {
		return s, "set explicitly in the profile (mesh.scrapeStrategy: " + string(s) + ")"
	}
	m := p.Mesh
	switch {
	case m.Provider == v1alpha1.MeshNone:
		return v1alpha1.StrategyDirect, "there is no service mesh, so Prometheus scrapes every metrics port directly in plaintext"
	case m.DataPlane == v1alpha1.DataPlaneAmbient:
		return chooseAmbient(p)
	case m.MTLS == v1alpha1.MTLSStrict && *m.MetricsMerging && hasSecurePort(m):
		return v1alpha1.StrategySecurePort, fmt.Sprintf("mTLS is STRICT, metrics merging is on and Istio %s has mTLS metrics listeners, so Prometheus scrapes each sidecar's and gateway's merged metrics (application, agent and Envoy) over mTLS on :%d/stats/prometheus with Istio certificates %s, and the plaintext ports 15020 and 15090 answer localhost only; obsgen writes the istiod settings that turn this on (istio/secure-metrics-values.yaml)", m.Version, PortSecureMergedMetrics, certSource(p))
	case m.MTLS == v1alpha1.MTLSStrict && *m.MetricsMerging:
		return v1alpha1.StrategyMerged, fmt.Sprintf("Istio metrics merging is on, so each sidecar serves the application's, the agent's and Envoy's metrics in plaintext on :15020/stats/prometheus; this works in every mTLS mode without certificates (Istio %s has no mTLS metrics listener: secure-port needs 1.%d)", m.Version, SecurePortMinor)
	case *m.MetricsMerging:
		return v1alpha1.StrategyMerged, "Istio metrics merging is on, so each sidecar serves the application's, the agent's and Envoy's metrics in plaintext on :15020/stats/prometheus; this works in every mTLS mode without certificates"
	case m.MTLS == v1alpha1.MTLSStrict:
		return v1alpha1.StrategyIstioCerts, "metrics merging is off and mTLS is STRICT, so sidecars accept only mTLS on application ports: Prometheus gets Istio certificates " + certSource(p) + " and scrapes application ports over TLS"
	case m.MTLS == v1alpha1.MTLSPermissive:
		return v1alpha1.StrategyDirect, "metrics merging is off and mTLS is PERMISSIVE, so sidecars accept plaintext on application ports; Prometheus scrapes them directly and must not use TLS there (istio/istio#38720)"
	default:
		return v1alpha1.StrategyDirect, "mTLS is disabled, so application ports accept plaintext and Prometheus scrapes them directly"
	}
}

func chooseAmbient(p *v1alpha1.Profile) (v1alpha1.ScrapeStrategy, string) {
	switch {
	case p.Mesh.MTLS != v1alpha1.MTLSStrict:
		return v1alpha1.StrategyDirect, "the ambient data plane has no sidecars and mTLS is not STRICT, so ztunnel accepts plaintext scrapes of application ports"
	case p.Monitoring.InMesh:
		return v1alpha1.StrategyDirect, "the ambient data plane has no sidecars; the monitoring namespace is enrolled in ambient, so ztunnel carries Prometheus' plaintext scrapes over mTLS (HBONE)"
	default:
		return v1alpha1.StrategyPermissivePort, "the ambient data plane is STRICT and Prometheus is outside the mesh, so ztunnel rejects plaintext scrapes; obsgen opens exactly each service's metrics port with a port-level PERMISSIVE PeerAuthentication"
	}
}

// StrategyProblem tells why a strategy cannot work for a defaulted profile,
// with a hint; it returns empty strings when it can. Validation reports it at
// mesh.scrapeStrategy.
func StrategyProblem(p *v1alpha1.Profile, s v1alpha1.ScrapeStrategy) (problem, hint string) {
	m := p.Mesh
	if m.Provider == v1alpha1.MeshNone {
		if s != v1alpha1.StrategyDirect {
			return "needs mesh.provider: istio", "without a mesh use `direct` or `auto`"
		}
		return "", ""
	}
	switch s {
	case v1alpha1.StrategyMerged:
		return mergedProblem(m)
	case v1alpha1.StrategyIstioCerts:
		return istioCertsProblem(m)
	case v1alpha1.StrategySecurePort:
		return securePortProblem(m)
	case v1alpha1.StrategyPermissivePort:
		if m.MTLS != v1alpha1.MTLSStrict {
			return "only STRICT mTLS needs port-level exceptions (mesh.mtls is " + string(m.MTLS) + ")", "use `direct` or `auto`"
		}
	case v1alpha1.StrategyDirect:
		return directProblem(p)
	}
	return "", ""
}

func mergedProblem(m v1alpha1.Mesh) (string, string) {
	if m.DataPlane != v1alpha1.DataPlaneSidecar {
		return "metrics merging needs sidecars (mesh.dataPlane is " + string(m.DataPlane) + ")", "use `auto`"
	}
	if !*m.MetricsMerging {
		return "needs metrics merging (mesh.metricsMerging is false)", "set mesh.metricsMerging: true, or use `istio-certs` or `permissive-port`"
	}
	return "", ""
}

// securePortProblem: the listeners exist from 1.31 on, on sidecars and
// gateways (ambient workloads have no Envoy of their own), and the merged
// listener proxies the agent's :15020, which holds the application's
// metrics only with metrics merging (envoy_bootstrap.json, cluster
// "agent"; pilot-agent status server handleStats).
func securePortProblem(m v1alpha1.Mesh) (string, string) {
	switch {
	case m.DataPlane != v1alpha1.DataPlaneSidecar:
		return "the mTLS metrics listeners are Envoy sidecar and gateway listeners (mesh.dataPlane is " + string(m.DataPlane) + ")", "use `auto`"
	case !hasSecurePort(m):
		return fmt.Sprintf("Istio %s has no mTLS metrics listener; ENVOY_SECURE_MERGED_METRICS_PORT came with Istio 1.%d (istio/istio#60391)", m.Version, SecurePortMinor),
			fmt.Sprintf("set mesh.version: \"1.%d\" once the mesh runs it, or use `istio-certs`, `merged` or `permissive-port`", SecurePortMinor)
	case !*m.MetricsMerging:
		return "the secure merged listener serves the agent's :15020, which carries the applications' metrics only with metrics merging (mesh.metricsMerging is false)", "set mesh.metricsMerging: true, or use `istio-certs`"
	}
	return "", ""
}

func istioCertsProblem(m v1alpha1.Mesh) (string, string) {
	switch {
	case m.DataPlane != v1alpha1.DataPlaneSidecar:
		return "Istio certificates for Prometheus come from a sidecar (mesh.dataPlane is " + string(m.DataPlane) + ")", "use `auto`"
	case m.MTLS == v1alpha1.MTLSPermissive:
		return "PERMISSIVE ports do not accept TLS from Prometheus (istio/istio#38720)", "use `direct` or `auto`; TLS scraping is for STRICT only"
	case m.MTLS == v1alpha1.MTLSDisable:
		return "mTLS is disabled, so there is no mTLS to present Istio certificates to", "use `direct` or `auto`"
	}
	return "", ""
}

func directProblem(p *v1alpha1.Profile) (string, string) {
	if p.Mesh.MTLS != v1alpha1.MTLSStrict {
		return "", ""
	}
	if p.Mesh.DataPlane == v1alpha1.DataPlaneSidecar {
		return "sidecars in STRICT mode reject plaintext scrapes of application ports", "use `secure-port`, `merged`, `istio-certs` or `permissive-port`, or `auto`"
	}
	if !p.Monitoring.InMesh {
		return "ztunnel in STRICT mode rejects plaintext scrapes from outside the mesh", "enroll the monitoring namespace (monitoring.inMesh: true) or use `permissive-port`"
	}
	return "", ""
}
