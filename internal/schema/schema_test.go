package schema

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
