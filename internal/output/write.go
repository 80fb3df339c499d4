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

// Write makes dir hold exactly the given files plus the manifest, as a
// Commit of one output folder into dir's parent.
func Write(dir string, files []File) (Result, error) {
	dir = filepath.Clean(dir) // Dir and Base of "out/site/" are "out/site" and "site"
	res, err := Commit(filepath.Dir(dir), []Set{{Name: filepath.Base(dir), Files: files}})
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
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

// GeneratorLine starts the manifest's line that names the obsgen that
// wrote the folder.
const GeneratorLine = "# generator: "

// Generator returns what a manifest's GeneratorLine records, or "".
func Generator(manifest []byte) string {
	for line := range strings.Lines(string(manifest)) {
		if g, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), GeneratorLine); ok {
			return g
		}
	}
	return ""
}

// sameManifest tells whether two manifests list the same files: which
// obsgen wrote them does not count, so an upgrade that generates the same
// files leaves the folder, and its manifest, alone.
func sameManifest(a, b []byte) bool {
	return slices.Equal(withoutGenerator(a), withoutGenerator(b))
}

func withoutGenerator(b []byte) []string {
	var out []string
	for line := range strings.Lines(string(b)) {
		if !strings.HasPrefix(line, GeneratorLine) {
			out = append(out, line)
		}
	}
	return out
}

// prepare checks paths, rejects duplicates and appends the manifest, which
// records generator when it is given.
func prepare(files []File, generator string) ([]File, error) {
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
	if err := checkNoFileIsAFolder(paths); err != nil {
		return nil, err
	}
	head := manifestHeader
	if generator = strings.Map(printable, generator); generator != "" {
		head += GeneratorLine + generator + "\n"
	}
	manifest := File{Path: ManifestName, Data: []byte(head + strings.Join(paths, "\n") + "\n")}
	return append(slices.Clone(files), manifest), nil
}

// readManifest returns the paths the manifest of output folder name lists.
func (t *tree) readManifest(name string) ([]string, error) {
	rel := path.Join(name, ManifestName)
	b, err := t.readRegular(rel, maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	owned, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; restore the file from version control or delete it", t.display(rel), err)
	}
	return owned, nil
}

// ParseManifest returns the paths a manifest lists, one a line after '#'
// comments. Every entry must be a valid output path, so a corrupt or
// planted manifest cannot make obsgen prune outside its folder.
func ParseManifest(b []byte) ([]string, error) {
	if len(b) > maxManifestSize {
		return nil, fmt.Errorf("manifest is larger than %d bytes", maxManifestSize)
	}
	var owned []string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := CheckPath(line); err != nil {
			return nil, fmt.Errorf("invalid entry %q: %w", line, err)
		}
		owned = append(owned, line)
	}
	return owned, nil
}

// compare returns the files whose content on disk differs from the
// generated one. It refuses to overwrite a file obsgen did not write, unless
// it already holds exactly the generated content, and refuses links and
// special files at every generated path. A stale file or folder of obsgen's
// own in the way of a new file is no conflict: it is pruned first.
func (t *tree) compare(name string, files []File, owned, gone []string) ([]File, error) {
	isOwned := make(map[string]bool, len(owned))
	for _, p := range owned {
		isOwned[p] = true
	}
	var changed []File
	inPlace := map[string]bool{}
	for _, f := range files {
		rel := path.Join(name, f.Path)
		if f.settled != nil {
			// Settle found it on disk as generated, in this tree, under
			// this run's lock (or for this check).
			if f.settled.in != t || f.settled.rel != rel {
				return nil, fmt.Errorf("%s: the generated data was let go before it was compared with this output tree", t.display(rel))
			}
			if err := t.stillSettled(f.settled, inPlace); err != nil {
				return nil, err
			}
			continue
		}
		same, err := t.sameAsGenerated(rel, f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, errNotDir):
			if err := t.fileInTheWay(name, f.Path, gone); err != nil {
				return nil, err
			}
		case errors.Is(err, errIsDir):
			if !t.onlyStaleInside(name, f.Path, gone) {
				return nil, fmt.Errorf("%s: a folder obsgen did not write is in the way; move it away, then generate again", t.display(rel))
			}
		case err != nil:
			return nil, err
		case same:
			continue
		case f.Path != ManifestName && !isOwned[f.Path]:
			return nil, fmt.Errorf("%s exists and was not written by obsgen; move it away or delete it, then generate again", t.display(rel))
		}
		changed = append(changed, f)
	}
	return changed, nil
}

