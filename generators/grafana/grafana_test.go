package grafana

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// TestDashboardsRoundTripThroughTheSDK decodes every dashboard strictly
// into the SDK's types and marshals it again: the bytes must not change,
// so nothing obsgen writes is unknown to the SDK or lost on the way.
func TestDashboardsRoundTripThroughTheSDK(t *testing.T) {
	for _, ex := range examples(t) {
		for _, d := range ex.dashboards {
			back := decode(t, d.JSON)
			again, err := marshal(back)
			require.NoError(t, err)
			assert.Equal(t, string(d.JSON), string(again), "%s / %s", ex.name, d.Title)
			assert.Equal(t, d.UID, *back.Uid)
			assert.Equal(t, d.Panels, len(panels(back)))
			for _, p := range panels(back) {
				assert.NotEmpty(t, p.Targets, "%s / %s has no query", d.Title, *p.Title)
				assert.Equal(t, "prometheus", *p.Datasource.Type)
				switch p.Type {
				case "timeseries":
					assert.IsType(t, &timeseries.Options{}, p.Options)
				case "stat":
					assert.IsType(t, &stat.Options{}, p.Options)
				case "table":
					assert.IsType(t, &table.Options{}, p.Options)
				default:
					t.Errorf("%s / %s: unexpected panel type %s", d.Title, *p.Title, p.Type)
				}
			}
		}
	}
}

var grafanaUID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// TestUIDsAreUniqueAndStable: every dashboard of every example has its own
// valid UID, derived from the profile and team names only.
func TestUIDsAreUniqueAndStable(t *testing.T) {
	seen := map[string]string{}
	for _, ex := range examples(t) {
		for _, d := range ex.dashboards {
			assert.Regexp(t, grafanaUID, d.UID)
			if other, dup := seen[d.UID]; dup {
				t.Errorf("%s and %s share the UID %s", other, d.Title, d.UID)
			}
			seen[d.UID] = ex.name + "/" + d.Title
		}
	}
	assert.Equal(t, "shop-team-web", teamMeta(&plan.Plan{Name: "shop"}, "web").UID)
	assert.Equal(t, "shop-mesh", platformMeta(&plan.Plan{Name: "shop"}, KindMesh, "mesh-overview", "Mesh").UID)
}

// TestGenerationIsDeterministic generates every example twice and compares
// the bytes.
func TestGenerationIsDeterministic(t *testing.T) {
	first, second := freshExamples(t), freshExamples(t)
	for i := range first {
		require.Len(t, second[i].files, len(first[i].files))
		for j, f := range first[i].files {
			assert.Equal(t, f.Path, second[i].files[j].Path)
			assert.True(t, bytes.Equal(f.Data, second[i].files[j].Data), f.Path)
		}
	}
}

// TestEveryDashboardIsThere: the platform dashboards where they apply, a
// baseline per team, each in its folder, and the delivery files.
func TestEveryDashboardIsThere(t *testing.T) {
	for _, ex := range examples(t) {
		var kinds []string
		for _, d := range ex.dashboards {
			kinds = append(kinds, d.Kind)
			if d.Kind == KindTeam {
				assert.Equal(t, d.Team, d.Folder)
			} else {
				assert.Equal(t, ex.plan.Dashboards.PlatformFolder, d.Folder)
			}
		}
		want := []string{KindMesh, KindControlPlane, KindMonitoring}
		if len(ex.plan.Mesh.Gateways) > 0 {
			want = append(want, KindGateways)
		}
		for range ex.plan.Teams {
			want = append(want, KindTeam)
		}
		assert.Equal(t, want, kinds, ex.name)
		paths := map[string]bool{}
		for _, f := range ex.files {
			paths[f.Path] = true
		}
		for _, p := range []string{ProvidersPath, DatasourcePath, IndexPath} {
			assert.True(t, paths[p], "%s: %s", ex.name, p)
		}
		assert.Equal(t, ex.plan.Dashboards.Operator != nil, paths[OperatorPath], ex.name)
		assert.Equal(t, ex.plan.Dashboards.Operator != nil, paths[OperatorDatasourcePath], ex.name)
	}
}

