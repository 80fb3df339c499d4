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
	// Gateways tells that the gateway dashboard is generated: Istio with
	// declared gateways (Mesh.Gateways).
	Gateways   bool
	Datasource Datasource
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
func (d Dashboards) Any() bool { return d.Platform() || d.Team }

// Platform tells whether a platform dashboard is generated.
func (d Dashboards) Platform() bool { return d.Mesh || d.ControlPlane || d.Monitoring || d.Gateways }

// Datasource is the Prometheus data source of the dashboards.
type Datasource struct {
	Name string
	UID  string
	URL  string
	// Endpoint is where the URL leads, for network policies.
	Endpoint NetEndpoint
	// Shared tells that the URL leads to a store that may hold other
	// clusters' series (Thanos Query, Mimir, Cortex), not to this
	// cluster's own Prometheus (see SharedStore). Every series there
	// carries the cluster external label, so every dashboard query
	// selects cluster="$cluster".
	Shared bool
	// Headers are sent with every query (a tenant header), sorted.
	Headers Labels
}

// TenantHeader is the header that names the tenant of a multi-tenant
// Mimir or Cortex, on writes and on queries alike (grafana/mimir
// docs/sources/mimir/references/http-api: "X-Scope-OrgID").
const TenantHeader = "X-Scope-OrgID"

// SharedStore tells whether the dashboards of a profile (with its
// defaults applied) query a store rather than this cluster's Prometheus:
// always for an agent (it serves no queries) or shards (each holds part of
// the series), and whenever the data source URL is not the Prometheus
// Service (http://<prometheus.name>.<monitoring.namespace>[.svc...]:9090).
// A store holds what remote write (or a Thanos sidecar) ships, and both
// add the external labels, cluster among them; this cluster's Prometheus
// keeps its own series without them.
func SharedStore(p *v1alpha1.Profile) bool {
	pr := p.Monitoring.Prometheus
	if pr.Mode == v1alpha1.ModeAgent || pr.Shards > 1 {
		return true
	}
	raw := p.Dashboards.Datasource.URL
	e := ResolveURL(raw, nil, p.Monitoring.Grafana.Namespace)
	local := e.InCluster && e.Peer.Namespace == p.Monitoring.Namespace && e.Port == PrometheusPort && serviceName(raw) == pr.Name
	return !local
}

// UsesPrometheusService tells whether something obsgen configures reaches
// Prometheus through the Service <prometheus.name> of the monitoring
// namespace on 9090: the Grafana data source, the same URL as Kiali reads
// it from its own namespace (a short name resolves in the caller's), or a
// federation target that names the namespace (the global Prometheus
// resolves a short name in its own).
func (p *Plan) UsesPrometheusService() bool {
	name, ns := p.Monitoring.Prometheus.Name, p.Monitoring.Namespace
	names := func(raw, callerNS string) bool {
		e := ResolveURL(raw, nil, callerNS)
		return e.InCluster && e.Peer.Namespace == ns && e.Port == PrometheusPort && serviceName(raw) == name
	}
	raw := p.Dashboards.Datasource.URL
	if names(raw, p.Monitoring.Grafana.Namespace) || p.Kiali != nil && names(raw, p.Kiali.Namespace) {
		return true
	}
	if p.Federation == nil {
		return false
	}
	return slices.ContainsFunc(p.Federation.Targets, func(t string) bool {
		return strings.Contains(t, ".") && names("http://"+t, "")
	})
}

// RemoteWriteTenant is the X-Scope-OrgID the remote writes send (header
// names are case-insensitive), "" when none sends one; ok is false when
// they send different ones.
func RemoteWriteTenant(rw []v1alpha1.RemoteWrite) (tenant string, ok bool) {
	for _, w := range rw {
		for name, value := range w.Headers {
			if !strings.EqualFold(name, TenantHeader) {
				continue
			}
			if tenant != "" && tenant != value {
				return "", false
			}
			tenant = value
		}
	}
	return tenant, true
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
	if d.Datasource.Headers == nil && SharedStore(p) {
		if tenant, ok := RemoteWriteTenant(p.Monitoring.Prometheus.RemoteWrite); ok && tenant != "" {
			d.Datasource.Headers = map[string]string{TenantHeader: tenant}
		}
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
	d.Datasource.Headers = maps.Clone(d.Datasource.Headers)
}

func resolveDashboards(p *v1alpha1.Profile) Dashboards {
	d := p.Dashboards
	on := func(k v1alpha1.DashboardKind) bool { return !slices.Contains(d.Disable, k) }
	istio := p.Mesh.Provider == v1alpha1.MeshIstio
	out := Dashboards{
		Mesh: istio && on(v1alpha1.DashboardMesh), Team: on(v1alpha1.DashboardTeam) && len(p.Teams) > 0,
		ControlPlane: istio && on(v1alpha1.DashboardControlPlane), Monitoring: on(v1alpha1.DashboardMonitoring),
		Gateways: istio && on(v1alpha1.DashboardGateways) && len(p.Mesh.Gateways) > 0,
		Datasource: Datasource{Name: d.Datasource.Name, UID: d.Datasource.UID, URL: d.Datasource.URL,
			Endpoint: ResolveURL(d.Datasource.URL, d.Datasource.CIDRs, p.Monitoring.Grafana.Namespace),
			Shared:   SharedStore(p), Headers: SortedLabels(d.Datasource.Headers)},
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

// TeamDashboardTitle is the title of a team's baseline dashboard, which
// Kiali finds its links by (kiali/kiali grafana/grafana.go searches
// Grafana's API by title).
func TeamDashboardTitle(p *Plan, team string) string {
	return team + " baseline (" + p.Cluster.Name + ")"
}
