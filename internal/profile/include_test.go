package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/diag"
)

const includingProfile = `apiVersion: obsgen.dev/v1alpha1
kind: Profile
metadata:
  name: fragments
teams:
  - name: platform-apps
    namespaces: [apps]
  - include: teams/*.yaml
  - name: last
    namespaces: [last]
`

func writeTeams(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "teams"), 0o755))
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "teams", name), []byte(body), 0o644))
	}
	return dir
}

// TestIncludedTeamsTakeTheirPlaceInFileOrder: an include entry stands for
// its files' teams, sorted by file name, where the entry stands.
func TestIncludedTeamsTakeTheirPlaceInFileOrder(t *testing.T) {
	dir := writeTeams(t, map[string]string{
		"b-search.yaml":   "name: search\nnamespaces: [search]\n",
		"a-payments.yaml": "name: payments\nnamespaces: [payments]\nservices:\n  - {name: checkout, namespace: payments, port: 8080}\n",
	})
	file := filepath.Join(dir, "profile.yaml")
	l, err := LoadIncluding(file, []byte(includingProfile), dir)
	require.NoError(t, err)
	var names []string
	for _, team := range l.Profile.Teams {
		names = append(names, team.Name)
	}
	assert.Equal(t, []string{"platform-apps", "payments", "search", "last"}, names)
	assert.Equal(t, filepath.Join(dir, "teams", "a-payments.yaml"), l.FileOf("teams[1].services[0].port"))
	assert.Equal(t, file, l.FileOf("teams[0].name"))
	assert.Equal(t, file, l.FileOf("teams[3]"))
	assert.Equal(t, diag.Pos{Line: 4, Col: 49}, l.Pos("teams[1].services[0].port"), "positions are the team file's")
}

// TestProblemsInTeamFilesNameTheFile: every kind of problem in a team file
// (decoding, validation across teams, YAML syntax, a second document) is
// reported at the team file's line and column; an include that matches
// nothing, or of a profile that is not a file, at the include.
func TestProblemsInTeamFilesNameTheFile(t *testing.T) {
	dir := writeTeams(t, map[string]string{
		"payments.yaml": "name: payments\nnamespaces: [payments, apps]\nservices:\n  - {name: checkout, namespace: payments, port: 8080, colour: blue}\n",
		"search.yaml":   "name: search\nnamespaces: [search]\nservices: [\n",
		"two.yaml":      "name: two\nnamespaces: [two]\n---\nname: three\n",
	})
	file := filepath.Join(dir, "profile.yaml")
	_, err := LoadIncluding(file, []byte(includingProfile), dir)
	var diags diag.List
	require.ErrorAs(t, err, &diags)
	text := diags.Error()
	assert.Contains(t, text, filepath.Join(dir, "teams", "search.yaml")+":4:1: invalid YAML")
	assert.Contains(t, text, filepath.Join(dir, "teams", "two.yaml")+":3:1: more than one YAML document")

	require.NoError(t, os.Remove(filepath.Join(dir, "teams", "search.yaml")))
	require.NoError(t, os.Remove(filepath.Join(dir, "teams", "two.yaml")))
	_, err = LoadIncluding(file, []byte(includingProfile), dir)
	require.ErrorAs(t, err, &diags)
	text = diags.Error()
	assert.Contains(t, text, filepath.Join(dir, "teams", "payments.yaml")+":4:55: teams[1].services[0].colour: unknown field")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "teams", "payments.yaml"), []byte("name: payments\nnamespaces: [payments, apps]\n"), 0o644))
	_, err = LoadIncluding(file, []byte(includingProfile), dir)
	require.ErrorAs(t, err, &diags)
	assert.Contains(t, diags.Error(), filepath.Join(dir, "teams", "payments.yaml")+`:2:24: teams[1].namespaces[1]: namespace "apps" is already owned`)

	empty := t.TempDir()
	_, err = LoadIncluding(filepath.Join(empty, "profile.yaml"), []byte(includingProfile), empty)
	require.ErrorAs(t, err, &diags)
	assert.Contains(t, diags.Error(), filepath.Join(empty, "profile.yaml")+`:8:14: teams: include: "teams/*.yaml" matches no file`)

	_, err = Load("(stdin)", []byte(includingProfile))
	require.ErrorAs(t, err, &diags)
	assert.Contains(t, diags.Error(), "(stdin):8:5: teams: include: reads team files next to the profile, and this profile is not a file")

	_, err = LoadIncluding(file, []byte(strings.Replace(includingProfile, "include: teams/*.yaml", "include: [teams/*.yaml]", 1)), dir)
	require.ErrorAs(t, err, &diags)
	assert.Contains(t, diags.Error(), "include: needs a file or glob as a string")
}
