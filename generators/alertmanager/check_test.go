package alertmanager

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/templates"
)

// yamlNames lists the YAML keys of a struct type, descending into inline
// structs.
func yamlNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case strings.Contains(opts, "inline"):
			out = append(out, yamlNames(f.Type)...)
		case name != "":
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestSettingsAreThoseOfAlertmanager: the keys the check accepts are
// exactly those of Alertmanager's types, so an upgrade that adds or
// renames one shows here.
func TestSettingsAreThoseOfAlertmanager(t *testing.T) {
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	assert.Equal(t, yamlNames(reflect.TypeFor[amconfig.Config]()), sorted(amTopLevel), "top level")
	assert.Equal(t, yamlNames(reflect.TypeFor[amconfig.GlobalConfig]()), sorted(amGlobal), "global")
	assert.Equal(t, yamlNames(reflect.TypeFor[amconfig.Route]()), yamlNames(reflect.TypeFor[amRoute]()), "route")
	rt := reflect.TypeFor[amconfig.Receiver]()
	kinds := 0
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Type.Kind() != reflect.Slice {
			continue
		}
		kinds++
		require.Contains(t, amIntegrations, name)
		assert.Equal(t, yamlNames(f.Type.Elem().Elem()), sorted(amIntegrations[name]), name)
	}
	assert.Len(t, amIntegrations, kinds)
}

func committed(t *testing.T, profile string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testtools.RepoRoot(t), "out", profile, Path))
	require.NoError(t, err)
	return string(data)
}

// TestTheCheckAgreesWithAlertmanager: on the committed configurations and
// on mistakes a template can make, the cheap check accepts what
// Alertmanager's loader accepts and refuses what it refuses.
func TestTheCheckAgreesWithAlertmanager(t *testing.T) {
	am := committed(t, "strict-deny")
	team := "    - matchers: ['team=\"search\"']\n      receiver: \"search\"\n"
	receiver := "  - name: \"search\"\n"
	for name, tc := range map[string]struct {
		config string
		want   string
	}{
		"strict-deny":          {config: am},
		"admin-network-policy": {config: committed(t, "admin-network-policy")},
		"calico-global-deny":   {config: committed(t, "calico-global-deny")},
		"ambient":              {config: committed(t, "ambient")},
		"an unknown top field": {config: am + "\ninhibit_rule: []\n", want: "field inhibit_rule not found"},
		"an unknown global":    {config: testtools.Edit(t, am, "  resolve_timeout: 5m", "  resolve_timout: 5m"), want: "field resolve_timout not found"},
		"an unknown route field": {config: testtools.Edit(t, am, team, team+"      continu: true\n"),
			want: "field continu not found"},
		"a bad matcher":          {config: testtools.Edit(t, am, `['team="search"']`, `['team=~"(search"']`), want: "error parsing regexp"},
		"a bad matcher operator": {config: testtools.Edit(t, am, `['team="search"']`, `['team=>"search"']`), want: "unescaped double quote"},
		"an undefined receiver":  {config: testtools.Edit(t, am, "      receiver: \"search\"\n", "      receiver: \"serch\"\n"), want: `undefined receiver "serch"`},
		"a receiver twice":       {config: am + receiver, want: `"search" is not unique`},
		"a root matcher":         {config: testtools.Edit(t, am, "  receiver: \"platform\"\n", "  receiver: \"platform\"\n  matchers: ['a=\"b\"']\n"), want: "root route must not have any matchers"},
		"continue on the root":   {config: testtools.Edit(t, am, "  receiver: \"platform\"\n", "  receiver: \"platform\"\n  continue: true\n"), want: "cannot have continue in root route"},
		"a zero repeat interval": {config: testtools.Edit(t, am, team, team+"      repeat_interval: 0s\n"), want: "repeat_interval cannot be zero"},
		"a group_by label twice": {config: testtools.Edit(t, am, `group_by: ["alertname", "team"`, `group_by: ["alertname", "alertname", "team"`), want: "duplicated label"},
		"a bad inhibition matcher": {config: testtools.Edit(t, am, `target_matchers: ['severity="info"']`, `target_matchers: ['severity=~"(info"']`),
			want: "error parsing regexp"},
		"an unknown inhibition field": {config: testtools.Edit(t, am, `    target_matchers: ['severity="info"']`, "    target_matchers: ['severity=\"info\"']\n    equals: [team]"),
			want: "field equals not found"},
		"an unknown integration": {config: testtools.Edit(t, am, receiver, receiver+"    slak_configs:\n      - channel: x\n"), want: "field slak_configs not found"},
		"an unknown integration field": {config: testtools.Edit(t, am, "api_url_file:", "api_url_fil:"),
			want: "field api_url_fil not found"},
		"an undefined time interval": {config: testtools.Edit(t, am, team, team+"      mute_time_intervals: [weekends]\n"), want: `undefined time interval "weekends"`},
		// What an override may add that obsgen does not model.
		"a VictorOps receiver": {config: testtools.Edit(t, am, receiver, receiver+"    victorops_configs:\n      - api_key_file: /etc/k\n        routing_key: shop\n")},
		"a time interval": {config: testtools.Edit(t, am, team, team+"      mute_time_intervals: [weekends]\n") +
			"\ntime_intervals:\n  - name: weekends\n    time_intervals:\n      - weekdays: [saturday, sunday]\n"},
		"a Slack title": {config: testtools.Edit(t, am, "api_url_file:", "title: hi\n        api_url_file:")},
		"templates":     {config: am + "\ntemplates: [/etc/alertmanager/templates/*.tmpl]\n"},
	} {
		t.Run(name, func(t *testing.T) {
			_, upstream := amconfig.Load(tc.config)
			ours := check([]byte(tc.config))
			if tc.want == "" {
				require.NoError(t, upstream, "Alertmanager")
				assert.NoError(t, ours, "obsgen's check")
				return
			}
			require.Error(t, upstream, "Alertmanager")
			require.Error(t, ours, "obsgen's check (Alertmanager says %v)", upstream)
			assert.Contains(t, ours.Error(), tc.want)
		})
	}
}

