// Package alertmanager generates alertmanager/alertmanager.yml: a routing
// tree whose first route sends the always-firing Watchdog alert to its
// heartbeat receiver, then one route per team (matched on the `team` label
// every obsgen alert carries, with per-severity child routes), the platform
// team's route for the cluster-wide alerts, grouping that makes a
// namespace-wide outage one notification per alert rather than one per pod,
// inhibition (a critical alert mutes its own warning, and TargetDown of a
// job mutes the warnings that read that job's metrics), and the receivers
// with the integrations the profile defines.
//
// The rendered file is checked strictly (check.go) before it reaches the
// writer; Alertmanager's own loader runs in obsgen-verify and the tests.
//
// No credential is ever written: every integration reads its secret from a
// file of the receivers' Secret, mounted where the Prometheus Operator
// mounts an Alertmanager's spec.secrets. For the raw flavour,
// alertmanager/alertmanager-pod-patch.yaml mounts it there.
package alertmanager

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Paths and templates of the configuration and of the raw flavour's pod
// patch.
const (
	Path             = "alertmanager/alertmanager.yml"
	Template         = "alertmanager/alertmanager.yml.tmpl"
	PodPatchPath     = "alertmanager/alertmanager-pod-patch.yaml"
	PodPatchTemplate = "alertmanager/alertmanager-pod-patch.yaml.tmpl"
)

// Config is what the template renders.
type Config struct {
	Plan  *plan.Plan
	Route Route
	// Receivers are the profile's receivers and, by name only, every
	// receiver a route names that the profile does not define; sorted.
	Receivers []plan.Receiver
	// SecretFiles are the keys of the receivers' Secret, sorted.
	SecretFiles []plan.SecretFile
	Inhibit     []Inhibit
}

