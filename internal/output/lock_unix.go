//go:build unix

package output

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lock is a held run lock.
type lock struct {
	t    *tree
	file *os.File
}

// acquireLock takes the run lock without waiting: a second run fails at
// once with a clear message rather than queueing behind the first. The lock
// file is removed on release, so after taking the lock it checks that the
// path still names the file it locked (another run may have just removed
// it) and tries again otherwise.
func acquireLock(t *tree) (*lock, error) {
	for range 10 {
		f, err := t.openLockFile()
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("another obsgen run is writing to %s (it holds %s); wait for it to finish, then run again",
					t.dir, t.display(LockName))
			}
			return nil, fmt.Errorf("lock %s: %w", t.display(LockName), err)
		}
		if t.stillNamed(f) {
			return &lock{t: t, file: f}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("lock %s: the lock file keeps changing; is another program removing it?", t.display(LockName))
}

// release removes the lock file, then unlocks it: removing first means no
// other run can lock this file after it is unlocked and believe it holds
// the lock while a third creates a new one. A lock file that is no longer
// this run's (another program removed it and a second run created its own)
// is left to its holder.
func (l *lock) release() {
	if l.held() {
		_ = l.t.root.Remove(LockName)
	}
	_ = syscall.Flock(int(l.file.Fd()), syscall.LOCK_UN)
	_ = l.file.Close()
}

// openLockFile opens (or creates) the lock file, refusing anything but a
// regular file: a link is not followed, and a named pipe or device is not
// opened (O_NONBLOCK should one appear after the check) and is refused
// once its type is known.
func (t *tree) openLockFile() (*os.File, error) {
	if err := t.checkLockPath(); err != nil {
		return nil, err
	}
	f, err := t.root.OpenFile(LockName, os.O_RDWR|os.O_CREATE|oNoFollow|oNonBlock, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", t.display(LockName), err)
	}
	info, err := f.Stat()
	if err == nil {
		err = lockKindError(t.display(LockName), info)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
