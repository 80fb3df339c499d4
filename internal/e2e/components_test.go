package e2e

import (
	"fmt"
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/generators/alertmanager"
	"obsgen.dev/obsgen/generators/prometheus"
	"obsgen.dev/obsgen/internal/plan"
)

// TestThePodPatchesApplyAsComponentsFromASiblingFolder: a GitOps
// repository keeps its own Prometheus and Alertmanager StatefulSets in a
// folder beside obsgen's output and applies the pod patches through the
// Components obsgen writes, built with kustomize itself and its default
// load restrictor (what Argo CD and Flux run). Listing the patch file
// directly from the sibling folder is refused by that restrictor, which
// is why the Components exist.
func TestThePodPatchesApplyAsComponentsFromASiblingFolder(t *testing.T) {
	tested := 0
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if !p.Monitoring.RawFlavour {
			continue
		}
		fs := filesys.MakeFsInMemory()
		out := path.Join("/repo/out", p.Name)
		has := map[string]bool{}
		for _, f := range ex.result.Files {
			require.NoError(t, fs.MkdirAll(path.Join(out, path.Dir(f.Path))))
			require.NoError(t, fs.WriteFile(path.Join(out, f.Path), f.Data))
			has[f.Path] = true
		}
		require.True(t, has["prometheus/kustomization.yaml"], p.Name)
		components := []string{"../out/" + p.Name + "/prometheus"}
		withAlertmanager := has[alertmanager.PodPatchPath]
		if withAlertmanager {
			require.True(t, has["alertmanager/kustomization.yaml"], p.Name)
			components = append(components, "../out/"+p.Name+"/alertmanager")
		}
		prom := p.Monitoring.Prometheus
		workloads := fmt.Sprintf(`apiVersion: apps/v1
kind: %s
metadata:
  name: %s
  namespace: %s
spec:
  selector:
    matchLabels: {app: prometheus}
  template:
    metadata:
      labels: {app: prometheus}
    spec:
      containers:
        - name: prometheus
          image: prom/prometheus
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: %s
  namespace: %s
spec:
  selector:
    matchLabels: {app: alertmanager}
  template:
    metadata:
      labels: {app: alertmanager}
    spec:
      containers:
        - name: alertmanager
          image: prom/alertmanager
`, prom.Workload, prom.Name, p.Monitoring.Namespace, plan.AlertmanagerWorkload, p.Monitoring.Alertmanager.Namespace)
		require.NoError(t, fs.MkdirAll("/repo/platform"))
		require.NoError(t, fs.WriteFile("/repo/platform/workloads.yaml", []byte(workloads)))
		kust := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [workloads.yaml]\ncomponents:\n"
		for _, c := range components {
			kust += "  - " + c + "\n"
		}
		require.NoError(t, fs.WriteFile("/repo/platform/kustomization.yaml", []byte(kust)))
		resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/repo/platform")
		require.NoError(t, err, p.Name)

		var patch appsv1.StatefulSet
		for _, f := range ex.result.Files {
			if f.Path == prometheus.PodPatchPath {
				require.NoError(t, yaml.Unmarshal(f.Data, &patch))
			}
		}
		for _, r := range resources.Resources() {
			doc, err := r.AsYAML()
			require.NoError(t, err)
			var got appsv1.StatefulSet
			require.NoError(t, yaml.Unmarshal(doc, &got))
			switch r.GetName() {
			case prom.Name:
				for k, v := range patch.Spec.Template.Labels {
					assert.Equal(t, v, got.Spec.Template.Labels[k], "%s: the patch's pod label %s", p.Name, k)
				}
				assert.Equal(t, "prometheus/prometheus", "prometheus/"+got.Spec.Template.Spec.Containers[0].Name)
				if n := len(patch.Spec.Template.Spec.Volumes); n > 0 {
					assert.Len(t, got.Spec.Template.Spec.Volumes, n, p.Name)
				}
			case plan.AlertmanagerWorkload:
				if withAlertmanager {
					require.NotEmpty(t, got.Spec.Template.Spec.Volumes, "%s: the receivers' Secret is mounted", p.Name)
					assert.Equal(t, p.Alerting.Secret, got.Spec.Template.Spec.Volumes[0].Secret.SecretName)
					assert.NotEmpty(t, got.Spec.Template.Spec.Containers[0].VolumeMounts)
				}
			}
		}

		// The layout the patches' comments used to suggest fails.
		direct := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [workloads.yaml]\npatches:\n  - path: ../out/" + p.Name + "/" + prometheus.PodPatchPath + "\n"
		require.NoError(t, fs.WriteFile("/repo/platform/kustomization.yaml", []byte(direct)))
		_, err = krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/repo/platform")
		require.Error(t, err, p.Name)
		assert.Contains(t, err.Error(), "security", p.Name)
		tested++
	}
	assert.Positive(t, tested)
}
