package profile

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/diag"
)

// Positions maps a field path (teams[1].services[0].port) to where its value
// starts in the source file.
type Positions map[string]diag.Pos

// decoder maps a yaml.Node tree onto Go values by their yaml tags. Unlike
// yaml.v3's own decoder it does not stop at the first problem: it records a
// positioned diagnostic for every unknown field, wrong type or bad enum value
// and carries on, so a user sees all of them at once.
type decoder struct {
	file string
	// files are the team files of included teams, by path (Loaded.Files).
	files map[string]string
	diags diag.List
	pos   Positions
	keys  Positions
	// decoded and aliased count the nodes visited, and those reached
	// through an alias, to refuse alias bombs as yaml.v3 does.
	decoded, aliased int
	aliasDepth       int
	tooManyAliases   bool
}

func (d *decoder) errorf(n *yaml.Node, path, hint, format string, args ...any) {
	d.diags = append(d.diags, diag.Diagnostic{
		File: (&Loaded{File: d.file, Files: d.files}).FileOf(path), Pos: nodePos(n), Path: path,
		Message: fmt.Sprintf(format, args...), Hint: hint,
	})
}

func nodePos(n *yaml.Node) diag.Pos { return diag.Pos{Line: n.Line, Col: n.Column} }

// decode fills v from n. v must be settable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		d.aliasDepth++
		defer func() { d.aliasDepth-- }()
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
	}
	if d.excessiveAliasing(n) {
		return
	}
	if isNull(n) {
		return // leave the zero value: the field counts as unset and has no position
	}
	d.pos[path] = nodePos(n)
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.decode(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

// excessiveAliasing applies yaml.v3's limit on alias expansion.
func (d *decoder) excessiveAliasing(n *yaml.Node) bool {
	if d.tooManyAliases {
		return true
	}
	d.decoded++
	if d.aliasDepth > 0 {
		d.aliased++
	}
	if d.aliased > 100 && d.decoded > 1000 && float64(d.aliased)/float64(d.decoded) > allowedAliasRatio(d.decoded) {
		d.tooManyAliases = true
		d.errorf(n, "", "expand fewer aliases", "the profile expands to too much through YAML aliases")
		return true
	}
	return false
}

// allowedAliasRatio is yaml.v3's: 99% of small documents may come from
// aliases, 10% of documents over 4,000,000 nodes.
func allowedAliasRatio(decoded int) float64 {
	switch {
	case decoded <= 400_000:
		return 0.99
	case decoded >= 4_000_000:
		return 0.10
	default:
		return 0.99 - 0.89*(float64(decoded-400_000)/3_600_000)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "", "must be a mapping (got %s)", describe(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		fieldPath := join(path, name)
		if seen[name] {
			d.errorf(key, fieldPath, "remove one of the two entries", "duplicate field")
			continue
		}
		seen[name] = true
		idx, ok := fields[name]
		if !ok {
			d.errorf(key, fieldPath, suggest(name, slices.Sorted(mapKeys(fields))), "unknown field")
			continue
		}
		d.decode(val, v.Field(idx), fieldPath)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "write it as a list: `- item`", "must be a list (got %s)", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// decodeMap handles the map[string]string fields (labels and selectors).
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "", "must be a mapping of strings (got %s)", describe(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		entryPath := fmt.Sprintf("%s[%q]", path, key.Value)
		if m.MapIndex(reflect.ValueOf(key.Value)).IsValid() {
			d.errorf(key, entryPath, "remove one of the two entries", "duplicate key")
			continue
		}
		d.keys[entryPath] = nodePos(key)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, entryPath)
		m.SetMapIndex(reflect.ValueOf(key.Value), elem)
	}
	v.Set(m)
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "", "must be a %s (got %s)", kindName(v.Kind()), describe(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		d.decodeString(n, v, path)
	case reflect.Int:
		d.decodeInt(n, v, path)
	case reflect.Float64:
		d.decodeFloat(n, v, path)
	case reflect.Bool:
		if n.Tag != "!!bool" {
			d.errorf(n, path, "use true or false", "must be a boolean (got %s)", describe(n))
			return
		}
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("profile: no decoder for %s at %s", v.Type(), path))
	}
}

func (d *decoder) decodeString(n *yaml.Node, v reflect.Value, path string) {
	if n.Tag != "!!str" {
		hint := fmt.Sprintf("quote it if it is meant as text: %q", n.Value)
		switch {
		case durationField(path) && n.Tag == "!!int":
			hint = fmt.Sprintf("a Prometheus duration needs its unit: %ss, %sm or %sh", n.Value, n.Value, n.Value)
		case durationField(path) && n.Tag == "!!float":
			hint = "a Prometheus duration is whole numbers with units, such as 90s or 1m30s"
		}
		d.errorf(n, path, hint, "must be a string (got %s)", describe(n))
		return
	}
	if enum, ok := v.Interface().(v1alpha1.Enum); ok {
		allowed := enum.Values()
		if !slices.Contains(allowed, n.Value) {
			d.errorf(n, path, suggest(n.Value, allowed), "must be one of %s (got %q)",
				strings.Join(allowed, ", "), n.Value)
			return
		}
	}
	v.SetString(n.Value)
}

// durationFields are the profile's fields that hold a Prometheus duration
// (validate checks them with model.ParseDuration), by their last name.
var durationFields = []string{"scrapeInterval", "scrapeTimeout", "evaluationInterval", "groupWait", "groupInterval",
	"repeatInterval", "for", "batchSendDeadline", "retention"}

func durationField(path string) bool {
	last := path[strings.LastIndexAny(path, ".")+1:]
	return slices.Contains(durationFields, last)
}

func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) {
	if n.Tag != "!!int" {
		d.errorf(n, path, "", "must be an integer (got %s)", describe(n))
		return
	}
	i, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
		d.errorf(n, path, "", "integer out of range (got %s)", n.Value)
		return
	}
	v.SetInt(i)
}

func (d *decoder) decodeFloat(n *yaml.Node, v reflect.Value, path string) {
	if n.Tag != "!!int" && n.Tag != "!!float" {
		d.errorf(n, path, "", "must be a number (got %s)", describe(n))
		return
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.errorf(n, path, "", "must be a finite number (got %s)", n.Value)
		return
	}
	v.SetFloat(f)
}

// structFields maps yaml field names to field indexes.
func structFields(t reflect.Type) map[string]int {
	out := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = i
		}
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// describe names what a node holds, for "must be X (got Y)" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	kinds := map[string]string{"!!str": "string", "!!int": "integer", "!!float": "number", "!!bool": "boolean"}
	if k, ok := kinds[n.Tag]; ok {
		return fmt.Sprintf("%s %s", k, strconv.Quote(n.Value))
	}
	return strconv.Quote(n.Value)
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Int:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	}
	return "string"
}

// suggest proposes the closest allowed word for a misspelt one, or "".
func suggest(got string, allowed []string) string {
	best, bestDist := "", math.MaxInt
	for _, a := range allowed {
		if strings.EqualFold(a, got) {
			return fmt.Sprintf("did you mean %q?", a)
		}
		if dist := levenshtein.ComputeDistance(strings.ToLower(got), strings.ToLower(a)); dist < bestDist {
			best, bestDist = a, dist
		}
	}
	if best != "" && bestDist <= max(2, len(got)/3) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	if len(allowed) > 0 && len(allowed) <= 12 {
		return "expected one of: " + strings.Join(allowed, ", ")
	}
	return ""
}
