//go:build !unix

package output

// These systems have no such open flags: obsgen relies on the Lstat check
// before each open (and the os.SameFile check after it where it reads), so
// a link or special file swapped in between the two is not caught there.
const (
	oNoFollow  = 0
	oNonBlock  = 0
	oDirectory = 0
)
