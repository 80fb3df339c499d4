package calico

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// DecodeStrict reads one GlobalNetworkPolicy or NetworkPolicy from a JSON or
// YAML document and returns a *GlobalNetworkPolicy or a *NetworkPolicy
// according to its kind. It is as strict as the API server's strict field
// validation, and stricter than encoding/json:
//
//   - apiVersion must be projectcalico.org/v3 (crd.projectcalico.org/v1 is
//     Calico's internal storage API, not for users) and kind one of the two;
//   - unknown fields are errors, with their path, and field names are
//     case-sensitive ("Selector" is not "selector");
//   - duplicate keys are errors;
//   - there must be exactly one document.
//
// It checks the structure only; NewEvaluator checks what the fields say.
func DecodeStrict(data []byte) (any, error) {
	doc, err := singleDocument(data)
	if err != nil {
		return nil, err
	}
	var head struct {
		APIVersion any `json:"apiVersion"`
		Kind       any `json:"kind"`
	}
	var generic any
	if err := json.Unmarshal(doc, &generic); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if _, ok := generic.(map[string]any); !ok {
		return nil, fmt.Errorf("decode: the document is not an object")
	}
	_ = json.Unmarshal(doc, &head) // cannot fail: doc is an object
	apiVersion, _ := head.APIVersion.(string)
	kind, _ := head.Kind.(string)
	switch {
	case head.APIVersion == nil:
		return nil, errors.New("decode: missing apiVersion (want " + APIVersion + ")")
	case apiVersion == "crd.projectcalico.org/v1":
		return nil, fmt.Errorf("decode: apiVersion %q is Calico's internal storage API; write %s", apiVersion, APIVersion)
	case apiVersion != APIVersion:
		return nil, fmt.Errorf("decode: apiVersion %v is not %s", jsonString(head.APIVersion), APIVersion)
	}
	var target any
	switch kind {
	case KindGlobalNetworkPolicy:
		target = &GlobalNetworkPolicy{}
	case KindNetworkPolicy:
		target = &NetworkPolicy{}
	default:
		if head.Kind == nil {
			return nil, errors.New("decode: missing kind")
		}
		return nil, fmt.Errorf("decode: kind %v is not %s or %s", jsonString(head.Kind), KindGlobalNetworkPolicy, KindNetworkPolicy)
	}
	if err := checkFields(reflect.TypeOf(target), generic, ""); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kind, err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kind, err)
	}
	return target, nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// singleDocument returns the only YAML (or JSON) document of data as JSON.
func singleDocument(data []byte) ([]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		j, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		if t := bytes.TrimSpace(j); len(t) == 0 || string(t) == "null" {
			continue // an empty document, e.g. after a leading ---
		}
		docs = append(docs, j)
	}
	switch len(docs) {
	case 0:
		return nil, errors.New("decode: no document")
	case 1:
		return docs[0], nil
	default:
		return nil, fmt.Errorf("decode: %d documents, want one", len(docs))
	}
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// checkFields walks the generic JSON value v along the Go type t and reports
// the first key t has no field for, matching names exactly. Types with their
// own UnmarshalJSON (Port, Protocol, metav1.Time, ...) check themselves.
func checkFields(t reflect.Type, v any, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil // a type error, which the decoder reports
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				return unknownField(joinPath(path, k), k, fields)
			}
			if err := checkFields(ft, obj[k], joinPath(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range arr {
			if err := checkFields(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for k, e := range obj {
			if err := checkFields(t.Elem(), e, joinPath(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func unknownField(path, key string, fields map[string]reflect.Type) error {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Errorf("unknown field %q (field names are case-sensitive: did you mean %q?)", path, name)
		}
	}
	return fmt.Errorf("unknown field %q", path)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields maps the JSON names of t's fields to their types, following
// encoding/json: embedded structs without a name are inlined.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) {
				if _, ok := fields[k]; !ok {
					fields[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}
