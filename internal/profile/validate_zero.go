package profile

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"obsgen.dev/obsgen/internal/diag"
)

// zeroValues reports integer fields written as 0 whose schema says they
// must be at least 1. The types use omitempty, so 0 reads as "unset" and a
// `queue.capacity: 0` would silently become the default; the user meant
// something else, so say so at the value.
func (v *validator) zeroValues() {
	walkInts(reflect.ValueOf(v.l.Profile).Elem(), "", func(path string, f reflect.StructField, value int64) {
		if value != 0 || !v.written(path) || !strings.Contains(f.Tag.Get("jsonschema"), "minimum=1") {
			return
		}
		if slices.ContainsFunc(v.diags, func(d diag.Diagnostic) bool { return d.Path == path }) {
			return // already reported, more precisely
		}
		v.at(path, "remove the field to use the default, or give a positive number", "must be at least 1 (got 0)")
	})
}

// walkInts calls fn for every int struct field reachable from v, with the
// field path the decoder records positions under.
func walkInts(v reflect.Value, path string, fn func(string, reflect.StructField, int64)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkInts(v.Elem(), path, fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			if fv := v.Field(i); fv.Kind() == reflect.Int {
				fn(join(path, name), f, fv.Int())
			} else {
				walkInts(fv, join(path, name), fn)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkInts(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkInts(v.MapIndex(k), fmt.Sprintf("%s[%q]", path, k.String()), fn)
		}
	}
}