// Route is a node of the routing tree. Empty timings inherit the parent's.
type Route struct {
	Comment        string
	Matchers       []string
	Receiver       string
	GroupWait      string
	GroupInterval  string
	RepeatInterval string
	Routes         []Route
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
var SameAlert = []string{plan.ClusterLabel, "alertname", "team", "namespace", "pod", "container", "persistentvolumeclaim",
	"destination_workload_namespace", "destination_canonical_service", "slo", "job"}

// Generate writes alertmanager.yml wherever alerts are evaluated (with an
// agent, the ruler's alerts go to the Alertmanager it notifies), and with
// the raw flavour the pod patch that mounts the receivers' Secret.
// deps maps each scrape job to the alerts that read its metrics (the
// rules generator's built.Objects.JobDependents): when a job's targets are
// down, TargetDown of that job mutes them.
func Generate(p *plan.Plan, r *render.Engine, deps map[string][]string) ([]output.File, error) {
	if !p.Rules.Recorded() {
		return nil, nil
	}
	cfg, err := Build(p, deps)
	if err != nil {
		return nil, err
	}
	data, err := r.Render(Template, cfg)
	if err != nil {
		return nil, err
	}
	if err := check(data); err != nil {
		return nil, fmt.Errorf("%s is not a valid Alertmanager configuration: %w", Path, err)
	}
	config := output.YAML(Path, data)
	if !p.Monitoring.Prometheus.Agent {
		// An agent's is for the Alertmanager the ruler notifies, outside
		// this cluster.
		config = config.Shipped(output.Ship{As: output.ShipAlertmanagerConfig})
	}
	files := []output.File{config}
	if p.Monitoring.RawFlavour && !p.Monitoring.Prometheus.Agent && len(cfg.SecretFiles) > 0 {
		patch, err := podPatch(r, cfg)
		if err != nil {
			return nil, err
		}
		component, err := manifest.Component(path.Dir(PodPatchPath), "your Alertmanager StatefulSet", PodPatchPath)
		if err != nil {
			return nil, err
		}
		files = append(files, patch, component)
	}
	return files, nil
}

// podPatch renders the strategic-merge patch that mounts the receivers'
// Secret into a plain Alertmanager StatefulSet, and decodes it strictly
// into the type it patches.
func podPatch(r *render.Engine, cfg Config) (output.File, error) {
	data, err := r.Render(PodPatchTemplate, cfg)
	if err != nil {
		return output.File{}, err
	}
	if err := yaml.UnmarshalStrict(data, &appsv1.StatefulSet{}); err != nil {
		return output.File{}, fmt.Errorf("%s is not a valid StatefulSet: %w", PodPatchPath, err)
	}
	return output.YAML(PodPatchPath, data), nil
}

// Build derives the routing tree, the receivers and the inhibition rules
// from the plan.
func Build(p *plan.Plan, deps map[string][]string) (Config, error) {
	a := p.Alerting
	cfg := Config{Plan: p, Route: Route{Receiver: a.Receiver}, SecretFiles: a.SecretFiles()}
	cfg.Route.Routes = watchdogRoutes(a)
	receivers := map[string]bool{a.Receiver: true, a.Watchdog.Receiver: true}
	if a.Watchdog.RulerReceiver != "" {
		receivers[a.Watchdog.RulerReceiver] = true
	}
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
	cfg.Receivers = allReceivers(a, receivers)
	cfg.Inhibit = []Inhibit{
		{Comment: "a critical alert mutes the warning and info alerts of the same name on the same object",
			Source: []string{matcher("severity", "=", "critical")}, Target: []string{matcher("severity", "=~", "warning|info")}, Equal: SameAlert},
		{Comment: "a warning mutes the info alerts of the same name on the same object",
			Source: []string{matcher("severity", "=", "warning")}, Target: []string{matcher("severity", "=", "info")}, Equal: SameAlert},
	}
	if !p.Monitoring.RawFlavour && !p.Monitoring.OperatorFlavour {
		return cfg, nil
	}
	for _, j := range p.Jobs {
		alerts := deps[j.Name]
		if len(alerts) == 0 {
			continue
		}
		in := Inhibit{Source: []string{matcher("alertname", "=", "TargetDown"), matcher("job", "=", j.Name)},
			Target: []string{matcher("alertname", "=~", strings.Join(alerts, "|")), matcher("severity", "!=", "critical")}}
		// Only in the same cluster: clusters may share this Alertmanager,
		// and every alert carries the cluster external label.
		switch {
		case j.Kind == plan.JobWaypoints:
			cfg.Inhibit = append(cfg.Inhibit, waypointInhibitions(p, in)...)
			continue
		case j.CarriesTeam():
			// TargetDown counts a job's targets by namespace, and the
			// alerts on their metrics carry it (the service alerts their
			// destination's, a gateway's alert the gateway's): the
			// proxies down in one namespace blind that namespace only.
			// Alertmanager compares equal labels by name (docs/
			// configuration.md, inhibit_rule; a missing label is empty).
			// Not team: TargetDown names a namespace no team owns
			// "platform", while a service there carries no team and a
			// gateway's or certificate alert is always the platform's.
			in.Comment = fmt.Sprintf("targets of %s are down in a namespace: the warnings on their metrics there see partial data", j.Name)
			in.Equal = []string{plan.ClusterLabel, "namespace"}
			if own := ownJobServices(p, j, deps); own != "" {
				in.Target = append(in.Target, matcher("destination_canonical_service", "!~", own))
				in.Comment += " (not those of services scraped by a job of their own)"
			}
		default:
			in.Comment = fmt.Sprintf("targets of %s are down: the warnings on its metrics see partial data (pages still go out)", j.Name)
			in.Equal = []string{plan.ClusterLabel}
		}
		cfg.Inhibit = append(cfg.Inhibit, in)
	}
	// A team service scraped on its sidecar's metrics endpoint by
	// team-services carries its Istio metrics under its own job label
	// (<team>/<service>), not the proxies' job: its TargetDown mutes the
	// warnings on them in its namespace.
	for _, s := range p.ServiceTargets {
		alerts := deps[s.Job]
		if len(alerts) == 0 {
			continue
		}
		target := []string{matcher("alertname", "=~", strings.Join(alerts, "|")), matcher("severity", "!=", "critical")}
		comment := fmt.Sprintf("targets of %s are down: the warnings on its metrics in %s see partial data", s.Job, s.Namespace)
		// Its targets report its own requests: the alerts of the other
		// services of the namespace see all of theirs. Istio names a
		// workload's canonical service after the first of these pod labels,
		// else after the workload (istio/istio pkg/kube/labels/labels.go,
		// nameLabels), which the profile does not know: then the whole
		// namespace. A pod label of higher rank that the selector leaves
		// out names it otherwise, and the rule then mutes nothing.
		if canonical, ok := s.LabeledCanonicalService(); ok {
			target = append(target, matcher("destination_canonical_service", "=", canonical))
			comment = fmt.Sprintf("targets of %s are down: the warnings on its requests see partial data", s.Job)
		}
		cfg.Inhibit = append(cfg.Inhibit, Inhibit{Comment: comment,
			Source: []string{matcher("alertname", "=", "TargetDown"), matcher("job", "=", s.Job)},
			Target: target, Equal: []string{plan.ClusterLabel, "namespace"}})
	}
	slices.SortStableFunc(cfg.Inhibit[2:], func(x, y Inhibit) int { return cmp.Compare(x.Source[1], y.Source[1]) })
	return cfg, nil
}

// ownJobServices is the alternation of the canonical services whose
// Istio metrics the proxies' job j does not scrape: team-services scrapes
// their proxies under a job of their own (deps lists Istio alerts for it),
// and j, which drops every claimed pod (plan.Plan.Claimed), does not. Their
// request alerts read series only their own job brings, so j's TargetDown
// must not mute them. envoy-stats drops only the gateways and waypoints,
// so it still brings theirs. A name serves every namespace (Alertmanager
// matchers cannot tie it to one), so a same-named service in another
// namespace is not muted either: an alert that goes out, never one that
// is hidden. Services whose canonical name the profile does not decide
// (no naming pod label in their selector) cannot be named here.
func ownJobServices(p *plan.Plan, j plan.Job, deps map[string][]string) string {
	switch j.Kind {
	case plan.JobIstioMerged, plan.JobPods, plan.JobPodsIstioSecure:
	default:
		return ""
	}
	var names []string
	for _, s := range p.ServiceTargets {
		if canonical, ok := s.LabeledCanonicalService(); ok && len(deps[s.Job]) > 0 {
			names = append(names, regexp.QuoteMeta(canonical))
		}
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), "|")
}

