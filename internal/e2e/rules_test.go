package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/testtools"
)

// TestPromtoolRunsEveryGeneratedUnitTest writes each example's rule and
// test files as they lie in out/ and runs the real `promtool test rules`
// (built from the pinned Prometheus module) on them: every alert fires
// with its expected labels and annotations in its firing case and stays
// quiet in the other.
func TestPromtoolRunsEveryGeneratedUnitTest(t *testing.T) {
	promtool := testtools.Find(t, "promtool")
	ran := 0
	for _, ex := range examples(t) {
		dir := t.TempDir()
		var tests []string
		for _, f := range ex.result.Files {
			if !strings.HasPrefix(f.Path, "prometheus/rules/") && !strings.HasPrefix(f.Path, "prometheus/tests/") {
				continue
			}
			path := filepath.Join(dir, filepath.FromSlash(f.Path))
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, f.Data, 0o644))
			if strings.HasPrefix(f.Path, "prometheus/tests/") {
				tests = append(tests, path)
			}
		}
		if len(tests) == 0 {
			continue
		}
		ran++
		cmd := exec.Command(promtool, append([]string{"test", "rules"}, tests...)...)
		cmd.Dir = filepath.Join(dir, "prometheus", "tests")
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "%s: promtool test rules:\n%s", ex.result.Plan.Name, out)
		assert.Equal(t, len(tests), strings.Count(string(out), "SUCCESS"), "%s:\n%s", ex.result.Plan.Name, out)
	}
	assert.GreaterOrEqual(t, ran, 3, "examples with rule tests")
}
