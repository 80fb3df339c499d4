package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// PendingName is the record of a run in progress, in the output root. It is
// written before the run changes anything, so a run killed at any point can
// be finished or undone by the next one.
const PendingName = ".obsgen-pending"

// Pending run states.
const (
	// stateStaging: temporary files are being written; nothing the user
	// sees has changed. Recovery removes the temporary files.
	stateStaging = "staging"
	// stateCommit: every temporary file is complete and on disk. Recovery
	// renames the rest into place, prunes and writes the manifests.
	stateCommit = "commit"
)

// tempName matches the temporary files staging writes, directly in an
// output folder; a pending record may name no other.
var tempName = regexp.MustCompile(`^\.obsgen-[0-9]+\.tmp$`)

// stagedFolderName matches the folders, directly in the root, where
// staging writes the whole of an output folder that does not exist yet
// (pendingSet.Staged). The ".obsgen" prefix is obsgen's own (checkSetName).
var stagedFolderName = regexp.MustCompile(`^\.obsgen-new-[0-9]+\.tmp$`)

// stagedFolder is the i-th set's staged folder name (stagedFolderName).
func stagedFolder(i int) string { return ".obsgen-new-" + strconv.Itoa(i) + ".tmp" }

// pendingTemp is where the pending record is staged, in the root.
const pendingTemp = ".obsgen-pending.tmp"

// leftoverTemp tells whether name, directly in an output folder, is where
// staging or settling writes: such a file is a leftover of a killed run.
// Nowhere else is a temporary-looking file obsgen's to remove.
func leftoverTemp(folder, name string) bool {
	if folder == "." {
		return name == pendingTemp
	}
	return tempName.MatchString(name) || name == mergeTemp
}

// pending is what a run will do, in the order it does it.
type pending struct {
	State string `json:"state"`
	// Created lists the output folders staging created, so undoing it can
	// remove them again when they are left empty.
	Created []string     `json:"created,omitempty"`
	Sets    []pendingSet `json:"sets"`
}

// pendingSet is what a run does in one output folder. Paths are relative to
// that folder.
type pendingSet struct {
	Name       string   `json:"name"`
	PruneFirst []string `json:"pruneFirst,omitempty"` // stale files in the way of new ones
	Moves      []move   `json:"moves,omitempty"`      // staged file -> generated path
	Prune      []string `json:"prune,omitempty"`
	Manifest   string   `json:"manifest,omitempty"` // staged new manifest, renamed last
	// Staged is a folder in the root holding every file of an output
	// folder that did not exist, manifest included, at their final paths:
	// one rename makes the whole folder appear, instead of one per file.
	// A set with Staged has no moves, prunes or staged manifest.
	Staged string `json:"staged,omitempty"`
}

// move renames a staged temporary file onto its generated path.
type move struct {
	Temp string `json:"temp"`
	Path string `json:"path"`
}

// temps lists a set's temporary files.
func (s pendingSet) temps() []string {
	var out []string
	for _, m := range s.Moves {
		out = append(out, m.Temp)
	}
	if s.Manifest != "" {
		out = append(out, s.Manifest)
	}
	return out
}

func (p *pending) encode() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("output: encode pending run: %v", err)) // plain strings always encode
	}
	return append(b, '\n')
}

// parsePending decodes and checks a pending record: every name in it must
// be one obsgen could have written, so a corrupt or planted record cannot
// make recovery touch anything else.
func parsePending(data []byte) (*pending, error) {
	var p pending
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a pending-run record: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a pending-run record: data after the record")
	}
	if p.State != stateStaging && p.State != stateCommit {
		return nil, fmt.Errorf("unknown state %q", p.State)
	}
	for _, c := range p.Created {
		if err := checkSetName(c); err != nil {
			return nil, err
		}
	}
	for _, s := range p.Sets {
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("set %q: %w", s.Name, err)
		}
	}
	return &p, nil
}

