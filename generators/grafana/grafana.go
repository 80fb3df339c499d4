// Package grafana generates obsgen's Grafana dashboards, built with the
// Grafana Foundation SDK from the plan:
//
//   - Mesh overview: request volume, success rate, latency quantiles, mTLS
//     coverage and the services that fail most (Istio).
//   - A baseline per team, in the team's folder: for each service the RED
//     panels, peers, TCP traffic and SLOs, and the workloads' CPU, memory,
//     restarts, readiness and throttling; variables for namespace, workload
//     and data source.
//   - Istio control plane: pushes, errors, proxies, push latency,
//     certificate signing (Istio).
//   - Monitoring health: whether every job the plan generates is scraped
//     under the profile's mTLS mode and network policy, scrape cost, rule
//     and notification failures.
//   - Istio gateways, when the profile declares gateways: per gateway the
//     request rate, 5xx ratio and latency quantiles, by response code and
//     by destination service.
//
// On a shared store (plan.Datasource.Shared) every dashboard has a cluster
// variable and every query, extra panels' included, selects
// cluster="$cluster". In ambient, request panels read the waypoints
// (reporter="waypoint"); a service no waypoint serves gets its ztunnel TCP
// panels instead.
//
// Files: grafana/dashboards/<folder>/<name>.json, the provisioning files
// under grafana/provisioning/, optionally grafana-operator GrafanaDashboards
// and a GrafanaDatasource under grafana/operator/, and a layout preview per dashboard under
// reports/dashboards/ with an index in reports/dashboards.md. The
// kustomization turns every dashboard into a ConfigMap for Grafana's
// sidecar (see ConfigMaps).
package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Paths of the generated files.
const (
	DashboardsDir  = "grafana/dashboards/"
	ProvisionDir   = "grafana/provisioning/"
	ProvidersPath  = ProvisionDir + "dashboards.yaml"
	DatasourcePath = ProvisionDir + "datasources.yaml"
	OperatorPath   = "grafana/operator/grafanadashboards.yaml"
	// OperatorDatasourcePath holds the GrafanaDatasource.
	OperatorDatasourcePath = "grafana/operator/grafanadatasource.yaml"
	PreviewDir             = "reports/dashboards/"
	IndexPath              = "reports/dashboards.md"
)

// maxDashboardBytes is the most a ConfigMap holds.
const maxDashboardBytes = 1 << 20

// Rendered is a generated dashboard: where it goes, its JSON, its layout
// preview and how many panels it has.
type Rendered struct {
	Meta
	JSON   []byte
	SVG    []byte
	Panels int
}

// Path is where the dashboard's JSON is written.
func (d Rendered) Path() string { return DashboardsDir + d.Folder + "/" + d.Name + ".json" }

// PreviewPath is where its layout preview is written.
func (d Rendered) PreviewPath() string { return PreviewDir + d.Folder + "/" + d.Name + ".svg" }

// Generate writes the dashboards, their previews, the provisioning files
// and, with the operator enabled, the GrafanaDashboard resources.
func Generate(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	var files []output.File
	rest, err := Stream(p, r, func(f ...output.File) { files = append(files, f...) })
	return append(files, rest...), err
}

