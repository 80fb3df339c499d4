package istio

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/certmanager"
	"obsgen.dev/obsgen/internal/manifest"
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

// PrometheusCertificatePath is the cert-manager Certificate of Prometheus'
// mesh identity (istioCertificates.source cert-manager).
const PrometheusCertificatePath = "istio/prometheus-certificate.yaml"

// PrometheusCertificate is a cert-manager Certificate for the Prometheus
// service account's SPIFFE identity, spiffe://<trust domain>/ns/<ns>/sa/<sa>
// (the identity Istio's certificates carry; istio.io docs/concepts/
// security, "Istio identity"), for client authentication, from the issuer
// of the mesh CA: the secure metrics listener and STRICT sidecars accept a
// client certificate that chains to the mesh root (envoy_bootstrap.json,
// validation_context_sds_secret_config ROOTCA; istio/istio#60391: "any
// certificate issued by a trusted CA (e.g. cert-manager)"). Prometheus
// re-reads the files when they change (prometheus/common TLS config), so
// short lifetimes need no restart.
func PrometheusCertificate(p *plan.Plan) *certmanager.Certificate {
	pr := p.Monitoring.Prometheus
	if pr.CertsSecret == "" || pr.CertIssuer == nil {
		return nil
	}
	meta := manifest.Meta(p, "istio-certs")
	meta.Annotations = map[string]string{manifest.WhyAnnotation: "Prometheus presents this mesh identity when it scrapes with Istio certificates (" + string(p.Scrape.Strategy) + ")"}
	return &certmanager.Certificate{
		TypeMeta:   metav1.TypeMeta{APIVersion: certmanager.APIVersion, Kind: certmanager.Kind},
		ObjectMeta: meta,
		Spec: certmanager.CertificateSpec{
			SecretName:  pr.CertsSecret,
			URIs:        []string{fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", p.Mesh.TrustDomain, p.Monitoring.Namespace, pr.ServiceAccount)},
			Usages:      []string{"digital signature", "key encipherment", "client auth"},
			Duration:    "24h",
			RenewBefore: "8h",
			PrivateKey:  &certmanager.PrivateKey{Algorithm: "ECDSA", Size: 256, RotationPolicy: "Always"},
			IssuerRef:   certmanager.IssuerRef{Name: pr.CertIssuer.Name, Kind: pr.CertIssuer.Kind, Group: pr.CertIssuer.Group},
		},
	}
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
# instead of replacing it. A pod that sets its own
# traffic.sidecar.istio.io/excludeInboundPorts annotation replaces the
# global list (files/injection-template.yaml reads one or the other): add
# %d to the annotation, or its STRICT sidecar terminates Prometheus' TLS and
# the scrape fails.
`, port, port, port)
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