// TestLayoutFitsTheGrid: panels stay within 24 columns and never overlap.
func TestLayoutFitsTheGrid(t *testing.T) {
	for _, ex := range examples(t) {
		for _, d := range ex.dashboards {
			taken := map[[2]uint32]string{}
			for _, p := range decode(t, d.JSON).Panels {
				g, title := gridOf(p)
				require.NotNil(t, g, "%s / %s has no position", d.Title, title)
				assert.LessOrEqual(t, g.X+g.W, uint32(24), "%s / %s", d.Title, title)
				for x := g.X; x < g.X+g.W; x++ {
					for y := g.Y; y < g.Y+g.H; y++ {
						if other, ok := taken[[2]uint32{x, y}]; ok {
							t.Fatalf("%s: %s overlaps %s at %d,%d", d.Title, title, other, x, y)
						}
						taken[[2]uint32{x, y}] = title
					}
				}
			}
		}
	}
}

func gridOf(p dashboard.PanelOrRowPanel) (*dashboard.GridPos, string) {
	if p.RowPanel != nil {
		return p.RowPanel.GridPos, "row " + *p.RowPanel.Title
	}
	return p.Panel.GridPos, *p.Panel.Title
}

// TestTeamDashboardsOfAShapeMatchDirectBuilds: a team filled into its
// shape's template has the same bytes as the team's dashboard built
// directly, for the examples and for teams of many shapes.
func TestTeamDashboardsOfAShapeMatchDirectBuilds(t *testing.T) {
	plans := []*plan.Plan{varietyPlan()}
	for _, ex := range examples(t) {
		plans = append(plans, ex.plan)
	}
	filled := 0
	for _, p := range plans {
		var got []Rendered
		err := teamDashboards(p, engine(t), func(d Rendered) error {
			got = append(got, d)
			return nil
		})
		require.NoError(t, err)
		require.Len(t, got, len(p.Teams))
		for i, team := range p.Teams {
			m := teamMeta(p, team.Name)
			v := newTeamView(p, team, m.UID)
			v.extras, err = teamExtras(p, engine(t), team)
			require.NoError(t, err)
			want, err := buildTeam(p, m, v)
			require.NoError(t, err)
			assert.Equal(t, string(want.JSON), string(got[i].JSON), "%s/%s", p.Name, team.Name)
			assert.Equal(t, string(want.SVG), string(got[i].SVG), "%s/%s", p.Name, team.Name)
			assert.Equal(t, want.Panels, got[i].Panels)
			if len(v.extras) == 0 {
				filled++
			}
		}
	}
	assert.Greater(t, filled, 10)
}

// varietyPlan has teams of several shapes: namespaces, services with and
// without objectives, canonical names from different labels, and a team
// whose strings take the direct path.
func varietyPlan() *plan.Plan {
	in := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "variety"},
		Mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict}}
	slo := &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.95}, Latency: &v1alpha1.LatencySLO{ThresholdMs: 250, Target: 99}}
	for i := range 12 {
		name := fmt.Sprintf("team-%02d", i)
		team := v1alpha1.Team{Name: name}
		for j := range 1 + i%3 {
			team.Namespaces = append(team.Namespaces, fmt.Sprintf("%s-ns%d", name, j))
		}
		for j := range i % 4 {
			s := v1alpha1.Service{Name: fmt.Sprintf("svc-%d", j), Namespace: team.Namespaces[j%len(team.Namespaces)], Port: 8080,
				Selector: map[string]string{"app.kubernetes.io/name": fmt.Sprintf("api.v%d", j)}}
			if j%2 == 0 {
				s.SLOs = slo
			}
			team.Services = append(team.Services, s)
		}
		in.Teams = append(in.Teams, team)
	}
	// A label value outside the template path's alphabet.
	in.Teams[5].Services[0].Selector = map[string]string{"app": "odd@name"}
	return plan.Resolve(in)
}

// TestPreviewsShowEveryPanel: each preview is well-formed SVG with a box
// per panel and a bar per row, titled as in the dashboard.
func TestPreviewsShowEveryPanel(t *testing.T) {
	for _, ex := range examples(t) {
		for _, d := range ex.dashboards {
			assert.NoError(t, xml.Unmarshal(d.SVG, new(any)), d.Title)
			assert.Equal(t, d.Panels, strings.Count(string(d.SVG), `rx="4"`), d.Title)
			for _, p := range panels(decode(t, d.JSON)) {
				assert.Contains(t, string(d.SVG), ">"+*p.Title+"<")
			}
		}
	}
}

