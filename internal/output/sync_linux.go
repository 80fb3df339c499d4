package output

import (
	"os"

	"golang.org/x/sys/unix"
)

// canSyncFS tells that one call flushes every file of a file system:
// syncfs(2).
const canSyncFS = true

// syncFS flushes the file system that holds f.
func syncFS(f *os.File) error {
	return unix.Syncfs(int(f.Fd()))
}
