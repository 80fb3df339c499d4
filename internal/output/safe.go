package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// The output tree lives in GitOps repositories that many people and CI jobs
// share, so anything in it may be a symbolic link or a special file planted
// there. Every access below the output root goes through an *os.Root (which
// cannot escape the root, even through a link swapped in mid-run). Each
// folder is opened once, after an Lstat of it in its opened parent, and
// files are reached by base name in their opened folder: obsgen never
// follows a link, and never opens a named pipe or device, below the root.

// maxManifestSize bounds how much of a manifest or pending record obsgen
// reads, so a huge file planted there cannot exhaust memory. Other files are
// compared with the generated content without reading past its length and
// one more byte.
const maxManifestSize = 64 << 20

// errLink and errSpecial classify what obsgen refuses to touch.
var (
	errLink    = errors.New("is a symbolic link; obsgen never writes or reads through links: replace it with a real folder or file, or remove it")
	errSpecial = errors.New("is not a regular file or folder (a named pipe, socket or device); remove it")
	errNotDir  = errors.New("is a file where obsgen needs a folder")
)

// pathError names the offending path in the user's terms (root joined with
// the relative path).
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + " " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// tree is an output root opened without following links.
//
// Folders below the root are opened once each (folder) and kept open (up
// to maxOpenFolders), so a file operation is one system call on the file's
// base name in its folder instead of a walk from the root through every
// component: at a thousand teams the walks were 56,000 opens for 3,500
// files. Reads go through the opened folders. Every change to disk is made
// in an opened folder too, and only after inPlace has checked, by name from
// the root, that the folder and each above it are still the ones first
// opened in the run: a folder moved away, removed or swapped for a link by
// another program during the run is refused (up to the few system calls
// between the check and the change), so no change lands outside the root or
// through a link, and none is reported done that is not at its path.
type tree struct {
	dir     string // as the user gave it, for messages
	root    *os.Root
	folders map[string]*os.Root    // real folders below the root, by relative path
	seen    map[string]fs.FileInfo // each folder as first opened in the run
	scratch []byte                 // reused by sameContent, compareChunk bytes
}

// display turns a slash-separated path relative to the root into the path a
// user would type.
func (t *tree) display(rel string) string {
	return filepath.Join(t.dir, filepath.FromSlash(rel))
}

// checkRootDir refuses an output root that is a link or not a folder, and
// returns what it found, nil for a missing root (created when there is
// something to write). dir must be clean: Lstat of "link/" follows the link.
func checkRootDir(dir string) (fs.FileInfo, error) {
	info, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("output root: %w", err)
	}
	if err := kindError(dir, info, true); err != nil {
		return nil, fmt.Errorf("output root %w", err)
	}
	return info, nil
}

// openTree opens the clean path dir as a tree, checking that the folder
// opened is the one checkRootDir accepted: OpenRoot follows a link, so a
// link swapped in between would otherwise take the whole run elsewhere.
func openTree(dir string) (*tree, error) {
	checked, err := checkRootDir(dir)
	if err != nil {
		return nil, err
	}
	if checked == nil {
		return nil, fmt.Errorf("open output root: %s: %w", dir, fs.ErrNotExist)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open output root: %w", err)
	}
	if opened, err := r.Stat("."); err != nil || !os.SameFile(checked, opened) {
		_ = r.Close()
		return nil, fmt.Errorf("output root %s changed while obsgen opened it; is another program replacing it?", dir)
	}
	return &tree{dir: dir, root: r, folders: map[string]*os.Root{}, seen: map[string]fs.FileInfo{}}, nil
}

func (t *tree) close() {
	for _, f := range t.folders {
		_ = f.Close()
	}
	_ = t.root.Close()
}

