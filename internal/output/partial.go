package output

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// mergeTemp is where settle stages a folder's merged manifest.
const mergeTemp = ".obsgen-manifest.tmp"

// partialError is a run that changed some output folders and could not
// finish others: the user must learn that the tree is half-written, where,
// and what to do, not just the error of one rename.
type partialError struct {
	dir     string
	folders []string // half-written, as displayed
	causes  []error
	// unsettled is why the pending record could not be retired; the next
	// run then rolls it forward again.
	unsettled error
}

func (e *partialError) add(folder string, cause, settleErr error) {
	e.folders = append(e.folders, folder)
	e.causes = append(e.causes, cause)
	e.unsettled = errors.Join(e.unsettled, settleErr)
}

func (e *partialError) settled() bool { return e.unsettled == nil }

func (e *partialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the output is partly written: %s is half-written (some files new, some old, its manifest owns both)",
		strings.Join(e.folders, ", "))
	if len(e.folders) > 1 {
		b.WriteString("; those folders are half-written")
	}
	fmt.Fprintf(&b, "; every other output folder was written in full: %v", errors.Join(e.causes...))
	fmt.Fprintf(&b, "; fix the cause (often permissions: every folder under %s must be writable by the user running obsgen), then run obsgen generate again", e.dir)
	if e.unsettled != nil {
		fmt.Fprintf(&b, "; it finishes the run recorded in %s first (could not settle it now: %v)", path.Join(e.dir, PendingName), e.unsettled)
	} else {
		b.WriteString("; it rewrites what is on disk from its manifests")
	}
	return b.String()
}

func (e *partialError) Unwrap() []error { return e.causes }

// settle makes a folder whose recorded changes could not all be carried out
// consistent without the record: its manifest becomes the union of the
// previous one and the staged one, less the staged files that were never
// renamed into place, so every file obsgen may have written there stays
// owned (rewritten or pruned by the next run, never mistaken for a
// hand-written one) and none it did not write becomes its; the folder's
// temporary files go.
func (t *tree) settle(s pendingSet) error {
	if s.Staged != "" {
		// Nothing of the folder was put in place: it is settled once the
		// staged copy is gone.
		return t.removeStaged(s.Staged)
	}
	owned, staged, err := t.manifests(s)
	if err != nil {
		return err
	}
	// A staged file still at its temporary name was not renamed into
	// place: its path is not obsgen's (a hand-written file may be there).
	notRenamed := map[string]bool{}
	for _, m := range s.Moves {
		if info, err := t.lstat(path.Join(s.Name, m.Temp)); err == nil && info.Mode().IsRegular() {
			notRenamed[m.Path] = true
		}
	}
	staged = slices.DeleteFunc(staged, func(p string) bool { return notRenamed[p] })
	merged := slices.Compact(slices.Sorted(slices.Values(append(owned, staged...))))
	if err := t.replaceManifest(s.Name, merged, t.generatorOf(s)); err != nil {
		return err
	}
	for _, tmp := range s.temps() {
		if _, err := t.removeFile(path.Join(s.Name, tmp)); err != nil {
			return err
		}
	}
	t.syncFolder(s.Name)
	return nil
}

// stagedManifest returns the entries of a set's staged manifest, if it is
// still there.
func (t *tree) stagedManifest(s pendingSet) ([]string, error) {
	if s.Manifest == "" {
		return nil, nil
	}
	rel := path.Join(s.Name, s.Manifest)
	b, err := t.readRegular(rel, maxManifestSize)
	if err != nil {
		return nil, ignoreNotExist(err)
	}
	owned, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.display(rel), err)
	}
	return owned, nil
}

// generatorOf is the generator the folder's manifest records, else the
// staged one's: a settled manifest keeps it, since later runs that write
// the same files leave the manifest alone (sameManifest).
func (t *tree) generatorOf(s pendingSet) string {
	for _, m := range []string{ManifestName, s.Manifest} {
		if m == "" {
			continue
		}
		if b, err := t.readRegular(path.Join(s.Name, m), maxManifestSize); err == nil {
			if g := Generator(b); g != "" {
				return g
			}
		}
	}
	return ""
}

// replaceManifest writes a folder's manifest atomically, recording
// generator when it is given.
func (t *tree) replaceManifest(name string, owned []string, generator string) error {
	tmp := path.Join(name, mergeTemp)
	if _, err := t.removeFile(tmp); err != nil {
		return err
	}
	head := manifestHeader
	if generator != "" {
		head += GeneratorLine + generator + "\n"
	}
	data := head + strings.Join(owned, "\n") + "\n"
	if err := t.writeNew(tmp, []byte(data)); err != nil {
		return err
	}
	if err := t.rename(tmp, path.Join(name, ManifestName)); err != nil {
		return fmt.Errorf("write %s: %w", t.display(path.Join(name, ManifestName)), err)
	}
	return nil
}

func ignoreNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
