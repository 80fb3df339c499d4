package output_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
)

// attackFiles is what a run generates into ROOT/site/ in the attack cases.
var attackFiles = []output.File{
	output.YAML("a.yaml", []byte("a: 1\n")),
	output.YAML("sub/b.yaml", []byte("b: 1\n")),
}

// setupAttack makes ROOT/site/ hold an earlier run's output (which owned
// sub/old.yaml), and a folder outside the root holding a file that no run
// may touch. It returns the root and the outside folder.
func setupAttack(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "out"), filepath.Join(base, "elsewhere")
	_, err := output.Commit(root, []output.Set{{Name: "site", Files: append(attackFiles[:1:1],
		output.YAML("sub/b.yaml", []byte("b: 0\n")), output.YAML("sub/old.yaml", []byte("o: 1\n")))}})
	require.NoError(t, err)
	writeFile(t, outside, "old.yaml", "precious\n")
	writeFile(t, outside, "b.yaml", "precious\n")
	return root, outside
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, syscall.Mkfifo(p, 0o644))
}

func replaceWithLink(t *testing.T, target, link string) {
	t.Helper()
	require.NoError(t, os.RemoveAll(link))
	require.NoError(t, os.Symlink(target, link))
}

// Every case plants something in the output tree; Commit and CheckAll must
// refuse it with an error naming the path, write nothing, and leave the
// outside folder alone. None of them may hang: a named pipe opened for
// reading would block, /dev/zero would be read without end.
func TestWriterRefusesLinksAndSpecialFiles(t *testing.T) {
	tests := map[string]struct {
		plant   func(t *testing.T, root, outside string)
		wantErr string // also the path the error names, relative to root
	}{
		"a subfolder that links elsewhere, holding a stale file": {
			plant: func(t *testing.T, root, outside string) {
				replaceWithLink(t, outside, filepath.Join(root, "site", "sub"))
			},
			wantErr: "site/sub is a symbolic link",
		},
		"the output folder is a link elsewhere": {
			plant: func(t *testing.T, root, outside string) {
				require.NoError(t, os.Rename(filepath.Join(root, "site"), filepath.Join(outside, "site")))
				require.NoError(t, os.Symlink(filepath.Join(outside, "site"), filepath.Join(root, "site")))
			},
			wantErr: "site is a symbolic link",
		},
		"a generated file is a link to a file outside": {
			plant: func(t *testing.T, root, outside string) {
				replaceWithLink(t, filepath.Join(outside, "b.yaml"), filepath.Join(root, "site", "sub", "b.yaml"))
			},
			wantErr: "site/sub/b.yaml is a symbolic link",
		},
		"a stale owned file is now a link to a file outside": {
			plant: func(t *testing.T, root, outside string) {
				replaceWithLink(t, filepath.Join(outside, "old.yaml"), filepath.Join(root, "site", "sub", "old.yaml"))
			},
			wantErr: "site/sub/old.yaml is a symbolic link",
		},
		"a subfolder links to another folder inside the root": {
			plant: func(t *testing.T, root, _ string) {
				writeFile(t, root, "other/b.yaml", "someone else's\n")
				replaceWithLink(t, filepath.Join(root, "other"), filepath.Join(root, "site", "sub"))
			},
			wantErr: "site/sub is a symbolic link",
		},
		"the manifest is a link": {
			plant: func(t *testing.T, root, outside string) {
				replaceWithLink(t, filepath.Join(outside, "old.yaml"), filepath.Join(root, "site", output.ManifestName))
			},
			wantErr: "site/" + output.ManifestName + " is a symbolic link",
		},
		"a dangling link where a generated file goes": {
			plant: func(t *testing.T, root, outside string) {
				replaceWithLink(t, filepath.Join(outside, "missing.yaml"), filepath.Join(root, "site", "a.yaml"))
			},
			wantErr: "site/a.yaml is a symbolic link",
		},
		"a named pipe at a generated path": {
			plant: func(t *testing.T, root, _ string) {
				mkfifo(t, filepath.Join(root, "site", "a.tmp-pipe"))
				must(t, os.Remove(filepath.Join(root, "site", "a.yaml")))
				mkfifo(t, filepath.Join(root, "site", "a.yaml"))
			},
			wantErr: "site/a.yaml is not a regular file",
		},
		"a named pipe as the manifest": {
			plant: func(t *testing.T, root, _ string) {
				must(t, os.Remove(filepath.Join(root, "site", output.ManifestName)))
				mkfifo(t, filepath.Join(root, "site", output.ManifestName))
			},
			wantErr: "site/" + output.ManifestName + " is not a regular file",
		},
		"a named pipe at a stale owned path": {
			plant: func(t *testing.T, root, _ string) {
				must(t, os.Remove(filepath.Join(root, "site", "sub", "old.yaml")))
				mkfifo(t, filepath.Join(root, "site", "sub", "old.yaml"))
			},
			wantErr: "site/sub/old.yaml is not a regular file",
		},
		"a link to /dev/zero at a generated path": {
			plant: func(t *testing.T, root, _ string) {
				replaceWithLink(t, "/dev/zero", filepath.Join(root, "site", "a.yaml"))
			},
			wantErr: "site/a.yaml is a symbolic link",
		},
		"a link inside a stale folder where a generated file goes": {
			plant: func(t *testing.T, root, outside string) {
				// sub/b.yaml becomes a folder of links: not obsgen's to remove.
				must(t, os.Remove(filepath.Join(root, "site", "sub", "b.yaml")))
				require.NoError(t, os.MkdirAll(filepath.Join(root, "site", "sub", "b.yaml"), 0o755))
				require.NoError(t, os.Symlink(filepath.Join(outside, "b.yaml"), filepath.Join(root, "site", "sub", "b.yaml", "x")))
			},
			wantErr: "site/sub/b.yaml: a folder obsgen did not write is in the way",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root, outside := setupAttack(t)
			tc.plant(t, root, outside)
			before, outsideBefore := snapshot(t, root), tree(t, outside)
			want := filepath.Join(root, filepath.FromSlash(tc.wantErr))

			_, err := output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
			assert.Equal(t, before, snapshot(t, root), "nothing in the root changes")
			assert.Equal(t, outsideBefore, tree(t, outside), "nothing outside the root changes")

			_, err = output.CheckAll(root, []output.Set{{Name: "site", Files: attackFiles}})
			require.Error(t, err, "--check must not follow it and call the output up to date")
			assert.Contains(t, err.Error(), want)
		})
	}
}

