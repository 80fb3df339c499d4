package output

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrphansAreFoldersWithAManifestOnly: only a real folder holding a
// regular manifest is obsgen's; a link to such a folder, a folder whose
// manifest is a link, and a folder without one are never listed, so
// --prune-orphans cannot be pointed elsewhere.
func TestOrphansAreFoldersWithAManifestOnly(t *testing.T) {
	root := t.TempDir()
	_, err := Commit(root, []Set{{Name: "old", Files: []File{{Path: "a/b.yaml", Data: []byte("x: 1\n")}}}, {Name: "kept", Files: []File{{Path: "c.yaml", Data: []byte("y: 2\n")}}}})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "handmade"), 0o755))
	elsewhere := t.TempDir()
	_, err = Commit(elsewhere, []Set{{Name: "victim", Files: []File{{Path: "v.yaml", Data: []byte("v: 1\n")}}}})
	require.NoError(t, err)
	require.NoError(t, os.Symlink(filepath.Join(elsewhere, "victim"), filepath.Join(root, "linked")))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "fake"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(elsewhere, "victim", ManifestName), filepath.Join(root, "fake", ManifestName)))

	orphans, err := Orphans(root, []string{"kept"})
	require.NoError(t, err)
	assert.Equal(t, []string{"old"}, orphans)

	none, err := Orphans(filepath.Join(root, "missing"), nil)
	require.NoError(t, err)
	assert.Empty(t, none)

	require.NoError(t, os.WriteFile(filepath.Join(root, "old", "a", "notes.md"), []byte("mine\n"), 0o644))
	res, err := CommitRemoving(root, []Set{{Name: "kept", Files: []File{{Path: "c.yaml", Data: []byte("y: 2\n")}}}}, orphans)
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, []string{"a/b.yaml"}, res[1].Pruned)
	assert.NoFileExists(t, filepath.Join(root, "old", ManifestName))
	assert.FileExists(t, filepath.Join(root, "old", "a", "notes.md"), "hand-written files stay")
	assert.FileExists(t, filepath.Join(elsewhere, "victim", "v.yaml"))
	assert.FileExists(t, filepath.Join(elsewhere, "victim", ManifestName))

	require.NoError(t, os.Remove(filepath.Join(root, "old", "a", "notes.md")))
	_, err = CommitRemoving(root, []Set{{Name: "kept", Files: []File{{Path: "c.yaml", Data: []byte("y: 2\n")}}}}, nil)
	require.NoError(t, err)
	orphans, err = Orphans(root, []string{"kept"})
	require.NoError(t, err)
	assert.Empty(t, orphans, "a folder without its manifest is no longer obsgen's")
}

// TestTheManifestRecordsItsGeneratorWithoutChurn: the generator line is
// written, sanitised to one line, read back, and ignored when comparing.
func TestTheManifestRecordsItsGeneratorWithoutChurn(t *testing.T) {
	root := t.TempDir()
	files := []File{{Path: "a.yaml", Data: []byte("a: 1\n")}}
	_, err := Commit(root, []Set{{Name: "s", Files: files, Generator: "obsgen v1.0.0\nevil: line"}})
	require.NoError(t, err)
	m, err := os.ReadFile(filepath.Join(root, "s", ManifestName))
	require.NoError(t, err)
	assert.Equal(t, "obsgen v1.0.0evil: line", Generator(m))
	owned, err := ParseManifest(m)
	require.NoError(t, err)
	assert.Equal(t, []string{"a.yaml"}, owned)

	res, err := Commit(root, []Set{{Name: "s", Files: files, Generator: "obsgen v2.0.0"}})
	require.NoError(t, err)
	assert.Empty(t, res[0].Written, "a new version alone rewrites nothing, not even the manifest")
	drifts, err := CheckAll(root, []Set{{Name: "s", Files: files, Generator: "obsgen v2.0.0"}})
	require.NoError(t, err)
	assert.True(t, drifts[0].Empty())
	assert.Equal(t, "obsgen v1.0.0evil: line", drifts[0].Generator)

	res, err = Commit(root, []Set{{Name: "s", Files: append(files, File{Path: "b.yaml", Data: []byte("b: 1\n")}), Generator: "obsgen v2.0.0"}})
	require.NoError(t, err)
	m, err = os.ReadFile(filepath.Join(root, "s", ManifestName))
	require.NoError(t, err)
	assert.Equal(t, "obsgen v2.0.0", Generator(m), "a run that changes the folder records its version")
}
