// Package generators lists obsgen's generators in the order they run and
// runs them: each is a pure function of the plan that returns files, never
// touching disk, the environment, the clock or randomness.
package generators

import (
	"fmt"

	"obsgen.dev/obsgen/generators/adminnetpol"
	"obsgen.dev/obsgen/generators/alertmanager"
	"obsgen.dev/obsgen/generators/calico"
	"obsgen.dev/obsgen/generators/federation"
	"obsgen.dev/obsgen/generators/grafana"
	"obsgen.dev/obsgen/generators/istio"
	"obsgen.dev/obsgen/generators/kustomize"
	"obsgen.dev/obsgen/generators/netpol"
	"obsgen.dev/obsgen/generators/prometheus"
	"obsgen.dev/obsgen/generators/reports"
	"obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Generator turns a plan into files.
type Generator struct {
	Name     string
	Generate func(p *plan.Plan, r *render.Engine) ([]output.File, error)
}

// Registry is every generator, in order.
var Registry = []Generator{
	{Name: "prometheus", Generate: prometheus.Generate},
	{Name: "federation", Generate: federation.Generate},
	{Name: "rules", Generate: rules.Generate},
	{Name: "alertmanager", Generate: alertmanager.Generate},
	{Name: "grafana", Generate: grafana.Generate},
	{Name: "netpol", Generate: netpol.Generate},
	{Name: "calico", Generate: calico.Generate},
	{Name: "adminnetpol", Generate: adminnetpol.Generate},
	{Name: "istio", Generate: istio.Generate},
	{Name: "reports", Generate: reports.Generate},
}

// Run runs the registry and then writes kustomization.yaml, which lists the
// Kubernetes manifests the generators returned.
func Run(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	var files []output.File
	for _, g := range Registry {
		out, err := g.Generate(p, r)
		if err != nil {
			return nil, fmt.Errorf("generate %s: %w", g.Name, err)
		}
		files = append(files, out...)
	}
	k, err := kustomize.Generate(p, r, files)
	if err != nil {
		return nil, fmt.Errorf("generate kustomization: %w", err)
	}
	return append(files, k), nil
}
