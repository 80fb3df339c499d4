package istio

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
)

// Files of the istiod settings secure-port needs; neither is a cluster
// object, so kustomization.yaml leaves them out.
const (
	SecureMetricsValuesPath        = "istio/secure-metrics-values.yaml"
	SecureMetricsIstioOperatorPath = "istio/secure-metrics-istiooperator.yaml"
)

// SecureMetricsSettings are the mesh-wide settings secure-port needs, as
// the istiod chart names them:
//
//   - meshConfig.defaultConfig.proxyMetadata ENVOY_SECURE_MERGED_METRICS_PORT
//     adds Envoy's static mTLS listener that proxies the agent's merged
//     metrics (pilot/cmd/pilot-agent/options/options.go;
//     tools/packaging/common/envoy_bootstrap.json, "secure_merged_stats"),
//     and the injector annotates the pod prometheus.istio.io/secure-port
//     (pkg/kube/inject/webhook.go applySecurePrometheusAnnotation); the
//     injection templates turn proxyMetadata into the istio-proxy env of
//     sidecars and injected gateways alike;
//   - METRICS_LOCALHOST_ACCESS_ONLY binds Envoy's :15090 to localhost and
//     makes the agent's :15020 answer 403 to everyone else (Istio 1.22+,
//     istio/istio#50728; pkg/features/telemetry.go), so the plaintext ports
//     stop leaking metrics; it is read from proxyMetadata for the bootstrap
//     (pkg/bootstrap/option/instances.go), hence set there;
//   - global.proxy.excludeInboundPorts keeps the listener out of the
//     sidecar's inbound capture (injection-template.yaml passes it to
//     istio-iptables -d). Without it a STRICT sidecar's inbound listener
//     terminates Prometheus' TLS itself, since its STRICT filter chains
//     take any TLS (pilot/pkg/networking/core/filterchain_options.go,
//     inboundStrictFilterChainMatchOptions), and forwards plaintext to a
//     listener that accepts only TLS; PERMISSIVE would pass the TLS through
//     but put the scrape under the workload's authorization policies.
//
// istio.io docs/tasks/observability/metrics/secure-metrics sets the first
// two per pod or through IstioOperator's meshConfig.
func SecureMetricsSettings() (meshConfig, values map[string]any) {
	port := strconv.Itoa(plan.PortSecureMergedMetrics)
	meshConfig = map[string]any{"defaultConfig": map[string]any{"proxyMetadata": map[string]any{
		"ENVOY_SECURE_MERGED_METRICS_PORT": port,
		"METRICS_LOCALHOST_ACCESS_ONLY":    "true",
	}}}
	values = map[string]any{"global": map[string]any{"proxy": map[string]any{"excludeInboundPorts": port}}}
	return meshConfig, values
}

// secureMetricsFiles writes the settings as istiod Helm values and as an
// IstioOperator overlay for istioctl install, under secure-port.
func secureMetricsFiles(p *plan.Plan) ([]output.File, error) {
	if p.Scrape.Strategy != v1alpha1.StrategySecurePort {
		return nil, nil
	}
	meshConfig, values := SecureMetricsSettings()
	port := plan.PortSecureMergedMetrics
	why := fmt.Sprintf(`# Scrape strategy secure-port: Prometheus scrapes every sidecar's and
# gateway's merged metrics over mTLS on :%d (Istio 1.31+). These are the
# mesh-wide settings it needs. Restart the workloads (and gateways) after
# applying them: the injector sets them when a pod is created, and a pod
# without them shows as down in the istio-merged job.
# If you already set global.proxy.excludeInboundPorts, add %d to your list
# instead of replacing it.
`, port, port)
	helm := map[string]any{"meshConfig": meshConfig}
	for k, v := range values {
		helm[k] = v
	}
	helmYAML, err := marshal(helm)
	if err != nil {
		return nil, err
	}
	iop := map[string]any{
		"apiVersion": "install.istio.io/v1alpha1",
		"kind":       "IstioOperator",
		"spec":       map[string]any{"meshConfig": meshConfig, "values": values},
	}
	iopYAML, err := marshal(iop)
	if err != nil {
		return nil, err
	}
	return []output.File{
		output.YAML(SecureMetricsValuesPath, []byte(why+"# Helm: pass to the istiod chart, helm upgrade istiod istio/istiod -n "+p.Mesh.IstioNamespace+" --reuse-values -f secure-metrics-values.yaml.\n"+string(helmYAML))),
		output.YAML(SecureMetricsIstioOperatorPath, []byte(why+"# istioctl: add to your install, istioctl install -f <your IstioOperator> -f secure-metrics-istiooperator.yaml.\n"+string(iopYAML))),
	}, nil
}

// marshal writes YAML indented by two spaces, as the rest of the output.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
