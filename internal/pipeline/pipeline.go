// Package pipeline runs obsgen's stages for one profile, in memory:
// load -> validate -> resolve -> generate. Nothing here touches disk.
package pipeline

import (
	"context"
	"fmt"
	"maps"
	"runtime/trace"
	"slices"
	"strings"

	"obsgen.dev/obsgen/generators"
	"obsgen.dev/obsgen/generators/kustomize"
	"obsgen.dev/obsgen/generators/reports"
	"obsgen.dev/obsgen/internal/alertcatalog"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/render"
)

// Result is a generated profile.
type Result struct {
	Loaded *profile.Loaded
	Plan   *plan.Plan
	Files  []output.File
	// Policies are the generated policy objects, and Proof their proof.
	Policies *built.Policies
	Proof    *reports.Proof
}

// Run loads the profile in data (named file in diagnostics) and generates
// its files. Profile problems come back as a diag.List.
func Run(file string, data []byte, r *render.Engine) (*Result, error) {
	return RunIncluding(file, data, "", r)
}

// RunIncluding is Run for a profile read from a file in dir, whose teams
// may include team files relative to dir (profile.LoadIncluding).
func RunIncluding(file string, data []byte, dir string, r *render.Engine) (*Result, error) {
	return RunSettling(file, data, dir, r, nil)
}

// RunSettling is RunIncluding that hands each generator's files to settle
// with the profile's output folder name as soon as the generator is done
// (generators.RunSettling): the Result's files are what settle returned.
func RunSettling(file string, data []byte, dir string, r *render.Engine, settle func(set string, files []output.File) []output.File) (*Result, error) {
	defer trace.StartRegion(context.Background(), "pipeline").End()
	var l *profile.Loaded
	var err error
	trace.WithRegion(context.Background(), "load", func() { l, err = profile.LoadIncluding(file, data, dir) })
	if err != nil {
		return nil, err
	}
	p := plan.Resolve(l.Profile)
	var settleSet func([]output.File) []output.File
	if settle != nil {
		settleSet = func(files []output.File) []output.File { return settle(p.Name, files) }
	}
	g, err := generators.RunSettling(p, r, settleSet)
	if err != nil {
		return nil, ProofDiagnostics(l, err)
	}
	warnOversized(l, p, kustomize.OversizedIn(g.Kustomization, g.Files))
	warnIdleKnobs(l, p, g.Catalogued)
	return &Result{Loaded: l, Plan: p, Files: g.Files, Policies: g.Policies, Proof: g.Proof}, nil
}

// warnIdleKnobs warns of each alerting.disable entry and override (the
// profile's and the teams') that names an alert, rule group or rule file
// obsgen knows but does not generate for this profile, as it depends on
// the mesh (sidecars, ambient), the certificate authority (mesh.istioCSR),
// the flavours or the evaluator: the knob changes nothing, which the user
// should hear rather than believe the alert tuned. Names obsgen does not
// know at all are errors of the profile's own (internal/profile).
func warnIdleKnobs(l *profile.Loaded, p *plan.Plan, catalogued map[string]bool) {
	if !p.Rules.Recorded() {
		return // no rules at all: the profile's validation says so
	}
	idle := func(path, name string, key bool) {
		if catalogued[name] || !alertcatalog.Known(name) {
			return
		}
		pos := l.Pos(path)
		if k, ok := l.Keys[path]; ok && key {
			pos = k
		}
		l.Warnings = append(l.Warnings, diag.Diagnostic{File: l.FileOf(path), Pos: pos, Path: path, Severity: diag.Warning,
			Message: fmt.Sprintf("obsgen generates no %s for this profile, so this entry changes nothing", name),
			Hint:    "remove the entry; docs/alerts.md says which mesh, certificate authority and evaluator each alert needs"})
	}
	a := l.Profile.Alerting
	for i, name := range a.Disable {
		idle(fmt.Sprintf("alerting.disable[%d]", i), name, false)
	}
	for _, name := range slices.Sorted(maps.Keys(a.Overrides)) {
		idle(fmt.Sprintf("alerting.overrides[%q]", name), name, true)
	}
	for t, team := range l.Profile.Teams {
		for i, name := range team.Alerting.Disable {
			idle(fmt.Sprintf("teams[%d].alerting.disable[%d]", t, i), name, false)
		}
		for _, name := range slices.Sorted(maps.Keys(team.Alerting.Overrides)) {
			idle(fmt.Sprintf("teams[%d].alerting.overrides[%q]", t, name), name, true)
		}
	}
}

// warnOversized adds a warning for each ConfigMap or Secret the
// kustomization would build beyond what the API server takes: the output
// is written, but applying it fails with "Too long: must have at most
// 1048576 bytes".
func warnOversized(l *profile.Loaded, p *plan.Plan, over []kustomize.Oversize) {
	for _, o := range over {
		hint := "split the teams across profiles (clusters or tenants), so each Prometheus scrapes fewer jobs"
		if p.Monitoring.RawFlavour && o.Kind == "ConfigMap" && o.Namespace == p.Monitoring.Namespace &&
			strings.HasPrefix(o.Name, p.Monitoring.Prometheus.Name+"-") {
			hint = "deploy the operator flavour alone (monitoring.flavours: [operator]): the Prometheus Operator builds the configuration from the generated resources and stores it compressed; or split the teams across profiles"
		}
		l.Warnings = append(l.Warnings, diag.Diagnostic{File: l.File, Pos: l.Pos("monitoring.flavours"), Path: "monitoring.flavours",
			Severity: diag.Warning, Hint: hint,
			Message: fmt.Sprintf("%s %s/%s in %s holds %d bytes (%s); the API server refuses a ConfigMap or Secret over %d bytes (1 MiB), so applying the output fails",
				o.Kind, o.Namespace, o.Name, kustomize.Path, o.Bytes, strings.Join(o.Files, ", "), kustomize.MaxObjectData)})
	}
}
