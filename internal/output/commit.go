package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
)

// Set is the generated files of one output folder, ROOT/<Name>/.
type Set struct {
	Name  string
	Files []File
	// Generator names the program and version that generates the files
	// (obsgen v1.2.3); the manifest records it (GeneratorLine) without
	// making an upgrade alone rewrite the folder.
	Generator string
}

// setPlan is what a run changes in one output folder, decided before any
// write.
type setPlan struct {
	name    string
	files   []File // generated files, then the manifest
	changed []File // those whose content on disk differs, manifest included
	gone    []string
	result  Result
}

// crashPoint is called before every change to disk; tests replace it to kill
// the process there and prove the next run recovers.
var crashPoint = func(step string) {}

// Commit makes every output folder ROOT/<set.Name>/ hold exactly its set's
// files plus a manifest, all or nothing across sets:
//
//  1. every set is checked (paths, manifests, hand-written files in the way,
//     links and special files) before anything is written;
//  2. a lock file in the root refuses a second concurrent run;
//  3. a run killed earlier is finished (or undone) first;
//  4. every changed file is staged as a temporary file in its output folder
//     and flushed, and the pending record (PendingName) lists every rename
//     and removal before the first of them;
//  5. files are renamed into place, stale files pruned, each manifest
//     renamed last, and the pending record removed.
//
// Unchanged files are not rewritten. Files listed in a previous manifest and
// no longer generated are removed; files obsgen never wrote are never
// touched, and one in the way of a generated file is an error.
func Commit(root string, sets []Set) ([]Result, error) {
	return CommitRemoving(root, sets, nil)
}

// CommitRemoving is Commit that also removes the output folders named in
// orphans (Orphans): every file their manifests list is pruned in the same
// commit, then each manifest, then each folder if nothing obsgen did not
// write is left in it. The results hold the sets' results, then the
// orphans'.
func CommitRemoving(root string, sets []Set, orphans []string) ([]Result, error) {
	if err := refuseSettled(sets); err != nil {
		return nil, err
	}
	prepared, err := prepareRemoving(sets, orphans)
	if err != nil {
		return nil, err
	}
	root = filepath.Clean(root)
	if _, err := checkRootDir(root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create output root: %w", err)
	}
	t, err := openTree(root)
	if err != nil {
		return nil, err
	}
	defer t.close()
	l, err := acquireLock(t)
	if err != nil {
		return nil, err
	}
	defer l.release()
	return t.commitRemoving(prepared, orphans)
}

// refuseSettled refuses files whose data was let go, for a commit or check
// that opens its own tree: no Writer settled them in it.
func refuseSettled(sets []Set) error {
	for _, s := range sets {
		for _, f := range s.Files {
			if f.settled != nil {
				return fmt.Errorf("%s: the generated data was let go before it was compared with this output tree", path.Join(s.Name, f.Path))
			}
		}
	}
	return nil
}

// prepareRemoving is prepareSets of the sets, then of an empty set for each
// orphan.
func prepareRemoving(sets []Set, orphans []string) ([]Set, error) {
	all := slices.Clone(sets)
	for _, name := range orphans {
		all = append(all, Set{Name: name})
	}
	return prepareSets(all)
}

// commitRemoving commits the prepared sets, whose last ones are the
// orphans', in the locked tree, then removes each orphan's manifest and
// folder.
func (t *tree) commitRemoving(prepared []Set, orphans []string) ([]Result, error) {
	results, err := t.commit(prepared)
	if err != nil {
		return nil, err
	}
	for _, name := range orphans {
		manifest := path.Join(name, ManifestName)
		if _, err := t.removeFile(manifest); err != nil {
			return nil, err
		}
		t.removeEmptyFolders(manifest, ".") // the folder, if nothing else is left
	}
	return results, nil
}

