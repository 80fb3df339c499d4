package output_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
)

// commitSettled commits sets as obsgen generate does: the root opened
// first, each set's files settled as they come, then the commit.
func commitSettled(t *testing.T, root string, sets []output.Set) ([]output.Result, error) {
	t.Helper()
	w := output.OpenWriter(root, true)
	defer w.Close()
	settled := make([]output.Set, len(sets))
	for i, s := range sets {
		settled[i] = s
		settled[i].Files = w.Settle(s.Name, s.Files)
	}
	return w.Commit(settled, nil)
}

func TestSettleLetsGoOfFilesAlreadyOnDiskAndTheCommitKeepsThem(t *testing.T) {
	root := t.TempDir()
	old := []output.File{
		output.YAML("same.yaml", []byte("same: 1\n")),
		output.YAML("sub/changed.yaml", []byte("v: old\n")),
		output.YAML("dropped.yaml", []byte("d: 1\n")),
	}
	_, err := output.Commit(root, []output.Set{{Name: "p", Files: old}})
	require.NoError(t, err)
	ageFile(t, root, "p/same.yaml")
	before, err := os.Stat(filepath.Join(root, "p/same.yaml"))
	require.NoError(t, err)

	w := output.OpenWriter(root, true)
	defer w.Close()
	files := w.Settle("p", []output.File{
		output.YAML("same.yaml", []byte("same: 1\n")),
		output.YAML("sub/changed.yaml", []byte("v: new\n")),
		output.YAML("added.yaml", []byte("a: 1\n")),
	})
	assert.Nil(t, files[0].Data, "the file on disk as generated is let go")
	assert.Equal(t, len(output.Header)+len("same: 1\n"), files[0].Size())
	assert.NotNil(t, files[1].Data, "a changed file keeps its data")
	assert.NotNil(t, files[2].Data, "a new file keeps its data")

	res, err := w.Commit([]output.Set{{Name: "p", Files: files}}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"same.yaml"}, res[0].Unchanged)
	assert.ElementsMatch(t, []string{"sub/changed.yaml", "added.yaml"}, res[0].Written)
	assert.Equal(t, []string{"dropped.yaml"}, res[0].Pruned)
	after, err := os.Stat(filepath.Join(root, "p/same.yaml"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after) && oldTime.Equal(after.ModTime()), "the settled file was not rewritten")
	assert.Equal(t, map[string]string{
		"same.yaml":        output.Header + "same: 1\n",
		"sub/changed.yaml": output.Header + "v: new\n",
		"added.yaml":       output.Header + "a: 1\n",
	}, withoutManifest(tree(t, filepath.Join(root, "p"))))
	assert.ElementsMatch(t, []string{"same.yaml", "sub/changed.yaml", "added.yaml"}, manifestEntries(t, filepath.Join(root, "p")))
}

func TestFilesLetGoOfAreNeverWrittenElsewhere(t *testing.T) {
	root := t.TempDir()
	f := output.YAML("a.yaml", []byte("a: 1\n"))
	_, err := output.Commit(root, []output.Set{{Name: "p", Files: []output.File{f}}})
	require.NoError(t, err)

	w := output.OpenWriter(root, true)
	settled := w.Settle("p", []output.File{f})
	require.Nil(t, settled[0].Data)
	w.Close()

	// Without its data, a file cannot be committed by another run, to
	// another folder, or after Forget: it would be written empty.
	other := t.TempDir()
	_, err = output.Commit(other, []output.Set{{Name: "p", Files: settled}})
	require.ErrorContains(t, err, "let go")
	_, err = output.Commit(root, []output.Set{{Name: "q", Files: settled}})
	require.ErrorContains(t, err, "let go")
	_, err = output.Commit(other, []output.Set{{Name: "p", Files: output.Forget([]output.File{output.YAML("b.yaml", []byte("b: 1\n"))})}})
	require.ErrorContains(t, err, "let go")
	_, err = output.CheckAll(root, []output.Set{{Name: "p", Files: settled}})
	require.ErrorContains(t, err, "let go")
	assert.NoDirExists(t, filepath.Join(other, "p"))
	assert.NoDirExists(t, filepath.Join(root, "q"))
}

