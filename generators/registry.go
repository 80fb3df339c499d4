// Package generators lists obsgen's generators and runs them: each is a
// pure function of the plan that returns files, never touching disk, the
// environment, the clock or randomness. Generators never import each
// other: what several need is a plan field, or an object built once here
// and handed along (the policy objects the proof evaluates).
package generators

import (
	"fmt"
	"runtime"

	"golang.org/x/sync/errgroup"

	"obsgen.dev/obsgen/generators/adminnetpol"
	"obsgen.dev/obsgen/generators/alertmanager"
	"obsgen.dev/obsgen/generators/calico"
	"obsgen.dev/obsgen/generators/federation"
	"obsgen.dev/obsgen/generators/grafana"
	"obsgen.dev/obsgen/generators/istio"
	"obsgen.dev/obsgen/generators/kiali"
	"obsgen.dev/obsgen/generators/kustomize"
	"obsgen.dev/obsgen/generators/netpol"
	"obsgen.dev/obsgen/generators/prometheus"
	"obsgen.dev/obsgen/generators/reports"
	"obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Generator turns a plan into files. Builders (Stage 0) may fill their
// part of objs, which later stages and the proof read.
type Generator struct {
	Name     string
	Stage    int
	Generate func(p *plan.Plan, r *render.Engine, objs *built.Objects) ([]output.File, error)
}

// Registry is every generator, in the order of their files.
var Registry = []Generator{
	{Name: "prometheus", Generate: files(prometheus.Generate)},
	{Name: "federation", Generate: files(federation.Generate)},
	{Name: "rules", Generate: func(p *plan.Plan, _ *render.Engine, objs *built.Objects) ([]output.File, error) {
		return rules.Write(p, objs)
	}},
	{Name: "alertmanager", Stage: 1, Generate: func(p *plan.Plan, r *render.Engine, objs *built.Objects) ([]output.File, error) {
		return alertmanager.Generate(p, r, objs.JobDependents)
	}},
	{Name: "grafana", Generate: files(grafana.Generate)},
	{Name: "netpol", Generate: policies(netpol.Write)},
	{Name: "calico", Generate: policies(calico.Write)},
	{Name: "adminnetpol", Generate: policies(adminnetpol.Write)},
	{Name: "istio", Generate: policies(istio.Write)},
	{Name: "kiali", Generate: files(kiali.Generate)},
}

// stages is the number of stages of the registry.
const stages = 2

func files(g func(*plan.Plan, *render.Engine) ([]output.File, error)) func(*plan.Plan, *render.Engine, *built.Objects) ([]output.File, error) {
	return func(p *plan.Plan, r *render.Engine, _ *built.Objects) ([]output.File, error) { return g(p, r) }
}

func policies(g func(*plan.Plan, *built.Policies) ([]output.File, error)) func(*plan.Plan, *render.Engine, *built.Objects) ([]output.File, error) {
	return func(p *plan.Plan, _ *render.Engine, objs *built.Objects) ([]output.File, error) {
		return g(p, &objs.Policies)
	}
}

// Generated is a plan's files, its policy objects and their proof.
type Generated struct {
	Files    []output.File
	Policies *built.Policies
	Proof    *reports.Proof
}

// Run runs the registry stage by stage, each on at most GOMAXPROCS
// goroutines, then proves the policy objects the policy generators built
// and writes the reports, and last kustomization.yaml, which lists the
// files as their generators ask. The files come in registry order
// whatever the scheduling.
func Run(p *plan.Plan, r *render.Engine) (*Generated, error) {
	objs := &built.Objects{}
	out := make([][]output.File, len(Registry))
	for stage := range stages {
		if err := runStage(p, r, objs, stage, out); err != nil {
			return nil, err
		}
	}
	var all []output.File
	for _, files := range out {
		all = append(all, files...)
	}
	reps, proof, err := reports.Generate(p, &objs.Policies)
	if err != nil {
		return nil, fmt.Errorf("generate reports: %w", err)
	}
	all = append(all, reps...)
	k, err := kustomize.Generate(p, r, all)
	if err != nil {
		return nil, fmt.Errorf("generate kustomization: %w", err)
	}
	return &Generated{Files: append(all, k), Policies: &objs.Policies, Proof: proof}, nil
}

// runStage runs the generators of one stage; each writes its own slot of
// out and its own fields of objs.
func runStage(p *plan.Plan, r *render.Engine, objs *built.Objects, stage int, out [][]output.File) error {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, gen := range Registry {
		if gen.Stage != stage {
			continue
		}
		g.Go(func() error {
			files, err := gen.Generate(p, r, objs)
			if err != nil {
				return fmt.Errorf("generate %s: %w", gen.Name, err)
			}
			out[i] = files
			return nil
		})
	}
	return g.Wait()
}

// Policies builds every policy object of the plan, as Run hands them to
// the proof (for tests and checks that prove a plan again).
func Policies(p *plan.Plan) (*built.Policies, error) {
	pol := &built.Policies{}
	for _, write := range []func(*plan.Plan, *built.Policies) ([]output.File, error){netpol.Write, calico.Write, adminnetpol.Write, istio.Write} {
		if _, err := write(p, pol); err != nil {
			return nil, err
		}
	}
	return pol, nil
}
