package pipeline

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/generators/kustomize"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// TestOversizedConfigMapsAreWarnedAbout: at a few hundred teams the raw
// flavour's prometheus.yml outgrows a ConfigMap, which the API server
// refuses past 1 MiB. Generate writes the output but warns at
// monitoring.flavours and names the object, its size and its files; the
// bundled example stays far below and gets no warning.
func TestOversizedConfigMapsAreWarnedAbout(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	small, err := Run("small.yaml", scaledYAML(t, 3), engine)
	require.NoError(t, err)
	assert.Empty(t, small.Loaded.Warnings.Warnings())

	res, err := Run("big.yaml", scaledYAML(t, 600), engine)
	require.NoError(t, err)
	over, err := kustomize.Oversized(res.Files)
	require.NoError(t, err)
	require.NotEmpty(t, over)
	sizes := map[string]int{}
	for _, f := range res.Files {
		sizes[f.Path] = len(f.Data)
	}
	for _, o := range over {
		assert.Greater(t, o.Bytes, kustomize.MaxObjectData, o.Name)
		sum := 0
		for _, f := range o.Files {
			sum += sizes[f]
		}
		assert.LessOrEqual(t, sum, o.Bytes, "keys count too")
	}
	var found diag.Diagnostic
	for _, w := range res.Loaded.Warnings {
		if strings.Contains(w.Message, "prometheus-config") {
			found = w
		}
	}
	require.NotEmpty(t, found.Message, "%v", res.Loaded.Warnings)
	assert.Equal(t, diag.Warning, found.Severity)
	assert.Equal(t, "monitoring.flavours", found.Path)
	assert.Positive(t, found.Pos.Line)
	assert.Contains(t, found.Message, "the API server refuses a ConfigMap or Secret over 1048576 bytes")
	assert.Contains(t, found.Hint, "monitoring.flavours: [operator]")
}

// TestOversizeCountsFilesWhoseDataWasLetGo: validate lets go of each
// generator's data as soon as it is done (output.Forget), and generate of
// the files already on disk; the sizes, and so the warnings, stay.
func TestOversizeCountsFilesWhoseDataWasLetGo(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	data := scaledYAML(t, 600)
	kept, err := Run("big.yaml", data, engine)
	require.NoError(t, err)
	var (
		mu   sync.Mutex // settle is called from each generator's goroutine
		sets []string
	)
	forgot, err := RunSettling("big.yaml", data, "", engine, func(set string, files []output.File) []output.File {
		mu.Lock()
		defer mu.Unlock()
		sets = append(sets, set)
		return output.Forget(files)
	})
	require.NoError(t, err)
	assert.Contains(t, sets, kept.Plan.Name)
	require.Len(t, forgot.Files, len(kept.Files))
	let := 0
	for i, f := range forgot.Files {
		assert.Equal(t, kept.Files[i].Path, f.Path)
		assert.Equal(t, len(kept.Files[i].Data), f.Size(), f.Path)
		if f.Data == nil {
			let++
		}
	}
	assert.Equal(t, len(kept.Files)-1, let, "every file but kustomization.yaml was let go")
	want, err := kustomize.Oversized(kept.Files)
	require.NoError(t, err)
	got, err := kustomize.Oversized(forgot.Files)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, kept.Loaded.Warnings, forgot.Loaded.Warnings)
}
