package output_test

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
)

// oldTime is the mtime set on files before a Write that must not touch them.
var oldTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// tree returns every file under dir, by slash-separated relative path.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	require.NoError(t, err)
	return files
}

// manifestEntries returns the paths listed in dir's manifest.
func manifestEntries(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, output.ManifestName))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "#"), "manifest starts with a comment: %q", b)
	var entries []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if !strings.HasPrefix(line, "#") {
			entries = append(entries, line)
		}
	}
	return entries
}

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

func ageFile(t *testing.T, dir, rel string) {
	t.Helper()
	require.NoError(t, os.Chtimes(filepath.Join(dir, filepath.FromSlash(rel)), oldTime, oldTime))
}

func mtime(t *testing.T, dir, rel string) time.Time {
	t.Helper()
	info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	require.NoError(t, err)
	return info.ModTime()
}

func TestYAMLAddsTheHeader(t *testing.T) {
	tests := map[string]struct {
		data string
		want string
	}{
		"data ending in a newline is kept as is": {
			data: "a: 1\n",
			want: output.Header + "a: 1\n",
		},
		"a missing final newline is added": {
			data: "a: 1",
			want: output.Header + "a: 1\n",
		},
		"leading blank lines are dropped": {
			data: "\n\na: 1\n",
			want: output.Header + "a: 1\n",
		},
		"empty data is just the header and a newline": {
			data: "",
			want: output.Header + "\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := output.YAML("x/y.yaml", []byte(tc.data))
			assert.Equal(t, "x/y.yaml", f.Path)
			assert.Equal(t, tc.want, string(f.Data))
			assert.False(t, f.Manifest)

			m := output.Manifest("x/y.yaml", []byte(tc.data))
			assert.Equal(t, tc.want, string(m.Data))
			assert.True(t, m.Manifest)
		})
	}
}

func TestWriteCreatesFilesAndASortedManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out") // Write creates the folder
	files := []output.File{
		output.YAML("z.yaml", []byte("z: 1")),
		output.YAML("a/b.yaml", []byte("b: 2\n")),
		output.Manifest("m.yaml", []byte("kind: ConfigMap\n")),
	}

	res, err := output.Write(dir, files)
	require.NoError(t, err)

	// The manifest is bookkeeping: Result lists generated files only.
	assert.ElementsMatch(t, []string{"z.yaml", "a/b.yaml", "m.yaml"}, res.Written)
	assert.Empty(t, res.Unchanged)
	assert.Empty(t, res.Pruned)

	got := tree(t, dir)
	assert.Equal(t, output.Header+"z: 1\n", got["z.yaml"])
	assert.Equal(t, output.Header+"b: 2\n", got["a/b.yaml"])
	assert.Equal(t, output.Header+"kind: ConfigMap\n", got["m.yaml"])
	assert.Len(t, got, 4, "the three files and the manifest: %v", got)
	assert.Equal(t, []string{"a/b.yaml", "m.yaml", "z.yaml"}, manifestEntries(t, dir))

	info, err := os.Stat(filepath.Join(dir, "a", "b.yaml"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())
}

func TestWriteTwiceRewritesNothingAndKeepsMtimes(t *testing.T) {
	dir := t.TempDir()
	files := []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),
		output.YAML("sub/b.yaml", []byte("b: 2\n")),
	}
	_, err := output.Write(dir, files)
	require.NoError(t, err)
	for _, rel := range []string{"a.yaml", "sub/b.yaml", output.ManifestName} {
		ageFile(t, dir, rel)
	}

	res, err := output.Write(dir, files)
	require.NoError(t, err)

	assert.Empty(t, res.Written)
	assert.Equal(t, []string{"a.yaml", "sub/b.yaml"}, res.Unchanged)
	assert.Empty(t, res.Pruned)
	for _, rel := range []string{"a.yaml", "sub/b.yaml", output.ManifestName} {
		assert.True(t, oldTime.Equal(mtime(t, dir, rel)), "%s was rewritten", rel)
	}
}

func TestWriteRewritesOnlyChangedFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := output.Write(dir, []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),
		output.YAML("b.yaml", []byte("b: 1\n")),
	})
	require.NoError(t, err)
	ageFile(t, dir, "a.yaml")
	ageFile(t, dir, "b.yaml")

	res, err := output.Write(dir, []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),
		output.YAML("b.yaml", []byte("b: 2\n")),
	})
	require.NoError(t, err)

	assert.Equal(t, []string{"b.yaml"}, res.Written, "the manifest is unchanged")
	assert.Equal(t, []string{"a.yaml"}, res.Unchanged)
	assert.True(t, oldTime.Equal(mtime(t, dir, "a.yaml")))
	assert.False(t, oldTime.Equal(mtime(t, dir, "b.yaml")))
	assert.Equal(t, output.Header+"b: 2\n", tree(t, dir)["b.yaml"])
}

