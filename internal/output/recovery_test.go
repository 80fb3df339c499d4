package output_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
)

// Temporary files a killed run of an older obsgen left (random names, next
// to their targets) made --check report drift forever; the next run
// removes them, and --check names them until then.
func TestLeftoverTemporaryFilesAreReportedThenRemoved(t *testing.T) {
	root, _ := setupAttack(t)
	writeFile(t, root, "site/sub/.obsgen-123456.tmp", "half a fi")
	writeFile(t, root, "site/.obsgen-0.tmp", "")
	sets := []output.Set{{Name: "site", Files: attackFiles}}
	_, err := output.Commit(root, sets)
	require.NoError(t, err)
	writeFile(t, root, "site/sub/.obsgen-123456.tmp", "half a fi")

	drifts, err := output.CheckAll(root, sets)
	require.NoError(t, err)
	assert.Equal(t, []string{"sub/.obsgen-123456.tmp"}, drifts[0].Leftovers)
	assert.Contains(t, drifts[0].String(), "left by an interrupted run: "+filepath.Join(root, "site", "sub", ".obsgen-123456.tmp"))

	_, err = output.Commit(root, sets)
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(root, "site", "sub", ".obsgen-123456.tmp"))
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
