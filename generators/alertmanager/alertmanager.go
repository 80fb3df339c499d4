// Package alertmanager generates alertmanager/alertmanager.yml: a routing
// tree with one route per team (matched on the `team` label every obsgen
// alert carries, with per-severity child routes), the platform team's route
// for the cluster-wide alerts, grouping that makes a namespace-wide outage
// one notification per alert rather than one per pod, and inhibition: a
// critical alert mutes its own warning, and TargetDown of a job mutes the
// warnings that read that job's metrics.
//
// The receivers are named, without integrations: obsgen does not know the
// pager keys and webhook URLs. Add them by overriding the template
// alertmanager/_receivers.tmpl (obsgen templates dump).
package alertmanager

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	amconfig "github.com/prometheus/alertmanager/config"

	"obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Path and template of the configuration.
const (
	Path     = "alertmanager/alertmanager.yml"
	Template = "alertmanager/alertmanager.yml.tmpl"
)

// Config is what the template renders.
type Config struct {
	Plan      *plan.Plan
	Route     Route
	Receivers []string
	Inhibit   []Inhibit
}

// Route is a node of the routing tree.
type Route struct {
	Comment  string
	Matchers []string
	Receiver string
	Routes   []Route
}

// Inhibit is an inhibition rule.
type Inhibit struct {
	Comment string
	Source  []string
	Target  []string
	Equal   []string
}

// SameAlert are the labels that tell two alerts of one name apart: a
// critical alert mutes a warning (or info) with the same values.
var SameAlert = []string{"alertname", "team", "namespace", "pod", "container", "persistentvolumeclaim",
	"destination_workload_namespace", "destination_canonical_service", "slo", "job"}

// Generate writes alertmanager.yml, unless Prometheus runs as an agent
// (no alerts) or the raw flavour is off.
func Generate(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	if p.Monitoring.Prometheus.Agent {
		return nil, nil
	}
	cfg, err := Build(p)
	if err != nil {
		return nil, err
	}
	data, err := r.Render(Template, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := amconfig.Load(string(data)); err != nil {
		return nil, fmt.Errorf("%s does not load in Alertmanager: %w", Path, err)
	}
	return []output.File{output.YAML(Path, data)}, nil
}

// Build derives the routing tree and the inhibition rules from the plan.
func Build(p *plan.Plan) (Config, error) {
	a := p.Alerting
	cfg := Config{Plan: p, Route: Route{Receiver: a.Receiver}}
	receivers := map[string]bool{a.Receiver: true}
	teamRoute := func(team, receiver string, severities plan.Labels, why string) Route {
		rt := Route{Comment: why, Matchers: []string{matcher("team", "=", team)}, Receiver: receiver}
		receivers[receiver] = true
		for _, s := range severities {
			rt.Routes = append(rt.Routes, Route{Matchers: []string{matcher("severity", "=", s.Name)}, Receiver: s.Value})
			receivers[s.Value] = true
		}
		return rt
	}
	platformIsTeam := false
	for _, t := range p.Teams {
		platformIsTeam = platformIsTeam || t.Name == a.PlatformTeam
		cfg.Route.Routes = append(cfg.Route.Routes, teamRoute(t.Name, t.Receiver, t.SeverityReceivers, "team "+t.Name))
	}
	if !platformIsTeam {
		cfg.Route.Routes = append(cfg.Route.Routes, teamRoute(a.PlatformTeam, a.Receiver, a.SeverityReceivers,
			"the platform team: control plane, monitoring stack, platform jobs"))
	}
	cfg.Receivers = slices.Sorted(maps.Keys(receivers))
	cfg.Inhibit = []Inhibit{
		{Comment: "a critical alert mutes the warning and info alerts of the same name on the same object",
			Source: []string{matcher("severity", "=", "critical")}, Target: []string{matcher("severity", "=~", "warning|info")}, Equal: SameAlert},
		{Comment: "a warning mutes the info alerts of the same name on the same object",
			Source: []string{matcher("severity", "=", "warning")}, Target: []string{matcher("severity", "=", "info")}, Equal: SameAlert},
	}
	if !p.Monitoring.RawFlavour && !p.Monitoring.OperatorFlavour {
		return cfg, nil
	}
	deps, err := rules.JobDependents(p, rules.Files(p))
	if err != nil {
		return cfg, err
	}
	for _, j := range p.Jobs {
		alerts := deps[j.Name]
		if len(alerts) == 0 {
			continue
		}
		in := Inhibit{Source: []string{matcher("alertname", "=", "TargetDown"), matcher("job", "=", j.Name)},
			Target: []string{matcher("alertname", "=~", strings.Join(alerts, "|")), matcher("severity", "!=", "critical")}}
		if j.CarriesTeam() { // TargetDown of these mutes only that team's alerts

			in.Comment = fmt.Sprintf("targets of %s are down in a team's namespace: that team's warnings on its metrics see partial data", j.Name)
			in.Equal = []string{"team"}
		} else {
			in.Comment = fmt.Sprintf("targets of %s are down: the warnings on its metrics see partial data (pages still go out)", j.Name)
		}
		cfg.Inhibit = append(cfg.Inhibit, in)
	}
	slices.SortStableFunc(cfg.Inhibit[2:], func(x, y Inhibit) int { return cmp.Compare(x.Source[1], y.Source[1]) })
	return cfg, nil
}

// matcher writes a matcher in Alertmanager's UTF-8 matcher syntax with the
// value double-quoted.
func matcher(name, op, value string) string {
	return fmt.Sprintf("%s%s%q", name, op, value)
}
