package profile

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/prometheus/prometheus/promql/parser"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/dashvars"
	"obsgen.dev/obsgen/internal/plan"
)

// grafanaUID is what Grafana accepts as a dashboard or data source UID.
// It and folderName are compiled on first use: their bounded repetitions
// would cost every obsgen command at start-up.
var grafanaUID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`) })

// folderName is a Grafana folder obsgen also uses as a directory name.
var folderName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`) })

// teamDashboardVariables are the variables of a team baseline, with sample
// values for parsing the queries of extra panels.
var teamDashboardVariables = map[string]string{
	"team": "team", "namespace": "(ns-a|ns-b)", "workload": ".*", "datasource": "prometheus",
}

// dashboards checks the dashboards section.
func (v *validator) dashboards() {
	d := v.p.Dashboards
	const path = "dashboards"
	ds := d.Datasource
	if ds.Name == "" || strings.ContainsFunc(ds.Name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		v.at(path+".datasource.name", "such as Prometheus", "must be printable text on one line (got %q)", ds.Name)
	}
	if v.written(path+".datasource.uid") && !grafanaUID().MatchString(ds.UID) {
		v.at(path+".datasource.uid", "use letters, digits, '-' and '_', at most 40 characters", "invalid Grafana UID %q", ds.UID)
	}
	v.datasourceURL(path+".datasource.url", ds.URL)
	v.datasourceHeaders(path+".datasource.headers", ds.Headers)
	for i, k := range d.Disable {
		if slices.Index(d.Disable, k) != i {
			v.at(fmt.Sprintf("%s.disable[%d]", path, i), "remove the repeated entry", "duplicate dashboard %q", k)
		}
	}
	v.platformFolder(path+".platformFolder", d.PlatformFolder)
	v.labels(path+".grafanaOperator.instanceLabels", d.GrafanaOperator.InstanceLabels)
	for i, r := range d.ExtraRows {
		v.extraRow(fmt.Sprintf("%s.extraRows[%d]", path, i), r)
	}
}

// datasourceURL checks the URL, and requires one when the Prometheus
// server cannot answer for every series: an agent stores nothing, and a
// shard holds only its share of the targets.
func (v *validator) datasourceURL(path, raw string) {
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.at(path, "give an absolute http or https URL, such as http://thanos-query.monitoring:9090", "not a data source URL (got %q)", raw)
	}
	if v.l.Profile.Dashboards.Datasource.URL != "" || !v.dashboardsWanted() {
		return
	}
	pr := v.p.Monitoring.Prometheus
	hint := "point it at the store Prometheus remote-writes to, such as Thanos Query or Mimir's Prometheus API"
	switch {
	case pr.Mode == v1alpha1.ModeAgent:
		v.at(path, hint, "required with monitoring.prometheus.mode agent: an agent serves no queries, so the dashboards would stay empty")
	case pr.Shards > 1:
		v.at(path, hint, "required with %d shards: each shard holds part of the series, so the dashboards would show part of the mesh", pr.Shards)
	default:
		return
	}
	// The field is missing: point at what makes it required.
	cause := "monitoring.prometheus.shards"
	if pr.Mode == v1alpha1.ModeAgent {
		cause = "monitoring.prometheus.mode"
	}
	v.diags[len(v.diags)-1].Pos = v.pos(cause)
}

// httpToken is an HTTP header name (RFC 9110, section 5.1: a token).
var httpToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// datasourceHeaders checks the data source's headers, and that the tenant
// header it defaults to is not ambiguous.
func (v *validator) datasourceHeaders(path string, headers map[string]string) {
	v.headers(path, headers)
	if v.l.Profile.Dashboards.Datasource.Headers != nil || !plan.SharedStore(v.p) || !v.dashboardsWanted() {
		return
	}
	if _, ok := plan.RemoteWriteTenant(v.p.Monitoring.Prometheus.RemoteWrite); !ok {
		v.at(path, "set the tenant the dashboards query, such as {X-Scope-OrgID: <tenant>}",
			"the remote writes send different %s headers, so the data source's cannot default to theirs", plan.TenantHeader)
		v.diags[len(v.diags)-1].Pos = v.pos("monitoring.prometheus.remoteWrite")
	}
}

