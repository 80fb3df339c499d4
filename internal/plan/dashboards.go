package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// PrometheusPort is the port of the Prometheus Service Grafana queries.
const PrometheusPort = 9090

// Dashboards is the resolved dashboards section: which dashboards exist,
// where they go and the data source they query.
type Dashboards struct {
	// Mesh, Team, ControlPlane and Monitoring tell which dashboards are
	// generated; the mesh and control-plane ones need Istio.
	Mesh, Team, ControlPlane, Monitoring bool
	Datasource                           Datasource
	// PlatformFolder holds the mesh, control-plane and monitoring
	// dashboards; each team's go to a folder named after the team.
	PlatformFolder string
	// Namespace receives the dashboard ConfigMaps and GrafanaDashboards:
	// Grafana's namespace.
	Namespace string
	// Operator is set when GrafanaDashboard resources are written.
	Operator *GrafanaOperator
	// ExtraRows are the profile's extra rows of the team baselines.
	ExtraRows []DashboardRow
}

// Any tells whether at least one dashboard is generated.
func (d Dashboards) Any() bool { return d.Mesh || d.Team || d.ControlPlane || d.Monitoring }

// Datasource is the Prometheus data source of the dashboards.
type Datasource struct {
	Name string
	UID  string
	URL  string
	// Endpoint is where the URL leads, for network policies.
	Endpoint NetEndpoint
}

// GrafanaOperator holds the grafana-operator settings.
type GrafanaOperator struct {
	// InstanceLabels select the Grafana instances.
	InstanceLabels Labels
	// Namespace and PodLabels locate the operator's pods.
	Namespace string
	PodLabels Labels
}

// DashboardRow is a row of extra panels; Teams empty means every team.
type DashboardRow struct {
	Title  string
	Teams  []string
	Panels []DashboardPanel
}

// AppliesTo tells whether the row belongs on team's baseline.
func (r DashboardRow) AppliesTo(team string) bool {
	return len(r.Teams) == 0 || slices.Contains(r.Teams, team)
}

// DashboardPanel is an extra panel.
type DashboardPanel struct {
	Title       string
	Type        string
	Description string
	Unit        string
	Width       int
	Queries     []PanelQuery
}

// PanelQuery is a panel's PromQL query and legend.
type PanelQuery struct {
	Expr   string
	Legend string
}

// DefaultDatasourceUID is the data source's UID unless the profile sets one.
func DefaultDatasourceUID(profile string) string { return GrafanaUID("obsgen", profile) }

// maxUID is the longest UID Grafana accepts.
const maxUID = 40

// GrafanaUID joins parts with '-' into a Grafana UID. One too long for
// Grafana keeps its readable start and ends with a hash of the whole, so
// it stays stable and unique.
func GrafanaUID(parts ...string) string {
	uid := strings.Join(parts, "-")
	if len(uid) <= maxUID {
		return uid
	}
	sum := sha256.Sum256([]byte(uid))
	return uid[:maxUID-9] + "-" + hex.EncodeToString(sum[:4])
}

// defaultDashboards fills the defaults that depend on other fields.
func defaultDashboards(p *v1alpha1.Profile) {
	d := &p.Dashboards
	if d.Datasource.UID == "" {
		d.Datasource.UID = DefaultDatasourceUID(p.Metadata.Name)
	}
	if d.Datasource.URL == "" {
		pr := p.Monitoring.Prometheus
		d.Datasource.URL = fmt.Sprintf("http://%s.%s.svc:%d", pr.Name, p.Monitoring.Namespace, PrometheusPort)
	}
	d.GrafanaOperator.InstanceLabels = orLabels(d.GrafanaOperator.InstanceLabels, "dashboards", "grafana")
	if d.GrafanaOperator.Namespace == "" {
		d.GrafanaOperator.Namespace = p.Monitoring.Grafana.Namespace
	}
	d.GrafanaOperator.PodLabels = orLabels(d.GrafanaOperator.PodLabels, "app.kubernetes.io/name", "grafana-operator")
}

// copyDashboards copies what WithDefaults writes to: the extra rows' panels
// get their defaults in place.
func copyDashboards(d *v1alpha1.Dashboards) {
	rows := make([]v1alpha1.DashboardRow, len(d.ExtraRows))
	for i, r := range d.ExtraRows {
		r.Panels = append([]v1alpha1.DashboardPanel(nil), r.Panels...)
		rows[i] = r
	}
	if len(rows) == 0 {
		rows = nil
	}
	d.ExtraRows = rows
	d.Disable = slices.Clone(d.Disable)
	d.GrafanaOperator.PodLabels = maps.Clone(d.GrafanaOperator.PodLabels)
}

func resolveDashboards(p *v1alpha1.Profile) Dashboards {
	d := p.Dashboards
	on := func(k v1alpha1.DashboardKind) bool { return !slices.Contains(d.Disable, k) }
	istio := p.Mesh.Provider == v1alpha1.MeshIstio
	out := Dashboards{
		Mesh: istio && on(v1alpha1.DashboardMesh), Team: on(v1alpha1.DashboardTeam) && len(p.Teams) > 0,
		ControlPlane: istio && on(v1alpha1.DashboardControlPlane), Monitoring: on(v1alpha1.DashboardMonitoring),
		Datasource: Datasource{Name: d.Datasource.Name, UID: d.Datasource.UID, URL: d.Datasource.URL,
			Endpoint: ResolveURL(d.Datasource.URL, d.Datasource.CIDRs, p.Monitoring.Grafana.Namespace)},
		PlatformFolder: d.PlatformFolder,
		Namespace:      p.Monitoring.Grafana.Namespace,
	}
	if d.GrafanaOperator.Enabled {
		out.Operator = &GrafanaOperator{InstanceLabels: SortedLabels(d.GrafanaOperator.InstanceLabels),
			Namespace: d.GrafanaOperator.Namespace, PodLabels: SortedLabels(d.GrafanaOperator.PodLabels)}
	}
	for _, r := range d.ExtraRows {
		row := DashboardRow{Title: r.Title, Teams: sortedCopy(r.Teams)}
		for _, pn := range r.Panels {
			panel := DashboardPanel{Title: pn.Title, Type: string(pn.Type), Description: pn.Description, Unit: pn.Unit, Width: pn.Width}
			for _, q := range pn.Queries {
				panel.Queries = append(panel.Queries, PanelQuery{Expr: q.Expr, Legend: q.Legend})
			}
			row.Panels = append(row.Panels, panel)
		}
		out.ExtraRows = append(out.ExtraRows, row)
	}
	return out
}
