// Package diag holds positioned diagnostics: problems found in a user's file,
// each naming the file, line, column and field, with a hint on how to fix it.
// A diagnostic is an error (the file cannot be used) or a warning (it can,
// but does something the user almost certainly does not want).
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

// Severity tells an error from a warning. The zero value is Error.
type Severity int

// Severities.
const (
	Error Severity = iota
	Warning
)

// Diagnostic is one problem in a source file.
type Diagnostic struct {
	File     string
	Pos      Pos
	Path     string // field path such as teams[1].services[0].port; empty for the whole file
	Message  string
	Hint     string   // how to fix it; optional
	Severity Severity // Error unless set
}

// String renders the diagnostic as file:line:col: path: message; hint: ...
// A warning reads file:line:col: warning: path: message; hint: ..., the
// way compilers mark theirs.
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", d.Pos.Line, d.Pos.Col)
	}
	b.WriteString(": ")
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
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

// Errors returns the diagnostics that are errors, in order.
func (l List) Errors() List { return l.filter(Error) }

// Warnings returns the diagnostics that are warnings, in order.
func (l List) Warnings() List { return l.filter(Warning) }

func (l List) filter(s Severity) List {
	var out List
	for _, d := range l {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
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
			cmp.Compare(a.Severity, b.Severity),
		)
	})
	return slices.Compact(out)
}
