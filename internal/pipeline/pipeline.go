// Package pipeline runs obsgen's stages for one profile, in memory:
// load -> validate -> resolve -> generate. Nothing here touches disk.
package pipeline

import (
	"obsgen.dev/obsgen/generators"
	"obsgen.dev/obsgen/generators/reports"
	"obsgen.dev/obsgen/internal/built"
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
	l, err := profile.Load(file, data)
	if err != nil {
		return nil, err
	}
	p := plan.Resolve(l.Profile)
	g, err := generators.Run(p, r)
	if err != nil {
		return nil, ProofDiagnostics(l, err)
	}
	return &Result{Loaded: l, Plan: p, Files: g.Files, Policies: g.Policies, Proof: g.Proof}, nil
}
