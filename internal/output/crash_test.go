package output_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
)

// Two versions of a two-folder output: the new one changes, keeps, adds and
// drops files, and turns a file into a folder and a folder into a file.
var (
	oldVersion = []output.Set{
		{Name: "alpha", Files: []output.File{
			output.YAML("same.yaml", []byte("same: 1\n")),
			output.YAML("changed.yaml", []byte("v: old\n")),
			output.YAML("dropped/x.yaml", []byte("x: old\n")),
			output.YAML("becomes-folder", []byte("f: old\n")),
			output.YAML("becomes-file/y.yaml", []byte("y: old\n")),
		}},
		{Name: "beta", Files: []output.File{
			output.YAML("b.yaml", []byte("b: old\n")),
		}},
	}
	newVersion = []output.Set{
		{Name: "alpha", Files: []output.File{
			output.YAML("same.yaml", []byte("same: 1\n")),
			output.YAML("changed.yaml", []byte("v: new\n")),
			output.YAML("added/z.yaml", []byte("z: new\n")),
			output.YAML("becomes-folder/f.yaml", []byte("f: new\n")),
			output.YAML("becomes-file", []byte("y: new\n")),
		}},
		{Name: "beta", Files: []output.File{
			output.YAML("b.yaml", []byte("b: new\n")),
			output.YAML("c.yaml", []byte("c: new\n")),
		}},
		{Name: "gamma", Files: []output.File{
			output.YAML("g.yaml", []byte("g: new\n")),
			output.YAML("sub/folder/h.yaml", []byte("h: new\n")),
		}},
	}
)

const (
	crashRootEnv = "OBSGEN_TEST_CRASH_ROOT"
	crashAtEnv   = "OBSGEN_TEST_CRASH_AT"
)

// TestCrashHelper is not a test: the crash test runs this test binary with
// it selected, and it commits newVersion, killing itself with SIGKILL just
// before the given step.
func TestCrashHelper(t *testing.T) {
	root := os.Getenv(crashRootEnv)
	if root == "" {
		t.Skip("runs only as the crash test's child process")
	}
	at, err := strconv.Atoi(os.Getenv(crashAtEnv))
	require.NoError(t, err)
	step := 0
	output.SetCrashPoint(func(string) {
		if step == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		step++
	})
	_, err = output.Commit(root, newVersion)
	require.NoError(t, err)
}

// TestCommitSurvivesAKillAtEveryStep kills a run of newVersion over
// oldVersion before each of its changes to disk in turn, then checks that
// every file is wholly old or wholly new, and that the next run (of either
// version) converges: --check passes and nothing is left behind.
func TestCommitSurvivesAKillAtEveryStep(t *testing.T) {
	steps := countSteps(t)
	require.Greater(t, steps, 20, "the run has steps to crash at")
	for at := range steps {
		t.Run("killed before step "+strconv.Itoa(at), func(t *testing.T) {
			t.Parallel() // each case has its own folders; the hook is set only in the child
			root := filepath.Join(t.TempDir(), "out")
			_, err := output.Commit(root, oldVersion)
			require.NoError(t, err)
			writeFile(t, root, "alpha/hand-written.md", "mine\n")

			crash(t, root, at)
			assertOldOrNew(t, root)
			// The same crashed tree, once for each next version.
			other := filepath.Join(t.TempDir(), "out")
			copyTree(t, root, other)

			// The new version as obsgen generate commits it, each file
			// compared before the commit (Writer.Settle); the old one with
			// Commit alone.
			_, err = commitSettled(t, root, newVersion)
			require.NoError(t, err, "the next run of the new version recovers")
			assertConverged(t, root, newVersion)

			_, err = output.Commit(other, oldVersion)
			require.NoError(t, err, "the next run of the old version recovers")
			assertConverged(t, other, oldVersion)
		})
	}
	t.Logf("killed a run at each of %d steps, then ran the new and the old version", steps)
}

// copyTree copies the files and folders under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	for rel, data := range tree(t, src) {
		writeFile(t, dst, rel, data)
	}
}

// countSteps runs newVersion over oldVersion in process and counts the
// crash points it passes.
func countSteps(t *testing.T) int {
	t.Helper()
	root := filepath.Join(t.TempDir(), "out")
	_, err := output.Commit(root, oldVersion)
	require.NoError(t, err)
	steps := 0
	restore := output.SetCrashPoint(func(string) { steps++ })
	defer restore()
	_, err = output.Commit(root, newVersion)
	require.NoError(t, err)
	return steps
}