// TestPreviewGolden compares the previews of the default example with
// testdata/; UPDATE_GOLDEN=1 rewrites them.
func TestPreviewGolden(t *testing.T) {
	for _, ex := range examples(t) {
		if ex.name != "default-permissive" {
			continue
		}
		for _, d := range ex.dashboards {
			golden := filepath.Join("testdata", d.Name+".svg")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				require.NoError(t, os.WriteFile(golden, d.SVG, 0o644))
				continue
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run with UPDATE_GOLDEN=1")
			assert.Equal(t, string(want), string(d.SVG), golden)
		}
	}
}

func TestDisabledDashboardsAreLeftOut(t *testing.T) {
	p := varietyPlan()
	p.Dashboards.Mesh, p.Dashboards.Team = false, false
	ds, err := Dashboards(p, engine(t))
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, []string{KindControlPlane, KindMonitoring}, []string{ds[0].Kind, ds[1].Kind})
	p.Dashboards.ControlPlane, p.Dashboards.Monitoring = false, false
	files, err := Generate(p, engine(t))
	require.NoError(t, err)
	assert.Empty(t, files)
}

// TestWithoutIstio: no mesh dashboards, and team baselines without Istio
// panels still show their services' targets and workloads.
func TestWithoutIstio(t *testing.T) {
	in := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "plain"},
		Mesh: v1alpha1.Mesh{Provider: v1alpha1.MeshNone},
		Teams: []v1alpha1.Team{{Name: "web", Namespaces: []string{"web"},
			Services: []v1alpha1.Service{{Name: "api", Namespace: "web", Port: 8080}}}}}
	p := plan.Resolve(in)
	ds, err := Dashboards(p, engine(t))
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, KindMonitoring, ds[0].Kind)
	assert.NotContains(t, string(ds[1].JSON), "istio_")
	assert.Contains(t, string(ds[1].JSON), `up{job=\"web/api\"}`)
	st := loadedStorage(t, p)
	empty, _ := emptyPanels(t, p, ds, st)
	assert.Empty(t, empty)
}

