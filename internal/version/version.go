// Package version tells which obsgen is running: the release version a
// release build sets with -ldflags, else what the Go toolchain recorded
// (the module version for `go install obsgen.dev/obsgen/cmd/obsgen@vX`,
// "(devel)" for a build from a checkout, with the commit when the build
// saw one).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is set by release builds:
//
//	go build -ldflags "-X obsgen.dev/obsgen/internal/version.Version=v1.2.3 -X obsgen.dev/obsgen/internal/version.Commit=abcdef0"
var (
	Version string
	Commit  string
)

// Info is what the running binary knows of itself.
type Info struct {
	Version  string // v1.2.3, or (devel)
	Commit   string // the VCS revision, empty when unknown
	Modified bool   // built from a checkout with uncommitted changes
	Go       string // the Go toolchain version
	Platform string // GOOS/GOARCH
}

// Get reads the version from the link-time variables, then the build
// information.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	return info
}

// Short is the version and, for a development build, the short commit:
// what the output's manifest records.
func (i Info) Short() string {
	s := i.Version
	if i.Version == "(devel)" && i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " " + c
		if i.Modified {
			s += "-dirty"
		}
	}
	return s
}

// String is the long form `obsgen version` prints.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "obsgen %s\n", i.Version)
	commit := i.Commit
	if commit == "" {
		commit = "unknown"
	} else if i.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(&b, "commit: %s\ngo: %s\nplatform: %s\n", commit, i.Go, i.Platform)
	return b.String()
}
