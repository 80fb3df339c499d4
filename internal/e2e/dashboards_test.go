package e2e

import (
	"encoding/json"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/generators/grafana"
)

// TestKustomizationDeliversTheDashboards builds each example's
// kustomization with kustomize itself, in memory: every dashboard becomes
// a ConfigMap that decodes strictly into the Kubernetes type, carries the
// sidecar's label and its folder, and holds the dashboard's JSON as
// generated; the data source gets its ConfigMap too; and every
// GrafanaDashboard reads an existing ConfigMap and key in its namespace.
func TestKustomizationDeliversTheDashboards(t *testing.T) {
	for _, ex := range examples(t) {
		name := ex.result.Plan.Name
		fs := filesys.MakeFsInMemory()
		files := map[string][]byte{}
		for _, f := range ex.result.Files {
			require.NoError(t, fs.MkdirAll(path.Join("/out", path.Dir(f.Path))))
			require.NoError(t, fs.WriteFile(path.Join("/out", f.Path), f.Data))
			files[f.Path] = f.Data
		}
		resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/out")
		require.NoError(t, err, name)
		configMaps := map[string]corev1.ConfigMap{}
		var dashboards []grafana.GrafanaDashboard
		for _, r := range resources.Resources() {
			doc, err := r.AsYAML()
			require.NoError(t, err)
			switch r.GetKind() {
			case "ConfigMap":
				var cm corev1.ConfigMap
				require.NoError(t, yaml.UnmarshalStrict(doc, &cm), "%s: %s", name, r.GetName())
				configMaps[cm.Namespace+"/"+cm.Name] = cm
			case "GrafanaDashboard":
				var gd grafana.GrafanaDashboard
				require.NoError(t, yaml.UnmarshalStrict(doc, &gd), "%s: %s", name, r.GetName())
				dashboards = append(dashboards, gd)
			}
		}
		ns := ex.result.Plan.Dashboards.Namespace
		found := 0
		for _, f := range ex.result.Files {
			if !strings.HasPrefix(f.Path, grafana.DashboardsDir) {
				continue
			}
			found++
			cm, ok := configMaps[ns+"/grafana-dashboard-"+strings.TrimSuffix(path.Base(f.Path), ".json")]
			require.True(t, ok, "%s: no ConfigMap for %s", name, f.Path)
			assert.Equal(t, "1", cm.Labels[grafana.DashboardLabel])
			assert.Equal(t, path.Base(path.Dir(f.Path)), cm.Annotations[grafana.FolderAnnotation])
			assert.Equal(t, string(f.Data), cm.Data[path.Base(f.Path)], "%s: %s", name, f.Path)
		}
		assert.Positive(t, found, name)
		ds, ok := configMaps[ns+"/grafana-datasource-"+name]
		require.True(t, ok, name)
		assert.Equal(t, "1", ds.Labels[grafana.DatasourceLabel])
		assert.Equal(t, string(files[grafana.DatasourcePath]), ds.Data["obsgen-"+name+".yaml"])
		assert.Equal(t, ex.result.Plan.Dashboards.Operator != nil, len(dashboards) == found, name)
		for _, gd := range dashboards {
			ref := gd.Spec.ConfigMapRef
			cm, ok := configMaps[gd.Namespace+"/"+ref.Name]
			require.True(t, ok, "%s: %s reads ConfigMap %s, which does not exist", name, gd.Name, ref.Name)
			var uid struct {
				UID string `json:"uid"`
			}
			require.NoError(t, json.Unmarshal([]byte(cm.Data[ref.Key]), &uid), "%s: %s reads key %s", name, gd.Name, ref.Key)
			assert.Equal(t, gd.Spec.CustomUID, uid.UID)
			assert.Equal(t, ex.result.Plan.Dashboards.Operator.InstanceLabels.Map(), gd.Spec.InstanceSelector.MatchLabels)
		}
	}
}

// TestDashboardFilesAreNotManifests: the JSON and previews are plain
// files; only the GrafanaDashboards and the GrafanaDatasource are
// Kubernetes resources.
func TestDashboardFilesAreNotManifests(t *testing.T) {
	for _, ex := range examples(t) {
		for _, f := range ex.result.Files {
			if strings.HasPrefix(f.Path, "grafana/") {
				assert.Equal(t, f.Path == grafana.OperatorPath || f.Path == grafana.OperatorDatasourcePath, f.Manifest, f.Path)
			}
		}
	}
}
