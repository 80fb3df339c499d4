package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/ruletest"
	"obsgen.dev/obsgen/internal/testtools"
)

// writeRules writes an example's rule and test files as they lie in out/
// and returns the test files.
func writeRules(t *testing.T, ex example) []string {
	t.Helper()
	dir := t.TempDir()
	var tests []string
	for _, f := range ex.result.Files {
		if !isRuleFile(f.Path) {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, f.Data, 0o644))
		if strings.HasPrefix(f.Path, "prometheus/tests/") || strings.HasPrefix(f.Path, "ruler/tests/") {
			tests = append(tests, path)
		}
	}
	return tests
}

// isRuleFile tells whether a generated file is a rule or test file of the
// Prometheus servers (prometheus/) or of the ruler (ruler/).
func isRuleFile(path string) bool {
	for _, dir := range []string{"prometheus/rules/", "prometheus/tests/", "ruler/rules/", "ruler/tests/"} {
		if strings.HasPrefix(path, dir) {
			return true
		}
	}
	return false
}

// TestInProcessRunnerPassesEveryGeneratedUnitTest runs the same tests with
// the Prometheus 3.15 libraries in process (internal/ruletest), and shows
// the runner fails a test whose expectation is wrong.
func TestInProcessRunnerPassesEveryGeneratedUnitTest(t *testing.T) {
	groups := 0
	for _, ex := range examples(t) {
		for _, path := range writeRules(t, ex) {
			passed, failures := ruletest.RunFile(path)
			for _, f := range failures {
				t.Errorf("%s: %v", ex.result.Plan.Name, f)
			}
			groups += len(passed)
		}
	}
	assert.Greater(t, groups, 100, "test groups passed")
	t.Logf("%d test groups passed in process", groups)

	var ex example
	for _, e := range examples(t) {
		if e.result.Plan.Name == "strict-deny" {
			ex = e
		}
	}
	for _, path := range writeRules(t, ex) {
		if !strings.HasSuffix(path, "obsgen-kubernetes-workloads_test.yaml") {
			continue
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "severity: warning", "severity: critical", 1)), 0o644))
		_, failures := ruletest.RunFile(path)
		require.Len(t, failures, 1, "a wrong expected severity fails exactly its test")
		assert.Contains(t, failures[0].Error(), "KubePodCrashLooping")
	}
}

// TestPromtoolRunsEveryGeneratedUnitTest writes each example's rule and
// test files as they lie in out/ and runs the real `promtool test rules`
// (built from the pinned Prometheus module) on them: every alert fires
// with its expected labels and annotations in its firing case and stays
// quiet in the other.
func TestPromtoolRunsEveryGeneratedUnitTest(t *testing.T) {
	promtool := testtools.Find(t, "promtool")
	ran := 0
	for _, ex := range examples(t) {
		tests := writeRules(t, ex)
		if len(tests) == 0 {
			continue
		}
		ran++
		cmd := exec.Command(promtool, append([]string{"test", "rules"}, tests...)...)
		cmd.Dir = filepath.Dir(tests[0])
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "%s: promtool test rules:\n%s", ex.result.Plan.Name, out)
		assert.Equal(t, len(tests), strings.Count(string(out), "SUCCESS"), "%s:\n%s", ex.result.Plan.Name, out)
	}
	assert.GreaterOrEqual(t, ran, 3, "examples with rule tests")
}
