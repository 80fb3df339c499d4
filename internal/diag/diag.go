// Package diag holds positioned diagnostics: problems found in a user's file,
// each naming the file, line, column and field, with a hint on how to fix it.
package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a 1-based line and column in a source file.
type Pos struct {
	Line int
	Col  int
}

// Diagnostic is one problem in a source file.
type Diagnostic struct {
	File    string
	Pos     Pos
	Path    string // field path such as teams[1].services[0].port; empty for the whole file
	Message string
	Hint    string // how to fix it; optional
}

// String renders the diagnostic as file:line:col: path: message; hint: ...
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", d.Pos.Line, d.Pos.Col)
	}
	b.WriteString(": ")
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString("; hint: ")
		b.WriteString(d.Hint)
	}
	return b.String()
}

// List is an ordered collection of diagnostics. It implements error so a
// caller can return every problem at once.
type List []Diagnostic

// Error renders one diagnostic per line.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, d := range l {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Sorted returns the diagnostics ordered by file, position and path, with
// exact duplicates removed, so output does not depend on check order.
func (l List) Sorted() List {
	out := slices.Clone(l)
	slices.SortStableFunc(out, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return slices.Compact(out)
}
