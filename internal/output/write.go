package output

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// ManifestName is the file in each output folder that lists the files obsgen
// wrote there; only those are ever pruned.
const ManifestName = ".obsgen-manifest"

const manifestHeader = "# Files written by obsgen; it prunes only these. DO NOT EDIT.\n"

// Result tells what Write did, by relative path.
type Result struct {
	Written   []string
	Unchanged []string
	Pruned    []string
}

// Write makes dir hold exactly the given files plus the manifest. Files whose
// content is unchanged are not rewritten; others are written to a temporary
// file and renamed into place. Files listed in the previous manifest that are
// no longer generated are removed; files obsgen never wrote are never
// touched, and one in the way of a generated file is an error. Every check
// runs before the first write.
func Write(dir string, files []File) (Result, error) {
	var res Result
	files, err := prepare(files)
	if err != nil {
		return res, err
	}
	owned, err := readManifest(dir)
	if err != nil {
		return res, err
	}
	gone := stale(files, owned)
	if err := checkConflicts(dir, files, owned, gone); err != nil {
		return res, err
	}
	// Stale files where a new file or folder goes must leave first.
	inTheWay, rest := splitInTheWay(files, gone)
	if res.Pruned, err = prune(dir, inTheWay); err != nil {
		return res, err
	}
	manifest := files[len(files)-1]
	for _, f := range files[:len(files)-1] {
		changed, err := writeIfChanged(dir, f)
		if err != nil {
			return res, err
		}
		if changed {
			res.Written = append(res.Written, f.Path)
		} else {
			res.Unchanged = append(res.Unchanged, f.Path)
		}
	}
	pruned, err := prune(dir, rest)
	res.Pruned = append(res.Pruned, pruned...)
	if err != nil {
		return res, err // the old manifest still owns what is left
	}
	// The manifest goes last: until it is written, the previous one still
	// owns every file a failed run may have left behind.
	_, err = writeIfChanged(dir, manifest)
	return res, err
}

// splitInTheWay separates the stale paths that are a folder or a file where
// a generated file goes from the others.
func splitInTheWay(files []File, gone []string) (inTheWay, rest []string) {
	for _, g := range gone {
		if slices.ContainsFunc(files, func(f File) bool { return overlaps(f.Path, g) }) {
			inTheWay = append(inTheWay, g)
		} else {
			rest = append(rest, g)
		}
	}
	return inTheWay, rest
}

// overlaps tells whether one path is a folder of the other.
func overlaps(a, b string) bool {
	return strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// prepare checks paths, rejects duplicates and appends the manifest.
func prepare(files []File) ([]File, error) {
	seen := map[string]bool{}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return nil, err
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("two generated files have the path %q", f.Path)
		}
		seen[f.Path] = true
		paths = append(paths, f.Path)
	}
	slices.Sort(paths)
	for i := 1; i < len(paths); i++ {
		if strings.HasPrefix(paths[i], paths[i-1]+"/") {
			return nil, fmt.Errorf("generated path %q is also the folder of %q", paths[i-1], paths[i])
		}
	}
	manifest := File{Path: ManifestName, Data: []byte(manifestHeader + strings.Join(paths, "\n") + "\n")}
	return append(slices.Clone(files), manifest), nil
}

func readManifest(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var owned []string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if CheckPath(line) != nil {
			return nil, fmt.Errorf("%s: invalid entry %q; restore the file from version control or delete it", filepath.Join(dir, ManifestName), line)
		}
		owned = append(owned, line)
	}
	return owned, nil
}

// checkConflicts refuses to overwrite a file obsgen did not write, unless it
// already holds exactly the generated content. A stale file or folder of
// obsgen's own in the way of a new file is no conflict: Write prunes it first.
func checkConflicts(dir string, files []File, owned, gone []string) error {
	for _, f := range files {
		if f.Path == ManifestName || slices.Contains(owned, f.Path) {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		existing, err := os.ReadFile(target)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR):
			if !onlyStaleInTheWay(dir, f.Path, gone) {
				return fmt.Errorf("%s: a file or folder obsgen did not write is in the way; move it away, then generate again", target)
			}
		case err != nil:
			return fmt.Errorf("check %s: %w", f.Path, err)
		case !bytes.Equal(existing, f.Data):
			return fmt.Errorf("%s exists and was not written by obsgen; move it away or delete it, then generate again", target)
		}
	}
	return nil
}

// onlyStaleInTheWay tells whether everything on disk that blocks path p
// (a file where a folder of p goes, or a folder where p goes) is stale and
// owned by obsgen.
func onlyStaleInTheWay(dir, p string, gone []string) bool {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(d))); err == nil && !info.IsDir() {
			return slices.Contains(gone, d)
		}
	}
	ok := true
	_ = filepath.WalkDir(filepath.Join(dir, filepath.FromSlash(p)), func(f string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, f)
		if !slices.Contains(gone, filepath.ToSlash(rel)) {
			ok = false
		}
		return nil
	})
	return ok
}

func writeIfChanged(dir string, f File) (bool, error) {
	target := filepath.Join(dir, filepath.FromSlash(f.Path))
	if existing, err := os.ReadFile(target); err == nil && bytes.Equal(existing, f.Data) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return false, fmt.Errorf("write %s: %w", target, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".obsgen-*.tmp")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", target, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(f.Data); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", target, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", target, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", target, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return false, fmt.Errorf("write %s: %w", target, err)
	}
	return true, nil
}

// stale lists owned paths no longer generated.
func stale(files []File, owned []string) []string {
	current := map[string]bool{}
	for _, f := range files {
		current[f.Path] = true
	}
	var out []string
	for _, p := range owned {
		if !current[p] {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// prune removes stale files and then the folders they leave empty.
func prune(dir string, paths []string) ([]string, error) {
	var pruned []string
	for _, p := range paths {
		target := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return pruned, fmt.Errorf("prune %s: %w", target, err)
		} else if err == nil {
			pruned = append(pruned, p)
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if os.Remove(filepath.Join(dir, filepath.FromSlash(d))) != nil {
				break // not empty, or gone already
			}
		}
	}
	return pruned, nil
}
