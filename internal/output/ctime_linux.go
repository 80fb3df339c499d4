package output

import (
	"io/fs"
	"syscall"
)

// sameChangeTime tells whether two stats of one file show the same status
// change time (st_ctim). The kernel sets it on every write, rename, link,
// permission or extended-attribute change, and no program can set it back
// (utimensat sets only the access and modification times): so it tells a
// file rewritten and given its old modification time back, or a new file
// that took a removed one's inode number. It is no finer than the
// modification time: before Linux 6.13's fine-grained timestamps (ext4,
// xfs, btrfs, tmpfs), both come from one coarse clock reading per tick, so
// a write of the same size within the tick of the comparison changes
// neither. A change of metadata alone (a hard link a backup makes, a chmod
// to the same mode, an extended attribute) changes it too, and stops the
// run as a change of the file does.
func sameChangeTime(a, b fs.FileInfo) bool {
	sa, okA := a.Sys().(*syscall.Stat_t)
	sb, okB := b.Sys().(*syscall.Stat_t)
	if !okA || !okB {
		return true // nothing to compare: identity, size and modification time decide
	}
	return sa.Ctim == sb.Ctim
}