// TestWhatOnlyAlertmanagerChecks documents what is left to obsgen-verify:
// the values of integration settings.
func TestWhatOnlyAlertmanagerChecks(t *testing.T) {
	am := committed(t, "strict-deny")
	receiver := "  - name: \"search\"\n"
	for name, config := range map[string]string{
		"an integration without its required setting": testtools.Edit(t, am, receiver, receiver+"    victorops_configs:\n      - routing_key: shop\n"),
		"both a file and a value":                     testtools.Edit(t, am, "api_url_file:", "api_url: https://hooks.slack.com/x\n        api_url_file:"),
	} {
		_, err := amconfig.Load(config)
		require.Error(t, err, name)
		assert.NoError(t, check([]byte(config)), name)
	}
}

// brokenOverride is an engine whose template at path has old replaced by
// new.
func brokenOverride(t *testing.T, path, old, new string) *render.Engine {
	t.Helper()
	engine, err := render.New(templates.FS, testtools.Override(t, path, old, new))
	require.NoError(t, err)
	return engine
}

// TestAConfigAlertmanagerRejectsNeverReachesTheWriter: an override that
// renders a configuration Alertmanager refuses fails generation, and
// Alertmanager's own loader (obsgen-verify's) refuses it too. The
// override the receivers template documents, an integration obsgen does
// not model, passes.
func TestAConfigAlertmanagerRejectsNeverReachesTheWriter(t *testing.T) {
	const receiverItem = "\n{{- define \"am.receiver\" }}\n  - name: {{ yq .Name }}\n"
	for name, tc := range map[string]struct {
		path, old, new, want string
	}{
		"an unknown field": {Template, "  repeat_interval:", "  repeat_intervall:", "field repeat_intervall not found"},
		"a bad matcher":    {Template, `{{ yqs $m }}`, `{{ yqs $m }}, 'x=~"("'`, "error parsing regexp"},
		"an unknown integration field": {"alertmanager/_receivers.tmpl", receiverItem,
			receiverItem + "    slack_configs:\n      - api_url_fil: /etc/k\n", "field api_url_fil not found"},
		"an undefined receiver": {Template, `  receiver: {{ yq .Route.Receiver }}`, `  receiver: nobody`, `undefined receiver "nobody"`},
		"an integration obsgen does not model": {"alertmanager/_receivers.tmpl", receiverItem,
			receiverItem + "    victorops_configs:\n      - api_key_file: /etc/k\n        routing_key: x\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			engine := brokenOverride(t, tc.path, tc.old, tc.new)
			files, err := Generate(testPlan(), engine, dependents(testPlan()))
			if tc.want == "" {
				require.NoError(t, err)
				_, err = amconfig.Load(string(files[0].Data))
				assert.NoError(t, err, "Alertmanager takes it too")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "alertmanager/alertmanager.yml is not a valid Alertmanager configuration")
			assert.Contains(t, err.Error(), tc.want)
			cfg, err := Build(testPlan(), dependents(testPlan()))
			require.NoError(t, err)
			data, err := engine.Render(Template, cfg)
			require.NoError(t, err)
			_, err = amconfig.Load(string(data))
			assert.Error(t, err, "Alertmanager refuses it too")
		})
	}
}
