//go:build !unix

package output

import (
	"fmt"
	"os"
	"path"
	"strings"
)

// rename moves the file from to the path to, both below the root. Without
// renameat, the rename goes by name from the folder both are in; each
// folder on the way to to is checked first to be the one obsgen opened, so
// a link swapped in for one earlier in the run is refused (one swapped in
// between the check and the rename is not).
func (t *tree) rename(from, to string) error {
	common := path.Dir(from)
	for common != "." && !strings.HasPrefix(to, common+"/") {
		common = path.Dir(common)
	}
	dir, err := t.folder(common)
	if err != nil {
		return err
	}
	for d := path.Dir(to); d != common && d != "."; d = path.Dir(d) {
		held, err := t.folder(d)
		if err != nil {
			return err
		}
		heldInfo, err := held.Stat(".")
		if err != nil {
			return err
		}
		rel := d
		if common != "." {
			rel = strings.TrimPrefix(d, common+"/")
		}
		now, err := dir.Lstat(rel)
		if err != nil || !now.IsDir() || !os.SameFile(heldInfo, now) {
			return fmt.Errorf("%s was moved, removed or replaced during the run; is another program changing the output?", t.display(d))
		}
	}
	if common != "." {
		from, to = strings.TrimPrefix(from, common+"/"), strings.TrimPrefix(to, common+"/")
	}
	return dir.Rename(from, to)
}
