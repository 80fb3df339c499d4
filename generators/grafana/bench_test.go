package grafana

import (
	"fmt"
	"testing"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// benchPlan has n teams of 3 namespaces and 2 services with both SLOs,
// as the pipeline's benchmark profile.
func benchPlan(n int) *plan.Plan {
	off := false
	in := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "bench"},
		Mesh:       v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
		Monitoring: v1alpha1.Monitoring{Flavours: []v1alpha1.Flavour{v1alpha1.FlavourPrometheus, v1alpha1.FlavourOperator}}}
	for i := range n {
		t := v1alpha1.Team{Name: fmt.Sprintf("team-%04d", i)}
		for j := range 3 {
			t.Namespaces = append(t.Namespaces, fmt.Sprintf("%s-ns%d", t.Name, j))
		}
		for j := range 2 {
			t.Services = append(t.Services, v1alpha1.Service{Name: fmt.Sprintf("svc-%d", j), Namespace: t.Namespaces[j], Port: 8080,
				Selector: map[string]string{"app": fmt.Sprintf("svc-%d", j)},
				SLOs: &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.9},
					Latency: &v1alpha1.LatencySLO{ThresholdMs: 250, Target: 99}}})
		}
		in.Teams = append(in.Teams, t)
	}
	return plan.Resolve(in)
}

// BenchmarkGenerate shows that the cost grows linearly with the teams.
func BenchmarkGenerate(b *testing.B) {
	e := engine(b)
	for _, n := range []int{10, 100, 1000} {
		p := benchPlan(n)
		b.Run(fmt.Sprintf("teams=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Generate(p, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
