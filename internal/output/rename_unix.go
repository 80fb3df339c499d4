//go:build unix

package output

import (
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// rename moves the file from to the path to, both below the root, between
// the folders obsgen opened for them (renameat(2) on their descriptors),
// once both are checked to be still in place: no folder name on the way is
// resolved by the rename, so a link swapped in for one cannot redirect the
// file elsewhere in the root. The staged file and its target are usually
// in different folders of one output folder.
func (t *tree) rename(from, to string) error {
	fromDir, fromBase, err := t.in(from)
	if err != nil {
		return err
	}
	if err := t.inPlace(path.Dir(from)); err != nil {
		return err
	}
	if path.Dir(from) == path.Dir(to) {
		return fromDir.Rename(fromBase, path.Base(to))
	}
	// The descriptor outlives the folder cache: opening to's folder may
	// close from's.
	a, err := fromDir.OpenFile(".", os.O_RDONLY|oDirectory, 0)
	if err != nil {
		return err
	}
	defer a.Close()
	toDir, toBase, err := t.in(to)
	if err != nil {
		return err
	}
	b, err := toDir.OpenFile(".", os.O_RDONLY|oDirectory, 0)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := t.inPlace(path.Dir(to)); err != nil {
		return err
	}
	if err := unix.Renameat(int(a.Fd()), fromBase, int(b.Fd()), toBase); err != nil {
		return &os.LinkError{Op: "renameat", Old: from, New: to, Err: err}
	}
	return nil
}
