package profile

import (
	"bytes"
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
