package v1alpha1

// Dashboards configures the Grafana dashboards obsgen generates: a mesh
// overview, a baseline per team, the Istio control plane and the health of
// the monitoring itself, as JSON files, sidecar ConfigMaps, provisioning
// files and, optionally, grafana-operator resources.
type Dashboards struct {
	// Datasource is the Prometheus data source the dashboards query.
	Datasource Datasource `yaml:"datasource,omitempty" json:"datasource,omitempty"`
	// Disable lists the dashboards not to generate: `mesh` (mesh
	// overview), `team` (the per-team baselines), `control-plane` (istiod),
	// `monitoring` (scrape and alerting health) and `gateways` (the
	// declared gateways' traffic).
	Disable []DashboardKind `yaml:"disable,omitempty" json:"disable,omitempty" jsonschema:"uniqueItems=true"`
	// PlatformFolder is the Grafana folder of the mesh, control-plane and
	// monitoring dashboards; each team's dashboards go to a folder named
	// after the team (a team of the same name shares it). Letters, digits,
	// '-' and '_'.
	PlatformFolder string `yaml:"platformFolder,omitempty" json:"platformFolder,omitempty" jsonschema:"default=platform"`
	// GrafanaOperator also writes a GrafanaDashboard resource
	// (grafana.integreatly.org/v1beta1) per dashboard, reading its JSON from
	// the dashboard's ConfigMap, and a GrafanaDatasource for the data
	// source.
	GrafanaOperator GrafanaOperator `yaml:"grafanaOperator,omitempty" json:"grafanaOperator,omitempty"`
	// ExtraRows are rows of panels added to the team baselines, after the
	// generated rows. Their queries may use the dashboard's variables
	// $team, $namespace and $workload, and Grafana's $__rate_interval.
	// The template grafana/team-rows.yaml.tmpl renders them per team;
	// override it to compute rows from the team (see `obsgen templates dump`).
	ExtraRows []DashboardRow `yaml:"extraRows,omitempty" json:"extraRows,omitempty"`
}

// Datasource names the Prometheus data source of the dashboards.
type Datasource struct {
	// Name of the data source in Grafana; the dashboards' datasource
	// variable selects it by default.
	Name string `yaml:"name,omitempty" json:"name,omitempty" jsonschema:"default=Prometheus"`
	// UID of the data source, stable so dashboards keep pointing at it.
	// Default: obsgen-<metadata.name> (shortened with a hash beyond 40
	// characters). Letters, digits, '-' and '_', at most 40 characters.
	UID string `yaml:"uid,omitempty" json:"uid,omitempty"`
	// URL Grafana queries. Default: the Prometheus Service,
	// http://<prometheus.name>.<namespace>.svc:9090 (the operator flavour
	// writes it; with the raw flavour it is the one in front of your
	// Prometheus). Required with
	// monitoring.prometheus.mode agent (an agent serves no queries) or more
	// than one shard (each holds part of the series): point it at the
	// store that sees everything (Thanos Query, Mimir, Cortex).
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// CIDRs are the URL's addresses when it points outside the cluster.
	// Under a deny stance Grafana may reach only them on the URL's port:
	// a NetworkPolicy cannot name a host.
	CIDRs []string `yaml:"cidrs,omitempty" json:"cidrs,omitempty"`
	// Headers are sent with every query, such as the tenant header
	// X-Scope-OrgID that a multi-tenant Mimir or Cortex requires. The
	// values are written in clear into the provisioning file and the
	// GrafanaDatasource: give no secret here. Default, when the data
	// source is a shared store (docs/dashboards.md, "Clusters on a shared store"):
	// the X-Scope-OrgID the remote writes send; {} sends none.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// GrafanaOperator configures the grafana-operator resources.
type GrafanaOperator struct {
	// Enabled writes a GrafanaDashboard per dashboard and a
	// GrafanaDatasource for the data source (grafana-operator v5.16.0 or
	// later: both use spec.uid). Default: false.
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// InstanceLabels select the Grafana instances that import the
	// dashboards (spec.instanceSelector.matchLabels). Default:
	// dashboards=grafana.
	InstanceLabels map[string]string `yaml:"instanceLabels,omitempty" json:"instanceLabels,omitempty"`
	// Namespace of the grafana-operator pods, which watch the API server
	// and call Grafana's API. Default: the Grafana namespace.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// PodLabels select the grafana-operator pods. Default:
	// app.kubernetes.io/name=grafana-operator.
	PodLabels map[string]string `yaml:"podLabels,omitempty" json:"podLabels,omitempty"`
}

// DashboardRow is a row of extra panels on team baselines.
type DashboardRow struct {
	// Title of the row.
	Title string `yaml:"title" json:"title" jsonschema:"required"`
	// Teams that get the row. Default: every team.
	Teams []string `yaml:"teams,omitempty" json:"teams,omitempty"`
	// Panels of the row, laid out left to right.
	Panels []DashboardPanel `yaml:"panels" json:"panels" jsonschema:"required,minItems=1"`
}

// DashboardPanel is one extra panel.
type DashboardPanel struct {
	// Title of the panel.
	Title string `yaml:"title" json:"title" jsonschema:"required"`
	// Type is `timeseries`, `stat` or `table` (an instant query).
	Type PanelType `yaml:"type,omitempty" json:"type,omitempty" jsonschema:"default=timeseries"`
	// Description is the panel's tooltip.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Unit is a Grafana unit, such as short, reqps, percentunit, s or bytes.
	Unit string `yaml:"unit,omitempty" json:"unit,omitempty" jsonschema:"default=short"`
	// Width in grid columns (24 is the full width).
	Width int `yaml:"width,omitempty" json:"width,omitempty" jsonschema:"default=12,minimum=1,maximum=24"`
	// Queries of the panel (PromQL).
	Queries []PanelQuery `yaml:"queries" json:"queries" jsonschema:"required,minItems=1"`
}

// PanelQuery is one PromQL query of a panel.
type PanelQuery struct {
	// Expr is the PromQL expression.
	Expr string `yaml:"expr" json:"expr" jsonschema:"required"`
	// Legend is the series name template, such as {{pod}}.
	Legend string `yaml:"legend,omitempty" json:"legend,omitempty"`
}

// DashboardKind names one of the generated dashboards.
type DashboardKind string

// Dashboard kinds.
const (
	DashboardMesh         DashboardKind = "mesh"
	DashboardTeam         DashboardKind = "team"
	DashboardControlPlane DashboardKind = "control-plane"
	DashboardMonitoring   DashboardKind = "monitoring"
	DashboardGateways     DashboardKind = "gateways"
)

// Values lists the dashboard kinds.
func (DashboardKind) Values() []string {
	return []string{"mesh", "team", "control-plane", "monitoring", "gateways"}
}

// PanelType is the visualization of an extra panel.
type PanelType string

// Panel types.
const (
	PanelTimeseries PanelType = "timeseries"
	PanelStat       PanelType = "stat"
	PanelTable      PanelType = "table"
)

// Values lists the panel types.
func (PanelType) Values() []string { return []string{"timeseries", "stat", "table"} }