func TestSettleLeavesWhatItCannotCompareToTheCommit(t *testing.T) {
	root, outside := setupAttack(t)
	writeFile(t, outside, "secret.yaml", output.Header+"a: 1\n")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "p"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(root, "p/a.yaml")))

	w := output.OpenWriter(root, true)
	defer w.Close()
	files := w.Settle("p", []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),    // a link holding the same content
		output.YAML("../x.yaml", []byte("x: 1\n")), // an invalid path
		output.YAML("new.yaml", []byte("n: 1\n")),  // missing
	})
	for _, f := range files {
		assert.NotNil(t, f.Data, "%s was let go", f.Path)
	}
	_, err := w.Commit([]output.Set{{Name: "p", Files: files[:1]}}, nil)
	require.ErrorContains(t, err, "symbolic link", "the link is refused as without Settle")
	_, err = w.Commit([]output.Set{{Name: "p", Files: files}}, nil)
	require.ErrorContains(t, err, "escapes")
}

func TestAWriterHoldsTheLockUntilClosed(t *testing.T) {
	root := t.TempDir()
	files := []output.Set{{Name: "p", Files: []output.File{output.YAML("a.yaml", []byte("a: 1\n"))}}}
	w := output.OpenWriter(root, true)
	// A second run settles nothing and meets the lock where it did before
	// there was a Writer: at its commit, after its profiles' problems.
	second := output.OpenWriter(root, true)
	assert.NotNil(t, second.Settle("p", files[0].Files)[0].Data)
	_, err := second.Commit(files, nil)
	require.ErrorContains(t, err, "another obsgen run")
	second.Close()
	_, err = output.Commit(root, files)
	require.ErrorContains(t, err, "another obsgen run")
	check := output.OpenWriter(root, false)
	_, err = check.Check(files)
	require.NoError(t, err, "a check takes no lock")
	check.Close()
	w.Close()
	w = output.OpenWriter(root, true)
	_, err = w.Commit(files, nil)
	require.NoError(t, err, "the lock goes with Close")
	w.Close()
}

// TestALockRemovedDuringTheRunStopsItsCommit: another program removes the
// lock file while a run generates and a second run takes a new one; the
// first run's commit writes nothing, and its Close leaves the second run's
// lock file alone.
func TestALockRemovedDuringTheRunStopsItsCommit(t *testing.T) {
	root := t.TempDir()
	files := []output.Set{{Name: "p", Files: []output.File{output.YAML("a.yaml", []byte("a: 1\n"))}}}
	first := output.OpenWriter(root, true)
	require.NoError(t, os.Remove(filepath.Join(root, output.LockName)))
	second := output.OpenWriter(root, true)
	before := snapshot(t, root)
	_, err := first.Commit(files, nil)
	require.ErrorContains(t, err, "was removed or replaced during the run")
	assert.Equal(t, before, snapshot(t, root), "nothing was written")
	first.Close()
	assert.FileExists(t, filepath.Join(root, output.LockName), "the second run's lock file stays")
	_, err = output.Commit(root, files)
	require.ErrorContains(t, err, "another obsgen run", "the second run still holds its lock")
	_, err = second.Commit(files, nil)
	require.NoError(t, err)
	second.Close()
	assert.NoFileExists(t, filepath.Join(root, output.LockName), "the holder removes its own")
}

func TestAWriterOfAMissingRootCreatesItAtTheCommitOnly(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	w := output.OpenWriter(root, true)
	files := w.Settle("p", []output.File{output.YAML("a.yaml", []byte("a: 1\n"))})
	assert.NotNil(t, files[0].Data)
	assert.NoDirExists(t, root, "nothing is created before the commit")
	_, err := w.Commit([]output.Set{{Name: "p", Files: files}}, nil)
	require.NoError(t, err)
	w.Close()
	assert.Equal(t, output.Header+"a: 1\n", tree(t, root)["p/a.yaml"])

	// A run that fails before the commit leaves no root behind.
	gone := filepath.Join(t.TempDir(), "out")
	w = output.OpenWriter(gone, true)
	w.Close()
	assert.NoDirExists(t, gone)
}

