package output

import (
	"io/fs"
	"syscall"
)

// sameChangeTime tells whether two stats of one file show the same status
// change time (st_ctim). The kernel sets it on every write, rename, link
// and attribute change and no program can set it back (utimensat sets only
// the access and modification times), so unlike the modification time it
// tells a file rewritten and given its old time back, or a new file that
// took a removed one's inode number.
func sameChangeTime(a, b fs.FileInfo) bool {
	sa, okA := a.Sys().(*syscall.Stat_t)
	sb, okB := b.Sys().(*syscall.Stat_t)
	if !okA || !okB {
		return true // nothing to compare: identity, size and modification time decide
	}
	return sa.Ctim == sb.Ctim
}
