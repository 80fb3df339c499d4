package federation

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/templates"
)

func generate(t *testing.T, federation *v1alpha1.Federation, flavours ...v1alpha1.Flavour) []output.File {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	in := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "c1"},
		Monitoring: v1alpha1.Monitoring{Flavours: flavours, Prometheus: v1alpha1.Prometheus{Federation: federation}}}
	files, err := Generate(plan.Resolve(in), engine)
	require.NoError(t, err)
	return files
}

func paths(files []output.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

func TestFederationFilesFollowTheFlavours(t *testing.T) {
	assert.Empty(t, generate(t, nil), "federation is off by default")
	assert.Empty(t, generate(t, &v1alpha1.Federation{}))
	on := &v1alpha1.Federation{Enabled: true}
	assert.Equal(t, []string{GlobalJobPath, RulesPath}, paths(generate(t, on, v1alpha1.FlavourPrometheus)))
	assert.Equal(t, []string{GlobalJobPath, RulePath}, paths(generate(t, on, v1alpha1.FlavourOperator)))
	job := string(generate(t, on, v1alpha1.FlavourPrometheus)[0].Data)
	assert.Contains(t, job, `- "prometheus.monitoring.svc:9090"`, "the default target is the Prometheus Service")
	assert.Contains(t, job, `job_name: "federate-c1"`)
}

// TestRecordingRulesAggregateToWorkloads runs the real promtool: the rule
// file passes `check rules`, and `test rules` shows the per-pod series
// summed per workload.
func TestRecordingRulesAggregateToWorkloads(t *testing.T) {
	promtool := testtools.Find(t, "promtool")
	dir := t.TempDir()
	rules := generate(t, &v1alpha1.Federation{Enabled: true}, v1alpha1.FlavourPrometheus)[1]
	require.NoError(t, os.WriteFile(filepath.Join(dir, "istio-federation.yaml"), rules.Data, 0o644))
	test, err := os.ReadFile(filepath.Join("testdata", "istio-federation_test.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "test.yaml"), test, 0o644))
	for _, args := range [][]string{{"check", "rules", "istio-federation.yaml"}, {"test", "rules", "test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %v:\n%s", args, out)
		assert.Contains(t, string(out), "SUCCESS")
	}
}
