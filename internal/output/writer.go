package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
)

// A Writer is a commit (or a check) opened before the files are generated,
// so each file can be compared with the output tree as soon as its
// generator is done (Settle): a file already on disk as generated, as most
// are when a profile is regenerated, need not keep its data in memory until
// the commit, nor be read again then.
//
// A Writer that writes holds the run lock from OpenWriter to Close, so no
// other obsgen run changes the tree between a comparison and the commit. A
// change another program makes to a file after Settle compared it is not
// noticed, as one made after the commit is not (docs/gitops.md).
type Writer struct {
	root  string // clean
	write bool
	mu    sync.Mutex
	t     *tree // nil when the root did not exist at OpenWriter
	l     *lock
	// settle is false while a killed run's pending record is in the root:
	// the commit recovers it first, which may change any file.
	settle bool
}

// OpenWriter opens root for a commit (write) or a check. A missing root is
// not created here: nothing is compared then, and Commit creates it. What
// stops it from opening or locking root (a link, another run) is not an
// error here: nothing is settled, and Commit or Check meets the same
// problem and reports it where it did before, after the profiles'.
func OpenWriter(root string, write bool) *Writer {
	w := &Writer{root: filepath.Clean(root), write: write}
	info, err := checkRootDir(w.root)
	if err != nil || info == nil {
		return w
	}
	t, err := openTree(w.root)
	if err != nil {
		return w
	}
	if write {
		if w.l, err = acquireLock(t); err != nil {
			t.close()
			return w
		}
	}
	w.t = t
	_, err = t.lstat(PendingName)
	w.settle = !write || errors.Is(err, fs.ErrNotExist)
	return w
}

// Close releases the lock and the tree.
func (w *Writer) Close() {
	if w.l != nil {
		w.l.release()
		w.l = nil
	}
	if w.t != nil {
		w.t.close()
		w.t = nil
	}
}

// Settle compares each of the files of output folder set with the tree and
// lets go of the data of those the tree already holds exactly; the others
// come back as they were, for Commit or Check to decide. It is safe to call
// from several goroutines, and never fails: whatever it cannot compare
// (a missing file, a link, an invalid path) is left to Commit and Check,
// which refuse or report it as they would have.
func (w *Writer) Settle(set string, files []File) []File {
	if w == nil || w.t == nil || !w.settle || checkSetName(set) != nil {
		return files
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]File, len(files))
	for i, f := range files {
		out[i] = f
		if f.settled != nil || CheckPath(f.Path) != nil {
			continue
		}
		rel := path.Join(set, f.Path)
		if same, info, err := w.t.sameContentAs(rel, f.Data); err == nil && same {
			out[i].settled = &settled{size: len(f.Data), in: w.t, rel: rel, file: info}
			out[i].Data = nil
		}
	}
	return out
}

// Commit is CommitRemoving on the opened root.
func (w *Writer) Commit(sets []Set, orphans []string) ([]Result, error) {
	if !w.write {
		return nil, errors.New("commit: the output was opened for a check")
	}
	if w.t == nil {
		return CommitRemoving(w.root, sets, orphans)
	}
	prepared, err := prepareRemoving(sets, orphans)
	if err != nil {
		return nil, err
	}
	if err := w.rootInPlace(); err != nil {
		return nil, err
	}
	// The lock was taken before generating; a run that started since
	// would hold another lock file only if this one was removed.
	if !w.l.held() {
		return nil, fmt.Errorf("the lock file %s was removed or replaced during the run; another program or obsgen run may be writing %s: nothing was written, run obsgen again once it is done",
			w.t.display(LockName), w.root)
	}
	return w.t.commitRemoving(prepared, orphans)
}

// Check is CheckAll on the opened root.
func (w *Writer) Check(sets []Set) ([]Drift, error) {
	if w.t == nil {
		return CheckAll(w.root, sets)
	}
	prepared, err := prepareSets(sets)
	if err != nil {
		return nil, err
	}
	if err := w.rootInPlace(); err != nil {
		return nil, err
	}
	return w.t.checkAll(prepared)
}

// rootInPlace checks that the root's path still names the folder opened.
func (w *Writer) rootInPlace() error {
	now, err := checkRootDir(w.root)
	if err != nil {
		return err
	}
	opened, err := w.t.root.Stat(".")
	if now == nil || err != nil || !os.SameFile(now, opened) {
		return fmt.Errorf("output root %s was moved, removed or replaced during the run; is another program changing it? nothing was written: run obsgen again", w.root)
	}
	return nil
}
