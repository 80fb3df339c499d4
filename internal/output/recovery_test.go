package output_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
)

// A temporary file a killed run left where the writer stages made --check
// report drift forever; the next run removes it, and --check names it
// until then. A file with a temporary-looking name anywhere else is not
// obsgen's: it is neither reported nor removed.
func TestLeftoverTemporaryFilesAreReportedThenRemoved(t *testing.T) {
	root, _ := setupAttack(t)
	writeFile(t, root, "site/sub/.obsgen-123456.tmp", "hand-made\n")
	sets := []output.Set{{Name: "site", Files: attackFiles}}
	_, err := output.Commit(root, sets)
	require.NoError(t, err)
	writeFile(t, root, "site/.obsgen-0.tmp", "half a fi")

	drifts, err := output.CheckAll(root, sets)
	require.NoError(t, err)
	assert.Equal(t, []string{".obsgen-0.tmp"}, drifts[0].Leftovers)
	assert.Contains(t, drifts[0].String(), "left by an interrupted run: "+filepath.Join(root, "site", ".obsgen-0.tmp"))

	_, err = output.Commit(root, sets)
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(root, "site", ".obsgen-0.tmp"))
	assert.FileExists(t, filepath.Join(root, "site", "sub", ".obsgen-123456.tmp"), "not where obsgen stages: not obsgen's")
	drifts, err = output.CheckAll(root, sets)
	require.NoError(t, err)
	assert.True(t, drifts[0].Empty(), "%s", drifts[0])
}

func TestAPendingRecordIsReportedByCheck(t *testing.T) {
	root, _ := setupAttack(t)
	writeFile(t, root, output.PendingName, `{"state":"staging","sets":[]}`)

	drifts, err := output.CheckAll(root, []output.Set{{Name: "site", Files: attackFiles}})

	require.NoError(t, err)
	assert.Contains(t, drifts[0].String(), "left by an interrupted run: "+filepath.Join(root, output.PendingName))
}

// A pending record names what recovery renames and removes: one that names
// anything outside the output folders must be refused, not obeyed.
func TestACorruptPendingRecordIsRefused(t *testing.T) {
	tests := map[string]struct {
		record  string
		wantErr string
	}{
		"a prune outside the folder": {
			record:  `{"state":"commit","sets":[{"name":"site","prune":["../../elsewhere/old.yaml"]}]}`,
			wantErr: "escapes the output folder",
		},
		"a folder name with a slash": {
			record:  `{"state":"commit","sets":[{"name":"site/sub","prune":["b.yaml"]}]}`,
			wantErr: "must be one plain folder name",
		},
		"a rename from a file that is not a temporary file": {
			record:  `{"state":"commit","sets":[{"name":"site","moves":[{"temp":"a.yaml","path":"sub/b.yaml"}]}]}`,
			wantErr: `invalid temporary file name "a.yaml"`,
		},
		"a staged folder outside obsgen's names": {
			record:  `{"state":"commit","sets":[{"name":"fresh","staged":"../elsewhere"}]}`,
			wantErr: `invalid staged folder name "../elsewhere"`,
		},
		"a staged folder with a prune": {
			record:  `{"state":"commit","sets":[{"name":"site","staged":".obsgen-new-0.tmp","prune":["a.yaml"]}]}`,
			wantErr: "a staged folder comes with no other change",
		},
		"an unknown state": {
			record:  `{"state":"done","sets":[]}`,
			wantErr: `unknown state "done"`,
		},
		"not JSON": {
			record:  "state: commit\n",
			wantErr: "not a pending-run record",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root, outside := setupAttack(t)
			writeFile(t, root, output.PendingName, tc.record)
			before, outsideBefore := snapshot(t, root), tree(t, outside)

			_, err := output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})

			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(root, output.PendingName))
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "delete it, then run again")
			assert.Equal(t, before, snapshot(t, root))
			assert.Equal(t, outsideBefore, tree(t, outside))
		})
	}
}

// A write that fails half way (here: a folder where the second output
// folder's first temporary file goes) undoes its staging: no temporary
// file or pending record stays, in the first output folder either.
func TestAFailedStagingIsUndone(t *testing.T) {
	root, _ := setupAttack(t)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "second", ".obsgen-0.tmp"), 0o755))
	before := snapshot(t, root)

	_, err := output.Commit(root, []output.Set{
		{Name: "site", Files: []output.File{output.YAML("a.yaml", []byte("a: 2\n"))}},
		{Name: "second", Files: attackFiles},
	})

	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(root, "second", ".obsgen-0.tmp"))
	assert.Equal(t, before, snapshot(t, root), "the first folder's staged file is removed too")
}

