package manifest

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/output"
)

// ComponentName is the kustomization file that makes a folder a kustomize
// Component.
const ComponentName = "kustomization.yaml"

// Component writes DIR/kustomization.yaml, a kustomize Component
// (kustomize.config.k8s.io/v1alpha1) that applies the patch files of DIR.
// Another kustomization uses it with `components: [<path to DIR>]`. A
// patch file outside a kustomization's own folder is refused by
// kustomize's load restrictor (LoadRestrictionsRootOnly, the default, and
// what Argo CD and Flux run), so `patches: - path: ../out/<name>/...` from a
// sibling folder does not build; a Component folder is a root of its own
// and may be referenced from anywhere.
func Component(dir, what string, patches ...string) (output.File, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `# A kustomize Component that patches %s. In the kustomization that
# holds it, list this folder (relative paths outside that kustomization's
# own folder are fine for components):
#   components:
#     - <path to this output>/%s
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
`, what, dir)
	for _, p := range patches {
		if path.Dir(p) != dir {
			return output.File{}, fmt.Errorf("component %s: patch %s is not in its folder", dir, p)
		}
		fmt.Fprintf(&b, "  - path: %s\n", path.Base(p))
	}
	var check struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Patches    []struct {
			Path string `json:"path"`
		} `json:"patches"`
	}
	if err := yaml.UnmarshalStrict([]byte(b.String()), &check); err != nil {
		return output.File{}, fmt.Errorf("component %s: %w", dir, err)
	}
	return output.YAML(path.Join(dir, ComponentName), []byte(b.String())), nil
}
