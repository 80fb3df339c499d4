package output

import (
	"io/fs"
	"os"
)

// LockName is the file in the output root that a run holds locked, so two
// runs never write one output tree at once. A run removes it when it ends.
const LockName = ".obsgen.lock"

// checkLockPath refuses a link, folder or special file at the lock path
// before anything opens it.
func (t *tree) checkLockPath() error {
	info, err := t.root.Lstat(LockName)
	if err != nil {
		return nil // missing: created; any other problem shows when opened
	}
	return lockKindError(t.display(LockName), info)
}

// lockKindError refuses anything but a regular file as the lock file.
func lockKindError(display string, info fs.FileInfo) error {
	if info.IsDir() {
		return &pathError{display, errIsDir}
	}
	return kindError(display, info, false)
}

// stillNamed tells whether the lock file's path names the open file f.
func (t *tree) stillNamed(f *os.File) bool {
	held, err := f.Stat()
	if err != nil || !held.Mode().IsRegular() {
		return false
	}
	named, err := t.root.Lstat(LockName)
	return err == nil && os.SameFile(held, named)
}

// held tells whether the lock file's path still names the file this run
// locked.
func (l *lock) held() bool {
	return l.t.stillNamed(l.file)
}
