package kustomize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

func TestKustomizationListsManifestsAndTheConfigMap(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	p := &plan.Plan{Monitoring: plan.Monitoring{Namespace: "mon", Prometheus: plan.Prometheus{Name: "prom"}}}
	files := []output.File{
		output.Manifest("kubernetes/b.yaml", []byte("kind: NetworkPolicy\n")),
		output.YAML("prometheus/prometheus.yml", []byte("global: {}\n")).Shipped(output.Ship{As: output.ShipPrometheusConfig}),
		output.YAML("reports/x.yaml", []byte("a: b\n")),
		output.Manifest("ruler/r.yaml", []byte("kind: PrometheusRule\n")).Shipped(output.Ship{As: output.ShipNot}),
		output.Manifest("istio/a.yaml", []byte("kind: PeerAuthentication\n")),
		output.YAML("prometheus/rules/x.yaml", []byte("groups: []\n")).Shipped(output.Ship{As: output.ShipPrometheusRules}),
	}
	f, err := Generate(p, engine, files)
	require.NoError(t, err)
	assert.Equal(t, Path, f.Path)
	var k types.Kustomization
	require.NoError(t, yaml.UnmarshalStrict(f.Data, &k), string(f.Data))
	assert.Equal(t, []string{"istio/a.yaml", "kubernetes/b.yaml"}, k.Resources, "manifests only, sorted, without those applied elsewhere")
	require.Len(t, k.ConfigMapGenerator, 2)
	assert.Equal(t, "prom-rules", k.ConfigMapGenerator[1].Name, "rule files get a ConfigMap of their own")
	assert.Equal(t, []string{"x.yaml=prometheus/rules/x.yaml"}, k.ConfigMapGenerator[1].FileSources)
	assert.Equal(t, "prom-config", k.ConfigMapGenerator[0].Name)
	assert.Equal(t, "mon", k.ConfigMapGenerator[0].Namespace)
	assert.Equal(t, []string{"prometheus.yml=prometheus/prometheus.yml"}, k.ConfigMapGenerator[0].FileSources)
	assert.True(t, k.GeneratorOptions.DisableNameSuffixHash)
	assert.Equal(t, map[string]string{"app.kubernetes.io/managed-by": "obsgen"}, k.Labels[0].Pairs)

	f, err = Generate(p, engine, nil)
	require.NoError(t, err)
	k = types.Kustomization{}
	require.NoError(t, yaml.Unmarshal(f.Data, &k))
	assert.Empty(t, k.Resources)
	assert.Empty(t, k.ConfigMapGenerator, "no raw config, no ConfigMap")
}
