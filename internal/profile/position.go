package profile

import (
	"bytes"
	"fmt"
	"regexp"
	"unicode/utf8"

	"obsgen.dev/obsgen/internal/diag"
)

// offsetPos turns a byte offset into a 1-based line and column (counted in
// characters, as YAML parsers and editors do).
func offsetPos(data []byte, offset int) diag.Pos {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return diag.Pos{Line: line, Col: utf8.RuneCount(before[lineStart:]) + 1}
}

// textProblem finds the first byte YAML refuses before any parsing, so the
// problem gets a position: yaml.v3 reports invalid UTF-8 and control
// characters (a NUL byte, say) without one.
func textProblem(file string, data []byte) *diag.Diagnostic {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &diag.Diagnostic{File: file, Pos: offsetPos(data, i),
				Message: fmt.Sprintf("invalid YAML: byte 0x%02x at offset %d is not UTF-8", data[i], i),
				Hint:    "save the file as UTF-8"}
		case !yamlPrintable(r) && !(r == 0xFEFF && i == 0):
			return &diag.Diagnostic{File: file, Pos: offsetPos(data, i),
				Message: fmt.Sprintf("invalid YAML: control character %U is not allowed", r),
				Hint:    "remove it; write it as an escape inside double quotes if it is meant"}
		}
		i += size
	}
	return nil
}

// yamlPrintable is YAML 1.2's c-printable set (tab, line breaks and
// printable characters).
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r < 0x20 || r == 0x7f || (r > 0x7f && r < 0xa0):
		return false
	case r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
		return false
	}
	return true
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// anchorPos finds where an undefined alias is used, for yaml.v3's "unknown
// anchor" error that has no line.
func anchorPos(data []byte, msg string) (diag.Pos, bool) {
	m := unknownAnchor.FindStringSubmatch(msg)
	if m == nil {
		return diag.Pos{}, false
	}
	use := regexp.MustCompile(`(^|[\s\[\{,:-])\*` + regexp.QuoteMeta(m[1]) + `([\s\]\},]|$)`)
	loc := use.FindIndex(data)
	if loc == nil {
		return diag.Pos{}, false
	}
	at := loc[0] + bytes.IndexByte(data[loc[0]:loc[1]], '*')
	return offsetPos(data, at), true
}
