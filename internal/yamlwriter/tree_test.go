package yamlwriter

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// strs are scalars and keys that exercise every style yaml.v3 chooses:
// plain, quoted (numbers, booleans, indicators, ': ', ' #'), literal
// blocks (with and without a final line break, leading spaces), long
// strings, non-ASCII, and empty.
var strs = []string{
	"a", "app.kubernetes.io/name", "obsgen.dev/why", "8080", "0x1F", "1.5", "1e3", "2026-12-02", "true", "No", "null", "~",
	"", " lead", "trail ", "a: b", "a #b", "a#b", "-", "- x", "? x", "@x", "`x", "'q'", `"dq"`, "%x", "!tag", "&a", "*a",
	"{x}", "[x]", "x,y", "line\nnext", "line\nnext\n", "  indented\nblock", "multi\n\nblank\n", "ünï", "tab\there",
	strings.Repeat("long words ", 20), "10 apples", "2026-12-02 x", "sum by (job) (rate(x[5m])) > 0.5",
	`{{ $labels.job }} is down`, "0", "-1", ".5", ".inf", "=", "a:", ":a", "x: |",
}

func randomTree(r *rand.Rand, depth int) any {
	switch k := r.IntN(10); {
	case depth > 3 || k < 4:
		return randomScalar(r)
	case k < 7:
		m := map[string]any{}
		for range r.IntN(4) {
			m[strs[r.IntN(len(strs))]] = randomTree(r, depth+1)
		}
		return m
	default:
		s := []any{}
		for range r.IntN(4) {
			s = append(s, randomTree(r, depth+1))
		}
		return s
	}
}

func randomScalar(r *rand.Rand) any {
	switch r.IntN(8) {
	case 0:
		return []float64{0, 1, -3, 8080, 0.25, 1e21, 123456789, math.Inf(1)}[r.IntN(8)]
	case 1:
		return r.IntN(2) == 0
	case 2:
		return nil
	case 3:
		return []json.Number{"0", "2500000", "-3", "0.25", "1e21", "9223372036854775808", "1.5e-7"}[r.IntN(7)]
	}
	return strs[r.IntN(len(strs))]
}

// The writer writes what yaml.v3 writes, numbers as the values they stand
// for.
func TestTheWriterWritesWhatYAMLv3Writes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		var docs []any
		for range 1 + r.IntN(3) {
			docs = append(docs, randomTree(r, 0))
		}
		w := NewWriter(nil)
		var want []byte
		for j, d := range docs {
			require.NoError(t, w.Document(d, j == 0))
			one, err := Marshal(asNumbers(d))
			require.NoError(t, err)
			if j > 0 {
				want = append(want, "---\n"...)
			}
			want = append(want, one...)
		}
		if !assert.Equal(t, string(want), string(w.Bytes()), "case %d: %#v", i, docs) {
			return
		}
	}
}

func TestAnEncoderSeparatesDocumentsLikeTheWriter(t *testing.T) {
	// The writer's "---" between documents is what one yaml.v3 Encoder
	// writes for several Encode calls.
	docs := []any{map[string]any{"a": 1.0}, []any{"x"}, "s"}
	w := NewWriter(nil)
	for i, d := range docs {
		require.NoError(t, w.Document(d, i == 0))
	}
	assert.Equal(t, "a: 1\n---\n- x\n---\ns\n", string(w.Bytes()))
}

func TestUnsupportedValuesAreErrors(t *testing.T) {
	w := NewWriter(nil)
	err := w.Document(map[string]any{"k": struct{}{}}, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "k: yamlwriter: unsupported value of type struct {}")
}