func TestWriterRefusesALinkedOrSpecialOutputRoot(t *testing.T) {
	tests := map[string]struct {
		plant   func(t *testing.T, root, real string)
		wantErr string
	}{
		"the root is a link to a folder": {
			plant:   func(t *testing.T, root, real string) { require.NoError(t, os.Symlink(real, root)) },
			wantErr: "is a symbolic link",
		},
		"the root is a file": {
			plant:   func(t *testing.T, root, _ string) { require.NoError(t, os.WriteFile(root, nil, 0o644)) },
			wantErr: "is a file where obsgen needs a folder",
		},
		"the root is a named pipe": {
			plant:   func(t *testing.T, root, _ string) { require.NoError(t, syscall.Mkfifo(root, 0o644)) },
			wantErr: "is not a regular file or folder",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			root, real := filepath.Join(base, "out"), filepath.Join(base, "real")
			require.NoError(t, os.Mkdir(real, 0o755))
			tc.plant(t, root, real)

			for _, given := range []string{root, root + "/", root + "/."} {
				_, err := output.Commit(given, []output.Set{{Name: "site", Files: attackFiles}})
				require.Error(t, err, "given as %q", given)
				assert.Contains(t, err.Error(), root+" "+tc.wantErr)
				assert.Empty(t, tree(t, real), "nothing is written through the link")

				_, err = output.CheckAll(given, []output.Set{{Name: "site", Files: attackFiles}})
				require.Error(t, err, "given as %q", given)
				assert.Contains(t, err.Error(), root+" "+tc.wantErr)
			}
		})
	}
}

// A run writes all of its output folders or none: the first set's files
// must not be written when the second set's folder holds a hand-written
// file in the way.
func TestCommitIsAllOrNothingAcrossSets(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	writeFile(t, root, "second/a.yaml", "hand-written\n")
	before := snapshot(t, root)

	_, err := output.Commit(root, []output.Set{
		{Name: "first", Files: attackFiles},
		{Name: "second", Files: attackFiles},
	})

	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(root, "second", "a.yaml")+" exists and was not written by obsgen")
	assert.Equal(t, before, snapshot(t, root), "the first set is not written either")
}

func TestASecondConcurrentRunIsRefused(t *testing.T) {
	root, _ := setupAttack(t)
	release, err := output.HoldLock(root)
	require.NoError(t, err)
	before := snapshot(t, root)

	_, err = output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})

	require.Error(t, err)
	assert.Contains(t, err.Error(), "another obsgen run is writing to "+root)
	assert.Equal(t, before, snapshot(t, root))

	release()
	_, err = output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})
	require.NoError(t, err, "the lock is free once the other run ends")
	assert.NoFileExists(t, filepath.Join(root, output.LockName), "the lock file goes with the run")
}