// folder returns the folder rel ("." for the root) opened as a root of its
// own, after checking that it and every folder above it is a real folder:
// fs.ErrNotExist when one is missing, errNotDir for a file, errLink for a
// link. An opened folder is kept until forget.
func (t *tree) folder(rel string) (*os.Root, error) {
	if rel == "." || rel == "" {
		return t.root, nil
	}
	if f, ok := t.folders[rel]; ok {
		return f, nil
	}
	parent, err := t.folder(path.Dir(rel))
	if err != nil {
		return nil, err
	}
	base := path.Base(rel)
	info, err := parent.Lstat(base)
	if err != nil {
		return nil, t.wrap(rel, err)
	}
	if err := kindError(t.display(rel), info, true); err != nil {
		return nil, err
	}
	// OpenRoot would follow a link swapped in since the Lstat: the folder
	// opened must be the one checked.
	f, err := parent.OpenRoot(base)
	if err != nil {
		return nil, t.wrap(rel, err)
	}
	if opened, err := f.Stat("."); err != nil || !os.SameFile(info, opened) {
		_ = f.Close()
		return nil, fmt.Errorf("%s changed while obsgen opened it; is another program replacing it?", t.display(rel))
	}
	if first, ok := t.seen[rel]; ok && !os.SameFile(first, info) {
		_ = f.Close()
		return nil, t.changed(rel)
	}
	t.seen[rel] = info
	if len(t.folders) >= maxOpenFolders {
		t.closeFoldersOutside(rel)
	}
	t.folders[rel] = f
	return f, nil
}

// maxOpenFolders bounds the folders kept open at once: an output tree of a
// thousand teams has thousands of folders, and a process may open only so
// many files (ulimit -n). Paths are handled in order, so a folder closed
// here is rarely needed again.
const maxOpenFolders = 128

// closeFoldersOutside closes every open folder that is not rel or one of
// its parents. No caller holds an opened folder across a call to folder
// other than rel's parents (rename holds a file of its own instead).
func (t *tree) closeFoldersOutside(rel string) {
	for name, f := range t.folders {
		if name != rel && !strings.HasPrefix(rel, name+"/") {
			_ = f.Close()
			delete(t.folders, name)
		}
	}
}

// inPlace checks, by name from the root, that the folder rel and every
// folder above it is still the real folder first opened in the run; called
// before each change to disk in rel. It costs one Lstat per level: the
// parents are open.
func (t *tree) inPlace(rel string) error {
	return t.inPlaceOnce(rel, nil)
}

// inPlaceOnce is inPlace that skips the folders in checked, and adds those
// it checks (when checked is not nil): checking many folders of one tree,
// each level costs one Lstat.
func (t *tree) inPlaceOnce(rel string, checked map[string]bool) error {
	for d := rel; d != "." && d != "" && !checked[d]; d = path.Dir(d) {
		parent, err := t.folder(path.Dir(d))
		if err != nil {
			return err
		}
		now, err := parent.Lstat(path.Base(d))
		first, ok := t.seen[d]
		if err != nil || !ok || !now.IsDir() || !os.SameFile(first, now) {
			return t.changed(d)
		}
		if checked != nil {
			checked[d] = true
		}
	}
	return nil
}

func (t *tree) changed(rel string) error {
	return fmt.Errorf("%s was moved, removed or replaced during the run; is another program changing the output? nothing more is changed there: run obsgen again", t.display(rel))
}

// forget closes the folder rel and those below it, once obsgen removed it:
// one made at that path later in the run is another folder.
func (t *tree) forget(rel string) {
	for name, f := range t.folders {
		if name == rel || strings.HasPrefix(name, rel+"/") {
			_ = f.Close()
			delete(t.folders, name)
		}
	}
	for name := range t.seen {
		if name == rel || strings.HasPrefix(name, rel+"/") {
			delete(t.seen, name)
		}
	}
}

// in returns the opened folder of rel and rel's base name in it.
func (t *tree) in(rel string) (*os.Root, string, error) {
	f, err := t.folder(path.Dir(rel))
	return f, path.Base(rel), err
}

// lstat describes rel without following a link at any component: each
// folder on the way must be a real folder. It returns fs.ErrNotExist when
// rel or one of its folders is missing.
func (t *tree) lstat(rel string) (fs.FileInfo, error) {
	f, base, err := t.in(rel)
	if err != nil {
		return nil, err
	}
	info, err := f.Lstat(base)
	if err != nil {
		return nil, t.wrap(rel, err)
	}
	return info, nil
}

