package testtools

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"obsgen.dev/obsgen/templates"
)

// Edit replaces the first old with new in s, which must hold it.
func Edit(t testing.TB, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("testtools: %q is not in the text to edit", old)
	}
	return strings.Replace(s, old, new, 1)
}

// Override writes the built-in template at path, with its first old
// replaced by new, into a new templates folder (what --templates names)
// and returns the folder.
func Override(t testing.TB, path, old, new string) string {
	t.Helper()
	data, err := fs.ReadFile(templates.FS, path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(Edit(t, string(data), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
