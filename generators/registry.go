// Package generators lists obsgen's generators and runs them: each is a
// pure function of the plan that returns files, never touching disk, the
// environment, the clock or randomness. Generators never import each
// other: what several need is a plan field, or an object built once here
// and handed along (the policy objects the proof evaluates).
package generators

import (
	"context"
	"fmt"
	"runtime"
	"runtime/trace"

	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/kustomize/api/types"

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

// Generator turns a plan into files. A generator may fill its part of
// objs (the policy objects, the alerts that read each job); one that reads
// another's part names it in After and starts once that one is done.
type Generator struct {
	Name     string
	After    []string
	Generate func(p *plan.Plan, r *render.Engine, objs *built.Objects) ([]output.File, error)
	// Stream, when set, is Generate handing files to emit as it makes
	// them, then returning the rest; the files are the emitted ones, then
	// the rest. A generator of many large files streams them, so a run
	// settles each (RunSettling) without holding them all.
	Stream func(p *plan.Plan, r *render.Engine, objs *built.Objects, emit func(...output.File)) ([]output.File, error)
}

// policyGenerators build the policy objects (objs.Policies) the proof and
// the reports read.
var policyGenerators = []string{"netpol", "calico", "adminnetpol", "istio"}

// Registry is every generator, in the order of their files.
var Registry = []Generator{
	{Name: "prometheus", Generate: files(prometheus.Generate)},
	{Name: "federation", Generate: files(federation.Generate)},
	{Name: "rules", Generate: func(p *plan.Plan, _ *render.Engine, objs *built.Objects) ([]output.File, error) {
		return rules.Write(p, objs)
	}},
	{Name: "alertmanager", After: []string{"rules"}, Generate: func(p *plan.Plan, r *render.Engine, objs *built.Objects) ([]output.File, error) {
		return alertmanager.Generate(p, r, objs.JobDependents)
	}},
	{Name: "grafana", Generate: files(grafana.Generate),
		Stream: func(p *plan.Plan, r *render.Engine, _ *built.Objects, emit func(...output.File)) ([]output.File, error) {
			return grafana.Stream(p, r, emit)
		}},
	{Name: "netpol", Generate: policies(netpol.Write)},
	{Name: "calico", Generate: policies(calico.Write)},
	{Name: "adminnetpol", Generate: policies(adminnetpol.Write)},
	{Name: "istio", Generate: policies(istio.Write)},
	{Name: "kiali", Generate: files(kiali.Generate)},
}

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
	// Kustomization is kustomization.yaml, the last of Files, decoded.
	Kustomization *types.Kustomization
	// Catalogued are the alerts, rule groups and rule files the plan's
	// rules hold before the profile's knobs apply (built.Objects).
	Catalogued map[string]bool
}

// Run runs the registry, then proves the policy objects the policy
// generators built and writes the reports, and last kustomization.yaml,
// which lists the files as their generators ask. Each step starts once the
// steps it reads from are done (the reports once the policy generators
// are, alongside the others), and at most GOMAXPROCS run at once. The files
// come in registry order whatever the scheduling.
func Run(p *plan.Plan, r *render.Engine) (*Generated, error) {
	return RunSettling(p, r, nil)
}

// RunSettling is Run that hands each step's files to settle as soon as the
// step is done (output.Writer.Settle compares them with the output tree and
// lets go of the data of those already on disk), from the step's goroutine.
// kustomization.yaml, written last from the others, is not settled.
func RunSettling(p *plan.Plan, r *render.Engine, settle func([]output.File) []output.File) (*Generated, error) {
	if settle == nil {
		settle = func(files []output.File) []output.File { return files }
	}
	objs := &built.Objects{}
	out := make([][]output.File, len(Registry))
	var (
		reps  []output.File
		proof *reports.Proof
	)
	steps := make([]step, 0, len(Registry)+1)
	for i, gen := range Registry {
		steps = append(steps, step{name: gen.Name, after: gen.After, run: func() error {
			var files []output.File
			generate := gen.Generate
			if gen.Stream != nil {
				generate = func(p *plan.Plan, r *render.Engine, objs *built.Objects) ([]output.File, error) {
					return gen.Stream(p, r, objs, func(f ...output.File) { files = append(files, settle(f)...) })
				}
			}
			rest, err := generate(p, r, objs)
			if err != nil {
				return fmt.Errorf("generate %s: %w", gen.Name, err)
			}
			out[i] = append(files, settle(rest)...)
			return nil
		}})
	}
	steps = append(steps, step{name: "reports", after: policyGenerators, run: func() (err error) {
		if reps, proof, err = reports.Generate(p, &objs.Policies); err != nil {
			return fmt.Errorf("generate reports: %w", err)
		}
		reps = settle(reps)
		return nil
	}})
	if err := runSteps(steps, runtime.GOMAXPROCS(0)); err != nil {
		return nil, err
	}
	var all []output.File
	for _, files := range out {
		all = append(all, files...)
	}
	all = append(all, reps...)
	k, parsed, err := kustomize.GenerateParsed(p, r, all)
	if err != nil {
		return nil, fmt.Errorf("generate kustomization: %w", err)
	}
	return &Generated{Files: append(all, k), Policies: &objs.Policies, Proof: proof, Kustomization: parsed, Catalogued: objs.Catalogued}, nil
}

// step is one unit of Run: it writes only its own results, and reads only
// those of the steps named in after.
type step struct {
	name  string
	after []string
	run   func() error
}

// runSteps runs every step once the steps it comes after are done, at most
// limit at a time, and returns the first error (the steps not started by
// then are skipped).
func runSteps(steps []step, limit int) error {
	if err := checkSteps(steps); err != nil {
		return err
	}
	done := make(map[string]chan struct{}, len(steps))
	for _, s := range steps {
		done[s.name] = make(chan struct{})
	}
	slots := make(chan struct{}, max(limit, 1))
	g, ctx := errgroup.WithContext(context.Background())
	for _, s := range steps {
		g.Go(func() error {
			for _, a := range s.after {
				select {
				case <-done[a]:
				case <-ctx.Done():
					return nil
				}
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			defer func() { <-slots }()
			if ctx.Err() != nil {
				return nil
			}
			// A region per step: an execution trace (OBSGEN_TRACE in the
			// profiling build) then shows which steps make the critical path.
			var err error
			trace.WithRegion(ctx, s.name, func() { err = s.run() })
			if err != nil {
				return err
			}
			close(done[s.name])
			return nil
		})
	}
	return g.Wait()
}

// checkSteps refuses steps that would never all run: a name used twice, a
// step after one that does not exist, or a cycle.
func checkSteps(steps []step) error {
	after := make(map[string][]string, len(steps))
	for _, s := range steps {
		if _, dup := after[s.name]; dup {
			return fmt.Errorf("two steps are named %s", s.name)
		}
		after[s.name] = s.after
	}
	const (
		visiting = 1
		finished = 2
	)
	state := map[string]int{}
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case visiting:
			return fmt.Errorf("step %s comes after itself", name)
		case finished:
			return nil
		}
		state[name] = visiting
		for _, a := range after[name] {
			if _, ok := after[a]; !ok {
				return fmt.Errorf("step %s comes after %s, which is not a step", name, a)
			}
			if err := visit(a); err != nil {
				return err
			}
		}
		state[name] = finished
		return nil
	}
	for _, s := range steps {
		if err := visit(s.name); err != nil {
			return err
		}
	}
	return nil
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
