package grafana

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"obsgen.dev/obsgen/internal/plan"
)

// Dashboard kinds, as the profile's dashboards.disable names them.
const (
	KindMesh         = "mesh"
	KindTeam         = "team"
	KindControlPlane = "control-plane"
	KindMonitoring   = "monitoring"
	KindGateways     = "gateways"
)

// Tags of the platform and team dashboards; the links between dashboards
// list them by tag.
const (
	tagPlatform = "platform"
	tagTeam     = "team"
)

// Meta identifies a dashboard and says where it goes.
type Meta struct {
	Kind   string
	UID    string
	Title  string
	Folder string
	// Name is the file name without .json, unique within the profile.
	Name string
	// Team owns a team baseline.
	Team string
}

// platformMeta describes a platform dashboard.
func platformMeta(p *plan.Plan, kind, name, title string) Meta {
	return Meta{Kind: kind, UID: plan.GrafanaUID(p.Name, kind), Title: title + " (" + p.Cluster.Name + ")",
		Folder: p.Dashboards.PlatformFolder, Name: name}
}

// teamMeta describes a team's baseline.
func teamMeta(p *plan.Plan, team string) Meta {
	return Meta{Kind: KindTeam, UID: plan.GrafanaUID(p.Name, KindTeam, team), Title: teamTitle(p, team),
		Folder: team, Name: team + "-baseline", Team: team}
}

func teamTitle(p *plan.Plan, team string) string { return plan.TeamDashboardTitle(p, team) }

// profileTag tags every dashboard of a profile, so links stay within it.
func profileTag(p *plan.Plan) string { return "obsgen:" + p.Name }

// newBoard starts a dashboard with what every obsgen dashboard has: its
// identity, tags, time range, the data source variable, on a shared store
// the cluster variable, and links to the other dashboards of the profile.
func newBoard(p *plan.Plan, m Meta, description, tag string) *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder(m.Title).Uid(m.UID).Description(description).
		Tags([]string{"obsgen", profileTag(p), tag}).
		Time("now-3h", "now").Refresh("1m").Timezone(common.TimeZoneBrowser).Readonly().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVariable(p.Dashboards.Datasource))
	d := p.Dashboards
	if d.Datasource.Shared {
		// Before every variable whose query selects the cluster, so
		// Grafana resolves it first.
		b.WithVariable(clusterVariable(p.Cluster.Name))
	}
	if d.Platform() {
		b.Link(dashboardsLink("Platform", profileTag(p), tagPlatform))
	}
	if d.Team {
		b.Link(dashboardsLink("Teams", profileTag(p), tagTeam))
	}
	return b
}

// datasourceVariable lets users switch data sources; it defaults to the
// profile's.
func datasourceVariable(ds plan.Datasource) *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(datasourceVar).Label("Data source").Type("prometheus").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(ds.Name)},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(ds.UID)},
		})
}

// clusterQuery lists the clusters whose series the store holds: every
// target's up carries the cluster external label.
const clusterQuery = "label_values(up, " + clusterLabel + ")"

// clusterVariable selects one cluster of a shared store; it defaults to
// the profile's (cluster.name, the cluster external label).
func clusterVariable(cluster string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(clusterVar).Label("Cluster").Datasource(promDS()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(clusterQuery)}).Definition(clusterQuery).
		Refresh(dashboard.VariableRefreshOnDashboardLoad).Sort(dashboard.VariableSortAlphabeticalAsc).
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(cluster)},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(cluster)},
		})
}

// dashboardsLink is a drop-down of the dashboards that carry all tags.
func dashboardsLink(title string, tags ...string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).Type(dashboard.DashboardLinkTypeDashboards).
		Tags(tags).AsDropdown(true).KeepTime(true).IncludeVars(false)
}

// alertsAnnotation marks the firing alerts that match selector on the
// graphs. ALERTS exists where obsgen's rules run: Prometheus writes it to
// its storage (and remote-writes it with the external labels), a ruler to
// the store it evaluates over (Mimir's ruler "writes any resulting series
// to the ingesters", grafana/mimir docs, references/architecture/
// components/ruler).
func alertsAnnotation(selector string) *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().Name("Firing alerts").Datasource(promDS()).Enable(true).
		IconColor("red").Expr(`ALERTS{alertstate="firing", ` + selector + `}`).
		TitleFormat("{{alertname}}").TextFormat("{{severity}}").TagKeys("alertname,severity").Step("60s")
}

// build finishes a dashboard: unique panel ids in document order (the SDK
// leaves panels without one and every row at 0), and links and annotations
// shown in the top bar (the SDK puts them in the controls menu).
func build(b *dashboard.DashboardBuilder) (dashboard.Dashboard, error) {
	d, err := b.Build()
	if err != nil {
		return d, err
	}
	var next uint32 = 1
	for i := range d.Panels {
		switch {
		case d.Panels[i].Panel != nil:
			id := next
			d.Panels[i].Panel.Id = &id
		case d.Panels[i].RowPanel != nil:
			d.Panels[i].RowPanel.Id = next
		}
		next++
	}
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for i := range d.Annotations.List {
		d.Annotations.List[i].Placement = nil
	}
	return d, nil
}

// row starts a row of panels (expanded: its panels follow it).
func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }
