package profile

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// User strings that land where another program interprets them are refused
// with the reason, rather than escaped: each sink has its own escape (or
// none that works both with and without a feature flag), and a value that
// looks like a template is far more often a mistake than a wish.

// sinks checks every profile string that reaches an interpreter.
func (v *validator) sinks() {
	p := v.l.Profile
	v.promTemplates("alerting.labels", p.Alerting.Labels)
	for i, t := range p.Teams {
		v.promTemplates(fmt.Sprintf("teams[%d].alerting.labels", i), t.Alerting.Labels)
		// A team's alert labels are set by alert_relabel_configs, as the
		// replacement of each rule.
		for _, k := range slices.Sorted(mapKeys(t.Alerting.Labels)) {
			v.noDollar(fmt.Sprintf("teams[%d].alerting.labels[%q]", i, k), t.Alerting.Labels[k], relabelReason)
		}
		for j, s := range t.Services {
			v.noDollar(fmt.Sprintf("teams[%d].services[%d].path", i, j), s.Path, relabelReason)
		}
	}
	if strings.Contains(p.Monitoring.RunbookBaseURL, "{{") {
		v.at("monitoring.runbookBaseURL", "remove the braces", "Prometheus expands {{ }} templates in the runbook_url annotation built from it")
	}
	for _, k := range slices.Sorted(mapKeys(p.Monitoring.Prometheus.ExternalLabels)) {
		v.noDollar(fmt.Sprintf("monitoring.prometheus.externalLabels[%q]", k), p.Monitoring.Prometheus.ExternalLabels[k], externalReason)
	}
	v.noDollar("cluster.name", p.Cluster.Name, externalReason)
	v.grafanaText("dashboards.datasource.name", p.Dashboards.Datasource.Name, nil)
	v.grafanaText("dashboards.platformFolder", p.Dashboards.PlatformFolder, nil)
	for i, r := range p.Dashboards.ExtraRows {
		v.grafanaText(fmt.Sprintf("dashboards.extraRows[%d].title", i), r.Title, dashboardVariables)
		for j, panel := range r.Panels {
			v.grafanaText(fmt.Sprintf("dashboards.extraRows[%d].panels[%d].title", i, j), panel.Title, dashboardVariables)
		}
	}
}

const (
	relabelReason  = "relabeling expands $1 and ${name} in the replacement it lands in"
	externalReason = "Prometheus expands $VAR and ${VAR} in external labels under --enable-feature=expand-external-labels"
)

// promTemplates refuses {{ }} in alert label values: Prometheus expands
// label and annotation values of alerting rules as Go templates.
func (v *validator) promTemplates(path string, labels map[string]string) {
	for _, k := range slices.Sorted(mapKeys(labels)) {
		if val := labels[k]; strings.Contains(val, "{{") || strings.Contains(val, "}}") {
			v.at(fmt.Sprintf("%s[%q]", path, k), "remove the braces; obsgen's alerts already carry the team and namespace labels",
				"Prometheus expands {{ }} templates in alert labels (got %q)", val)
		}
	}
}

func (v *validator) noDollar(path, value, reason string) {
	if strings.Contains(value, "$") {
		v.at(path, "remove the $", "%s (got %q)", reason, value)
	}
}

// dashboardVariables are the variables of the team baselines that extra
// rows may name in titles.
var dashboardVariables = []string{"team", "namespace", "workload"}

var grafanaReference = regexp.MustCompile(`\$\{?([A-Za-z0-9_]+)|\[\[`)

// grafanaText refuses variable references Grafana would interpolate in a
// title or name, other than the allowed ones.
func (v *validator) grafanaText(path, value string, allowed []string) {
	for _, m := range grafanaReference.FindAllStringSubmatch(value, -1) {
		if m[1] != "" && slices.Contains(allowed, m[1]) {
			continue
		}
		hint := "remove the $ or [["
		if len(allowed) > 0 {
			hint = "only $" + strings.Join(allowed, ", $") + " are defined there; remove the others"
		}
		v.at(path, hint, "Grafana interpolates %q as a dashboard variable (got %q)", m[0], value)
		return
	}
}
