package generators

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "obsgen.dev/obsgen/"

// imports lists the obsgen packages the non-test Go files of dir import.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range parsed.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			if strings.HasPrefix(path, module) {
				out = append(out, strings.TrimPrefix(path, module))
			}
		}
	}
	return out
}

// packageDirs lists root and every folder below it that holds Go files.
func packageDirs(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() == "testdata" {
			return err
		}
		if files, _ := filepath.Glob(filepath.Join(path, "*.go")); len(files) > 0 {
			dirs = append(dirs, path)
		}
		return nil
	}))
	return dirs
}

// TestGeneratorsDoNotImportEachOther: a generator depends on the plan and
// on libraries under internal/ only; what two generators share is a plan
// field or an object the registry builds once (internal/built). Only the
// registry (this package) imports generators.
func TestGeneratorsDoNotImportEachOther(t *testing.T) {
	dirs := packageDirs(t, ".")
	require.Greater(t, len(dirs), 5, "the generators are found")
	for _, dir := range dirs {
		if dir == "." {
			continue
		}
		for _, imp := range imports(t, dir) {
			assert.True(t, strings.HasPrefix(imp, "internal/"), "generators/%s imports %s", filepath.ToSlash(dir), imp)
			for _, banned := range []string{"internal/cli", "internal/pipeline", "internal/profile", "internal/e2e"} {
				assert.NotEqual(t, banned, imp, "generators/%s imports %s, which runs generators", filepath.ToSlash(dir), imp)
			}
		}
	}
}

// TestOnlyTheRunnersImportGenerators: libraries under internal/ never
// import a generator; internal/pipeline, internal/cli and internal/verify
// run them.
func TestOnlyTheRunnersImportGenerators(t *testing.T) {
	runners := map[string]bool{"pipeline": true, "cli": true, "verify": true}
	dirs := packageDirs(t, filepath.Join("..", "internal"))
	require.Greater(t, len(dirs), 5, "the internal packages are found")
	for _, dir := range dirs {
		rel, err := filepath.Rel(filepath.Join("..", "internal"), dir)
		require.NoError(t, err)
		if runners[strings.Split(filepath.ToSlash(rel), "/")[0]] {
			continue
		}
		for _, imp := range imports(t, dir) {
			assert.False(t, strings.HasPrefix(imp, "generators"), "internal/%s imports %s", filepath.ToSlash(rel), imp)
		}
	}
}
