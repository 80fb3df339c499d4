package output_test

import (
	"testing"

	"obsgen.dev/obsgen/internal/output"
)

// FuzzParseManifest feeds the manifest reader arbitrary bytes: it must
// never panic, and every entry it accepts must be a path CheckPath accepts,
// or a planted manifest could make obsgen prune outside its folder.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("# Files written by obsgen; it prunes only these. DO NOT EDIT.\na.yaml\nsub/b.yaml\n"))
	f.Add([]byte("../x\n"))
	f.Add([]byte("#c\n\n/abs\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		owned, err := output.ParseManifest(data)
		if err != nil {
			return
		}
		for _, p := range owned {
			if err := output.CheckPath(p); err != nil {
				t.Fatalf("accepted entry %q: %v", p, err)
			}
		}
	})
}

// FuzzParsePending feeds the pending-run reader arbitrary bytes: it must
// never panic (what it accepts is checked field by field inside).
func FuzzParsePending(f *testing.F) {
	f.Add([]byte(`{"state":"commit","sets":[{"name":"site","moves":[{"temp":".obsgen-0.tmp","path":"a.yaml"}],"prune":["b.yaml"],"manifest":".obsgen-1.tmp"}]}`))
	f.Add([]byte(`{"state":"staging","created":["x"],"sets":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = output.ParsePending(data)
	})
}