func TestWritePrunesDroppedFilesButNotHandWrittenOnes(t *testing.T) {
	dir := t.TempDir()
	_, err := output.Write(dir, []output.File{
		output.YAML("keep.yaml", []byte("k: 1\n")),
		output.YAML("gone/a.yaml", []byte("a: 1\n")),
		output.YAML("deep/er/c.yaml", []byte("c: 1\n")),
		output.YAML("mixed/b.yaml", []byte("b: 1\n")),
	})
	require.NoError(t, err)
	writeFile(t, dir, "mixed/notes.md", "hand-written\n")
	writeFile(t, dir, "top-notes.md", "also hand-written\n")

	res, err := output.Write(dir, []output.File{output.YAML("keep.yaml", []byte("k: 1\n"))})
	require.NoError(t, err)

	assert.Equal(t, []string{"deep/er/c.yaml", "gone/a.yaml", "mixed/b.yaml"}, res.Pruned)
	assert.Empty(t, res.Written, "only the manifest changes, and it is not reported")
	assert.Equal(t, []string{"keep.yaml"}, res.Unchanged)

	for _, gone := range []string{"gone", "deep/er", "deep"} {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(gone)))
		assert.ErrorIs(t, err, fs.ErrNotExist, "empty folder %s should be removed", gone)
	}
	assert.Equal(t, map[string]string{
		"keep.yaml":         output.Header + "k: 1\n",
		"mixed/notes.md":    "hand-written\n",
		"top-notes.md":      "also hand-written\n",
		output.ManifestName: tree(t, dir)[output.ManifestName],
	}, tree(t, dir))
	assert.Equal(t, []string{"keep.yaml"}, manifestEntries(t, dir))
}

