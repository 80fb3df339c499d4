// Package yamlwriter writes YAML exactly as yaml.v3 marshals it with an
// indent of 2 (obsgen's one YAML layout), without reflection and without
// yaml.v3's event queue, which grows with the whole output of an encoder:
// on large profiles yaml.v3 spent most of obsgen's time and memory.
//
// Scalars that are safely plain are written as they are; any other scalar
// (quoted, a literal block, or anything unusual) is rendered by yaml.v3
// itself, once per distinct string, and placed at its indentation. The one
// departure from yaml.v3: strings it would write in a form it does not read
// back the same are double-quoted (see scalarEntry).
package yamlwriter

import (
	"bytes"
	"slices"
	"strings"
	"unicode"

	yaml "go.yaml.in/yaml/v3"
)

// Marshal is yaml.v3's Marshal with an indent of 2, for values the writer
// does not take (and for the tests that compare the two).
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// Styles caches yaml.v3's renderings of the scalars that are not plain.
// It is not safe for concurrent use: give each goroutine its own.
type Styles struct {
	values map[string]string // scalar -> rendering as a mapping value at column 0
	keys   map[string]string // key -> rendering at column 0, up to its ':'
}

// NewStyles returns an empty cache.
func NewStyles() *Styles {
	return &Styles{values: map[string]string{}, keys: map[string]string{}}
}

// Value returns yaml.v3's rendering of a string that is not Plain, as the
// value of a mapping at column 0 (continuation lines indented for it),
// with its line break.
func (s *Styles) Value(v string) string {
	if r, ok := s.values[v]; ok {
		return r
	}
	r := strings.TrimPrefix(yamlOf(scalarEntry(v, "v", false)), "v: ")
	s.values[v] = r
	return r
}

// Key returns yaml.v3's rendering of a key that is not PlainKey at column
// 0: `key:`, or a complex key `? key` and `:` on the next line.
func (s *Styles) Key(k string) string {
	if r, ok := s.keys[k]; ok {
		return r
	}
	r := strings.TrimSuffix(yamlOf(scalarEntry(k, "x", true)), " x\n")
	s.keys[k] = r
	return r
}

// scalarEntry is a mapping of one entry whose key (if key) or value is s:
// yaml.v3 chooses its style, except for two kinds of strings it writes in
// a form it does not read back: with line breaks other than \n (\r, NEL,
// LS, PS) in single quotes or a literal block, and in a literal block with
// a line that starts with a tab. Those go in double quotes, which escape
// them.
func scalarEntry(s, other string, key bool) any {
	if !strings.ContainsAny(s, "\r\u0085\u2028\u2029") && !(strings.Contains(s, "\n") && (s[0] == '\t' || strings.Contains(s, "\n\t"))) {
		if key {
			return map[string]string{s: other}
		}
		return map[string]string{other: s}
	}
	quoted := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: s}
	plain := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: other}
	if key {
		return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{quoted, plain}}
	}
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{plain, quoted}}
}

// yamlOf marshals a one-entry mapping of strings.
func yamlOf(v any) string {
	data, err := Marshal(v)
	if err != nil {
		// Only values yaml.v3 cannot represent fail; strings always can.
		panic(err)
	}
	return string(data)
}

// Plain tells whether yaml.v3 writes s, as a mapping value or sequence
// item, as a plain scalar. It is conservative: a string it rejects may be
// plain too, and is then rendered by yaml.v3 itself.
//
// A plain scalar here starts with an ASCII letter, `(` or `_` (no
// indicator, number, timestamp or special float), or with a digit when it
// holds a space and does not start like a date (no number or timestamp
// then); is not a word YAML reads as a boolean or null (true, Null, yes,
// OFF, ...); holds only printable ASCII without `: `, ` #` or a trailing
// `:`; and does not end with a space.
func Plain(s string) bool {
	if s == "" {
		return false
	}
	switch c := s[0]; {
	case isLetter(c), c == '(', c == '_':
	case '0' <= c && c <= '9':
		if !strings.Contains(s, " ") || len(s) > 4 && s[4] == '-' {
			return false
		}
	default:
		return false
	}
	if s[len(s)-1] == ' ' || !plainBytes(s) {
		return false
	}
	if len(s) <= 5 {
		switch strings.ToLower(s) {
		case "true", "false", "null", "y", "yes", "on", "n", "no", "off":
			return false
		}
	}
	return true
}

// plainBytes tells whether s holds only printable ASCII (0x20 to 0x7e)
// without `: `, ` #` or a trailing `:`, looking at eight bytes at a time.
func plainBytes(s string) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	// hasZero tells whether a byte of x is 0.
	hasZero := func(x uint64) bool { return (x-ones)&^x&highs != 0 }
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte of 0x80 or more, below 0x20, or 0x7f (DEL).
		if x&highs != 0 || (x-0x20*ones)&^x&highs != 0 || hasZero(x^0x7f*ones) {
			return false
		}
		if hasZero(x^':'*ones) || hasZero(x^'#'*ones) {
			for j := i; j < i+8; j++ {
				if !plainAt(s, j) {
					return false
				}
			}
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || !plainAt(s, i) {
			return false
		}
	}
	return true
}

// plainAt tells whether s[i] is no `:` before a space or the end, and no
// `#` after a space.
func plainAt(s string, i int) bool {
	switch s[i] {
	case ':':
		return i+1 < len(s) && s[i+1] != ' '
	case '#':
		return i == 0 || s[i-1] != ' '
	}
	return true
}

// PlainKey tells whether yaml.v3 writes s as a plain simple key.
func PlainKey(s string) bool {
	return len(s) <= 100 && Plain(s)
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// SortKeys sorts map keys in yaml.v3's order: letters by code point,
// runs of digits by value, other characters before letters (after them
// when they follow a digit).
func SortKeys(keys []string) {
	if all(keys, isASCIILower) {
		// Lower-case letters and underscores: the order of the bytes.
		slices.Sort(keys)
		return
	}
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case keyLess(a, b):
			return -1
		default:
			return 1
		}
	})
}

// keyLess is yaml.v3's keyList.Less for two strings.
func keyLess(a, b string) bool {
	ar, br := []rune(a), []rune(b)
	digits := false
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			digits = unicode.IsDigit(ar[i])
			continue
		}
		al := unicode.IsLetter(ar[i])
		bl := unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			if digits {
				return al
			}
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

func all(keys []string, f func(string) bool) bool {
	for _, k := range keys {
		if !f(k) {
			return false
		}
	}
	return true
}

func isASCIILower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}
