package render

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// YAML encodes v as YAML with two-space indentation, the way obsgen writes
// the files it does not render from templates.
func YAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
