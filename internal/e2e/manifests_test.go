package e2e

import (
	"regexp"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	telemetryv1 "istio.io/client-go/pkg/apis/telemetry/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/generators/grafana"
	"obsgen.dev/obsgen/generators/kiali"
	"obsgen.dev/obsgen/internal/calico"
	"obsgen.dev/obsgen/internal/certmanager"
)

// upstreamTypes are the Go types of every kind obsgen writes, by
// apiVersion and kind.
var upstreamTypes = map[string]func() any{
	"networking.k8s.io/v1/NetworkPolicy":              func() any { return &networkingv1.NetworkPolicy{} },
	"apps/v1/StatefulSet":                             func() any { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":                              func() any { return &appsv1.Deployment{} },
	"v1/Service":                                      func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                               func() any { return &corev1.ServiceAccount{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":        func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
	"security.istio.io/v1/PeerAuthentication":         func() any { return &securityv1.PeerAuthentication{} },
	"security.istio.io/v1/AuthorizationPolicy":        func() any { return &securityv1.AuthorizationPolicy{} },
	"telemetry.istio.io/v1/Telemetry":                 func() any { return &telemetryv1.Telemetry{} },
	// The Kiali operator ships no Go types: obsgen's own type, whose keys
	// follow kiali/kiali config/config.go (the CR's spec is that config).
	"kiali.io/v1alpha1/Kiali":                              func() any { return &kiali.Kiali{} },
	"monitoring.coreos.com/v1/Prometheus":                  func() any { return &monitoringv1.Prometheus{} },
	"monitoring.coreos.com/v1/ServiceMonitor":              func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PodMonitor":                  func() any { return &monitoringv1.PodMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule":              func() any { return &monitoringv1.PrometheusRule{} },
	"monitoring.coreos.com/v1alpha1/PrometheusAgent":       func() any { return &monitoringv1alpha1.PrometheusAgent{} },
	"monitoring.coreos.com/v1alpha1/ScrapeConfig":          func() any { return &monitoringv1alpha1.ScrapeConfig{} },
	"policy.networking.k8s.io/v1alpha1/AdminNetworkPolicy": func() any { return &anpv1alpha1.AdminNetworkPolicy{} },
	"policy.networking.k8s.io/v1alpha1/BaselineAdminNetworkPolicy": func() any {
		return &anpv1alpha1.BaselineAdminNetworkPolicy{}
	},
	// cert-manager's module is not a dependency: obsgen's own type, whose
	// fields follow the cert-manager.io/v1 CertificateSpec.
	"cert-manager.io/v1/Certificate": func() any { return &certmanager.Certificate{} },
	// grafana-operator's module is not a dependency: obsgen's own type.
	"grafana.integreatly.org/v1beta1/GrafanaDashboard": func() any { return &grafana.GrafanaDashboard{} },
	// grafana-operator is not a dependency either: obsgen's own type,
	// checked against the operator's CRD in crd_test.go.
	"grafana.integreatly.org/v1beta1/GrafanaDatasource": func() any { return &grafana.GrafanaDatasource{} },
}

// TestEveryManifestDecodesStrictlyIntoItsUpstreamType reads every document
// of every manifest obsgen writes for the examples back from its YAML bytes
// into the upstream Go type of its kind, rejecting unknown fields; Calico
// kinds go through the strict Calico decoder.
func TestEveryManifestDecodesStrictlyIntoItsUpstreamType(t *testing.T) {
	split := regexp.MustCompile(`(?m)^---\n`)
	kinds := map[string]int{}
	for _, ex := range examples(t) {
		for _, f := range ex.result.Files {
			if !f.Manifest {
				continue
			}
			for _, doc := range split.Split(string(f.Data), -1) {
				var meta struct {
					APIVersion string `json:"apiVersion"`
					Kind       string `json:"kind"`
				}
				require.NoError(t, yaml.Unmarshal([]byte(doc), &meta), f.Path)
				id := meta.APIVersion + "/" + meta.Kind
				kinds[id]++
				if meta.APIVersion == calico.APIVersion {
					_, err := calico.DecodeStrict([]byte(doc))
					assert.NoError(t, err, "%s/%s", ex.result.Plan.Name, f.Path)
					continue
				}
				newObj, ok := upstreamTypes[id]
				if !assert.True(t, ok, "%s/%s: no upstream type registered for %s", ex.result.Plan.Name, f.Path, id) {
					continue
				}
				assert.NoError(t, yaml.UnmarshalStrict([]byte(doc), newObj()), "%s/%s", ex.result.Plan.Name, f.Path)
			}
		}
	}
	assert.GreaterOrEqual(t, len(kinds), 10, "kinds seen: %v", kinds)
	t.Logf("documents by kind: %v", kinds)
}