// A lock file left by a killed run is not held by anyone: it must not
// block the next run.
func TestALockFileLeftByAKilledRunDoesNotBlock(t *testing.T) {
	root, _ := setupAttack(t)
	writeFile(t, root, output.LockName, "")

	_, err := output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})

	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(root, output.LockName))
}

func must(t *testing.T, err error) {
	t.Helper()
	require.NoError(t, err)
}

// snapshot describes every entry under dir without following links or
// opening special files: path -> content, link target or kind.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "link to " + target
			return err
		case d.IsDir():
			out[rel] = "folder"
		case !d.Type().IsRegular():
			out[rel] = "special"
		default:
			b, err := os.ReadFile(p)
			out[rel] = string(b)
			return err
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// Something other than a regular file at the lock path is refused at once
// with a message naming it, not opened (a named pipe would be opened and
// retried, a device opened for writing).
func TestALockPathThatIsNotAFileIsRefused(t *testing.T) {
	tests := map[string]struct {
		plant   func(t *testing.T, lock string)
		wantErr string
	}{
		"a named pipe": {
			plant:   func(t *testing.T, lock string) { mkfifo(t, lock) },
			wantErr: "is not a regular file or folder",
		},
		"a link": {
			plant:   func(t *testing.T, lock string) { require.NoError(t, os.Symlink("/dev/null", lock)) },
			wantErr: "is a symbolic link",
		},
		"a folder": {
			plant:   func(t *testing.T, lock string) { require.NoError(t, os.Mkdir(lock, 0o755)) },
			wantErr: "is a folder where obsgen needs a file",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root, _ := setupAttack(t)
			lock := filepath.Join(root, output.LockName)
			tc.plant(t, lock)
			before := snapshot(t, root)

			_, err := output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})

			require.Error(t, err)
			assert.Contains(t, err.Error(), lock+" "+tc.wantErr)
			assert.Equal(t, before, snapshot(t, root))
		})
	}
}

// A folder swapped for a link to a folder outside while the run is under
// way (after obsgen checked and opened it) must not redirect a single
// write: the writer works in the folder it opened, never through the name,
// and refuses to commit once that folder has moved.
func TestAFolderSwappedForALinkMidRunRedirectsNothing(t *testing.T) {
	root, outside := setupAttack(t)
	sub := filepath.Join(root, "site", "sub")
	moved := filepath.Join(filepath.Dir(root), "moved-sub")
	outsideBefore := tree(t, outside)
	swapped := false
	restore := output.SetCrashPoint(func(step string) {
		if step == "rename sub/b.yaml" && !swapped {
			swapped = true
			require.NoError(t, os.Rename(sub, moved))
			require.NoError(t, os.Symlink(outside, sub))
		}
	})
	defer restore()

	_, err := output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})

	require.True(t, swapped, "the swap happened mid-run")
	assert.Equal(t, outsideBefore, tree(t, outside), "nothing outside the root changes")
	require.Error(t, err, "the folder is no longer where the manifest says: the run must not report success")
}

// A folder swapped during the run for a link to another folder inside the
// root, which holds a hand-written file at the generated file's name, must
// not get that file overwritten, whenever the swap happens.
func TestAFolderSwappedForALinkInsideTheRootOverwritesNothing(t *testing.T) {
	for _, step := range []string{"stage sub/b.yaml", "stage manifest", "record commit", "rename sub/b.yaml"} {
		t.Run(step, func(t *testing.T) {
			root, _ := setupAttack(t)
			writeFile(t, root, "site/other/b.yaml", "hand-written\n")
			sub := filepath.Join(root, "site", "sub")
			swapped := false
			restore := output.SetCrashPoint(func(s string) {
				if s == step && !swapped {
					swapped = true
					require.NoError(t, os.Rename(sub, filepath.Join(root, "site", "moved")))
					require.NoError(t, os.Symlink("other", sub))
				}
			})
			defer restore()

			_, err := output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})

			require.True(t, swapped)
			b, readErr := os.ReadFile(filepath.Join(root, "site", "other", "b.yaml"))
			require.NoError(t, readErr)
			assert.Equal(t, "hand-written\n", string(b), "the file behind the link is not obsgen's")
			require.Error(t, err, "the files did not land where the manifest says: the run must not report success")
		})
	}
}

