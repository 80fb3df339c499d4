// Package e2e tests obsgen end to end: the committed out/ tree is the golden
// output of profiles/, and every generated file is checked by the real tools.
package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/templates"
)

// example is one example profile and its generated result.
type example struct {
	file   string // relative to the repository root
	result *pipeline.Result
}

func examples(t *testing.T) []example {
	t.Helper()
	root := testtools.RepoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "profiles", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4, "example profiles")
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	var out []example
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		res, err := pipeline.Run(rel, data, engine)
		require.NoError(t, err, rel)
		out = append(out, example{file: rel, result: res})
	}
	return out
}

// TestOutIsUpToDate regenerates every example profile in memory and fails on
// any difference with the committed out/ tree. UPDATE_GOLDEN=1 (or `make
// generate`) rewrites it.
func TestOutIsUpToDate(t *testing.T) {
	root := testtools.RepoRoot(t)
	var names []string
	for _, ex := range examples(t) {
		dir := filepath.Join(root, "out", ex.result.Plan.Name)
		names = append(names, ex.result.Plan.Name)
		if os.Getenv("UPDATE_GOLDEN") != "" {
			_, err := output.Write(dir, ex.result.Files)
			require.NoError(t, err)
			continue
		}
		drift, err := output.Check(dir, ex.result.Files)
		require.NoError(t, err)
		assert.True(t, drift.Empty(), "out/%s is stale; run `make generate`:\n%s", ex.result.Plan.Name, drift)
	}
	entries, err := os.ReadDir(filepath.Join(root, "out"))
	require.NoError(t, err)
	for _, e := range entries {
		assert.Contains(t, names, e.Name(), "out/%s has no profile in profiles/; delete it", e.Name())
	}
}

// TestGenerationIsDeterministic renders every example twice, in fresh
// engines, and compares the bytes.
func TestGenerationIsDeterministic(t *testing.T) {
	first, second := examples(t), examples(t)
	for i := range first {
		a, b := first[i].result.Files, second[i].result.Files
		require.Len(t, b, len(a))
		for j := range a {
			assert.Equal(t, a[j].Path, b[j].Path)
			assert.Equal(t, string(a[j].Data), string(b[j].Data), a[j].Path)
		}
	}
}

func TestGeneratedFilesFollowTheOutputRules(t *testing.T) {
	for _, ex := range examples(t) {
		for _, f := range ex.result.Files {
			name := ex.result.Plan.Name + "/" + f.Path
			assert.NoError(t, output.CheckPath(f.Path), name)
			assert.False(t, strings.Contains(string(f.Data), "\r"), "%s has CR line endings", name)
			assert.True(t, strings.HasSuffix(string(f.Data), "\n"), "%s lacks a final newline", name)
			if f.Path != output.ManifestName {
				assert.True(t, strings.HasPrefix(string(f.Data), output.HeaderFor(f.Path)), "%s lacks the generated-code header", name)
			}
		}
	}
}
