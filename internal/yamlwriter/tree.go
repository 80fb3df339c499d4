package yamlwriter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Writer appends YAML documents of generic trees (what encoding/json
// decodes into: map[string]any, []any, string, float64 or json.Number,
// bool, nil) to a buffer, as yaml.v3 writes them.
type Writer struct {
	b      []byte
	styles *Styles
	keys   []string // reused for sorting one mapping's keys
}

// NewWriter returns a writer that appends to b.
func NewWriter(b []byte) *Writer {
	return &Writer{b: b, styles: NewStyles()}
}

// Bytes returns what the writer holds.
func (w *Writer) Bytes() []byte { return w.b }

// errComplexKey stops a document with a key yaml.v3 writes as a complex
// key (`? key`), which Document then leaves to yaml.v3.
var errComplexKey = errors.New("complex key")

// Document appends v as one document; every document after the first
// starts with `---`, as a yaml.v3 Encoder separates them.
func (w *Writer) Document(v any, first bool) error {
	if !first {
		w.b = append(w.b, "---\n"...)
	}
	start := len(w.b)
	err := w.document(v)
	if errors.Is(err, errComplexKey) {
		// Keys spanning lines: rare enough to leave to yaml.v3 itself.
		data, merr := Marshal(asNumbers(v))
		if merr != nil {
			return merr
		}
		w.b = append(w.b[:start], data...)
		return nil
	}
	return err
}

// asNumbers turns each json.Number of a tree into the int64 or float64 it
// stands for, which is how the writer writes it; yaml.v3 would quote a
// json.Number as text.
func asNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return string(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = asNumbers(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = asNumbers(x)
		}
		return out
	}
	return v
}

func (w *Writer) document(v any) error {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			w.b = append(w.b, "{}\n"...)
			return nil
		}
		return w.entries(0, t, false)
	case []any:
		if len(t) == 0 {
			w.b = append(w.b, "[]\n"...)
			return nil
		}
		return w.items(0, t, false)
	}
	return w.scalar(0, v)
}

const spaces = "                                                                "

func (w *Writer) indent(n int) { w.b = AppendIndent(w.b, n) }

// AppendIndent appends n spaces to b.
func AppendIndent(b []byte, n int) []byte {
	for n > len(spaces) {
		b = append(b, spaces...)
		n -= len(spaces)
	}
	return append(b, spaces[:n]...)
}

// entries writes a non-empty mapping's entries at column col; with inline
// the first key follows a sequence dash on the current line.
func (w *Writer) entries(col int, m map[string]any, inline bool) error {
	keys := w.sortedKeys(m)
	for i, k := range keys {
		if i > 0 || !inline {
			w.indent(col)
		}
		if err := w.key(k); err != nil {
			return err
		}
		if err := w.value(col, m[k]); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// sortedKeys returns m's keys in yaml.v3's order, in a slice that is only
// valid until the next call.
func (w *Writer) sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	SortKeys(keys)
	return keys
}

// key writes `key:` on a line already indented.
func (w *Writer) key(k string) error {
	if PlainKey(k) {
		w.b = append(w.b, k...)
		w.b = append(w.b, ':')
		return nil
	}
	r := w.styles.Key(k)
	if strings.Contains(r, "\n") {
		return errComplexKey
	}
	w.b = append(w.b, r...)
	return nil
}

// value writes what follows `key:` at column col.
func (w *Writer) value(col int, v any) error {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			w.b = append(w.b, " {}\n"...)
			return nil
		}
		w.b = append(w.b, '\n')
		return w.entries(col+2, t, false)
	case []any:
		if len(t) == 0 {
			w.b = append(w.b, " []\n"...)
			return nil
		}
		w.b = append(w.b, '\n')
		return w.items(col+2, t, false)
	}
	w.b = append(w.b, ' ')
	return w.scalar(col, v)
}

// items writes a non-empty sequence with its dashes at column col; with
// inline the first dash follows another dash on the current line.
func (w *Writer) items(col int, s []any, inline bool) error {
	for i, v := range s {
		if i > 0 || !inline {
			w.indent(col)
		}
		w.b = append(w.b, "- "...)
		if err := w.item(col, v); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return nil
}

// item writes what follows a dash at column col.
func (w *Writer) item(col int, v any) error {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			w.b = append(w.b, "{}\n"...)
			return nil
		}
		return w.entries(col+2, t, true)
	case []any:
		if len(t) == 0 {
			w.b = append(w.b, "[]\n"...)
			return nil
		}
		return w.items(col+2, t, true)
	}
	return w.scalar(col, v)
}

// scalar writes a scalar and its line break; continuation lines of a
// multi-line rendering are shifted to column col.
func (w *Writer) scalar(col int, v any) error {
	switch t := v.(type) {
	case string:
		if Plain(t) {
			w.b = append(w.b, t...)
			w.b = append(w.b, '\n')
			return nil
		}
		w.shifted(col, w.styles.Value(t))
		return nil
	case float64:
		w.b = appendFloat(w.b, t)
	case json.Number:
		return w.scalar(col, asNumbers(t))
	case bool:
		w.b = strconv.AppendBool(w.b, t)
	case nil:
		w.b = append(w.b, "null"...)
	case int:
		w.b = strconv.AppendInt(w.b, int64(t), 10)
	case int64:
		w.b = strconv.AppendInt(w.b, t, 10)
	default:
		return fmt.Errorf("yamlwriter: unsupported value of type %T", v)
	}
	w.b = append(w.b, '\n')
	return nil
}

// appendFloat formats f as yaml.v3 does.
func appendFloat(b []byte, f float64) []byte {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	switch s {
	case "+Inf":
		s = ".inf"
	case "-Inf":
		s = "-.inf"
	case "NaN":
		s = ".nan"
	}
	return append(b, s...)
}

func (w *Writer) shifted(col int, r string) { w.b = AppendShifted(w.b, col, r) }

// AppendShifted appends a rendering made at column 0 at column col: its
// first line as it is, and every further line that is not empty shifted by
// col, as nesting the same document would.
func AppendShifted(b []byte, col int, r string) []byte {
	for first := true; r != ""; first = false {
		line, rest, _ := strings.Cut(r, "\n")
		if line != "" && !first {
			b = AppendIndent(b, col)
		}
		b = append(b, line...)
		b = append(b, '\n')
		r = rest
	}
	return b
}