// Stream is Generate that hands each dashboard's JSON and preview to emit
// as soon as it is built, and returns the other files: a profile of
// thousands of teams need not hold every dashboard until the last is
// built. The files come in Generate's order.
func Stream(p *plan.Plan, r *render.Engine, emit func(...output.File)) ([]output.File, error) {
	if !p.Dashboards.Any() {
		return nil, nil
	}
	var dashboards []Rendered // without their JSON and preview, once emitted
	err := eachDashboard(p, r, func(d Rendered) error {
		if len(d.JSON) > maxDashboardBytes {
			return fmt.Errorf("dashboard %s is %d bytes, more than a ConfigMap holds (1 MiB); split the team", d.Title, len(d.JSON))
		}
		files := []output.File{{Path: d.Path(), Data: d.JSON}, {Path: d.PreviewPath(), Data: d.SVG}}
		shipConfigMaps(p, files)
		emit(files...)
		d.JSON, d.SVG = nil, nil
		dashboards = append(dashboards, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	files := []output.File{output.Text(IndexPath, index(p, dashboards))}
	prov, err := provisioning(p)
	if err != nil {
		return nil, err
	}
	files = append(files, prov...)
	if p.Dashboards.Operator != nil {
		f, err := operatorResources(p, dashboards)
		if err != nil {
			return nil, err
		}
		ds, err := operatorDatasource(p)
		if err != nil {
			return nil, err
		}
		files = append(files, f, ds)
	}
	shipConfigMaps(p, files)
	return files, nil
}

// Dashboards builds every dashboard of the plan: the platform ones, then
// one per team in team order.
func Dashboards(p *plan.Plan, r *render.Engine) ([]Rendered, error) {
	var out []Rendered
	err := eachDashboard(p, r, func(d Rendered) error {
		out = append(out, d)
		return nil
	})
	return out, err
}

// eachDashboard builds the dashboards of Dashboards and hands each to fn,
// in order.
func eachDashboard(p *plan.Plan, r *render.Engine, fn func(Rendered) error) error {
	d := p.Dashboards
	platform := []struct {
		on    bool
		build func(*plan.Plan, Meta) (dashboard.Dashboard, error)
		meta  Meta
	}{
		{d.Mesh, meshOverview, platformMeta(p, KindMesh, "mesh-overview", "Mesh overview")},
		{d.ControlPlane, controlPlane, platformMeta(p, KindControlPlane, "istio-control-plane", "Istio control plane")},
		{d.Monitoring, monitoringHealth, platformMeta(p, KindMonitoring, "monitoring-health", "Monitoring health")},
		{d.Gateways, gatewayDashboard, platformMeta(p, KindGateways, "istio-gateways", "Istio gateways")},
	}
	for _, pd := range platform {
		if !pd.on {
			continue
		}
		built, err := pd.build(p, pd.meta)
		if err != nil {
			return fmt.Errorf("dashboard %s: %w", pd.meta.Title, err)
		}
		rd, err := rendered(pd.meta, built)
		if err != nil {
			return err
		}
		if err := fn(rd); err != nil {
			return err
		}
	}
	if !d.Team {
		return nil
	}
	return teamDashboards(p, r, fn)
}

// teamDashboards builds the team baselines. Teams without extra rows
// that share a shape (namespaces, services, objectives) share a template:
// built once from placeholders, then filled in per team (see shapes.go).
func teamDashboards(p *plan.Plan, r *render.Engine, fn func(Rendered) error) error {
	shapes := newShapes(p)
	for _, t := range p.Teams {
		m := teamMeta(p, t.Name)
		v := newTeamView(p, t, m.UID)
		extras, err := teamExtras(p, r, t)
		if err != nil {
			return err
		}
		var rd Rendered
		if v.extras = extras; len(extras) == 0 && safeView(&v) {
			rd, err = shapes.fill(m, v)
		} else {
			rd, err = buildTeam(p, m, v)
		}
		if err != nil {
			return fmt.Errorf("dashboard %s: %w", m.Title, err)
		}
		if err := fn(rd); err != nil {
			return err
		}
	}
	return nil
}

// buildTeam builds a team's baseline directly.
func buildTeam(p *plan.Plan, m Meta, v teamView) (Rendered, error) {
	built, err := teamBaseline(p, v)
	if err != nil {
		return Rendered{}, err
	}
	return rendered(m, built)
}

// rendered marshals a built dashboard and draws its preview, with the
// generated-code header (a team's preview is then copied only once).
func rendered(m Meta, d dashboard.Dashboard) (Rendered, error) {
	data, err := marshal(d)
	if err != nil {
		return Rendered{}, fmt.Errorf("dashboard %s: %w", m.Title, err)
	}
	r := Rendered{Meta: m, JSON: data, Panels: countPanels(d)}
	r.SVG = append([]byte(output.HeaderFor(r.PreviewPath())), preview(d)...)
	return r, nil
}

// marshal writes the dashboard as the SDK's types marshal, indented by two
// spaces, with a final newline.
func marshal(d dashboard.Dashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// countPanels counts the panels that are not rows.
func countPanels(d dashboard.Dashboard) int {
	n := 0
	for _, p := range d.Panels {
		if p.Panel != nil {
			n++
		}
		if p.RowPanel != nil {
			n += len(p.RowPanel.Panels)
		}
	}
	return n
}
