package istio

import (
	"fmt"

	"google.golang.org/protobuf/types/known/wrapperspb"
	telemetryv1alpha1 "istio.io/api/telemetry/v1alpha1"
	telemetryv1 "istio.io/client-go/pkg/apis/telemetry/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
)

// Files of tracing: the Telemetry is a cluster object; the istiod
// settings are not, so kustomization.yaml leaves them out.
const (
	TracingTelemetryPath     = "istio/tracing-telemetry.yaml"
	TracingValuesPath        = "istio/tracing-values.yaml"
	TracingIstioOperatorPath = "istio/tracing-istiooperator.yaml"
)

// TracingProvider is the meshConfig.extensionProviders entry for the
// collector (mesh/v1alpha1/config.proto: ZipkinTracingProvider,
// OpenTelemetryTracingProvider; OTLP over gRPC unless an http block is
// set, whose path istiod joins to the service).
func TracingProvider(t *plan.Tracing) map[string]any {
	target := map[string]any{"service": t.CollectorHost(), "port": t.Collector.Port}
	entry := map[string]any{"name": plan.TracingProviderName}
	switch t.Protocol {
	case v1alpha1.TracingZipkin:
		entry["zipkin"] = target
	case v1alpha1.TracingOTLPHTTP:
		target["http"] = map[string]any{"path": "/v1/traces", "timeout": "10s"}
		entry["opentelemetry"] = target
	default:
		entry["opentelemetry"] = target
	}
	return entry
}

// TracingTelemetry is the mesh-wide Telemetry that selects the provider:
// in the root namespace without a selector it applies to every sidecar,
// gateway and waypoint (istio.io docs/reference/config/telemetry,
// "Telemetry"; telemetry.istio.io/v1 from Istio 1.22).
func TracingTelemetry(p *plan.Plan) *telemetryv1.Telemetry {
	t := p.Tracing
	meta := manifest.Meta(p, "")
	meta.Name, meta.Namespace = plan.TracingProviderName, p.Mesh.IstioNamespace
	meta.Annotations = map[string]string{manifest.WhyAnnotation: fmt.Sprintf("every proxy reports %v%% of its requests' spans to %s:%d", t.Sampling, t.CollectorHost(), t.Collector.Port)}
	return &telemetryv1.Telemetry{
		TypeMeta:   metav1.TypeMeta{APIVersion: "telemetry.istio.io/v1", Kind: "Telemetry"},
		ObjectMeta: meta,
		Spec: telemetryv1alpha1.Telemetry{Tracing: []*telemetryv1alpha1.Tracing{{
			Providers:                []*telemetryv1alpha1.ProviderRef{{Name: plan.TracingProviderName}},
			RandomSamplingPercentage: wrapperspb.Double(t.Sampling),
		}}},
	}
}

// tracingFiles writes the Telemetry and the extension provider as istiod
// Helm values and as an IstioOperator overlay.
func tracingFiles(p *plan.Plan) ([]output.File, error) {
	t := p.Tracing
	if t == nil {
		return nil, nil
	}
	tel, err := manifest.File(TracingTelemetryPath, TracingTelemetry(p))
	if err != nil {
		return nil, err
	}
	meshConfig := map[string]any{"extensionProviders": []any{TracingProvider(t)}}
	why := fmt.Sprintf(`# Tracing: every proxy (sidecars, gateways, waypoints) sends its spans to
# %s:%d over %s; %s selects this provider
# mesh-wide. Istio keeps one extensionProviders list: if yours has entries,
# add this one to it instead of replacing the list (Helm and istioctl replace
# lists). The collector's Service port must equal its target port and declare
# its protocol (a grpc- or http- name prefix, or appProtocol).
# Istio applies one selector-less Telemetry of the root namespace, the oldest:
# if one exists already (such as mesh-default for access logs), add the
# tracing block of tracing-telemetry.yaml to it instead of applying that file
# (istioctl analyze reports the conflict).
`, t.CollectorHost(), t.Collector.Port, t.Protocol, TracingTelemetryPath)
	helmYAML, err := marshal(map[string]any{"meshConfig": meshConfig})
	if err != nil {
		return nil, err
	}
	iopYAML, err := marshal(map[string]any{"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator",
		"spec": map[string]any{"meshConfig": meshConfig}})
	if err != nil {
		return nil, err
	}
	return []output.File{tel,
		output.YAML(TracingValuesPath, []byte(why+"# Helm: pass to the istiod chart, helm upgrade istiod istio/istiod -n "+p.Mesh.IstioNamespace+" --reuse-values -f tracing-values.yaml.\n"+string(helmYAML))),
		output.YAML(TracingIstioOperatorPath, []byte(why+"# istioctl: add to your install, istioctl install -f <your IstioOperator> -f tracing-istiooperator.yaml.\n"+string(iopYAML))),
	}, nil
}
