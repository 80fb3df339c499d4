//go:build !unix

package output

import (
	"path"
	"strings"
)

// rename moves the file from to the path to, both below the root. Without
// renameat, the rename goes by name from the folder both are in, once each
// folder on the way is checked to be still in place (inPlace); a link
// swapped in between the check and the rename is not caught.
func (t *tree) rename(from, to string) error {
	common := path.Dir(from)
	for common != "." && !strings.HasPrefix(to, common+"/") {
		common = path.Dir(common)
	}
	if err := t.inPlace(path.Dir(from)); err != nil {
		return err
	}
	if err := t.inPlace(path.Dir(to)); err != nil {
		return err
	}
	dir, err := t.folder(common)
	if err != nil {
		return err
	}
	if common != "." {
		from, to = strings.TrimPrefix(from, common+"/"), strings.TrimPrefix(to, common+"/")
	}
	return dir.Rename(from, to)
}