func TestARootReplacedBeforeTheCommitIsRefused(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "out")
	f := output.YAML("a.yaml", []byte("a: 1\n"))
	_, err := output.Commit(root, []output.Set{{Name: "p", Files: []output.File{f}}})
	require.NoError(t, err)

	w := output.OpenWriter(root, true)
	defer w.Close()
	files := w.Settle("p", []output.File{f, output.YAML("b.yaml", []byte("b: 1\n"))})
	require.NoError(t, os.Rename(root, filepath.Join(parent, "moved")))
	require.NoError(t, os.MkdirAll(root, 0o755))

	_, err = w.Commit([]output.Set{{Name: "p", Files: files}}, nil)
	require.ErrorContains(t, err, "moved, removed or replaced")
	assert.Empty(t, tree(t, root), "nothing was written to the new folder")
	assert.NotContains(t, tree(t, filepath.Join(parent, "moved")), "p/b.yaml", "nor to the old one")
}

func TestSettleWaitsForTheRecoveryOfAKilledRun(t *testing.T) {
	// The crash test's helper, killed once the pending record is written,
	// leaves a run to roll forward: until the commit recovers it, the tree
	// is not what the next run compares with.
	steps := countSteps(t)
	for at := range steps {
		root := filepath.Join(t.TempDir(), "out")
		_, err := output.Commit(root, oldVersion)
		require.NoError(t, err)
		crash(t, root, at)
		if _, err := os.Stat(filepath.Join(root, output.PendingName)); err != nil {
			continue
		}
		w := output.OpenWriter(root, true)
		for _, s := range newVersion {
			for _, f := range w.Settle(s.Name, s.Files) {
				assert.NotNil(t, f.Data, "killed before step %d: %s/%s was let go before the recovery", at, s.Name, f.Path)
			}
		}
		w.Close()
	}
}

func TestCheckThroughAWriterMatchesCheckAll(t *testing.T) {
	root := t.TempDir()
	_, err := output.Commit(root, oldVersion)
	require.NoError(t, err)
	want, err := output.CheckAll(root, newVersion)
	require.NoError(t, err)

	w := output.OpenWriter(root, false)
	defer w.Close()
	sets := make([]output.Set, len(newVersion))
	for i, s := range newVersion {
		sets[i] = s
		sets[i].Files = w.Settle(s.Name, s.Files)
	}
	assert.Nil(t, sets[0].Files[0].Data, "same.yaml is let go")
	got, err := w.Check(sets)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, err = w.Commit(sets, nil)
	require.ErrorContains(t, err, "check", "a check writes nothing")
}

func TestSettleIsSafeFromSeveralGoroutines(t *testing.T) {
	root := t.TempDir()
	var files []output.File
	for i := range 200 {
		files = append(files, output.YAML(filepath.ToSlash(filepath.Join("d"+string(rune('a'+i%20)), "f"+string(rune('a'+i/20))+".yaml")), []byte("x: 1\n")))
	}
	_, err := output.Commit(root, []output.Set{{Name: "p", Files: files}})
	require.NoError(t, err)
	w := output.OpenWriter(root, true)
	defer w.Close()
	out := make([][]output.File, 8)
	var wg sync.WaitGroup
	for g := range out {
		wg.Go(func() { out[g] = w.Settle("p", files[g*25:(g+1)*25]) })
	}
	wg.Wait()
	var all []output.File
	for _, o := range out {
		for _, f := range o {
			assert.Nil(t, f.Data, f.Path)
		}
		all = append(all, o...)
	}
	res, err := w.Commit([]output.Set{{Name: "p", Files: all}}, nil)
	require.NoError(t, err)
	assert.Len(t, res[0].Unchanged, 200)
	assert.Empty(t, res[0].Written)
}

