// Package profile loads and validates obsgen profiles: strict YAML decoding
// that keeps every value's position, and checks that report every problem at
// once as file:line:col: field: message; hint.
package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/diag"
)

// Loaded is a decoded, validated profile with the positions of its values.
type Loaded struct {
	File string
	// Files maps the path of each team included from a file of its own
	// (teams[2]) to that file; Positions below it are in that file.
	Files     map[string]string
	Profile   *v1alpha1.Profile
	Positions Positions
	// Keys maps a map entry's path (labels["team"]) to where its key starts.
	Keys Positions
	// Warnings are what the profile does that is valid but almost surely
	// unwanted (alerts routed to a receiver that notifies nobody), sorted.
	Warnings diag.List
}

// MaxSize bounds the profiles the loader accepts; real profiles are a few
// KiB. Readers need read no more than MaxSize+1 bytes to let Load report it.
const MaxSize = 8 << 20

// Load decodes and validates one profile. file names the source in
// diagnostics. On any error it returns a diag.List holding every error (and
// no warning: those follow once the profile is valid); otherwise the
// warnings are in Loaded.Warnings.
func Load(file string, data []byte) (*Loaded, error) {
	return LoadIncluding(file, data, "")
}

// LoadIncluding is Load for a profile read from a file in dir, whose teams
// may include team files (expandIncludes) relative to dir.
func LoadIncluding(file string, data []byte, dir string) (*Loaded, error) {
	if len(data) > MaxSize {
		return nil, diag.List{{File: file, Pos: offsetPos(data, MaxSize), Message: fmt.Sprintf("profile is larger than %d bytes", MaxSize),
			Hint: "split it, or check that the right file was given"}}
	}
	if d := textProblem(file, data); d != nil {
		return nil, diag.List{*d}
	}
	root, diags := parseDocument(file, data)
	if diags != nil {
		return nil, diags
	}
	if diags := checkHeader(file, root); diags != nil {
		return nil, diags
	}
	files := map[string]string{}
	if diags := expandIncludes(file, dir, root, files); diags != nil {
		return nil, diags.Sorted()
	}
	d := &decoder{file: file, files: files, pos: Positions{}, keys: Positions{}}
	var p v1alpha1.Profile
	d.decode(root, reflect.ValueOf(&p).Elem(), "")
	l := &Loaded{File: file, Files: files, Profile: &p, Positions: d.pos, Keys: d.keys}
	// Validate even what decoded only in part, so every problem shows at
	// once, but leave out what merely follows from a decoding problem.
	diags = append(d.diags, followOnFree(Validate(l), d.diags)...)
	if errs := diags.Errors(); len(errs) > 0 {
		return nil, errs.Sorted()
	}
	l.Warnings = diags.Warnings().Sorted()
	return l, nil
}

// followOnFree drops validation problems that may follow from a decoding
// problem: on the same field, a field inside or around it, or a sibling (a
// misspelt mtls falls back to its default, which can make a valid
// scrapeStrategy look wrong). Those show once the decoding problem is fixed.
func followOnFree(validation, decoding diag.List) diag.List {
	var out diag.List
	for _, v := range validation {
		if !slices.ContainsFunc(decoding, func(d diag.Diagnostic) bool { return followsFrom(v, d) }) {
			out = append(out, v)
		}
	}
	return out
}

func followsFrom(v, d diag.Diagnostic) bool {
	within := func(p, of string) bool {
		return of == "" || p == of || strings.HasPrefix(p, of+".") || strings.HasPrefix(p, of+"[")
	}
	return within(v.Path, d.Path) || within(d.Path, v.Path) || parent(v.Path) == parent(d.Path)
}

