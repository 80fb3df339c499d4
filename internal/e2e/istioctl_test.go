package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/generators/istio"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/internal/verify"
)

func istioTools(t *testing.T) verify.Istio {
	return verify.Istio{Istioctl: testtools.Find(t, "istioctl"), Analyze: testtools.Find(t, "istio-analyze")}
}

// istioVariants are the examples and the strategies, data planes and
// stances they do not cover on their own.
func istioVariants(t *testing.T) []*pipeline.Result {
	off := false
	var out []*pipeline.Result
	for _, ex := range examples(t) {
		out = append(out, ex.result)
	}
	return append(out,
		exampleVariant(t, "strict-deny", func(p *v1alpha1.Profile) {
			p.Mesh.MetricsMerging = nil
			p.Mesh.Gateways = []v1alpha1.Gateway{{Name: "public", Namespace: "istio-ingress", PodLabels: map[string]string{"istio": "ingress"}, Ports: []int{8080}}}
		}),
		exampleVariant(t, "admin-network-policy", func(p *v1alpha1.Profile) { p.Mesh.MetricsMerging = &off }),
		exampleVariant(t, "ambient", func(p *v1alpha1.Profile) { p.Monitoring.InMesh = !p.Monitoring.InMesh }),
	)
}

// TestIstioctlJudgesEveryIstioObject: every Istio object of every example
// and variant passes istioctl validate, and Istio's analyzers find nothing
// at Warning or above that obsgen's objects add to a synthetic cluster
// (selectors that match no workload, namespaces that do not exist,
// unknown annotations on the Prometheus pods, schema problems).
func TestIstioctlJudgesEveryIstioObject(t *testing.T) {
	tools := istioTools(t)
	strategies := map[v1alpha1.ScrapeStrategy]bool{}
	for _, res := range istioVariants(t) {
		name := res.Plan.Name + "/" + string(res.Plan.Scrape.Strategy)
		r, err := tools.Check(context.Background(), res)
		require.NoError(t, err, name)
		assert.Empty(t, r.Problems, name)
		if len(verify.IstioFiles(res)) > 0 {
			assert.NotEmpty(t, r.Checked, name)
			strategies[res.Plan.Scrape.Strategy] = true
		}
		t.Logf("%s: %s", name, strings.Join(r.Checked, "; "))
	}
	for _, s := range []v1alpha1.ScrapeStrategy{"secure-port", "istio-certs", "permissive-port", "merged", "direct"} {
		assert.True(t, strategies[s], "no example with Istio objects under %s", s)
	}
}

// TestIstioctlCatchesBrokenObjects: the same check fails on what a wrong
// generator would write.
func TestIstioctlCatchesBrokenObjects(t *testing.T) {
	tools := istioTools(t)
	tests := map[string]struct {
		profile, path, old, new, want string
	}{
		"an AuthorizationPolicy selecting no workload": {profile: "strict-deny", path: istio.AuthorizationPoliciesPath,
			old: "app: checkout", new: "app: checkout-v2", want: "IST0127"},
		"an AuthorizationPolicy naming a namespace that does not exist": {profile: "strict-deny", path: istio.AuthorizationPoliciesPath,
			old: "            principals:\n              - cluster.local/ns/monitoring/sa/prometheus\n", new: "            namespaces:\n              - monitoringg\n", want: "IST0101"},
		"port-level mTLS without a workload selector": {profile: "calico-global-deny", path: istio.PeerAuthenticationsPath,
			old: "      mode: PERMISSIVE\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: prometheus\n", new: "      mode: PERMISSIVE\n", want: "istioctl validate"},
		"an unknown field in the install overlay": {profile: "admin-network-policy", path: istio.SecureMetricsIstioOperatorPath,
			old: "excludeInboundPorts: ", new: "excludeInboundPortz: ", want: "istioctl validate"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := exampleVariant(t, tc.profile, func(*v1alpha1.Profile) {})
			found := false
			for i, f := range res.Files {
				if f.Path == tc.path {
					res.Files[i] = output.File{Path: f.Path, Data: []byte(testtools.Edit(t, string(f.Data), tc.old, tc.new)), Manifest: f.Manifest}
					found = true
				}
			}
			require.True(t, found, tc.path)
			r, err := tools.Check(context.Background(), res)
			require.NoError(t, err)
			require.NotEmpty(t, r.Problems)
			assert.Contains(t, strings.Join(r.Problems, "\n"), tc.want)
		})
	}
}

// TestSecureMetricsSettingsLandWhereIstioReadsThem renders Istio's install
// with the generated IstioOperator overlay (istioctl manifest generate, the
// charts of the pinned module): the mesh config carries the proxy
// metadata every injected proxy gets, and the injector's values carry the
// inbound port exclusion its template passes to istio-iptables. The Helm
// values file holds the same settings under the istiod chart's keys.
func TestSecureMetricsSettingsLandWhereIstioReadsThem(t *testing.T) {
	istioctl := testtools.Find(t, "istioctl")
	res := exampleVariant(t, "admin-network-policy", func(*v1alpha1.Profile) {})
	require.Equal(t, v1alpha1.StrategySecurePort, res.Plan.Scrape.Strategy)
	files := map[string][]byte{}
	for _, f := range res.Files {
		files[f.Path] = f.Data
	}
	overlay := filepath.Join(t.TempDir(), "overlay.yaml")
	require.NoError(t, os.WriteFile(overlay, files[istio.SecureMetricsIstioOperatorPath], 0o644))
	out, err := exec.Command(istioctl, "manifest", "generate", "-f", overlay).Output()
	require.NoError(t, err)
	var mesh struct {
		DefaultConfig struct {
			ProxyMetadata map[string]string `yaml:"proxyMetadata"`
		} `yaml:"defaultConfig"`
	}
	var injector struct {
		Global struct {
			Proxy struct {
				ExcludeInboundPorts string `json:"excludeInboundPorts"`
			} `json:"proxy"`
		} `json:"global"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct{ Name string }
			Data     map[string]string `yaml:"data"`
		}
		if dec.Decode(&doc) != nil {
			break
		}
		switch {
		case doc.Kind == "ConfigMap" && doc.Metadata.Name == "istio":
			require.NoError(t, yaml.Unmarshal([]byte(doc.Data["mesh"]), &mesh))
			seen++
		case doc.Kind == "ConfigMap" && doc.Metadata.Name == "istio-sidecar-injector":
			require.NoError(t, json.Unmarshal([]byte(doc.Data["values"]), &injector))
			assert.Contains(t, doc.Data["config"], "excludeInboundPorts", "the injection template reads the value")
			seen++
		}
	}
	require.Equal(t, 2, seen, "the mesh config and the injector's ConfigMaps")
	assert.Equal(t, map[string]string{"ENVOY_SECURE_MERGED_METRICS_PORT": "15092", "METRICS_LOCALHOST_ACCESS_ONLY": "true"}, mesh.DefaultConfig.ProxyMetadata)
	assert.Equal(t, "15092", injector.Global.Proxy.ExcludeInboundPorts)

	var helm, iop map[string]any
	require.NoError(t, yaml.Unmarshal(files[istio.SecureMetricsValuesPath], &helm))
	require.NoError(t, yaml.Unmarshal(files[istio.SecureMetricsIstioOperatorPath], &iop))
	spec := iop["spec"].(map[string]any)
	assert.Equal(t, spec["meshConfig"], helm["meshConfig"])
	assert.Equal(t, spec["values"].(map[string]any)["global"], helm["global"])
}