// A folder another program removes during the run is reported, not passed
// over as written; the next run puts everything back.
func TestAFolderRemovedMidRunIsReportedAndTheNextRunRepairs(t *testing.T) {
	root, _ := setupAttack(t)
	sub := filepath.Join(root, "site", "sub")
	removed := false
	restore := output.SetCrashPoint(func(s string) {
		if s == "record commit" && !removed {
			removed = true
			require.NoError(t, os.RemoveAll(sub))
		}
	})
	_, err := output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})
	restore()
	require.True(t, removed)
	require.Error(t, err)

	_, err = output.Commit(root, []output.Set{{Name: "site", Files: attackFiles}})
	require.NoError(t, err)
	drift, err := output.CheckAll(root, []output.Set{{Name: "site", Files: attackFiles}})
	require.NoError(t, err)
	assert.True(t, drift[0].Empty(), "%s", drift[0])
}

// When a rename is refused because its folder was replaced during the run,
// the half-written folder's manifest must not claim the file that was
// never renamed: the next run would then overwrite whatever is at that
// path, such as a hand-written file moved there.
func TestAFileNeverRenamedIsNotClaimedByTheSettledManifest(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	v0 := []output.File{output.YAML("a.yaml", []byte("a: 0\n")), output.YAML("sub/b.yaml", []byte("b: 0\n"))}
	v1 := append(v0[:2:2], output.YAML("sub/new.yaml", []byte("n: 1\n")))
	_, err := output.Commit(root, []output.Set{{Name: "site", Files: v0, Generator: "obsgen v1"}})
	require.NoError(t, err)
	writeFile(t, root, "site/other/new.yaml", "hand-written\n")
	sub := filepath.Join(root, "site", "sub")
	swapped := false
	restore := output.SetCrashPoint(func(s string) {
		if s == "rename sub/new.yaml" && !swapped {
			swapped = true
			require.NoError(t, os.Rename(sub, filepath.Join(root, "site", "moved")))
			require.NoError(t, os.Rename(filepath.Join(root, "site", "other"), sub))
		}
	})
	_, err = output.Commit(root, []output.Set{{Name: "site", Files: v1, Generator: "obsgen v2"}})
	restore()
	require.True(t, swapped)
	require.Error(t, err)
	assert.NotContains(t, manifestEntries(t, filepath.Join(root, "site")), "sub/new.yaml")
	m, readErr := os.ReadFile(filepath.Join(root, "site", output.ManifestName))
	require.NoError(t, readErr)
	assert.Equal(t, "obsgen v1", output.Generator(m), "the settled manifest keeps the folder's generator")

	_, err = output.Commit(root, []output.Set{{Name: "site", Files: v1}})
	require.Error(t, err, "the hand-written file is in the way")
	b, readErr := os.ReadFile(filepath.Join(sub, "new.yaml"))
	require.NoError(t, readErr)
	assert.Equal(t, "hand-written\n", string(b))
}

// An output folder removed, moved or replaced while the run commits is
// reported, and the next run finishes or rewrites it in full.
func TestAnOutputFolderGoneMidRunIsReportedAndRepaired(t *testing.T) {
	for _, step := range []string{"record commit", "rename sub/b.yaml", "prune sub/old.yaml"} {
		for _, how := range []string{"remove", "move", "replace with an empty folder"} {
			t.Run(step+"/"+how, func(t *testing.T) {
				root, _ := setupAttack(t)
				site := filepath.Join(root, "site")
				done := false
				restore := output.SetCrashPoint(func(s string) {
					if s != step || done {
						return
					}
					done = true
					switch how {
					case "remove":
						require.NoError(t, os.RemoveAll(site))
					case "move":
						require.NoError(t, os.Rename(site, filepath.Join(root, "elsewhere")))
					default:
						require.NoError(t, os.Rename(site, filepath.Join(root, "elsewhere")))
						require.NoError(t, os.Mkdir(site, 0o755))
					}
				})
				sets := []output.Set{{Name: "site", Files: attackFiles}, {Name: "two", Files: attackFiles}}
				_, err := output.Commit(root, sets)
				restore()
				require.True(t, done)
				require.Error(t, err)

				_, err = output.Commit(root, sets)
				require.NoError(t, err)
				drifts, err := output.CheckAll(root, sets)
				require.NoError(t, err)
				for _, d := range drifts {
					assert.True(t, d.Empty(), "%s", d)
				}
			})
		}
	}
}