// parseDocument parses exactly one YAML document whose root is a mapping.
func parseDocument(file string, data []byte) (*yaml.Node, diag.List) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, diag.List{{File: file, Pos: diag.Pos{Line: 1, Col: 1}, Message: "profile is empty",
				Hint: "start from `obsgen init`"}}
		}
		return nil, diag.List{syntaxError(file, data, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, diag.List{{File: file, Pos: nodePos(&extra), Message: "more than one YAML document",
			Hint: "put each profile in a file of its own"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, diag.List{syntaxError(file, data, err)}
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, diag.List{{File: file, Pos: diag.Pos{Line: 1, Col: 1}, Message: "profile is empty",
			Hint: "start from `obsgen init`"}}
	}
	if root.Kind != yaml.MappingNode {
		return nil, diag.List{{File: file, Pos: nodePos(root), Message: fmt.Sprintf("profile must be a mapping (got %s)", describe(root))}}
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are yaml.v3's parser (not scanner) errors: it reports them
// on the 0-based line of the collection being parsed.
var parserProblems = []string{
	"did not find expected <stream-start>", "did not find expected <document start>",
	"did not find expected node content", "did not find expected '-' indicator",
	"did not find expected key", "did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"found undefined tag handle", "found duplicate %YAML directive",
	"found incompatible YAML document", "found duplicate %TAG directive",
}

// syntaxError turns yaml.v3's "yaml: line N: msg" into a positioned
// diagnostic. Its few errors without a line get the position of what they
// name (an undefined alias), or the start of the file.
func syntaxError(file string, data []byte, err error) diag.Diagnostic {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	d := diag.Diagnostic{File: file, Pos: diag.Pos{Line: 1, Col: 1}, Message: "invalid YAML: " + msg}
	if pos, ok := anchorPos(data, msg); ok {
		d.Pos, d.Hint = pos, "define the anchor (&name) before the alias (*name) uses it"
	}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(parserProblems, m[2]) {
			line++
		}
		d.Pos = diag.Pos{Line: line, Col: 1}
		d.Message = "invalid YAML: " + m[2]
	}
	line := d.Pos.Line
	if _, ok := tabIndent(data, line); !ok && strings.Contains(d.Message, "tab character") {
		line++ // yaml.v3 names the line before the tab's
	}
	if col, ok := tabIndent(data, line); ok {
		d.Pos.Line = line
		// yaml.v3 says "found character that cannot start any token" or
		// "found a tab character that violates indentation".
		d.Pos.Col = col
		d.Message = "invalid YAML: a tab indents this line, and YAML indents with spaces only"
		d.Hint = "replace the tab with spaces (set your editor to insert spaces in YAML files)"
	}
	return d
}

// tabIndent finds a tab in the indentation of the 1-based line of data and
// returns its 1-based column.
func tabIndent(data []byte, line int) (int, bool) {
	n := 1
	for l := range strings.Lines(string(data)) {
		if n == line {
			for i, r := range l {
				switch r {
				case ' ':
					continue
				case '\t':
					return i + 1, true
				}
				return 0, false
			}
			return 0, false
		}
		n++
	}
	return 0, false
}

// checkHeader checks apiVersion and kind before anything else, so a file of
// another kind gets one clear message instead of a page of unknown fields.
func checkHeader(file string, root *yaml.Node) diag.List {
	var out diag.List
	for _, want := range []struct{ key, value string }{
		{"apiVersion", v1alpha1.APIVersion}, {"kind", v1alpha1.Kind},
	} {
		val := lookup(root, want.key)
		for val != nil && val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		switch {
		case val == nil:
			out = append(out, diag.Diagnostic{File: file, Pos: nodePos(root), Path: want.key,
				Message: "missing", Hint: fmt.Sprintf("add `%s: %s`", want.key, want.value)})
		case val.Kind != yaml.ScalarNode || val.Value != want.value:
			got := strconv.Quote(val.Value)
			if val.Kind != yaml.ScalarNode {
				got = describe(val)
			}
			out = append(out, diag.Diagnostic{File: file, Pos: nodePos(val), Path: want.key,
				Message: fmt.Sprintf("must be %q (got %s)", want.value, got),
				Hint:    "this file is not an obsgen profile, or is for another obsgen version"})
		}
	}
	return out
}

func lookup(mapping *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return mapping.Content[i+1]
		}
	}
	return nil
}
