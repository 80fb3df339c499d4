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
	if err := checkConflicts(dir, files, owned); err != nil {
		return res, err
	}
	for _, f := range files {
		changed, err := writeIfChanged(dir, f)
		if err != nil {
			return res, err
		}
		if changed {
			res.Written = append(res.Written, f.Path)
		} else if f.Path != ManifestName {
			res.Unchanged = append(res.Unchanged, f.Path)
		}
	}
	res.Pruned, err = prune(dir, stale(files, owned))
	return res, err
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
		line = strings.TrimSpace(line)
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
// already holds exactly the generated content.
func checkConflicts(dir string, files []File, owned []string) error {
	for _, f := range files {
		if f.Path == ManifestName || slices.Contains(owned, f.Path) {
			continue
		}
		existing, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check %s: %w", f.Path, err)
		}
		if !bytes.Equal(existing, f.Data) {
			return fmt.Errorf("%s exists and was not written by obsgen; move it away or delete it, then generate again",
				filepath.Join(dir, filepath.FromSlash(f.Path)))
		}
	}
	return nil
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