// waypointInhibitions are the TargetDown inhibitions of the waypoints'
// job: a waypoint reports the requests of the namespaces that use it
// (mesh.waypoints[].namespaces, istio.io/use-waypoint-namespace), which
// need not be its own, while TargetDown carries the waypoint's namespace
// and name (its targets' waypoint label). One rule per waypoint mutes the
// alerts of the namespaces it serves.
func waypointInhibitions(p *plan.Plan, base Inhibit) []Inhibit {
	var out []Inhibit
	for _, w := range p.Mesh.Waypoints {
		in := base
		in.Comment = fmt.Sprintf("waypoint %s/%s is down: the warnings on the requests it reports (namespaces %s) see partial data",
			w.Namespace, w.Name, strings.Join(w.Namespaces, ", "))
		in.Source = append(slices.Clone(base.Source), matcher("namespace", "=", w.Namespace), matcher(plan.WaypointTargetLabel, "=", w.Name))
		in.Target = append(slices.Clone(base.Target), matcher("namespace", "=~", strings.Join(w.Namespaces, "|")))
		in.Equal = []string{plan.ClusterLabel}
		out = append(out, in)
	}
	return out
}

// watchdogRoutes send the Watchdog alert to its receiver ahead of every
// team route: it carries the platform team's label, so the platform route
// would take it otherwise. Without `continue`, no later route sees it.
// When a ruler evaluates besides the servers, its Watchdog (which carries
// the evaluator label) goes to a heartbeat of its own first: the two ways
// to Alertmanager fail apart, and in one group either evaluator's
// Watchdog would keep the heartbeat going for both.
func watchdogRoutes(a plan.Alerting) []Route {
	w := a.Watchdog
	route := func(matchers []string, receiver, field, what string) Route {
		rt := Route{Matchers: matchers, Receiver: receiver,
			GroupWait: w.GroupWait, GroupInterval: w.GroupInterval, RepeatInterval: w.RepeatInterval,
			Comment: fmt.Sprintf("%s always fires: a heartbeat every %s tells an outside service that alerting works", what, w.RepeatInterval)}
		if r, ok := a.Defined(receiver); !ok || r.Integrations() == 0 {
			rt.Comment = fmt.Sprintf("%s always fires; receiver %q has no integration on purpose: "+
				"the profile defines none for %s, so the dead man's switch goes nowhere (obsgen validate warns)", what, receiver, field)
		}
		return rt
	}
	watchdog := matcher("alertname", "=", plan.WatchdogAlert)
	var out []Route
	if w.RulerReceiver != "" {
		out = append(out, route([]string{watchdog, matcher(plan.WatchdogEvaluatorLabel, "=", w.Ruler)}, w.RulerReceiver,
			"alerting.watchdog.rulerReceiver", "the ruler's Watchdog alert"))
	}
	return append(out, route([]string{watchdog}, w.Receiver, "alerting.watchdog.receiver", "the Watchdog alert"))
}

// allReceivers are the defined receivers and, by name only, the routed
// ones the profile does not define (Alertmanager requires every routed
// receiver to exist), sorted by name.
func allReceivers(a plan.Alerting, routed map[string]bool) []plan.Receiver {
	out := slices.Clone(a.Receivers)
	for _, name := range slices.Sorted(maps.Keys(routed)) {
		if _, ok := a.Defined(name); !ok {
			out = append(out, plan.Receiver{Name: name})
		}
	}
	slices.SortFunc(out, func(x, y plan.Receiver) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// matcher writes a matcher in Alertmanager's UTF-8 matcher syntax with the
// value double-quoted.
func matcher(name, op, value string) string {
	return fmt.Sprintf("%s%s%q", name, op, value)
}