// Orphans lists the output folders under root that hold a manifest (obsgen
// wrote them) and whose names are not in keep: a renamed or deleted
// profile's output, which a GitOps tool would otherwise keep deploying.
// Links and anything that is not a folder are skipped, never followed.
func Orphans(root string, keep []string) ([]string, error) {
	root = filepath.Clean(root)
	info, err := checkRootDir(root)
	if err != nil || info == nil {
		return nil, err
	}
	t, err := openTree(root)
	if err != nil {
		return nil, err
	}
	defer t.close()
	entries, err := fs.ReadDir(t.root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("list output root %s: %w", root, err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || slices.Contains(keep, name) || checkSetName(name) != nil {
			continue
		}
		info, err := t.lstat(path.Join(name, ManifestName))
		if err == nil && info.Mode().IsRegular() {
			out = append(out, name)
		}
	}
	return out, nil
}

func (t *tree) commit(sets []Set) ([]Result, error) {
	if err := t.recoverRun(setNames(sets)); err != nil {
		return nil, err
	}
	plans := make([]*setPlan, len(sets))
	for i, s := range sets {
		p, err := t.planSet(s)
		if err != nil {
			return nil, err
		}
		plans[i] = p
	}
	results := make([]Result, len(plans))
	for i, sp := range plans {
		results[i] = sp.result
	}
	if !slices.ContainsFunc(plans, (*setPlan).changes) {
		// Nothing to write or remove, so no pending record and no flush:
		// syncfs(2) waits for every program's unwritten data on the file
		// system, which after a large write elsewhere takes seconds.
		return results, nil
	}
	p, err := t.stage(plans)
	if err != nil {
		return nil, err
	}
	if err := t.apply(p); err != nil {
		return nil, err
	}
	return results, nil
}

// changes tells whether the folder has anything to write or remove: a
// changed file (its manifest among them) or a stale one to prune.
func (sp *setPlan) changes() bool { return len(sp.changed) > 0 || len(sp.gone) > 0 }

// prepareSets checks every set's name and paths and appends its manifest.
func prepareSets(sets []Set) ([]Set, error) {
	out := make([]Set, len(sets))
	seen := map[string]bool{}
	for i, s := range sets {
		if err := checkSetName(s.Name); err != nil {
			return nil, err
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("two sets write the output folder %q", s.Name)
		}
		seen[s.Name] = true
		files, err := prepare(s.Files, s.Generator)
		if err != nil {
			return nil, err
		}
		out[i] = Set{Name: s.Name, Files: files, Generator: s.Generator}
	}
	return out, nil
}

func setNames(sets []Set) []string {
	names := make([]string, len(sets))
	for i, s := range sets {
		names[i] = s.Name
	}
	return names
}

// planSet decides what changes in one output folder, and refuses anything
// obsgen must not touch.
func (t *tree) planSet(s Set) (*setPlan, error) {
	if _, err := t.folder(s.Name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	owned, err := t.readManifest(s.Name)
	if err != nil {
		return nil, err
	}
	sp := &setPlan{name: s.Name, files: s.Files, gone: stale(s.Files, owned)}
	inTheWay, rest := splitInTheWay(s.Files, sp.gone)
	for _, g := range append(inTheWay, rest...) {
		exists, err := t.checkPrunable(path.Join(s.Name, g))
		if err != nil {
			return nil, err
		}
		if exists {
			sp.result.Pruned = append(sp.result.Pruned, g)
		}
	}
	if sp.changed, err = t.compare(s.Name, s.Files, owned, sp.gone); err != nil {
		return nil, err
	}
	sp.fillResult()
	return sp, nil
}

// checkPrunable tells whether a stale path still holds obsgen's regular
// file, and refuses one that is now a link or special file: obsgen wrote a
// regular file there, so something else replaced it.
func (t *tree) checkPrunable(rel string) (bool, error) {
	info, err := t.lstat(rel)
	switch {
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, errNotDir):
		return false, nil // gone, or a file where its folder was: nothing to prune
	case err != nil:
		return false, err
	case info.IsDir():
		return false, nil // a folder where the file was is not obsgen's
	}
	return true, kindError(t.display(rel), info, false)
}

func (sp *setPlan) fillResult() {
	changed := make(map[string]bool, len(sp.changed))
	for _, c := range sp.changed {
		changed[c.Path] = true
	}
	for _, f := range sp.files[:len(sp.files)-1] {
		if changed[f.Path] {
			sp.result.Written = append(sp.result.Written, f.Path)
		} else {
			sp.result.Unchanged = append(sp.result.Unchanged, f.Path)
		}
	}
}

// stage writes every changed file as a temporary file in its output folder
// and returns the pending record that renames them, already on disk in the
// commit state. Until then, a crash leaves only temporary files, which the
// next run removes.
func (t *tree) stage(plans []*setPlan) (*pending, error) {
	p := &pending{State: stateStaging}
	for _, sp := range plans {
		ps := pendingSet{Name: sp.name}
		if t.stagesWhole(sp) {
			ps.Staged = stagedFolder(len(p.Sets))
			p.Sets = append(p.Sets, ps)
			continue
		}
		ps.PruneFirst, ps.Prune = splitInTheWay(sp.files, sp.gone)
		for i, f := range sp.changed {
			tmp := ".obsgen-" + strconv.Itoa(i) + ".tmp"
			if f.Path == ManifestName {
				ps.Manifest = tmp
			} else {
				ps.Moves = append(ps.Moves, move{Temp: tmp, Path: f.Path})
			}
		}
		if _, err := t.folder(sp.name); errors.Is(err, fs.ErrNotExist) && len(sp.changed) > 0 {
			p.Created = append(p.Created, sp.name)
		}
		p.Sets = append(p.Sets, ps)
	}
	crashPoint("record staging")
	if err := t.writePending(p); err != nil {
		return nil, err
	}
	for i, sp := range plans {
		if err := t.stageSet(sp, p.Sets[i]); err != nil {
			return nil, errors.Join(err, t.undo(p))
		}
	}
	if err := t.flushStaged(); err != nil {
		return nil, errors.Join(err, t.undo(p))
	}
	p.State = stateCommit
	crashPoint("record commit")
	if err := t.writePending(p); err != nil {
		return nil, errors.Join(err, t.undo(p))
	}
	return p, nil
}

// undo rolls a failed staging back, so an error leaves the tree as it was.
func (t *tree) undo(p *pending) error {
	if err := t.undoStaging(p); err != nil {
		return err
	}
	return t.finish()
}

// stagesWhole tells whether the output folder does not exist yet, so that
// staging writes the whole of it in a folder of its own, which one rename
// puts in place (pendingSet.Staged): a first run of a thousand teams
// writes thousands of files, and renaming each into place (two folder
// updates, and the checks that no folder on the way moved) costs as much
// as writing them.
func (t *tree) stagesWhole(sp *setPlan) bool {
	if len(sp.gone) > 0 || len(sp.changed) != len(sp.files) {
		return false
	}
	for _, f := range sp.changed {
		if f.settled != nil {
			return false
		}
	}
	_, err := t.folder(sp.name)
	return errors.Is(err, fs.ErrNotExist)
}

func (t *tree) stageSet(sp *setPlan, ps pendingSet) error {
	if len(sp.changed) == 0 {
		return nil
	}
	if ps.Staged != "" {
		return t.stageWhole(sp, ps.Staged)
	}
	if err := t.mkdirs(sp.name); err != nil {
		return err
	}
	data := map[string][]byte{}
	for _, f := range sp.changed {
		data[f.Path] = f.Data
	}
	for _, m := range ps.Moves {
		crashPoint("stage " + m.Path)
		if err := t.writeStaged(path.Join(sp.name, m.Temp), data[m.Path]); err != nil {
			return err
		}
	}
	if ps.Manifest != "" {
		crashPoint("stage manifest")
		return t.writeStaged(path.Join(sp.name, ps.Manifest), data[ManifestName])
	}
	return nil
}

// stageWhole writes every file of a new output folder, its manifest
// among them, at its final path in the staged folder staged.
func (t *tree) stageWhole(sp *setPlan, staged string) error {
	crashPoint("stage folder " + sp.name)
	if err := t.root.Mkdir(staged, 0o755); err != nil {
		return fmt.Errorf("create folder %s: %w", t.display(staged), err)
	}
	for _, f := range sp.changed {
		rel := path.Join(staged, f.Path)
		if err := t.mkdirs(path.Dir(rel)); err != nil {
			return err
		}
		crashPoint("stage " + f.Path)
		if err := t.writeStaged(rel, f.Data); err != nil {
			return err
		}
	}
	return nil
}

// apply carries out a pending record in the commit state. It is idempotent,
// so recovery can run it again after a crash at any point: a staged file
// that is gone was renamed already, a stale file that is gone was pruned.
//
// A folder whose changes cannot all be carried out (a subfolder the user
// cannot write) does not stop the others: they are rolled forward, the
// failed folder is settled, and the error names it as half-written.
func (t *tree) apply(p *pending) error {
	partial := &partialError{dir: t.dir}
	for _, s := range p.Sets {
		if err := t.applySet(s); err != nil {
			partial.add(t.display(s.Name), err, t.settle(s))
		}
	}
	if len(partial.folders) > 0 {
		if partial.settled() {
			// Every folder's manifest now owns what the run may have
			// written, so the record is no longer needed: the next run
			// plans from what is on disk.
			partial.unsettled = t.finish()
		}
		return partial
	}
	crashPoint("finish")
	return t.finish()
}

func (t *tree) applySet(s pendingSet) error {
	if s.Staged != "" {
		return t.applyStaged(s)
	}
	err := t.prune(s.Name, s.PruneFirst)
	for _, m := range s.Moves {
		err = errors.Join(err, t.moveIntoPlace(s.Name, m))
	}
	if err = errors.Join(err, t.prune(s.Name, s.Prune)); err != nil {
		return err
	}
	// The manifest goes last: until it is renamed, the previous one (and
	// the pending record) still own every file this run may have left.
	if s.Manifest != "" {
		if err := t.moveIntoPlace(s.Name, move{Temp: s.Manifest, Path: ManifestName}); err != nil {
			return err
		}
	}
	t.syncFolder(s.Name)
	return nil
}

// applyStaged renames a staged folder onto its output folder's name. The
// output folder must still not exist: one that appeared during the run
// (another program) is not replaced.
func (t *tree) applyStaged(s pendingSet) error {
	crashPoint("rename folder " + s.Name)
	info, err := t.root.Lstat(s.Staged)
	if errors.Is(err, fs.ErrNotExist) {
		if _, opened := t.seen[s.Staged]; opened {
			return t.changed(s.Staged)
		}
		return nil // renamed before a crash
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", t.display(s.Name), err)
	}
	if first, opened := t.seen[s.Staged]; !info.IsDir() || (opened && !os.SameFile(first, info)) {
		return t.changed(s.Staged)
	}
	if _, err := t.root.Lstat(s.Name); !errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			return fmt.Errorf("%s: something appeared there during the run; remove it, then run again", t.display(s.Name))
		}
		return fmt.Errorf("write %s: %w", t.display(s.Name), err)
	}
	t.forget(s.Staged)
	if err := t.root.Rename(s.Staged, s.Name); err != nil {
		return fmt.Errorf("write %s: %w", t.display(s.Name), err)
	}
	t.syncFolder(".")
	return nil
}