// kindError refuses links and special files; wantDir also refuses a file.
func kindError(display string, info fs.FileInfo, wantDir bool) error {
	switch mode := info.Mode(); {
	case mode&fs.ModeSymlink != 0:
		return &pathError{display, errLink}
	case mode.IsDir():
		return nil
	case !mode.IsRegular():
		return &pathError{display, errSpecial}
	case wantDir:
		return &pathError{display, errNotDir}
	}
	return nil
}

func (t *tree) wrap(rel string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fs.ErrNotExist
	}
	return fmt.Errorf("%s: %w", t.display(rel), err)
}

// readRegular reads the regular file rel, up to limit bytes; a longer file
// comes back truncated to limit+1 bytes, which is enough to tell it differs.
// A link, special file or folder at rel is an error naming it, and so is a
// file swapped for another between the check and the open.
func (t *tree) readRegular(rel string, limit int64) ([]byte, error) {
	f, info, err := t.openRegular(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, min(info.Size(), limit)+1) // the size may change: read on to limit+1
	n, err := io.ReadFull(f, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return buf[:n], nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.display(rel), err)
	}
	if int64(n) > limit {
		return buf[:limit+1], nil
	}
	rest, err := io.ReadAll(io.LimitReader(f, limit+1-int64(n)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.display(rel), err)
	}
	return append(buf, rest...), nil
}

// sameContent tells whether the regular file rel holds exactly data,
// reading it a chunk at a time into a buffer reused across calls: a
// comparison keeps nothing, so a run that compares a tree of a hundred
// megabytes does not hold it, nor grows a buffer as large as its largest
// file. Errors are openRegular's, or the read's.
func (t *tree) sameContent(rel string, data []byte) (bool, error) {
	same, _, err := t.sameContentAs(rel, data)
	return same, err
}

// compareChunk is how much of a file sameContent reads at once.
const compareChunk = 256 << 10

// sameContentAs is sameContent that also returns the file compared, as
// opened.
func (t *tree) sameContentAs(rel string, data []byte) (bool, fs.FileInfo, error) {
	f, info, err := t.openRegular(rel)
	if err != nil {
		return false, nil, err
	}
	defer f.Close()
	if info.Size() != int64(len(data)) {
		return false, info, nil
	}
	same, err := t.sameRead(f, data)
	if err != nil {
		return false, info, fmt.Errorf("%s: %w", t.display(rel), err)
	}
	return same, info, nil
}

// sameRead tells whether r holds exactly data: it reads until the data is
// compared and one byte more, so a file that grew since its size was
// checked is not the same, nor one that shrank.
func (t *tree) sameRead(r io.Reader, data []byte) (bool, error) {
	if t.scratch == nil {
		t.scratch = make([]byte, compareChunk)
	}
	for rest := data; ; {
		buf := t.scratch[:min(len(rest)+1, compareChunk)]
		n, err := io.ReadFull(r, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return false, err
		}
		if n > len(rest) || !bytes.Equal(buf[:n], rest[:n]) {
			return false, nil // longer, or different
		}
		rest = rest[n:]
		if n < len(buf) {
			return len(rest) == 0, nil // r ended
		}
	}
}

// openRegular opens the regular file rel for reading and returns its size;
// see readRegular.
func (t *tree) openRegular(rel string) (*os.File, fs.FileInfo, error) {
	dir, base, err := t.in(rel)
	if err != nil {
		return nil, nil, err
	}
	info, err := dir.Lstat(base)
	if err != nil {
		return nil, nil, t.wrap(rel, err)
	}
	if info.IsDir() {
		return nil, nil, &pathError{t.display(rel), errIsDir}
	}
	if err := kindError(t.display(rel), info, false); err != nil {
		return nil, nil, err
	}
	// O_NONBLOCK: should a named pipe appear after the check, opening it
	// must not wait for a writer.
	f, err := dir.OpenFile(base, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if err != nil {
		return nil, nil, t.wrap(rel, err)
	}
	opened, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%s: %w", t.display(rel), err)
	}
	if !opened.Mode().IsRegular() || !os.SameFile(info, opened) {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%s changed while obsgen read it; is another program writing there?", t.display(rel))
	}
	return f, opened, nil
}

