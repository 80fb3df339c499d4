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
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/templates"
)

// operatorReleases are the Prometheus Operator releases whose CRDs the
// operator flavour's output must match: the oldest obsgen supports
// (plan.OperatorMinimumMinor) and the last before each field obsgen writes
// depending on the version (plan.ScrapeClassMinor,
// ScrapeConfigJobNameMinor, PodMonitorPortNumberMinor; the monitors'
// scheme enum, lower case only before 0.87), and a current one. The CRDs
// ship in the operator's module (example/prometheus-operator-crd), which
// is not a dependency of obsgen: the test fetches each into the module
// cache.
var operatorReleases = []struct{ profileVersion, module string }{
	{"0.72", "v0.72.0"}, // no scrape class TLS, no ScrapeConfig jobName, no portNumber
	{"0.74", "v0.74.0"}, // scrape classes; no jobName
	{"0.78", "v0.78.2"}, // jobName; no portNumber
	{"0.85", "v0.85.0"}, // portNumber; monitor schemes in lower case only
	{"0.94", "v0.94.0"},
}

// operatorCRD is a CRD version's validator and structural schema.
type operatorCRD struct {
	validator  validation.SchemaValidator
	structural *structuralschema.Structural
}

func operatorCRDs(t *testing.T, module string) map[string]operatorCRD {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/prometheus-operator/prometheus-operator@"+module)
	cmd.Dir = t.TempDir() // outside obsgen's module: its go.mod and go.sum stay as they are
	out, err := cmd.Output()
	require.NoError(t, err, "download prometheus-operator %s", module)
	var mod struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &mod))
	dir := filepath.Join(mod.Dir, "example", "prometheus-operator-crd")
	var names []string
	for _, kind := range []string{"servicemonitors", "podmonitors", "scrapeconfigs", "prometheuses", "prometheusagents", "prometheusrules"} {
		names = append(names, "monitoring.coreos.com_"+kind+".yaml")
	}
	crds := map[string]operatorCRD{}
	for key, schema := range crdSchemas(t, dir, names...) {
		sv, _, err := validation.NewSchemaValidator(schema)
		require.NoError(t, err)
		structural, err := structuralschema.NewStructural(schema)
		require.NoError(t, err)
		crds[key] = operatorCRD{validator: sv, structural: structural}
	}
	return crds
}

// problems are what the API server says of a document: schema errors, and
// fields the CRD does not define, which kubectl's default strict field
// validation refuses (and a lax one prunes).
func (c operatorCRD) problems(doc string) []string {
	var out []string
	for _, e := range validateAgainstCRD(c.validator, doc) {
		out = append(out, e.Error())
	}
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		return append(out, err.Error())
	}
	for _, path := range pruning.PruneWithOptions(obj, c.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		out = append(out, "unknown field "+path)
	}
	return out
}

// TestOperatorResourcesMatchTheCRDsOfEachSupportedRelease generates every
// example profile that has the operator flavour for each release of
// operatorReleases and validates each resource against that release's
// CRDs, as the API server would on kubectl apply.
func TestOperatorResourcesMatchTheCRDsOfEachSupportedRelease(t *testing.T) {
	root := testtools.RepoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "profiles", "*.yaml"))
	require.NoError(t, err)
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	split := regexp.MustCompile(`(?m)^---\n`)
	flavours := "  flavours: [prometheus, operator]\n"
	for _, release := range operatorReleases {
		t.Run(release.module, func(t *testing.T) {
			crds := operatorCRDs(t, release.module)
			kinds := map[string]int{}
			for _, f := range files {
				data, err := os.ReadFile(f)
				require.NoError(t, err)
				if !strings.Contains(string(data), flavours) {
					continue
				}
				edited := strings.Replace(string(data), flavours, flavours+"  operatorVersion: \""+release.profileVersion+"\"\n", 1)
				res, err := pipeline.Run(filepath.Base(f), []byte(edited), engine)
				if err != nil && release.profileVersion < "0.74" && strings.Contains(err.Error(), "from Prometheus Operator 0.74 on") {
					continue // team alert labels: refused before alertRelabelings
				}
				require.NoError(t, err, f)
				for _, out := range res.Files {
					if !strings.HasPrefix(out.Path, "operator/") || out.Path == "operator/additional-scrape-configs.yaml" {
						continue
					}
					for _, doc := range split.Split(string(out.Data), -1) {
						var meta struct{ APIVersion, Kind string }
						require.NoError(t, yaml.Unmarshal([]byte(doc), &meta))
						if meta.Kind == "" || meta.APIVersion == "v1" || strings.HasPrefix(meta.APIVersion, "rbac.authorization.k8s.io/") {
							// No CRD for a core kind (the Prometheus
							// Service): TestEveryManifestDecodesStrictlyIntoItsUpstreamType
							// decodes it into its Kubernetes type.
							continue
						}
						crd, ok := crds[meta.APIVersion+"/"+meta.Kind]
						require.True(t, ok, "%s/%s: no CRD for %s %s", res.Plan.Name, out.Path, meta.APIVersion, meta.Kind)
						assert.Empty(t, crd.problems(doc), "%s/%s", res.Plan.Name, out.Path)
						kinds[meta.Kind]++
					}
				}
			}
			for _, kind := range []string{"Prometheus", "PrometheusAgent", "ServiceMonitor", "PodMonitor", "ScrapeConfig", "PrometheusRule"} {
				assert.Positive(t, kinds[kind], "an example writes a %s", kind)
			}
		})
	}

	// The check sees what an older release refuses.
	crds := operatorCRDs(t, "v0.74.0")
	monitor := "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: x\nspec:\n  selector: {}\n" +
		"  podMetricsEndpoints:\n    - scheme: HTTP\n      portNumber: 9100\n"
	assert.ElementsMatch(t, []string{
		`spec.podMetricsEndpoints[0].scheme: Unsupported value: "HTTP": supported values: "http", "https"`,
		"unknown field spec.podMetricsEndpoints[0].portNumber",
	}, crds["monitoring.coreos.com/v1/PodMonitor"].problems(monitor))
	scrapeConfig := "apiVersion: monitoring.coreos.com/v1alpha1\nkind: ScrapeConfig\nmetadata:\n  name: x\nspec:\n  jobName: x\n"
	assert.Equal(t, []string{"unknown field spec.jobName"}, crds["monitoring.coreos.com/v1alpha1/ScrapeConfig"].problems(scrapeConfig))
}