// stillSettled checks that the file Settle compared is still at its path:
// its folder and every folder above it the ones first opened (each checked
// once, in checked), and the file the same regular file, of the same
// size, modification time and (on Linux) status change time. Another
// program that moved, replaced or linked a folder or the file since, or
// wrote to it, makes the run stop with nothing written, as the run can no
// longer tell what the file holds. A write of the same size within the
// file system's timestamp granularity is not seen (sameChangeTime); one
// that sets the old modification time back is, on Linux.
func (t *tree) stillSettled(s *settled, checked map[string]bool) error {
	if err := t.inPlaceOnce(path.Dir(s.rel), checked); err != nil {
		return err
	}
	now, err := t.lstat(s.rel)
	if err != nil || !now.Mode().IsRegular() || !os.SameFile(now, s.file) ||
		now.Size() != s.file.Size() || !now.ModTime().Equal(s.file.ModTime()) || !sameChangeTime(now, s.file) {
		return fmt.Errorf("%s changed during the run, after obsgen compared it; is another program changing the output? nothing was written: run obsgen again", t.display(s.rel))
	}
	return nil
}

// sameAsGenerated tells whether the file on disk at rel is f as generated;
// a manifest is the same when only its generator line differs.
func (t *tree) sameAsGenerated(rel string, f File) (bool, error) {
	if f.Path != ManifestName {
		return t.sameContent(rel, f.Data)
	}
	existing, err := t.readRegular(rel, maxManifestSize)
	if err != nil {
		return false, err
	}
	return bytes.Equal(existing, f.Data) || sameManifest(existing, f.Data), nil
}

// printable drops control characters (a newline would end the line).
func printable(r rune) rune {
	if r < ' ' || r == 0x7f {
		return -1
	}
	return r
}

// fileInTheWay checks the file found where a folder of generated path p
// goes: it must be a stale file of obsgen's own, which is pruned first.
func (t *tree) fileInTheWay(name, p string, gone []string) error {
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		d := strings.Join(parts[:i], "/")
		info, err := t.lstat(path.Join(name, d))
		if err != nil || info.IsDir() {
			continue
		}
		if slices.Contains(gone, d) {
			return nil
		}
		return fmt.Errorf("%s: a file obsgen did not write is in the way of %s; move it away, then generate again",
			t.display(path.Join(name, d)), p)
	}
	return nil
}

// onlyStaleInside tells whether a folder where generated path p goes holds
// only stale files of obsgen's own (and folders), no link or other file.
func (t *tree) onlyStaleInside(name, p string, gone []string) bool {
	ok := true
	err := fs.WalkDir(t.root.FS(), path.Join(name, p), func(f string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return nil
		case !d.Type().IsRegular() || !slices.Contains(gone, strings.TrimPrefix(f, name+"/")):
			ok = false
			return fs.SkipAll
		}
		return nil
	})
	return ok && err == nil
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

// checkNoFileIsAFolder refuses a generated path that is also a folder of
// another. Comparing sorted neighbours is not enough: "a-x" sorts between
// "a" and "a/b" ('-' before '/'), so every parent folder goes in a set.
func checkNoFileIsAFolder(sorted []string) error {
	folders := map[string]bool{}
	for _, p := range sorted {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			folders[d] = true
		}
	}
	for _, p := range sorted {
		if folders[p] {
			return fmt.Errorf("generated path %q is also a folder of generated files", p)
		}
	}
	return nil
}
