package rules

import (
	"strings"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/yamlwriter"
)

// writer appends YAML for the fixed shapes of the rule and test files
// (ruleFile and testFile) as yaml.v3, indenting by 2, marshals them, byte
// for byte, with internal/yamlwriter's scalars: the rule files are most of
// obsgen's output at scale, and their shapes are known, so they skip the
// generic tree the manifests go through.
type writer struct {
	b      []byte
	styles *yamlwriter.Styles
}

// newWriter returns a writer whose buffer starts with obsgen's
// generated-file header and has room for size bytes.
func newWriter(size int) *writer {
	b := make([]byte, 0, len(output.Header)+size)
	return &writer{b: append(b, output.Header...), styles: yamlwriter.NewStyles()}
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

func (w *writer) indent(n int) { w.b = yamlwriter.AppendIndent(w.b, n) }

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
	if yamlwriter.Plain(s) {
		w.b = append(w.b, s...)
		w.b = append(w.b, '\n')
		return
	}
	w.shifted(col, w.styles.Value(s))
}

// field writes `key: s` at column col.
func (w *writer) field(col int, key, s string) {
	w.key(col, key)
	w.value(col, s)
}

// shifted writes a rendering made at column 0 at column col (see
// yamlwriter.AppendShifted).
func (w *writer) shifted(col int, r string) { w.b = yamlwriter.AppendShifted(w.b, col, r) }

// styledKey writes at column col a key that is not plain: `key:`, or a
// complex key `? key` and `:` on the next line, as yaml.v3 writes it.
func (w *writer) styledKey(col int, key string) {
	r := w.styles.Key(key)
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
	yamlwriter.SortKeys(keys)
	for _, k := range keys {
		w.entry(col, k, m[k])
	}
}

// entry writes `key: value` at column col.
func (w *writer) entry(col int, key, value string) {
	if yamlwriter.PlainKey(key) {
		w.key(col, key)
	} else {
		w.styledKey(col, key)
	}
	w.value(col, value)
}