func TestWriteRefusesToOverwriteAHandWrittenFile(t *testing.T) {
	dir := t.TempDir()
	// A previous run owns old.yaml, which the next set drops.
	_, err := output.Write(dir, []output.File{output.YAML("old.yaml", []byte("o: 1\n"))})
	require.NoError(t, err)
	writeFile(t, dir, "conf/b.yaml", "mine: true\n")
	before := tree(t, dir)

	_, err = output.Write(dir, []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),
		output.YAML("conf/b.yaml", []byte("b: 1\n")),
		output.YAML("sub/c.yaml", []byte("c: 1\n")),
	})

	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "conf", "b.yaml"))
	assert.Contains(t, err.Error(), "not written by obsgen")
	assert.Equal(t, before, tree(t, dir), "nothing is written, rewritten or pruned")
	_, err = os.Stat(filepath.Join(dir, "sub"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestWriteAdoptsAnIdenticalHandWrittenFile(t *testing.T) {
	dir := t.TempDir()
	f := output.YAML("conf/a.yaml", []byte("a: 1\n"))
	writeFile(t, dir, f.Path, string(f.Data))
	ageFile(t, dir, f.Path)

	res, err := output.Write(dir, []output.File{f})
	require.NoError(t, err)

	assert.Equal(t, []string{"conf/a.yaml"}, res.Unchanged)
	assert.Empty(t, res.Written)
	assert.True(t, oldTime.Equal(mtime(t, dir, f.Path)), "the adopted file is not rewritten")
	assert.Equal(t, []string{"conf/a.yaml"}, manifestEntries(t, dir))

	// Once adopted, obsgen owns it: it may change it and prune it.
	_, err = output.Write(dir, []output.File{output.YAML("conf/a.yaml", []byte("a: 2\n"))})
	require.NoError(t, err)
	res, err = output.Write(dir, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"conf/a.yaml"}, res.Pruned)
}

func TestCheckPath(t *testing.T) {
	tests := map[string]struct {
		path    string
		wantErr string // empty: valid
	}{
		"a parent reference is rejected":                {path: "../x", wantErr: "escapes"},
		"a bare parent reference is rejected":           {path: "..", wantErr: "escapes"},
		"an absolute path is rejected":                  {path: "/abs", wantErr: "absolute"},
		"an unclean path is rejected":                   {path: "a/../b", wantErr: "not clean"},
		"a leading ./ is rejected":                      {path: "./a", wantErr: "not clean"},
		"a trailing slash is rejected":                  {path: "a/", wantErr: "not clean"},
		"a double slash is rejected":                    {path: "a//b", wantErr: "not clean"},
		"the empty path is rejected":                    {path: "", wantErr: "empty"},
		"the current folder is rejected":                {path: ".", wantErr: "empty"},
		"a backslash is rejected":                       {path: `a\b`, wantErr: "backslash"},
		"the manifest name is rejected":                 {path: ".obsgen-manifest", wantErr: "reserved"},
		"the manifest name in a subfolder is rejected":  {path: "a/.obsgen-manifest", wantErr: "reserved"},
		"the pending record name is rejected":           {path: ".obsgen-pending", wantErr: "reserved"},
		"the lock file name is rejected":                {path: ".obsgen.lock", wantErr: "reserved"},
		"a temporary file name is rejected":             {path: ".obsgen-0.tmp", wantErr: "reserved"},
		"a temporary-looking name deeper is rejected":   {path: "a/.obsgen-x.tmp/b.yaml", wantErr: "reserved"},
		"a name merely starting like obsgen's is valid": {path: ".obsgen-notes.md"},
		"a plain file is valid":                         {path: "a.yaml"},
		"a nested file is valid":                        {path: "a/b/c.yaml"},
		"a dotfile is valid":                            {path: ".hidden"},
		"a name starting with two dots is valid":        {path: "..x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := output.CheckPath(tc.path)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestWriteAndCheckRejectAnInvalidSetAndWriteNothing(t *testing.T) {
	good := output.YAML("good.yaml", []byte("g: 1\n"))
	tests := map[string]struct {
		files   []output.File
		wantErr string
	}{
		"a parent reference":        {files: []output.File{good, output.YAML("../x", nil)}, wantErr: `"../x"`},
		"an absolute path":          {files: []output.File{good, output.YAML("/abs", nil)}, wantErr: `"/abs"`},
		"an unclean path":           {files: []output.File{good, output.YAML("a/../b", nil)}, wantErr: `"a/../b"`},
		"an empty path":             {files: []output.File{good, output.YAML("", nil)}, wantErr: "empty"},
		"the current folder":        {files: []output.File{good, output.YAML(".", nil)}, wantErr: "empty"},
		"a backslash":               {files: []output.File{good, output.YAML(`a\b`, nil)}, wantErr: "backslash"},
		"the manifest's own name":   {files: []output.File{good, output.YAML(output.ManifestName, nil)}, wantErr: "reserved"},
		"a duplicate path":          {files: []output.File{good, output.YAML("dup.yaml", []byte("1")), output.YAML("dup.yaml", []byte("2"))}, wantErr: `"dup.yaml"`},
		"the same file given twice": {files: []output.File{good, good}, wantErr: `"good.yaml"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")

			_, err := output.Write(dir, tc.files)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Empty(t, tree(t, parent), "nothing is written")
			_, statErr := os.Stat(dir)
			assert.ErrorIs(t, statErr, fs.ErrNotExist, "the output folder is not created")

			_, err = output.Check(dir, tc.files)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestWriteRejectsACorruptManifest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, output.ManifestName, "# header\n../outside.yaml\n")
	before := tree(t, dir)

	_, err := output.Write(dir, []output.File{output.YAML("a.yaml", []byte("a: 1\n"))})

	require.Error(t, err)
	assert.Contains(t, err.Error(), `"../outside.yaml"`)
	assert.Equal(t, before, tree(t, dir))
}

func TestCheckReportsDriftWithoutWriting(t *testing.T) {
	dir := t.TempDir()
	_, err := output.Write(dir, []output.File{
		output.YAML("a.yaml", []byte("x: 1\ny: same\n")),
		output.YAML("b.yaml", []byte("b: 1\n")),
		output.YAML("sub/gone.yaml", []byte("g: 1\n")),
	})
	require.NoError(t, err)
	for rel := range tree(t, dir) {
		ageFile(t, dir, rel)
	}
	before := tree(t, dir)

	drift, err := output.Check(dir, []output.File{
		output.YAML("a.yaml", []byte("x: 2\ny: same\n")),
		output.YAML("b.yaml", []byte("b: 1\n")),
		output.YAML("new.yaml", []byte("n: 1\n")),
	})
	require.NoError(t, err)

	assert.False(t, drift.Empty())
	assert.Equal(t, dir, drift.Dir)
	assert.Equal(t, []string{"new.yaml"}, drift.New)
	assert.Equal(t, []string{"sub/gone.yaml"}, drift.Stale)
	// The set changed, so the manifest drifts too.
	require.Len(t, drift.Changed, 2)
	assert.Equal(t, "a.yaml", drift.Changed[0].Path)
	assert.Equal(t, output.ManifestName, drift.Changed[1].Path)

	diff := drift.Changed[0].Diff
	target := filepath.Join(dir, "a.yaml")
	assert.Contains(t, diff, "--- "+target+" (on disk)\n")
	assert.Contains(t, diff, "+++ "+target+" (generated)\n")
	assert.Contains(t, diff, "\n-x: 1\n")
	assert.Contains(t, diff, "\n+x: 2\n")
	assert.Contains(t, diff, "\n y: same\n", "context lines are kept")
	assert.NotContains(t, diff, "b: 1", "unchanged files are not diffed")
	assert.Contains(t, drift.Changed[1].Diff, "\n-sub/gone.yaml\n")
	assert.Contains(t, drift.Changed[1].Diff, "\n+new.yaml\n")

	s := drift.String()
	assert.True(t, strings.HasPrefix(s, diff), "diffs come first:\n%s", s)
	assert.Contains(t, s, "\n+ new   "+filepath.Join(dir, "new.yaml")+"\n")
	assert.Contains(t, s, "\n- stale "+filepath.Join(dir, "sub", "gone.yaml")+"\n")
	assert.Less(t, strings.Index(s, "+ new "), strings.Index(s, "- stale "))

	assert.Equal(t, before, tree(t, dir), "Check writes nothing")
	for rel := range before {
		assert.True(t, oldTime.Equal(mtime(t, dir, rel)), "%s was touched", rel)
	}
}

func TestCheckOfAFreshFolderReportsEveryFileAsNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	files := []output.File{
		output.YAML("b.yaml", []byte("b: 1\n")),
		output.YAML("a/a.yaml", []byte("a: 1\n")),
	}

	drift, err := output.Check(dir, files)
	require.NoError(t, err)

	assert.Equal(t, []string{"b.yaml", "a/a.yaml", output.ManifestName}, drift.New)
	assert.Empty(t, drift.Changed)
	assert.Empty(t, drift.Stale)
	assert.False(t, drift.Empty())
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, fs.ErrNotExist, "Check creates nothing")
}

func TestCheckIgnoresAStaleFileAlreadyGone(t *testing.T) {
	dir := t.TempDir()
	_, err := output.Write(dir, []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),
		output.YAML("b.yaml", []byte("b: 1\n")),
	})
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "b.yaml")))

	drift, err := output.Check(dir, []output.File{output.YAML("a.yaml", []byte("a: 1\n"))})
	require.NoError(t, err)

	assert.Empty(t, drift.Stale)
	assert.Empty(t, drift.New)
	require.Len(t, drift.Changed, 1)
	assert.Equal(t, output.ManifestName, drift.Changed[0].Path)
}

func TestCheckIsEmptyAfterWrite(t *testing.T) {
	dir := t.TempDir()
	files := []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),
		output.Manifest("k8s/svc.yaml", []byte("kind: Service\n")),
	}
	_, err := output.Write(dir, files)
	require.NoError(t, err)

	drift, err := output.Check(dir, files)
	require.NoError(t, err)

	assert.True(t, drift.Empty(), "drift after Write:\n%s", drift)
	assert.Equal(t, "", drift.String())
}

func TestWriteLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := output.Write(dir, []output.File{
		output.YAML("a.yaml", []byte("a: 1\n")),
		output.YAML("sub/b.yaml", []byte("b: 1\n")),
	})
	require.NoError(t, err)
	// A second run that rewrites, keeps and prunes.
	_, err = output.Write(dir, []output.File{
		output.YAML("a.yaml", []byte("a: 2\n")),
		output.YAML("sub/c.yaml", []byte("c: 1\n")),
	})
	require.NoError(t, err)

	got := tree(t, dir)
	for rel := range got {
		base := filepath.Base(rel)
		assert.False(t, strings.HasPrefix(base, ".obsgen-") && strings.HasSuffix(base, ".tmp"), "temporary file left: %s", rel)
	}
	assert.Equal(t, []string{".obsgen-manifest", "a.yaml", "sub/c.yaml"}, slices.Sorted(maps.Keys(got)))
}

// A generated path must survive the round trip through the manifest, or
// obsgen loses track of the files it owns (and may prune ones it does not).
func TestManifestRoundTripsEveryValidPath(t *testing.T) {
	tests := map[string]struct {
		path string
	}{
		"a name starting with a hash":  {path: "#notes.yaml"},
		"a name with a leading space":  {path: " a.yaml"},
		"a name with a trailing space": {path: "a.yaml "},
		"a name holding a newline":     {path: "x\nkeep.md"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "keep.md", "hand-written\n")
			writeFile(t, dir, "a.yaml", "hand-written\n")

			_, err := output.Write(dir, []output.File{output.YAML(tc.path, []byte("v: 1\n"))})
			if err != nil {
				return // rejecting the path is a fine fix
			}
			// Otherwise obsgen must own it: it prunes it, and nothing else...
			res, err := output.Write(dir, nil)
			require.NoError(t, err)
			assert.Equal(t, []string{tc.path}, res.Pruned)
			got := tree(t, dir)
			assert.Equal(t, "hand-written\n", got["keep.md"])
			assert.Equal(t, "hand-written\n", got["a.yaml"])
			// ...and it can update it.
			_, err = output.Write(dir, []output.File{output.YAML(tc.path, []byte("v: 1\n"))})
			require.NoError(t, err)
			_, err = output.Write(dir, []output.File{output.YAML(tc.path, []byte("v: 2\n"))})
			require.NoError(t, err)
		})
	}
}

// "Every check runs before the first write": a set that needs a path both
// as a file and as a folder must fail before writing anything.
func TestWriteRejectsAPathThatIsAlsoAFolderOfTheSet(t *testing.T) {
	tests := map[string][]string{
		"a file and a file inside it":                    {"a", "a/b.yaml"},
		"a file and a deeper file inside it":             {"a", "a/x/b.yaml"},
		"a path sorting between the file and its folder": {"a", "a-x", "a/b"},
		"several paths sorting between, in any order":    {"a/b", "a.yaml", "a-x/c", "a"},
	}
	for name, paths := range tests {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			var files []output.File
			for _, p := range paths {
				files = append(files, output.YAML(p, []byte("x: 1\n")))
			}

			_, err := output.Write(filepath.Join(parent, "out"), files)

			require.Error(t, err)
			assert.Contains(t, err.Error(), `generated path "a" is also a folder of generated files`)
			assert.Empty(t, tree(t, parent), "nothing is written")
		})
	}
}

// A file obsgen owns may become a folder in a later set (and back).
func TestWriteReplacesAnOwnedFileByAFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := output.Write(dir, []output.File{output.YAML("a", []byte("a: 1\n"))})
	require.NoError(t, err)

	res, err := output.Write(dir, []output.File{output.YAML("a/b.yaml", []byte("b: 1\n"))})

	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, res.Pruned)
	assert.Equal(t, output.Header+"b: 1\n", tree(t, dir)["a/b.yaml"])
}

// ... and a folder of owned files may become a file again, in one run.
func TestWriteReplacesAnOwnedFolderByAFile(t *testing.T) {
	dir := t.TempDir()
	_, err := output.Write(dir, []output.File{output.YAML("a/b/c.yaml", []byte("c: 1\n")), output.YAML("a/d.yaml", []byte("d: 1\n"))})
	require.NoError(t, err)

	res, err := output.Write(dir, []output.File{output.YAML("a/b", []byte("b: 1\n")), output.YAML("a/e/f.yaml", []byte("f: 1\n"))})

	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a/b/c.yaml", "a/d.yaml"}, res.Pruned)
	assert.Equal(t, map[string]string{"a/b": output.Header + "b: 1\n", "a/e/f.yaml": output.Header + "f: 1\n"}, withoutManifest(tree(t, dir)))

	res, err = output.Write(dir, []output.File{output.YAML("a/b/c.yaml", []byte("c: 2\n"))})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a/b", "a/e/f.yaml"}, res.Pruned)
	assert.Equal(t, map[string]string{"a/b/c.yaml": output.Header + "c: 2\n"}, withoutManifest(tree(t, dir)))
}

func withoutManifest(files map[string]string) map[string]string {
	delete(files, output.ManifestName)
	return files
}

// The writer keeps a bounded number of folders open, however many the
// output has: a process may open only so many files (ulimit -n).
func TestTheWriterKeepsFewFoldersOpen(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc/self/fd")
	}
	openFiles := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(entries)
	}
	var files []output.File
	for i := range 400 {
		files = append(files, output.YAML(fmt.Sprintf("teams/t%03d/dash/d.yaml", i), []byte("a: 1\n")))
	}
	dir := filepath.Join(t.TempDir(), "site")
	before, most := openFiles(), 0
	restore := output.SetCrashPoint(func(string) { most = max(most, openFiles()) })
	defer restore()

	_, err := output.Write(dir, files)
	require.NoError(t, err)
	_, err = output.Write(dir, files[:200]) // prunes 200 folders
	require.NoError(t, err)

	assert.Less(t, most-before, 160, "open files above the start, at the most")
	assert.Greater(t, most, before, "the hook saw the writer at work")
}