// TestExtraRowsFromAnOverriddenTemplate: a team-rows override adds a row
// per team (here a panel per service); its mistakes fail the generation
// with the template, the team and the field.
func TestExtraRowsFromAnOverriddenTemplate(t *testing.T) {
	override := func(t *testing.T, body string) *render.Engine {
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "grafana"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, TeamRowsTemplate), []byte(body), 0o644))
		e, err := render.New(templates.FS, dir)
		require.NoError(t, err)
		return e
	}
	p := varietyPlan()
	good := `{{- if .Team.Services }}
- title: Pods per service
  panels:
{{- end }}
{{- range .Team.Services }}
    - title: {{ .Name }} pods
      type: stat
      unit: short
      width: 10
      queries:
        - expr: count(up{job="{{ .Job }}"})
          legend: pods
{{- end }}
`
	ds, err := Dashboards(p, override(t, good))
	require.NoError(t, err)
	for _, d := range ds {
		if d.Team == "team-03" {
			assert.Contains(t, string(d.JSON), `"Pods per service"`)
			assert.Contains(t, string(d.JSON), `count(up{job=\"team-03/svc-2\"})`)
			assert.Contains(t, string(d.SVG), "svc-2 pods")
		}
	}
	for name, tc := range map[string]struct{ body, err string }{
		"unknown field":    {`[{title: x, panels: [{title: y, typ: stat}]}]`, "field typ not found"},
		"bad type":         {`[{title: x, panels: [{title: y, type: pie, width: 6, queries: [{expr: up}]}]}]`, `rows[0].panels[0].type: must be timeseries, stat or table (got "pie")`},
		"unknown variable": {`[{title: x, panels: [{title: y, type: stat, width: 6, queries: [{expr: 'up{a="$nope"}'}]}]}]`, "rows[0].panels[0].queries[0].expr: unknown variable $nope"},
		"not PromQL":       {`[{title: x, panels: [{title: y, type: stat, width: 6, queries: [{expr: 'sum(up'}]}]}]`, "rows[0].panels[0].queries[0].expr: 1:7: parse error"},
		"no panels":        {`[{title: x}]`, "rows[0].panels: missing"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Dashboards(p, override(t, tc.body))
			require.Error(t, err)
			assert.Contains(t, err.Error(), TeamRowsTemplate+" for team team-00: ")
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

func TestFitLines(t *testing.T) {
	assert.Equal(t, []int{12, 12}, fitLines([]int{12, 12}))
	assert.Equal(t, []int{24, 16, 8}, fitLines([]int{16, 16, 8}), "16 + 16 overflows: the first fills its line")
	assert.Equal(t, []int{10, 14, 10}, fitLines([]int{10, 10, 10}))
	assert.Equal(t, []int{24, 24}, fitLines([]int{24, 24}))
}

// TestProvisioningFilesDecodeStrictly reads the provisioning files back
// with unknown fields as errors.
func TestProvisioningFilesDecodeStrictly(t *testing.T) {
	for _, ex := range examples(t) {
		for _, f := range ex.files {
			var v any
			switch f.Path {
			case ProvidersPath:
				v = &providersFile{}
			case DatasourcePath:
				v = &datasourcesFile{}
			default:
				continue
			}
			dec := yaml.NewDecoder(bytes.NewReader(f.Data))
			dec.KnownFields(true)
			require.NoError(t, dec.Decode(v), f.Path)
			if ds, ok := v.(*datasourcesFile); ok {
				assert.Equal(t, ex.plan.Dashboards.Datasource.UID, ds.Datasources[0].UID)
				assert.Equal(t, ex.plan.Scrape.Interval, ds.Datasources[0].JSONData.TimeInterval)
			}
			if pf, ok := v.(*providersFile); ok {
				assert.True(t, pf.Providers[0].Options.FoldersFromFilesStructure)
			}
		}
	}
}

// TestConfigMapsForTheSidecar: one labelled, annotated ConfigMap per
// dashboard, in Grafana's namespace, and one for the data source; the
// GrafanaDashboards read the same ConfigMaps.
func TestConfigMapsForTheSidecar(t *testing.T) {
	for _, ex := range examples(t) {
		var cms []output.File
		for _, f := range ex.files {
			if f.Ship.As == output.ShipConfigMap {
				cms = append(cms, f)
			}
		}
		require.Len(t, cms, len(ex.dashboards)+1, ex.name)
		names := map[string]output.File{}
		for _, f := range cms {
			cm := f.Ship
			names[cm.Name] = f
			assert.Equal(t, ex.plan.Dashboards.Namespace, cm.Namespace)
			assert.LessOrEqual(t, len(cm.Name), 253)
		}
		for _, d := range ex.dashboards {
			cm, ok := names["grafana-dashboard-"+d.Name]
			require.True(t, ok, d.Name)
			assert.Equal(t, d.Path(), cm.Path)
			assert.Equal(t, []output.Pair{{Name: DashboardLabel, Value: "1"}}, cm.Ship.Labels)
			assert.Equal(t, []output.Pair{{Name: FolderAnnotation, Value: d.Folder}}, cm.Ship.Annotations)
		}
		ds := cms[len(cms)-1]
		assert.Equal(t, DatasourcePath, ds.Path)
		assert.Equal(t, []output.Pair{{Name: DatasourceLabel, Value: "1"}}, ds.Ship.Labels)
	}
}

func TestIndexListsEveryDashboard(t *testing.T) {
	for _, ex := range examples(t) {
		var index output.File
		for _, f := range ex.files {
			if f.Path == IndexPath {
				index = f
			}
		}
		total := 0
		for _, d := range ex.dashboards {
			assert.Contains(t, string(index.Data), fmt.Sprintf("| %s | %s | `%s` | %d |", d.Title, d.Folder, d.UID, d.Panels))
			total += d.Panels
		}
		assert.Contains(t, string(index.Data), fmt.Sprintf("%d dashboards, %d panels.", len(ex.dashboards), total))
	}
}

// TestStreamEmitsWhatGenerateReturns: Stream hands each dashboard's files
// to emit before building the next, and emitted and returned files are
// Generate's, in Generate's order.
func TestStreamEmitsWhatGenerateReturns(t *testing.T) {
	for _, ex := range examples(t) {
		want, err := Generate(ex.plan, engine(t))
		require.NoError(t, err)
		var got []output.File
		emits := 0
		rest, err := Stream(ex.plan, engine(t), func(f ...output.File) {
			emits++
			require.Len(t, f, 2)
			assert.Equal(t, f[0].Path, DashboardsDir+strings.TrimPrefix(strings.TrimSuffix(f[1].Path, ".svg"), PreviewDir)+".json")
			got = append(got, f...)
		})
		require.NoError(t, err)
		assert.Equal(t, want, append(got, rest...), ex.plan.Name)
		dashboards, err := Dashboards(ex.plan, engine(t))
		require.NoError(t, err)
		assert.Equal(t, len(dashboards), emits, "one emit per dashboard")
	}
}
