package output

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Drift is how an output folder differs from what would be generated.
type Drift struct {
	Dir     string
	Changed []FileDiff // files whose content differs
	New     []string   // generated files missing on disk
	Stale   []string   // owned files no longer generated
}

// FileDiff is a unified diff of one changed file.
type FileDiff struct {
	Path string
	Diff string
}

// Empty tells whether the folder is up to date.
func (d Drift) Empty() bool {
	return len(d.Changed) == 0 && len(d.New) == 0 && len(d.Stale) == 0
}

// String renders unified diffs, then `+ new` and `- stale` lines.
func (d Drift) String() string {
	var b strings.Builder
	for _, c := range d.Changed {
		b.WriteString(c.Diff)
	}
	for _, p := range d.New {
		fmt.Fprintf(&b, "+ new   %s\n", filepath.Join(d.Dir, filepath.FromSlash(p)))
	}
	for _, p := range d.Stale {
		fmt.Fprintf(&b, "- stale %s\n", filepath.Join(d.Dir, filepath.FromSlash(p)))
	}
	return b.String()
}

// Check compares dir with the files Write would produce, without writing.
func Check(dir string, files []File) (Drift, error) {
	drift := Drift{Dir: dir}
	files, err := prepare(files)
	if err != nil {
		return drift, err
	}
	owned, err := readManifest(dir)
	if err != nil {
		return drift, err
	}
	for _, f := range files {
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		existing, err := os.ReadFile(target)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			drift.New = append(drift.New, f.Path)
		case err != nil:
			return drift, fmt.Errorf("check %s: %w", target, err)
		case !bytes.Equal(existing, f.Data):
			drift.Changed = append(drift.Changed, FileDiff{Path: f.Path, Diff: unified(target, existing, f.Data)})
		}
	}
	for _, p := range stale(files, owned) {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
			drift.Stale = append(drift.Stale, p)
		}
	}
	return drift, nil
}

func unified(name string, old, new []byte) string {
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(old)), B: difflib.SplitLines(string(new)),
		FromFile: name + " (on disk)", ToFile: name + " (generated)", Context: 3,
	})
	if err != nil || diff == "" {
		return fmt.Sprintf("--- %s differs (not shown as text)\n", name)
	}
	return diff
}
