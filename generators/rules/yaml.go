package rules

import (
	"slices"
	"strings"
	"unicode"

	yaml "go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/render"
)

// writer appends YAML for the fixed shapes of the rule and test files
// (ruleFile and testFile) as yaml.v3, indenting by 2, marshals them, byte
// for byte, without reflection: on large profiles yaml.v3 spent most of
// the generator's time and memory.
//
// Scalars that are safely plain are written as they are; any other scalar
// (quoted, a literal block, or anything unusual) is rendered by yaml.v3
// itself, once per distinct string, and placed at its indentation. The
// only departure from yaml.v3: strings it would write in a form it does not
// read back the same are double-quoted (see scalarEntry).
type writer struct {
	b      []byte
	styled map[string]string // scalar -> yaml.v3's rendering as a value at column 0
	keys   map[string]string // key -> yaml.v3's rendering at column 0
}

// newWriter returns a writer whose buffer starts with obsgen's
// generated-file header and has room for size bytes.
func newWriter(size int) *writer {
	b := make([]byte, 0, len(output.Header)+size)
	return &writer{b: append(b, output.Header...), styled: map[string]string{}, keys: map[string]string{}}
}

// reserve makes room for the next items of a file, about as long as the
// done items written so far: when they do not fit, for all the remaining
// items, so the buffer of a large file is copied once or twice rather than
// at every doubling.
func (w *writer) reserve(done, next, remaining int) {
	if done == 0 || next == 0 {
		return
	}
	per := (len(w.b)-len(output.Header))/done + 16
	if cap(w.b)-len(w.b) >= per*next {
		return
	}
	n := per * remaining
	b := make([]byte, len(w.b), len(w.b)+n+n/8)
	copy(b, w.b)
	w.b = b
}

// file returns the file of the writer's YAML (the header included).
func (w *writer) file(path string) output.File {
	return output.File{Path: path, Data: w.b}
}

const spaces = "                                                                "

func (w *writer) indent(n int) {
	for n > len(spaces) {
		w.b = append(w.b, spaces...)
		n -= len(spaces)
	}
	w.b = append(w.b, spaces[:n]...)
}

// key writes `key:` at column col (the caller checks key is plainKey).
func (w *writer) key(col int, key string) {
	w.indent(col)
	w.b = append(w.b, key...)
	w.b = append(w.b, ':')
}

// item writes `- key:` for the first key of a mapping in a sequence whose
// dashes stand at column col.
func (w *writer) item(col int, key string) {
	w.indent(col)
	w.b = append(w.b, "- "...)
	w.b = append(w.b, key...)
	w.b = append(w.b, ':')
}

// value writes ` s` and the line break after a key at column col.
func (w *writer) value(col int, s string) {
	w.b = append(w.b, ' ')
	if plain(s) {
		w.b = append(w.b, s...)
		w.b = append(w.b, '\n')
		return
	}
	w.shifted(col, w.style(s))
}

// field writes `key: s` at column col.
func (w *writer) field(col int, key, s string) {
	w.key(col, key)
	w.value(col, s)
}

// shifted writes a rendering made at column 0 at column col: its first
// line as it is, and every further line that is not empty shifted by col,
// as nesting the same document would.
func (w *writer) shifted(col int, r string) {
	for first := true; r != ""; first = false {
		line, rest, _ := strings.Cut(r, "\n")
		if line != "" && !first {
			w.indent(col)
		}
		w.b = append(w.b, line...)
		w.b = append(w.b, '\n')
		r = rest
	}
}

// style returns yaml.v3's rendering of a scalar that is not plain, as the
// value of a mapping at column 0 (continuation lines indented for it).
func (w *writer) style(s string) string {
	if r, ok := w.styled[s]; ok {
		return r
	}
	r := strings.TrimPrefix(yamlOf(scalarEntry(s, "v", false)), "v: ")
	w.styled[s] = r
	return r
}

// styledKey writes at column col a key that is not plain: `key:`, or a
// complex key `? key` and `:` on the next line, as yaml.v3 writes it.
func (w *writer) styledKey(col int, key string) {
	r, ok := w.keys[key]
	if !ok {
		r = strings.TrimSuffix(yamlOf(scalarEntry(key, "x", true)), " x\n")
		w.keys[key] = r
	}
	w.indent(col)
	for first := true; ; first = false {
		line, rest, more := strings.Cut(r, "\n")
		if line != "" && !first {
			w.indent(col)
		}
		w.b = append(w.b, line...)
		if !more {
			return
		}
		w.b = append(w.b, '\n')
		r = rest
	}
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

// yamlOf marshals v as obsgen's YAML files do (yaml.v3, indent 2).
func yamlOf(v any) string {
	data, err := render.YAML(v)
	if err != nil {
		// Only values yaml.v3 cannot represent fail; strings always can.
		panic(err)
	}
	return string(data)
}

// mapping writes the entries of m, sorted as yaml.v3 sorts map keys, at
// column col, after a line break; an empty map is written ` {}`.
func (w *writer) mapping(col int, m map[string]string) {
	if len(m) == 0 {
		w.b = append(w.b, " {}\n"...)
		return
	}
	w.b = append(w.b, '\n')
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		w.entry(col, k, m[k])
	}
}

// entry writes `key: value` at column col.
func (w *writer) entry(col int, key, value string) {
	if plainKey(key) {
		w.key(col, key)
	} else {
		w.styledKey(col, key)
	}
	w.value(col, value)
}

// plain tells whether yaml.v3 writes s, as a mapping value or sequence
// item, as a plain scalar. It is conservative: a string it rejects may be
// plain too, and is then rendered by yaml.v3 itself.
//
// A plain scalar here starts with an ASCII letter, `(` or `_` (no
// indicator, number, timestamp or special float), or with a digit when it
// holds a space and does not start like a date (no number or timestamp
// then); is not a word YAML reads as a boolean or null (true, Null, yes,
// OFF, ...); holds only printable ASCII without `: `, ` #` or a trailing
// `:`; and does not end with a space.
func plain(s string) bool {
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

// plainKey tells whether yaml.v3 writes s as a plain simple key.
func plainKey(s string) bool {
	return len(s) <= 100 && plain(s)
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// sortKeys sorts map keys in yaml.v3's order: letters by code point,
// runs of digits by value, other characters before letters (after them
// when they follow a digit).
func sortKeys(keys []string) {
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