// errIsDir marks a folder where obsgen expects a file.
var errIsDir = errors.New("is a folder where obsgen needs a file")

// mkdirs creates the folder rel and its parents, refusing links and files
// on the way.
func (t *tree) mkdirs(rel string) error {
	_, err := t.folder(rel)
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := t.mkdirs(path.Dir(rel)); err != nil {
		return err
	}
	parent, base, err := t.in(rel)
	if err != nil {
		return err
	}
	if err := t.inPlace(path.Dir(rel)); err != nil {
		return err
	}
	if err := parent.Mkdir(base, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create folder %s: %w", t.display(rel), err)
	}
	_, err = t.folder(rel) // and check what is there now
	return err
}

// removeFile removes the regular file rel; a missing one is no error, a
// link or special file is refused (it is not what obsgen wrote).
func (t *tree) removeFile(rel string) (bool, error) {
	dir, base, err := t.in(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	info, err := dir.Lstat(base)
	if err != nil {
		if err = t.wrap(rel, err); errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	if info.IsDir() {
		return false, &pathError{t.display(rel), errIsDir}
	}
	if err := kindError(t.display(rel), info, false); err != nil {
		return false, err
	}
	if err := t.inPlace(path.Dir(rel)); err != nil {
		return false, err
	}
	if err := dir.Remove(base); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove %s: %w", t.display(rel), err)
	}
	return true, nil
}

// removeFolder removes the folder rel if it is empty and is the folder
// obsgen opened there (not one another program put in its place), and
// tells whether it did.
func (t *tree) removeFolder(rel string) bool {
	if _, err := t.folder(rel); err != nil {
		return false // also records it, when first met here
	}
	parent, base, err := t.in(rel)
	if err != nil {
		return false
	}
	info, err := parent.Lstat(base)
	if err != nil || !info.IsDir() {
		return false
	}
	if first, ok := t.seen[rel]; !ok || !os.SameFile(first, info) || t.inPlace(path.Dir(rel)) != nil {
		return false
	}
	if parent.Remove(base) != nil {
		return false // not empty
	}
	t.forget(rel)
	return true
}

// removeEmptyFolders removes rel's folders that are left empty, up to but
// not including stop ("." for the root).
func (t *tree) removeEmptyFolders(rel, stop string) {
	for d := path.Dir(rel); d != "." && d != stop; d = path.Dir(d) {
		if !t.removeFolder(d) {
			return
		}
	}
}

// writeNew creates rel (which must not exist) with data, flushed to disk.
func (t *tree) writeNew(rel string, data []byte) error {
	return t.create(rel, data, true)
}

// writeStaged creates the staged file rel (which must not exist) with
// data. Where the file system can be flushed at once (syncfs on Linux) it
// is not flushed here: flushStaged flushes every staged file in one call
// before the journal says they are to be committed, which costs one flush
// instead of one per file. Elsewhere each file is flushed as it is
// written.
func (t *tree) writeStaged(rel string, data []byte) error {
	return t.create(rel, data, !canSyncFS)
}

// flushStaged makes every staged file durable (see writeStaged).
func (t *tree) flushStaged() error {
	if !canSyncFS {
		return nil
	}
	f, err := t.root.OpenFile(".", os.O_RDONLY|oDirectory|oNoFollow, 0)
	if err != nil {
		return fmt.Errorf("flush %s: %w", t.display("."), err)
	}
	err = syncFS(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("flush %s: %w", t.display("."), err)
	}
	return nil
}

func (t *tree) create(rel string, data []byte, sync bool) error {
	dir, base, err := t.in(rel)
	if err == nil {
		err = t.inPlace(path.Dir(rel))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", t.display(rel), err)
	}
	f, err := dir.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", t.display(rel), err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644) // whatever the umask, output is world-readable like a checkout
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", t.display(rel), err)
	}
	return nil
}

// syncFolder flushes a folder's entries (renames, removals) to disk.
func (t *tree) syncFolder(rel string) {
	dir, err := t.folder(rel)
	if err != nil {
		return
	}
	if f, err := dir.OpenFile(".", os.O_RDONLY|oDirectory|oNoFollow, 0); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}