// moveIntoPlace renames a staged file onto its generated path.
func (t *tree) moveIntoPlace(name string, m move) error {
	tmp := path.Join(name, m.Temp)
	if _, opened := t.seen[name]; opened {
		// A staged file missing from a folder this run opened was not
		// renamed: the folder went (another program), which must not pass
		// for the rename a crashed run made.
		if err := t.inPlace(name); err != nil {
			return err
		}
	}
	if _, err := t.lstat(tmp); errors.Is(err, os.ErrNotExist) {
		return nil // renamed before a crash
	}
	target := path.Join(name, m.Path)
	if err := t.mkdirs(path.Dir(target)); err != nil {
		return err
	}
	if info, err := t.lstat(target); err == nil {
		if err := kindError(t.display(target), info, false); err != nil || info.IsDir() {
			return fmt.Errorf("%s: something other than a file appeared there during the run; remove it, then run again", t.display(target))
		}
	}
	crashPoint("rename " + m.Path)
	if err := t.rename(tmp, target); err != nil {
		return fmt.Errorf("write %s: %w", t.display(target), err)
	}
	return nil
}

// prune removes stale files and then the folders they leave empty. It
// carries on past a file it cannot remove, so as much as possible is done.
func (t *tree) prune(name string, paths []string) error {
	var errs error
	for _, p := range paths {
		rel := path.Join(name, p)
		crashPoint("prune " + p)
		if _, err := t.removeFile(rel); err != nil && !errors.Is(err, errNotDir) && !errors.Is(err, errIsDir) {
			errs = errors.Join(errs, fmt.Errorf("prune: %w", err))
			continue
		}
		t.removeEmptyFolders(rel, name)
	}
	return errs
}
