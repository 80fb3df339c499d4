// Package schema publishes the JSON Schema of the v1alpha1 profile, built
// from the Go types: field names from yaml tags, descriptions from the doc
// comments, enums from the types' Values, defaults and bounds from the
// jsonschema tags. Editors use it to complete and check profiles.
package schema

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// ID is the schema's $id.
const ID = "https://obsgen.dev/schemas/profile-v1alpha1.json"

// JSON is the committed schema; a test regenerates it from the sources.
//
//go:embed profile.schema.json
var JSON []byte

var enumType = reflect.TypeFor[v1alpha1.Enum]()

// Generate builds the schema. Doc comments are read from the Go sources of
// the v1alpha1 package at sourceDir, a path relative to the package whose
// import path is base (comments are keyed by import path).
func Generate(base, sourceDir string) ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		ExpandedStruct:             true,
		Mapper:                     enumSchema,
	}
	if err := r.AddGoComments(base, sourceDir); err != nil {
		return nil, fmt.Errorf("read doc comments: %w", err)
	}
	s := r.Reflect(&v1alpha1.Profile{})
	includeTeams(s)
	s.ID = ID
	s.Title = "obsgen profile (obsgen.dev/v1alpha1)"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal schema: %w", err)
	}
	return append(b, '\n'), nil
}

func enumSchema(t reflect.Type) *jsonschema.Schema {
	if t.Kind() != reflect.String || !t.Implements(enumType) {
		return nil
	}
	values := reflect.Zero(t).Interface().(v1alpha1.Enum).Values()
	s := &jsonschema.Schema{Type: "string"}
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	return s
}

// includeTeams lets a teams entry be a team or an include of team files
// (profile.IncludeKey), which the loader expands before decoding.
func includeTeams(s *jsonschema.Schema) {
	teams, ok := s.Properties.Get("teams")
	if !ok || teams.Items == nil {
		return
	}
	include := &jsonschema.Schema{Type: "object", AdditionalProperties: jsonschema.FalseSchema, Required: []string{"include"},
		Description: "TeamInclude stands for the teams of the files a glob matches, relative to the profile's folder, one team (a Team mapping) per file."}
	include.Properties = jsonschema.NewProperties()
	include.Properties.Set("include", &jsonschema.Schema{Type: "string",
		Description: "Include is a file or glob of team files, such as teams/*.yaml."})
	s.Definitions["TeamInclude"] = include
	teams.Items = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{teams.Items, {Ref: "#/$defs/TeamInclude"}}}
}