// headers checks the names and values of HTTP headers obsgen writes in
// clear into configuration.
func (v *validator) headers(path string, headers map[string]string) {
	for _, h := range slices.Sorted(mapKeys(headers)) {
		hp := fmt.Sprintf("%s[%q]", path, h)
		value := headers[h]
		switch {
		case !httpToken.MatchString(h):
			v.atKey(hp, "use an HTTP header name such as X-Scope-OrgID", "not an HTTP header name")
		case strings.EqualFold(h, "Authorization") || strings.EqualFold(h, "Proxy-Authorization") || strings.EqualFold(h, "Cookie"):
			v.atKey(hp, "configure credentials in Grafana itself: obsgen writes header values in clear into a ConfigMap and a GrafanaDatasource",
				"header %q carries credentials", h)
		case value == "" || strings.ContainsFunc(value, func(r rune) bool { return !unicode.IsPrint(r) }):
			v.at(hp, "such as the tenant ID", "must be printable text on one line (got %q)", value)
		case strings.Contains(value, "$"):
			// Grafana looks up $NAME and ${NAME} in its environment in
			// every provisioning file (grafana.com/docs, "Provision
			// Grafana", "Use environment variables").
			v.at(hp, "remove the $", "Grafana's provisioning would expand %q as an environment variable", value)
		}
	}
}

// dashboardsWanted tells whether the profile generates any dashboard.
func (v *validator) dashboardsWanted() bool {
	return len(v.p.Dashboards.Disable) < len(v1alpha1.DashboardKind("").Values())
}

// platformFolder checks the folder name. A team of the same name shares
// the folder; one that differs only in case would be a second folder on
// some file systems and the same directory on others.
func (v *validator) platformFolder(path, folder string) {
	if !folderName().MatchString(folder) {
		v.at(path, "use letters, digits, '-' and '_', starting with a letter or digit", "invalid folder name %q", folder)
		return
	}
	for i, t := range v.p.Teams {
		if strings.EqualFold(t.Name, folder) && t.Name != folder {
			v.at(fmt.Sprintf("teams[%d].name", i), "rename the team, or set dashboards.platformFolder to another folder",
				"team %q would share its dashboard folder with the platform dashboards (%q)", t.Name, folder)
		}
	}
}

func (v *validator) extraRow(path string, r v1alpha1.DashboardRow) {
	if strings.TrimSpace(r.Title) == "" {
		v.at(path+".title", "", "missing")
	}
	var teams []string
	for _, t := range v.p.Teams {
		teams = append(teams, t.Name)
	}
	for i, t := range r.Teams {
		if !slices.Contains(teams, t) {
			v.at(fmt.Sprintf("%s.teams[%d]", path, i), suggest(t, teams), "no team %q", t)
		}
	}
	if len(r.Panels) == 0 {
		v.at(path+".panels", "add at least one panel", "missing")
	}
	for i, p := range r.Panels {
		v.extraPanel(fmt.Sprintf("%s.panels[%d]", path, i), p)
	}
}

func (v *validator) extraPanel(path string, p v1alpha1.DashboardPanel) {
	if strings.TrimSpace(p.Title) == "" {
		v.at(path+".title", "", "missing")
	}
	if p.Width < 1 || p.Width > 24 {
		v.at(path+".width", "24 columns are the full width", "must be 1..24 (got %d)", p.Width)
	}
	if len(p.Queries) == 0 {
		v.at(path+".queries", "add at least one query", "missing")
	}
	for i, q := range p.Queries {
		v.panelQuery(fmt.Sprintf("%s.queries[%d].expr", path, i), q.Expr)
	}
}

// panelQuery parses a query as Prometheus will once Grafana has replaced
// the dashboard's variables.
func (v *validator) panelQuery(path, expr string) {
	if strings.TrimSpace(expr) == "" {
		v.at(path, "", "missing")
		return
	}
	vars, have := teamDashboardVariables, "$team, $namespace, $workload"
	if plan.SharedStore(v.p) {
		// On a shared store the dashboards select a cluster (and add the
		// matcher to every selector of extra panels themselves).
		vars = maps.Clone(vars)
		vars["cluster"], have = "prod", have+", $cluster"
	}
	expanded, unknown := dashvars.Expand(expr, vars)
	if len(unknown) > 0 {
		v.at(path, "the team dashboards have "+have+" and Grafana's $__rate_interval, $__interval and $__range",
			"unknown variable $%s", strings.Join(unknown, ", $"))
		return
	}
	if _, err := parser.NewParser(parser.Options{}).ParseExpr(expanded); err != nil {
		v.at(path, "", "not a PromQL expression: %v", err)
	}
}
