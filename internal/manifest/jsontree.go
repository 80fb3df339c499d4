package manifest

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// decodeObject decodes the JSON object that json.Marshal wrote into the
// values json.Decoder with UseNumber gives (map[string]any, []any, string,
// json.Number, bool, nil), several times faster: writing manifests spent
// most of its time in encoding/json's reflection, decoding obsgen's own
// objects at 1000 teams. It accepts exactly the compact JSON json.Marshal
// writes; anything else (whitespace, a string with escapes other than the
// common ones) goes to encoding/json, which is also what the tests compare
// it with (TestDecodeObjectMatchesEncodingJSON).
func decodeObject(data []byte) (map[string]any, error) {
	d := jsonDecoder{data: data}
	v, ok := d.value()
	m, isMap := v.(map[string]any)
	if ok && isMap && d.pos == len(data) {
		return m, nil
	}
	// Not the compact form this reads: encoding/json decides, errors
	// included.
	var slow map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&slow); err != nil {
		return nil, err
	}
	return slow, nil
}

// jsonDecoder reads compact JSON; ok false means "not read here", never
// that the JSON is invalid.
type jsonDecoder struct {
	data  []byte
	pos   int
	depth int
}

// maxDepth is encoding/json's nesting limit: deeper JSON is its to refuse.
const maxDepth = 10000

func (d *jsonDecoder) value() (any, bool) {
	if d.pos >= len(d.data) {
		return nil, false
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.string()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

func (d *jsonDecoder) literal(lit string) bool {
	if !strings.HasPrefix(string(d.data[d.pos:min(d.pos+len(lit), len(d.data))]), lit) {
		return false
	}
	d.pos += len(lit)
	return true
}

func (d *jsonDecoder) object() (any, bool) {
	if d.depth++; d.depth > maxDepth {
		return nil, false
	}
	defer func() { d.depth-- }()
	d.pos++ // {
	m := map[string]any{}
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, true
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, false
		}
		k, ok := d.string()
		if !ok || d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, false
		}
		d.pos++
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k.(string)] = v
		if d.pos >= len(d.data) {
			return nil, false
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *jsonDecoder) array() (any, bool) {
	if d.depth++; d.depth > maxDepth {
		return nil, false
	}
	defer func() { d.depth-- }()
	d.pos++ // [
	a := []any{}
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, true
	}
	for {
		v, ok := d.value()
		if !ok || d.pos >= len(d.data) {
			return nil, false
		}
		a = append(a, v)
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return a, true
		default:
			return nil, false
		}
	}
}

// string reads a string with no escapes but \" \\ \/ \n \t \r \u003c
// \u003e \u0026 (what json.Marshal writes for those characters), in valid
// UTF-8, which encoding/json takes as it is.
func (d *jsonDecoder) string() (any, bool) {
	d.pos++ // "
	start := d.pos
	var b []byte // nil until an escape
	ascii := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.data[start:d.pos]) {
				return nil, false // encoding/json replaces invalid UTF-8
			}
			var s string
			if b == nil {
				s = string(d.data[start:d.pos])
			} else {
				s = string(append(b, d.data[start:d.pos]...))
			}
			d.pos++
			return s, true
		case c == '\\':
			if !ascii && !utf8.Valid(d.data[start:d.pos]) {
				return nil, false
			}
			b = append(b, d.data[start:d.pos]...)
			r, n := unescape(d.data[d.pos:])
			if n == 0 {
				return nil, false
			}
			b = append(b, r)
			d.pos += n
			start = d.pos
		case c < 0x20:
			return nil, false // invalid in JSON
		case c >= 0x80:
			ascii = false
			d.pos++
		default:
			d.pos++
		}
	}
	return nil, false
}

// unescape reads one escape json.Marshal writes for an ASCII character, and
// returns it and the escape's length, or 0 for another.
func unescape(s []byte) (byte, int) {
	if len(s) < 2 {
		return 0, 0
	}
	switch s[1] {
	case '"', '\\', '/':
		return s[1], 2
	case 'n':
		return '\n', 2
	case 't':
		return '\t', 2
	case 'r':
		return '\r', 2
	case 'u':
		if len(s) >= 6 && string(s[2:4]) == "00" {
			switch string(s[4:6]) {
			case "3c":
				return '<', 6
			case "3e":
				return '>', 6
			case "26":
				return '&', 6
			}
		}
	}
	return 0, 0
}

// number reads a JSON number as it is written, as json.Number.
func (d *jsonDecoder) number() (any, bool) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	intStart := d.pos
	n := digits()
	if n == 0 || n > 1 && d.data[intStart] == '0' {
		return nil, false
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, false
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	return json.Number(d.data[start:d.pos]), true
}