// failRename makes the rename of one generated file fail the way a folder
// the user cannot write makes it fail, by putting a folder where it goes
// just before obsgen renames it; it returns the folder, to be removed
// once the "permissions" are fixed.
func failRename(t *testing.T, root, set, file string) string {
	t.Helper()
	in := filepath.Join(root, set, filepath.FromSlash(file))
	restore := output.SetCrashPoint(func(step string) {
		if step == "rename "+file {
			require.NoError(t, os.MkdirAll(filepath.Join(in, "x"), 0o755))
		}
	})
	t.Cleanup(restore)
	return in
}

// A rename that fails half way through a run (a subfolder the user cannot
// write) must not wedge the output: the run rolls forward every other
// folder, says which folder is half-written and how to fix it, leaves no
// pending record, and the next run (of either version) converges once the
// cause is gone.
func TestAFailedRenameIsReportedAndDoesNotWedgeTheNextRun(t *testing.T) {
	for name, next := range map[string][]output.Set{"the new version runs next": newVersion, "the old version runs next": oldVersion} {
		t.Run(name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "out")
			_, err := output.Commit(root, oldVersion)
			require.NoError(t, err)
			writeFile(t, root, "alpha/hand-written.md", "mine\n")
			inTheWay := failRename(t, root, "alpha", "added/z.yaml")

			_, err = output.Commit(root, newVersion)

			require.Error(t, err)
			assert.Contains(t, err.Error(), "the output is partly written: "+filepath.Join(root, "alpha")+" is half-written")
			assert.Contains(t, err.Error(), inTheWay)
			assert.Contains(t, err.Error(), "permissions")
			assert.NotContains(t, err.Error(), filepath.Join(root, "beta"), "beta was written in full")
			assert.Equal(t, contents(newVersion)["beta/c.yaml"][0], tree(t, root)[filepath.Join("beta", "c.yaml")])
			assert.NoFileExists(t, filepath.Join(root, output.PendingName), "nothing is left for recovery to trip on")
			assertOldOrNew(t, root)

			output.SetCrashPoint(func(string) {})
			require.NoError(t, os.RemoveAll(inTheWay))
			_, err = output.Commit(root, next)
			require.NoError(t, err)
			assertConverged(t, root, next)
		})
	}
}

// A killed run whose record cannot be rolled forward by the next run (a
// folder the user cannot write) must not make every later run fail in
// recovery: the next run settles what it can and plans from the disk.
func TestARecordThatCannotBeRolledForwardDoesNotWedge(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	_, err := output.Commit(root, oldVersion)
	require.NoError(t, err)
	writeFile(t, root, "alpha/hand-written.md", "mine\n")
	killAt(t, root, newVersion, "rename changed.yaml")
	require.FileExists(t, filepath.Join(root, output.PendingName))
	inTheWay := failRename(t, root, "alpha", "added/z.yaml")

	_, err = output.Commit(root, oldVersion)

	require.NoError(t, err, "the old version needs nothing the record could not do")
	output.SetCrashPoint(func(string) {})
	require.NoError(t, os.RemoveAll(inTheWay))
	assertConverged(t, root, oldVersion)
}

// killAt runs a commit of version that stops dead before step, as a killed
// process would: nothing after it runs, the lock is released by the kernel.
func killAt(t *testing.T, root string, version []output.Set, step string) {
	t.Helper()
	type killed struct{}
	restore := output.SetCrashPoint(func(s string) {
		if s == step {
			panic(killed{})
		}
	})
	defer restore()
	defer func() {
		_, ok := recover().(killed)
		require.True(t, ok, "the run did not reach %q", step)
	}()
	_, _ = output.Commit(root, version)
}

// A pending record is a file anyone with write access to the repository can
// plant: recovery must prune or overwrite only files a manifest says obsgen
// owns, never a hand-written one the record names.
func TestAPendingRecordCannotTouchAHandWrittenFile(t *testing.T) {
	tests := map[string]string{
		"a prune of a hand-written file":       `{"state":"commit","sets":[{"name":"site","prune":["NOTES.md"]}]}`,
		"a prune-first of a hand-written file": `{"state":"commit","sets":[{"name":"site","pruneFirst":["NOTES.md"]}]}`,
		"a rename onto a hand-written file":    `{"state":"commit","sets":[{"name":"site","moves":[{"temp":".obsgen-0.tmp","path":"NOTES.md"}]}]}`,
	}
	for name, record := range tests {
		t.Run(name, func(t *testing.T) {
			root, _ := setupAttack(t)
			writeFile(t, root, "site/NOTES.md", "mine\n")
			writeFile(t, root, "site/.obsgen-0.tmp", "planted\n")
			writeFile(t, root, output.PendingName, record)

			_, err := output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})

			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(root, "site", "NOTES.md")+": the pending record would replace or remove it, but no manifest says obsgen wrote it")
			assert.Contains(t, err.Error(), "delete it, then run again")
			assert.Equal(t, "mine\n", tree(t, root)[filepath.Join("site", "NOTES.md")])
		})
	}
}
