//go:build unix

package output

import "syscall"

// Open flags that make an open refuse a link and never wait on a named
// pipe; os.Root already refuses links that escape the root, these refuse
// every link at the last component.
const (
	oNoFollow  = syscall.O_NOFOLLOW
	oNonBlock  = syscall.O_NONBLOCK
	oDirectory = syscall.O_DIRECTORY
)
