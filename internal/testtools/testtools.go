// Package testtools finds the real tools obsgen's tests run against:
// prometheus, promtool, amtool, istioctl and istio-analyze built from the
// pinned modules into bin/
// (`make tools`). Outside CI a missing tool skips the test with
// the command that installs it; with CI=true it fails the test.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot returns the directory holding go.mod, from the test's working
// directory upwards.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testtools: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Find returns the path of a tool: $OBSGEN_<NAME> if set, else bin/<name>
// in the repository, else <name> on PATH.
func Find(t testing.TB, name string) string {
	t.Helper()
	env := "OBSGEN_" + strings.ToUpper(name)
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p := filepath.Join(RepoRoot(t), "bin", name); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := name + " not found in $" + env + ", bin/ or PATH; run `make tools`"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func isExecutable(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}