func (s pendingSet) check() error {
	if err := checkSetName(s.Name); err != nil {
		return err
	}
	paths := append(append([]string{}, s.PruneFirst...), s.Prune...)
	for _, m := range s.Moves {
		paths = append(paths, m.Path)
	}
	for _, p := range paths {
		if err := CheckPath(p); err != nil {
			return err
		}
	}
	for _, tmp := range s.temps() {
		if !tempName.MatchString(tmp) {
			return fmt.Errorf("invalid temporary file name %q", tmp)
		}
	}
	if s.Staged != "" {
		if !stagedFolderName.MatchString(s.Staged) {
			return fmt.Errorf("invalid staged folder name %q", s.Staged)
		}
		if len(paths) > 0 || s.Manifest != "" {
			return errors.New("a staged folder comes with no other change")
		}
	}
	return nil
}

// checkSetName accepts a single path component that cannot be confused
// with obsgen's own files in the root.
func checkSetName(name string) error {
	if err := CheckPath(name); err != nil {
		return fmt.Errorf("output folder name: %w", err)
	}
	if strings.Contains(name, "/") || name == ".." || strings.HasPrefix(name, ".obsgen") {
		return fmt.Errorf("output folder name %q must be one plain folder name", name)
	}
	return nil
}

// readPending returns the pending record in the root, or nil.
func (t *tree) readPending() (*pending, error) {
	b, err := t.readRegular(PendingName, maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pending run: %w", err)
	}
	p, err := parsePending(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; restore it from version control or delete it, then run again", t.display(PendingName), err)
	}
	return p, nil
}

// writePending replaces the pending record atomically: it is itself staged
// and renamed, so a reader never sees half of one.
func (t *tree) writePending(p *pending) error {
	const tmp = pendingTemp
	if _, err := t.removeFile(tmp); err != nil {
		return err
	}
	if err := t.writeNew(tmp, p.encode()); err != nil {
		return err
	}
	if err := t.root.Rename(tmp, PendingName); err != nil {
		return fmt.Errorf("record pending run: %w", err)
	}
	t.syncFolder(".")
	return nil
}

// recoverRun finishes or undoes a run that was killed: a record in the
// commit state is rolled forward, one still staging is rolled back. Stray
// temporary files in the given output folders (and in the root) go too.
func (t *tree) recoverRun(names []string) error {
	p, err := t.readPending()
	if err != nil {
		return err
	}
	if p != nil && p.State == stateCommit {
		if err := t.checkOwned(p); err != nil {
			return fmt.Errorf("%s: %w; restore it from version control or delete it, then run again", t.display(PendingName), err)
		}
	}
	if p != nil {
		switch p.State {
		case stateCommit:
			err = t.apply(p)
		case stateStaging:
			err = t.undoStaging(p)
		}
		var partial *partialError
		if errors.As(err, &partial) && partial.settled() {
			// What could not be rolled forward is owned by its folder's
			// manifest now: this run re-plans from the disk and rewrites it.
			err = nil
		}
		if err != nil {
			return fmt.Errorf("recover the interrupted run recorded in %s: %w", t.display(PendingName), err)
		}
		for _, s := range p.Sets {
			names = append(names, s.Name)
		}
	}
	for _, name := range append(names, ".") {
		if err := t.removeTemps(name); err != nil {
			return err
		}
	}
	if err := t.removeStrayStaged(); err != nil {
		return err
	}
	return t.finish()
}

// removeStaged removes the staged folder rel (pendingSet.Staged) and
// everything in it: obsgen made it, under a name of its own in the root
// (checkSetName keeps output folders off such names), to hold only what it
// wrote. Links are removed, never followed, and so is a link or file put
// at its name, which would otherwise keep every later run from staging.
func (t *tree) removeStaged(rel string) error {
	t.forget(rel)
	if err := t.root.RemoveAll(rel); err != nil {
		return fmt.Errorf("remove %s: %w", t.display(rel), err)
	}
	return nil
}

// removeStrayStaged removes staged folders no pending record names (a
// record removed by hand after a killed run): nothing but obsgen writes
// at those names, and a stray one would keep the next run from staging.
func (t *tree) removeStrayStaged() error {
	names, err := t.stagedFolders()
	for _, name := range names {
		err = errors.Join(err, t.removeStaged(name))
	}
	return err
}

