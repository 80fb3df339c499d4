package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// crdValidators loads the OpenAPI schemas of the AdminNetworkPolicy CRDs
// that ship in the sigs.k8s.io/network-policy-api module obsgen links
// (config/crd/experimental holds both kinds), as the API server would
// validate the objects with them.
func crdValidators(t *testing.T) map[string]validation.SchemaValidator {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/network-policy-api").Output()
	require.NoError(t, err, "locate the network-policy-api module")
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "experimental")
	return loadCRDs(t, dir, "policy.networking.k8s.io_adminnetworkpolicies.yaml", "policy.networking.k8s.io_baselineadminnetworkpolicies.yaml")
}

// loadCRDs reads CRD files of dir and returns a validator per
// group/version/kind.
func loadCRDs(t *testing.T, dir string, names ...string) map[string]validation.SchemaValidator {
	t.Helper()
	validators := map[string]validation.SchemaValidator{}
	for key, schema := range crdSchemas(t, dir, names...) {
		sv, _, err := validation.NewSchemaValidator(schema)
		require.NoError(t, err)
		validators[key] = sv
	}
	return validators
}

// crdSchemas reads CRD files of dir and returns the OpenAPI schema of each
// group/version/kind, as the API server holds it.
func crdSchemas(t *testing.T, dir string, names ...string) map[string]*apiextensions.JSONSchemaProps {
	t.Helper()
	schemas := map[string]*apiextensions.JSONSchemaProps{}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		var crd apiextensionsv1.CustomResourceDefinition
		require.NoError(t, yaml.Unmarshal(data, &crd))
		for _, v := range crd.Spec.Versions {
			var internal apiextensions.JSONSchemaProps
			require.NoError(t, apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil))
			schemas[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = &internal
		}
	}
	return schemas
}

func validateAgainstCRD(sv validation.SchemaValidator, doc string) field.ErrorList {
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		return field.ErrorList{field.Invalid(field.NewPath(""), doc, err.Error())}
	}
	return validation.ValidateCustomResource(nil, obj, sv)
}

// TestAdminNetworkPoliciesMatchTheirCRDs validates every AdminNetworkPolicy
// and BaselineAdminNetworkPolicy obsgen writes against the CRDs' OpenAPI
// schemas (minProperties/maxProperties on peers, enums, required fields),
// which a strict decode into the Go types does not check. A peer `{}`, as
// an empty selector dropped on the way to YAML once made it, is refused.
func TestAdminNetworkPoliciesMatchTheirCRDs(t *testing.T) {
	validators := crdValidators(t)
	split := regexp.MustCompile(`(?m)^---\n`)
	checked := 0
	for _, ex := range examples(t) {
		for _, f := range ex.result.Files {
			if !strings.Contains(f.Path, "adminnetworkpolic") {
				continue
			}
			for _, doc := range split.Split(string(f.Data), -1) {
				var meta struct{ APIVersion, Kind string }
				require.NoError(t, yaml.Unmarshal([]byte(doc), &meta))
				sv, ok := validators[meta.APIVersion+"/"+meta.Kind]
				require.True(t, ok, "no CRD for %s %s", meta.APIVersion, meta.Kind)
				assert.Empty(t, validateAgainstCRD(sv, doc), "%s/%s", ex.result.Plan.Name, f.Path)
				checked++
			}
		}
	}
	assert.Positive(t, checked, "an example uses the admin-network-policy engine")

	broken := `apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default
spec:
  subject:
    namespaces: {}
  ingress:
    - name: deny-all
      action: Deny
      from:
        - {}
`
	errs := validateAgainstCRD(validators["policy.networking.k8s.io/v1alpha1/BaselineAdminNetworkPolicy"], broken)
	assert.NotEmpty(t, errs, "a peer without a field breaks minProperties: 1")
}

// grafanaOperator is the oldest grafana-operator whose CRDs hold every
// field obsgen writes: spec.uid of GrafanaDashboard came in v5.15.0, of
// GrafanaDatasource in v5.16.0 (api/v1beta1, CustomUID). Its Go module
// ships the CRDs (config/crd/bases); it is not a dependency of obsgen, so
// the test fetches it into the module cache.
const grafanaOperator = "github.com/grafana/grafana-operator/v5@v5.16.0"

// grafanaOperatorValidators loads grafana-operator's GrafanaDashboard and
// GrafanaDatasource CRDs.
func grafanaOperatorValidators(t *testing.T) map[string]validation.SchemaValidator {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", grafanaOperator)
	cmd.Dir = t.TempDir() // outside obsgen's module: its go.mod and go.sum stay as they are
	out, err := cmd.Output()
	require.NoError(t, err, "download %s", grafanaOperator)
	var mod struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &mod))
	return loadCRDs(t, filepath.Join(mod.Dir, "config", "crd", "bases"),
		"grafana.integreatly.org_grafanadashboards.yaml", "grafana.integreatly.org_grafanadatasources.yaml")
}

// TestGrafanaOperatorResourcesMatchTheirCRDs validates every
// GrafanaDashboard and GrafanaDatasource obsgen writes against
// grafana-operator's CRDs (fields, types, required fields),
// and sees a data source without its instance selector refused.
func TestGrafanaOperatorResourcesMatchTheirCRDs(t *testing.T) {
	validators := grafanaOperatorValidators(t)
	split := regexp.MustCompile(`(?m)^---\n`)
	kinds := map[string]int{}
	for _, ex := range examples(t) {
		for _, f := range ex.result.Files {
			if !strings.HasPrefix(f.Path, "grafana/operator/") {
				continue
			}
			for _, doc := range split.Split(string(f.Data), -1) {
				var meta struct{ APIVersion, Kind string }
				require.NoError(t, yaml.Unmarshal([]byte(doc), &meta))
				sv, ok := validators[meta.APIVersion+"/"+meta.Kind]
				require.True(t, ok, "no CRD for %s %s", meta.APIVersion, meta.Kind)
				assert.Empty(t, validateAgainstCRD(sv, doc), "%s/%s", ex.result.Plan.Name, f.Path)
				kinds[meta.Kind]++
			}
		}
	}
	assert.Positive(t, kinds["GrafanaDashboard"])
	assert.Positive(t, kinds["GrafanaDatasource"])

	broken := `apiVersion: grafana.integreatly.org/v1beta1
kind: GrafanaDatasource
metadata:
  name: obsgen-x
spec:
  datasource:
    name: [Prometheus]
`
	errs := validateAgainstCRD(validators["grafana.integreatly.org/v1beta1/GrafanaDatasource"], broken)
	assert.Len(t, errs, 2, "spec.instanceSelector is required and a data source's name is a string: %v", errs)
}
