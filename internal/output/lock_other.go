//go:build !unix

package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// lock is a held run lock: on systems without flock, the lock file itself.
type lock struct {
	t    *tree
	file *os.File
}

// acquireLock creates the lock file exclusively: a second run fails at once
// while it exists. Unlike flock, nothing releases it if the run is killed;
// the message then says to remove it.
func acquireLock(t *tree) (*lock, error) {
	if err := t.checkLockPath(); err != nil {
		return nil, err
	}
	f, err := t.root.OpenFile(LockName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("another obsgen run is writing to %s (it holds %s); wait for it to finish, then run again; if no run is active, a killed one left it: remove it",
			t.dir, t.display(LockName))
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", t.display(LockName), err)
	}
	return &lock{t: t, file: f}, nil
}

// release closes and removes the lock file, unless it is no longer this
// run's.
func (l *lock) release() {
	ours := l.held()
	_ = l.file.Close()
	if ours {
		_ = l.t.root.Remove(LockName)
	}
}