// stagedFolders lists the staged folders in the root (and anything else
// at such a name).
func (t *tree) stagedFolders() ([]string, error) {
	entries, err := fs.ReadDir(t.root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("look for leftover staged folders in %s: %w", t.display("."), err)
	}
	var out []string
	for _, e := range entries {
		if stagedFolderName.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// undoStaging removes a killed run's temporary files and the folders it
// created for them; nothing else had changed.
func (t *tree) undoStaging(p *pending) error {
	for _, s := range p.Sets {
		if s.Staged != "" {
			if err := t.removeStaged(s.Staged); err != nil {
				return err
			}
			continue
		}
		for _, tmp := range s.temps() {
			// Staging creates regular files only, exclusively: anything
			// else at a temporary name is not the run's to remove.
			rel := path.Join(s.Name, tmp)
			if info, err := t.lstat(rel); err != nil || !info.Mode().IsRegular() {
				continue
			}
			if _, err := t.removeFile(rel); err != nil {
				return err
			}
		}
	}
	for _, c := range p.Created {
		t.removeFolder(c) // only if empty
	}
	return nil
}

// finish removes the pending record once what it describes is done.
func (t *tree) finish() error {
	if _, err := t.removeFile(PendingName); err != nil {
		return err
	}
	t.syncFolder(".")
	return nil
}

// removeTemps removes leftover temporary files where the writer puts them
// in the output folder name ("." for the root), without following links.
func (t *tree) removeTemps(name string) error {
	temps, err := t.findTemps(name)
	if err != nil {
		return err
	}
	for _, rel := range temps {
		if _, err := t.removeFile(rel); err != nil {
			return err
		}
	}
	return nil
}

// findTemps lists leftover temporary files in the output folder name: only
// at the exact places the writer stages, never below, so a hand-made file
// with a temporary-looking name deeper down is left alone.
func (t *tree) findTemps(name string) ([]string, error) {
	info, err := t.lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, nil // reported when the folder is used
	}
	dir, err := t.folder(name)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(dir.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("look for leftover temporary files in %s: %w", t.display(name), err)
	}
	var out []string
	for _, e := range entries {
		// Staging creates regular files only: a link or folder there is
		// not a leftover, and is refused where it is in the way.
		if e.Type().IsRegular() && leftoverTemp(name, e.Name()) {
			out = append(out, path.Join(name, e.Name()))
		}
	}
	return out, nil
}

// manifests are a set's folder manifest and the record's staged one.
func (t *tree) manifests(s pendingSet) (owned, staged []string, err error) {
	if owned, err = t.readManifest(s.Name); err != nil {
		return nil, nil, err
	}
	staged, err = t.stagedManifest(s)
	return owned, staged, err
}

// checkOwned refuses a record that would remove or replace a file no
// manifest says obsgen wrote: a record is a file in the repository like any
// other, and a planted or corrupt one must not delete a hand-written file.
// A stale file is owned by its folder's manifest; a generated path may also
// be owned by the record's own staged manifest.
func (t *tree) checkOwned(p *pending) error {
	for _, s := range p.Sets {
		owned, staged, err := t.manifests(s)
		if err != nil {
			return err
		}
		if err := t.checkAllOwned(s.Name, append(s.PruneFirst, s.Prune...), owned); err != nil {
			return err
		}
		targets := make([]string, len(s.Moves))
		for i, m := range s.Moves {
			targets[i] = m.Path
		}
		if err := t.checkAllOwned(s.Name, targets, append(owned, staged...)); err != nil {
			return err
		}
	}
	return nil
}

// checkAllOwned refuses any of paths, in output folder name, that exists as
// a file and is not in owned.
func (t *tree) checkAllOwned(name string, paths, owned []string) error {
	for _, p := range paths {
		if slices.Contains(owned, p) {
			continue
		}
		if info, err := t.lstat(path.Join(name, p)); err == nil && !info.IsDir() {
			return fmt.Errorf("%s: the pending record would replace or remove it, but no manifest says obsgen wrote it, so it is left alone",
				t.display(path.Join(name, p)))
		}
	}
	return nil
}
