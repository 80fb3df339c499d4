package grafana

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/dashvars"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/profiles"
	"obsgen.dev/obsgen/templates"
)

// example is an example profile's plan and what this package generates.
type example struct {
	name       string
	plan       *plan.Plan
	dashboards []Rendered
	files      []output.File
}

func engine(t testing.TB) *render.Engine {
	t.Helper()
	e, err := render.New(templates.FS, "")
	require.NoError(t, err)
	return e
}

var (
	examplesOnce   sync.Once
	cachedExamples []example
)

// examples generates the dashboards of every example profile, once per
// test run; callers must not change what they get.
func examples(t testing.TB) []example {
	t.Helper()
	examplesOnce.Do(func() { cachedExamples = freshExamples(t) })
	require.NotEmpty(t, cachedExamples, "generating the examples failed in an earlier test")
	return cachedExamples
}

// proofProfiles are profiles of the proofs beyond the examples.
var proofProfiles = os.DirFS("testdata/profiles")

// freshExamples generates the dashboards of every example profile, and of
// the proofs' own profiles (testdata/profiles).
func freshExamples(t testing.TB) []example {
	t.Helper()
	names, err := fs.Glob(profiles.FS, "*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(names), 4)
	extra, err := fs.Glob(proofProfiles, "*.yaml")
	require.NoError(t, err)
	var out []example
	for i, name := range append(names, extra...) {
		from := fs.FS(profiles.FS)
		if i >= len(names) {
			from = proofProfiles
		}
		data, err := fs.ReadFile(from, name)
		require.NoError(t, err)
		l, err := profile.Load(name, data)
		require.NoError(t, err, name)
		require.Empty(t, profile.Validate(l), name)
		p := plan.Resolve(l.Profile)
		ds, err := Dashboards(p, engine(t))
		require.NoError(t, err, name)
		files, err := Generate(p, engine(t))
		require.NoError(t, err, name)
		out = append(out, example{name: p.Name, plan: p, dashboards: ds, files: files})
	}
	return out
}

var registerPlugins sync.Once

// decode reads a dashboard back strictly into the SDK's types: unknown
// fields and missing required ones are errors.
//
// In v0.0.18 every strict decoder returns an empty cog.BuildErrors (a
// non-nil error) on success, and PanelOrRowPanel's gives up on that "error"
// before keeping the panel: the dashboard's decoder drops every panel
// without a word. So the panels are decoded one by one here.
func decode(t testing.TB, data []byte) dashboard.Dashboard {
	t.Helper()
	registerPlugins.Do(plugins.RegisterDefaultPlugins)
	var d dashboard.Dashboard
	require.NoError(t, strictError(d.UnmarshalJSONStrict(data)))
	var raw struct {
		Panels []json.RawMessage `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &raw))
	d.Panels = nil
	for i, rp := range raw.Panels {
		var kind struct {
			Type string `json:"type"`
		}
		require.NoError(t, json.Unmarshal(rp, &kind))
		if kind.Type == "row" {
			var r dashboard.RowPanel
			require.NoError(t, strictError(r.UnmarshalJSONStrict(rp)), "panels[%d]", i)
			if r.Panels == nil {
				r.Panels = []dashboard.Panel{} // an expanded row's panels are [], which the decoder drops
			}
			d.Panels = append(d.Panels, dashboard.PanelOrRowPanel{RowPanel: &r})
			continue
		}
		d.Panels = append(d.Panels, dashboard.PanelOrRowPanel{Panel: decodePanel(t, rp, i)})
	}
	return d
}

// strictDecoder is what the SDK's types decode strictly with.
type strictDecoder interface{ UnmarshalJSONStrict([]byte) error }

// panelOptions and panelCustom give the options and the custom field
// config of each panel type obsgen writes.
var (
	panelOptions = map[string]func() strictDecoder{
		"timeseries": func() strictDecoder { return &timeseries.Options{} },
		"stat":       func() strictDecoder { return &stat.Options{} },
		"table":      func() strictDecoder { return &table.Options{} },
	}
	panelCustom = map[string]func() strictDecoder{
		"timeseries": func() strictDecoder { return &timeseries.FieldConfig{} },
		"table":      func() strictDecoder { return &table.FieldConfig{} },
	}
)

// decodePanel decodes a panel strictly. Its targets, options and custom
// field config are decoded here too: the SDK's decoder drops each of them
// on the same empty error (and reads the targets before the datasource
// that says they are Prometheus queries).
func decodePanel(t testing.TB, raw json.RawMessage, i int) *dashboard.Panel {
	t.Helper()
	var p dashboard.Panel
	require.NoError(t, strictError(p.UnmarshalJSONStrict(raw)), "panels[%d]", i)
	var parts struct {
		Targets     []json.RawMessage `json:"targets"`
		Options     json.RawMessage   `json:"options"`
		FieldConfig struct {
			Defaults struct {
				Custom json.RawMessage `json:"custom"`
			} `json:"defaults"`
		} `json:"fieldConfig"`
	}
	require.NoError(t, json.Unmarshal(raw, &parts))
	p.Targets = nil
	for j, rt := range parts.Targets {
		var q prometheus.Dataquery
		require.NoError(t, strictError(q.UnmarshalJSONStrict(rt)), "panels[%d].targets[%d]", i, j)
		p.Targets = append(p.Targets, &q)
	}
	newOptions, ok := panelOptions[p.Type]
	require.True(t, ok, "panels[%d]: panel type %s", i, p.Type)
	options := newOptions()
	require.NoError(t, strictError(options.UnmarshalJSONStrict(parts.Options)), "panels[%d].options", i)
	p.Options = options
	if newCustom, ok := panelCustom[p.Type]; ok && parts.FieldConfig.Defaults.Custom != nil {
		custom := newCustom()
		require.NoError(t, strictError(custom.UnmarshalJSONStrict(parts.FieldConfig.Defaults.Custom)), "panels[%d].fieldConfig.defaults.custom", i)
		p.FieldConfig.Defaults.Custom = custom
	}
	return &p
}

// strictError turns the SDK's empty cog.BuildErrors into nil.
func strictError(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

// panels flattens a dashboard's panels, those nested in rows included.
func panels(d dashboard.Dashboard) []dashboard.Panel {
	var out []dashboard.Panel
	for _, p := range d.Panels {
		if p.Panel != nil {
			out = append(out, *p.Panel)
		}
		if p.RowPanel != nil {
			out = append(out, p.RowPanel.Panels...)
		}
	}
	return out
}

// promQuery is one PromQL query of a dashboard: a panel target, a variable
// query or an annotation.
type promQuery struct {
	dashboard, where, expr string
	// panel tells that a panel shows it, so it must return data.
	panel bool
}

func (q promQuery) String() string { return q.dashboard + " / " + q.where + ": " + q.expr }

// queriesOf lists every PromQL query of a decoded dashboard.
func queriesOf(t testing.TB, d dashboard.Dashboard) []promQuery {
	t.Helper()
	title := *d.Title
	var out []promQuery
	for _, p := range panels(d) {
		for _, tg := range p.Targets {
			pq, ok := tg.(*prometheus.Dataquery)
			require.True(t, ok, "%s / %s: target is a %T, not a Prometheus query", title, *p.Title, tg)
			out = append(out, promQuery{dashboard: title, where: *p.Title + " " + *pq.RefId, expr: pq.Expr, panel: true})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == dashboard.VariableTypeQuery {
			expr, ok := variableExpr(*v.Query.String)
			require.True(t, ok, "%s: variable %s: %s", title, v.Name, *v.Query.String)
			out = append(out, promQuery{dashboard: title, where: "variable " + v.Name, expr: expr, panel: true})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr != nil {
			out = append(out, promQuery{dashboard: title, where: "annotation " + a.Name, expr: *a.Expr})
		}
	}
	return out
}

// variableExpr is the PromQL inside a Prometheus variable query:
// query_result(expr) or label_values(expr, label).
func variableExpr(q string) (string, bool) {
	if inner, ok := strings.CutPrefix(q, "query_result("); ok {
		return strings.TrimSuffix(inner, ")"), strings.HasSuffix(inner, ")")
	}
	if inner, ok := strings.CutPrefix(q, "label_values("); ok {
		i := strings.LastIndex(inner, ",")
		return inner[:max(i, 0)], i > 0
	}
	return "", false
}

// variables are the values Grafana would substitute in a dashboard's
// queries: the profile's cluster, the first gateway, the team, all its
// namespaces, all workloads.
func variables(p *plan.Plan, m Meta) map[string]string {
	vars := map[string]string{datasourceVar: p.Dashboards.Datasource.UID}
	if p.Dashboards.Datasource.Shared {
		vars[clusterVar] = p.Cluster.Name
	}
	if len(p.Mesh.Gateways) > 0 {
		vars[gatewayVar] = p.Mesh.Gateways[0].Name
	}
	for _, t := range p.Teams {
		if t.Name == m.Team {
			vars[teamVar] = t.Name
			vars[namespaceVar] = dashvars.Regex(t.Namespaces)
			vars[workloadVar] = ".*"
		}
	}
	return vars
}
