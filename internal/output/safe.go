package output

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
)

// The output tree lives in GitOps repositories that many people and CI jobs
// share, so anything in it may be a symbolic link or a special file planted
// there. Every access below the output root goes through an *os.Root (which
// cannot escape the root, even through a link swapped in mid-run) and checks
// each path component with Lstat first: obsgen never follows a link, and
// never opens a named pipe or device, below the root.

// maxManifestSize bounds how much of a manifest or pending record obsgen
// reads, so a huge file planted there cannot exhaust memory. Other files are
// read up to one byte more than the generated content, which is all a
// comparison needs.
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
type tree struct {
	dir  string // as the user gave it, for messages
	root *os.Root
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
	return &tree{dir: dir, root: r}, nil
}

func (t *tree) close() { _ = t.root.Close() }

// lstat describes rel without following a link at any component: each
// folder on the way must be a real folder. It returns fs.ErrNotExist when
// rel or one of its folders is missing.
func (t *tree) lstat(rel string) (fs.FileInfo, error) {
	if err := t.checkFolders(path.Dir(rel)); err != nil {
		return nil, err
	}
	info, err := t.root.Lstat(rel)
	if err != nil {
		return nil, t.wrap(rel, err)
	}
	return info, nil
}

// checkFolders checks that every component of the folder dir is a real
// folder or missing (then so are those below it: fs.ErrNotExist).
func (t *tree) checkFolders(dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	if err := t.checkFolders(path.Dir(dir)); err != nil {
		return err
	}
	info, err := t.root.Lstat(dir)
	if err != nil {
		return t.wrap(dir, err)
	}
	return kindError(t.display(dir), info, true)
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
	info, err := t.lstat(rel)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, &pathError{t.display(rel), errIsDir}
	}
	if err := kindError(t.display(rel), info, false); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should a named pipe appear after the check, opening it
	// must not wait for a writer.
	f, err := t.root.OpenFile(rel, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if err != nil {
		return nil, t.wrap(rel, err)
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.display(rel), err)
	}
	if !opened.Mode().IsRegular() || !os.SameFile(info, opened) {
		return nil, fmt.Errorf("%s changed while obsgen read it; is another program writing there?", t.display(rel))
	}
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// errIsDir marks a folder where obsgen expects a file.
var errIsDir = errors.New("is a folder where obsgen needs a file")

// mkdirs creates the folder rel and its parents, refusing links and files
// on the way.
func (t *tree) mkdirs(rel string) error {
	if rel == "." || rel == "" {
		return nil
	}
	if err := t.mkdirs(path.Dir(rel)); err != nil {
		return err
	}
	info, err := t.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		if err := t.root.Mkdir(rel, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create folder %s: %w", t.display(rel), err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", t.display(rel), err)
	}
	return kindError(t.display(rel), info, true)
}

// removeFile removes the regular file rel; a missing one is no error, a
// link or special file is refused (it is not what obsgen wrote).
func (t *tree) removeFile(rel string) (bool, error) {
	info, err := t.lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if info.IsDir() {
		return false, &pathError{t.display(rel), errIsDir}
	}
	if err := kindError(t.display(rel), info, false); err != nil {
		return false, err
	}
	if err := t.root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove %s: %w", t.display(rel), err)
	}
	return true, nil
}

// removeEmptyFolders removes rel's folders that are left empty, up to but
// not including stop ("." for the root).
func (t *tree) removeEmptyFolders(rel, stop string) {
	for d := path.Dir(rel); d != "." && d != stop; d = path.Dir(d) {
		if info, err := t.root.Lstat(d); err != nil || !info.IsDir() {
			return
		}
		if t.root.Remove(d) != nil {
			return // not empty
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
	f, err := t.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
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
	if f, err := t.root.OpenFile(rel, os.O_RDONLY|oDirectory|oNoFollow, 0); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}
