package pipeline_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"obsgen.dev/obsgen/generators"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// FuzzLoad feeds the loader arbitrary bytes, starting from the example
// profiles, the invalid cases and the cases that warn. Load must never panic, must report
// problems as a non-empty diag.List naming the file, and must report the
// same thing twice; a profile it accepts must resolve and generate: an
// error there means validation let through something the generators cannot
// handle.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{
		filepath.Join("..", "..", "profiles", "*.yaml"),
		filepath.Join("..", "profile", "testdata", "invalid", "*.yaml"),
		filepath.Join("..", "profile", "testdata", "warnings", "*.yaml"),
	} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		if len(files) == 0 {
			f.Fatalf("no seeds match %s", pattern)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	engine, err := render.New(templates.FS, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz.yaml"
		l, err := profile.Load(file, data)
		if err != nil {
			var list diag.List
			if !errors.As(err, &list) {
				t.Fatalf("Load returned a %T, not a diag.List: %v", err, err)
			}
			if len(list) == 0 {
				t.Fatal("Load returned an empty diag.List")
			}
			for _, d := range list {
				if d.File != file {
					t.Fatalf("diagnostic names file %q: %s", d.File, d)
				}
			}
			if _, again := profile.Load(file, data); again == nil || again.Error() != err.Error() {
				t.Fatalf("Load is not deterministic:\n%v\nthen:\n%v", err, again)
			}
			return
		}
		if l == nil || l.Profile == nil {
			t.Fatal("Load returned neither a profile nor an error")
		}
		p := plan.Resolve(l.Profile)
		if _, err := generators.Run(p, engine); err != nil {
			t.Fatalf("a profile that loads does not generate: %v\nprofile:\n%s", err, data)
		}
	})
}
