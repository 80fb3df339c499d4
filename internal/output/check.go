package output

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
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
	// Leftovers are what an interrupted run left (temporary files, the
	// pending record), relative to Dir; the next generate clears them.
	Leftovers []string
	// Generator is what the manifest on disk says wrote the folder, ""
	// when it says nothing (an older obsgen) or there is none.
	Generator string
}

// FileDiff is a unified diff of one changed file.
type FileDiff struct {
	Path string
	Diff string
}

// Empty tells whether the folder is up to date.
func (d Drift) Empty() bool {
	return len(d.Changed) == 0 && len(d.New) == 0 && len(d.Stale) == 0 && len(d.Leftovers) == 0
}

// String renders unified diffs, then `+ new`, `- stale` and leftover lines.
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
	for _, p := range d.Leftovers {
		fmt.Fprintf(&b, "! left by an interrupted run: %s (run `obsgen generate` to finish it)\n", filepath.Join(d.Dir, filepath.FromSlash(p)))
	}
	return b.String()
}

// Check compares dir with the files Write would produce, without writing.
func Check(dir string, files []File) (Drift, error) {
	dir = filepath.Clean(dir)
	drifts, err := CheckAll(filepath.Dir(dir), []Set{{Name: filepath.Base(dir), Files: files}})
	if err != nil {
		return Drift{Dir: dir}, err
	}
	return drifts[0], nil
}

// CheckAll compares every output folder ROOT/<set.Name>/ with what Commit
// would make of it, without writing, and with the same refusals: a link or
// special file at a generated or owned path is an error, not a match.
func CheckAll(root string, sets []Set) ([]Drift, error) {
	if err := refuseSettled(sets); err != nil {
		return nil, err
	}
	prepared, err := prepareSets(sets)
	if err != nil {
		return nil, err
	}
	root = filepath.Clean(root)
	info, err := checkRootDir(root)
	if err != nil {
		return nil, err
	}
	if info == nil {
		drifts := make([]Drift, len(prepared))
		for i, s := range prepared {
			drifts[i] = Drift{Dir: filepath.Join(root, s.Name), New: paths(s.Files)}
		}
		return drifts, nil
	}
	t, err := openTree(root)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return t.checkAll(prepared)
}

// checkAll is CheckAll in the opened tree.
func (t *tree) checkAll(prepared []Set) ([]Drift, error) {
	drifts := make([]Drift, len(prepared))
	for i, s := range prepared {
		drifts[i] = Drift{Dir: filepath.Join(t.dir, s.Name)}
		if err := t.checkSet(s, &drifts[i]); err != nil {
			return nil, err
		}
	}
	if len(drifts) > 0 {
		if _, err := t.lstat(PendingName); err == nil {
			drifts[0].Leftovers = append(drifts[0].Leftovers, path.Join("..", PendingName))
		}
		// A new output folder staged whole by a run killed before it was
		// renamed into place (the next generate removes or renames it).
		staged, err := t.stagedFolders()
		if err != nil {
			return nil, err
		}
		for _, name := range staged {
			drifts[0].Leftovers = append(drifts[0].Leftovers, path.Join("..", name))
		}
	}
	return drifts, nil
}

func paths(files []File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

func (t *tree) checkSet(s Set, drift *Drift) error {
	if _, err := t.folder(s.Name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	owned, err := t.readManifest(s.Name)
	if err != nil {
		return err
	}
	// What generate would refuse, --check refuses too; what it would
	// rewrite is the drift.
	changed, err := t.compare(s.Name, s.Files, owned, stale(s.Files, owned))
	if err != nil {
		return err
	}
	for _, f := range changed {
		if err := t.checkFile(s.Name, f, drift); err != nil {
			return err
		}
	}
	if b, err := t.readRegular(path.Join(s.Name, ManifestName), maxManifestSize); err == nil {
		drift.Generator = Generator(b)
	}
	for _, p := range stale(s.Files, owned) {
		exists, err := t.checkPrunable(path.Join(s.Name, p))
		if err != nil {
			return err
		}
		if exists {
			drift.Stale = append(drift.Stale, p)
		}
	}
	temps, err := t.findTemps(s.Name)
	for _, tmp := range temps {
		drift.Leftovers = append(drift.Leftovers, strings.TrimPrefix(tmp, s.Name+"/"))
	}
	return err
}

// checkFile records how f, which compare found changed, differs on disk.
func (t *tree) checkFile(name string, f File, drift *Drift) error {
	rel := path.Join(name, f.Path)
	existing, err := t.readRegular(rel, maxManifestSize)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) || errors.Is(err, errIsDir):
		drift.New = append(drift.New, f.Path)
	case err != nil:
		return fmt.Errorf("check: %w", err)
	default:
		drift.Changed = append(drift.Changed, FileDiff{Path: f.Path, Diff: unified(t.display(rel), existing, f.Data)})
	}
	return nil
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
