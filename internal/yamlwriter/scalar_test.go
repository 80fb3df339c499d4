package yamlwriter

import (
	"maps"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
)

// TestKeyOrderAsYAMLv3: map keys come in yaml.v3's order.
func TestKeyOrderAsYAMLv3(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	alphabet := []rune("aabzAZ_09-.1 é日")
	for range 5000 {
		m := map[string]string{}
		for range 1 + rnd.Intn(6) {
			var b strings.Builder
			for range 1 + rnd.Intn(5) {
				b.WriteRune(alphabet[rnd.Intn(len(alphabet))])
			}
			m[b.String()] = "v"
		}
		m["ok"] = "v"
		keys := slices.Collect(maps.Keys(m))
		SortKeys(keys)
		var want []string
		var node yaml.Node
		require.NoError(t, node.Encode(m))
		for i := 0; i < len(node.Content); i += 2 {
			want = append(want, node.Content[i].Value)
		}
		require.Equal(t, want, keys)
	}
}

// TestPlainBytes: plainBytes, eight bytes at a time, agrees with a byte
// by byte reading.
func TestPlainBytes(t *testing.T) {
	naive := func(s string) bool {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 0x20 || c > 0x7e || c == ':' && (i+1 == len(s) || s[i+1] == ' ') || c == '#' && i > 0 && s[i-1] == ' ' {
				return false
			}
		}
		return true
	}
	base := []byte("abcd efgh:ijkl#mnop qrstu")
	for n := 0; n <= len(base); n++ {
		for i := 0; i < n; i++ {
			for c := 0; c < 256; c++ {
				b := slices.Clone(base[:n])
				b[i] = byte(c)
				require.Equal(t, naive(string(b)), plainBytes(string(b)), "%q", b)
			}
		}
	}
}