// crash runs the helper, which must die by SIGKILL at step at.
func crash(t *testing.T, root string, at int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashRootEnv+"="+root, crashAtEnv+"="+strconv.Itoa(at))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the helper was not killed: %v\n%s", err, out)
	status, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok && status.Signaled() && status.Signal() == syscall.SIGKILL, "the helper was not killed: %v\n%s", err, out)
}

// stagedFolder is where a new output folder is staged whole, in the root.
var stagedFolder = regexp.MustCompile(`^\.obsgen-new-[0-9]+\.tmp$`)

// contents maps every generated path of the given versions to the
// contents it may have.
func contents(versions ...[]output.Set) map[string][]string {
	out := map[string][]string{}
	for _, v := range versions {
		for _, s := range v {
			for _, f := range s.Files {
				p := s.Name + "/" + f.Path
				out[p] = append(out[p], string(f.Data))
			}
		}
	}
	return out
}

// assertOldOrNew checks that every file in the root is a generated file
// holding its old or new content, obsgen's bookkeeping, or the hand-written
// file, untouched.
func assertOldOrNew(t *testing.T, root string) {
	t.Helper()
	allowed := contents(oldVersion, newVersion)
	for rel, data := range tree(t, root) {
		rel = filepath.ToSlash(rel)
		base := filepath.Base(rel)
		switch {
		case rel == "alpha/hand-written.md":
			assert.Equal(t, "mine\n", data)
		case base == output.ManifestName || base == output.PendingName || base == output.LockName:
		case strings.HasPrefix(base, ".obsgen-") && strings.HasSuffix(base, ".tmp"):
		case stagedFolder.MatchString(strings.Split(rel, "/")[0]):
			// A new output folder staged whole: its files are new ones.
			inside := strings.SplitN(rel, "/", 2)[1]
			found := false
			for _, s := range newVersion {
				for _, f := range s.Files {
					found = found || (f.Path == inside && string(f.Data) == data)
				}
			}
			assert.True(t, found, "%s holds no new file", rel)
		default:
			require.Contains(t, allowed, rel, "a file no version generates")
			assert.Contains(t, allowed[rel], data, "%s is neither old nor new", rel)
		}
	}
}

// assertConverged checks that the root holds exactly version, the
// hand-written file and the manifests, and that --check passes.
func assertConverged(t *testing.T, root string, version []output.Set) {
	t.Helper()
	want := map[string]string{"alpha/hand-written.md": "mine\n"}
	for _, s := range version {
		for _, f := range s.Files {
			want[s.Name+"/"+f.Path] = string(f.Data)
		}
	}
	got := tree(t, root)
	for rel := range got {
		if filepath.Base(rel) == output.ManifestName {
			delete(got, rel)
		}
	}
	if len(version) == len(oldVersion) {
		// gamma is a folder only the new version writes; a run of the old
		// version does not know it, so its files stay (they are correct).
		for rel := range got {
			if strings.HasPrefix(rel, "gamma/") {
				delete(got, rel)
			}
		}
	}
	assert.Equal(t, want, got)
	drifts, err := output.CheckAll(root, version)
	require.NoError(t, err)
	for _, d := range drifts {
		assert.True(t, d.Empty(), "drift after recovery:\n%s", d)
	}
}

// TestACommitWithNothingToChangeWritesNothing: when every file is already
// on disk as generated and nothing is stale, the commit passes no crash
// point (no pending record, no flush: syncfs would wait for every other
// program's unwritten data), and reports every file unchanged.
func TestACommitWithNothingToChangeWritesNothing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	_, err := output.Commit(root, newVersion)
	require.NoError(t, err)
	var steps []string
	restore := output.SetCrashPoint(func(s string) { steps = append(steps, s) })
	defer restore()
	results, err := output.Commit(root, newVersion)
	require.NoError(t, err)
	assert.Empty(t, steps)
	require.Len(t, results, len(newVersion))
	for i, s := range newVersion {
		assert.Empty(t, results[i].Written, s.Name)
		assert.Empty(t, results[i].Pruned, s.Name)
		assert.Len(t, results[i].Unchanged, len(s.Files), s.Name)
	}
	// One stale file is a change: it is pruned through the record.
	_, err = output.Commit(root, oldVersion)
	require.NoError(t, err)
	steps = nil
	_, err = output.Commit(root, newVersion)
	require.NoError(t, err)
	assert.NotEmpty(t, steps)
}
