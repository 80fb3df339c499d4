package schema

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

func TestCommittedSchemaMatchesTheTypes(t *testing.T) {
	got, err := Generate("obsgen.dev/obsgen/internal/schema", "../api/v1alpha1")
	require.NoError(t, err)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile("profile.schema.json", got, 0o644))
		return
	}
	assert.Equal(t, string(got), string(JSON), "profile.schema.json is stale: run `make generate`")
}

func TestSchemaCarriesDescriptionsEnumsAndDefaults(t *testing.T) {
	type property struct {
		Description string   `json:"description"`
		Enum        []string `json:"enum"`
		Default     any      `json:"default"`
		Ref         string   `json:"$ref"`
	}
	var s struct {
		Required   []string            `json:"required"`
		Properties map[string]property `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]property `json:"properties"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(JSON, &s))
	assert.ElementsMatch(t, []string{"apiVersion", "kind", "metadata"}, s.Required)
	assert.Equal(t, "#/$defs/Mesh", s.Properties["mesh"].Ref)
	mtls := s.Defs["Mesh"].Properties["mtls"]
	assert.Equal(t, []string{"STRICT", "PERMISSIVE", "DISABLE"}, mtls.Enum)
	assert.Equal(t, "PERMISSIVE", mtls.Default)
	assert.Contains(t, mtls.Description, "PeerAuthentication mode")
	assert.Equal(t, []string{"open", "default-deny", "global-deny"}, s.Defs["Network"].Properties["stance"].Enum)
	assert.Equal(t, true, s.Defs["Mesh"].Properties["metricsMerging"].Default)
}

// TestCommittedProfileReferenceMatchesTheTypes keeps docs/profile.md, the
// user's field reference, generated from the same types and comments as
// the schema, with the package comment's complete example.
func TestCommittedProfileReferenceMatchesTheTypes(t *testing.T) {
	doc, err := os.ReadFile("../api/v1alpha1/doc.go")
	require.NoError(t, err)
	example, err := Example(doc)
	require.NoError(t, err)
	// From the types, not the embedded schema, so one `make generate`
	// updates both.
	fresh, err := Generate("obsgen.dev/obsgen/internal/schema", "../api/v1alpha1")
	require.NoError(t, err)
	got, err := Markdown(fresh, example)
	require.NoError(t, err)
	const path = "../../docs/profile.md"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, os.MkdirAll("../../docs", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	committed, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(committed), "docs/profile.md is stale: run `make generate`")
}

// TestTheReferenceNamesEveryField walks the Go types: every field a
// profile can set has a row in docs/profile.md, the alerting section
// included, and the example sets every top-level section.
func TestTheReferenceNamesEveryField(t *testing.T) {
	doc, err := os.ReadFile("../api/v1alpha1/doc.go")
	require.NoError(t, err)
	example, err := Example(doc)
	require.NoError(t, err)
	md, err := Markdown(JSON, example)
	require.NoError(t, err)
	var paths []string
	var walk func(prefix string, typ reflect.Type, depth int)
	walk = func(prefix string, typ reflect.Type, depth int) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			if typ.Kind() == reflect.Slice {
				prefix += "[]"
			} else if typ.Kind() == reflect.Map {
				prefix += ".<key>"
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || depth > 8 {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			paths = append(paths, p)
			walk(p, f.Type, depth+1)
		}
	}
	walk("", reflect.TypeFor[v1alpha1.Profile](), 0)
	require.Greater(t, len(paths), 100)
	for _, p := range paths {
		assert.Contains(t, string(md), "| `"+p+"` |", p)
	}
	assert.Contains(t, string(md), "| `alerting.receivers[].slack` |")
	for _, section := range []string{"metadata:", "cluster:", "mesh:", "monitoring:", "network:", "alerting:", "teams:", "dashboards:"} {
		assert.Contains(t, example, "\n"+section, section)
	}
}