// TestWhatChangesAfterSettleStopsTheRun: a file Settle compared is trusted
// at the commit only while it is still there: its folder or the output
// folder swapped for a link or another folder, or the file replaced or
// written to, stops the commit and the check with nothing written.
func TestWhatChangesAfterSettleStopsTheRun(t *testing.T) {
	files := []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),
		output.YAML("sub/b.yaml", []byte("b: 1\n")),
	}
	for name, change := range map[string]func(t *testing.T, root, elsewhere string){
		"the output folder swapped for a link": func(t *testing.T, root, elsewhere string) {
			require.NoError(t, os.Rename(filepath.Join(root, "p"), filepath.Join(elsewhere, "p")))
			require.NoError(t, os.Symlink(filepath.Join(elsewhere, "p"), filepath.Join(root, "p")))
		},
		"the output folder swapped for an empty one": func(t *testing.T, root, elsewhere string) {
			require.NoError(t, os.Rename(filepath.Join(root, "p"), filepath.Join(elsewhere, "p")))
			require.NoError(t, os.Mkdir(filepath.Join(root, "p"), 0o755))
		},
		"a subfolder swapped for a link to a tampered copy": func(t *testing.T, root, elsewhere string) {
			writeFile(t, elsewhere, "sub/b.yaml", "tampered\n")
			require.NoError(t, os.RemoveAll(filepath.Join(root, "p/sub")))
			require.NoError(t, os.Symlink(filepath.Join(elsewhere, "sub"), filepath.Join(root, "p/sub")))
		},
		"the file replaced by another": func(t *testing.T, root, elsewhere string) {
			writeFile(t, elsewhere, "b.yaml", "tampered\n")
			require.NoError(t, os.Rename(filepath.Join(elsewhere, "b.yaml"), filepath.Join(root, "p/sub/b.yaml")))
		},
		"the file replaced by a link": func(t *testing.T, root, elsewhere string) {
			writeFile(t, elsewhere, "b.yaml", output.Header+"b: 1\n")
			require.NoError(t, os.Remove(filepath.Join(root, "p/sub/b.yaml")))
			require.NoError(t, os.Symlink(filepath.Join(elsewhere, "b.yaml"), filepath.Join(root, "p/sub/b.yaml")))
		},
		"the file written to": func(t *testing.T, root, elsewhere string) {
			writeFile(t, root, "p/sub/b.yaml", "tampered\n")
		},
		// Same file, size and modification time: only the status change
		// time tells (Linux; ctime_other.go).
		"the file rewritten in place, its modification time put back": func(t *testing.T, root, elsewhere string) {
			name := filepath.Join(root, "p/sub/b.yaml")
			info, err := os.Stat(name)
			require.NoError(t, err)
			time.Sleep(20 * time.Millisecond) // past the kernel's coarse clock tick
			f, err := os.OpenFile(name, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte("2"), info.Size()-2)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			require.NoError(t, os.Chtimes(name, info.ModTime(), info.ModTime()))
		},
		"the file removed and a file of its size given its time": func(t *testing.T, root, elsewhere string) {
			name := filepath.Join(root, "p/sub/b.yaml")
			info, err := os.Stat(name)
			require.NoError(t, err)
			time.Sleep(20 * time.Millisecond)
			data, err := os.ReadFile(name)
			require.NoError(t, err)
			require.NoError(t, os.Remove(name))
			data[len(data)-2] = '2'
			require.NoError(t, os.WriteFile(name, data, 0o644))
			require.NoError(t, os.Chtimes(name, info.ModTime(), info.ModTime()))
		},
	} {
		for _, write := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, write %t", name, write), func(t *testing.T) {
				root, elsewhere := t.TempDir(), t.TempDir()
				_, err := output.Commit(root, []output.Set{{Name: "p", Files: files}})
				require.NoError(t, err)
				for _, rel := range []string{"p/a.yaml", "p/sub/b.yaml"} {
					ageFile(t, root, rel)
				}
				w := output.OpenWriter(root, write)
				defer w.Close()
				changed := append([]output.File{output.YAML("new.yaml", []byte("n: 1\n"))}, files...)
				settled := w.Settle("p", changed)
				require.Nil(t, settled[1].Data)
				require.Nil(t, settled[2].Data)
				change(t, root, elsewhere)
				before := snapshot(t, root)
				sets := []output.Set{{Name: "p", Files: settled}}
				if write {
					_, err = w.Commit(sets, nil)
				} else {
					_, err = w.Check(sets)
				}
				require.Error(t, err)
				assert.Regexp(t, "during the run|symbolic link", err.Error())
				assert.Equal(t, before, snapshot(t, root), "nothing was written")
			})
		}
	}
}

func TestLetGoFilesGivenToAnotherTreeCreateNothing(t *testing.T) {
	root := t.TempDir()
	files := output.Forget([]output.File{output.YAML("a.yaml", []byte("a: 1\n"))})
	missing := filepath.Join(t.TempDir(), "out")
	_, err := output.Commit(missing, []output.Set{{Name: "p", Files: files}})
	require.ErrorContains(t, err, "let go")
	assert.NoDirExists(t, missing)
	_, err = output.CheckAll(missing, []output.Set{{Name: "p", Files: files}})
	require.ErrorContains(t, err, "let go")
	_, err = output.CheckAll(root, []output.Set{{Name: "p", Files: files}})
	require.ErrorContains(t, err, "let go")
}
