package pipeline

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/generators"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// syntheticProfile has n teams with 3 namespaces and 2 services (with SLOs)
// each, STRICT mTLS with Istio certificates, both output flavours.
func syntheticProfile(n int) *v1alpha1.Profile {
	off := false
	p := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind,
		Metadata:   v1alpha1.Metadata{Name: "bench"},
		Cluster:    v1alpha1.Cluster{APIServerCIDRs: []string{"10.0.0.1/32"}, NodeCIDRs: []string{"10.1.0.0/16"}},
		Mesh:       v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
		Monitoring: v1alpha1.Monitoring{Flavours: []v1alpha1.Flavour{v1alpha1.FlavourPrometheus, v1alpha1.FlavourOperator}},
		Network:    v1alpha1.Network{Stance: v1alpha1.StanceDefaultDeny},
	}
	for i := range n {
		team := fmt.Sprintf("team-%04d", i)
		t := v1alpha1.Team{Name: team}
		for j := range 3 {
			t.Namespaces = append(t.Namespaces, fmt.Sprintf("%s-ns%d", team, j))
		}
		for j := range 2 {
			t.Services = append(t.Services, v1alpha1.Service{
				Name: fmt.Sprintf("svc-%d", j), Namespace: t.Namespaces[j], Port: 8080 + j,
				Selector: map[string]string{"app": fmt.Sprintf("svc-%d", j)},
				SLOs: &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.9},
					Latency: &v1alpha1.LatencySLO{ThresholdMs: 250, Target: 99}},
			})
		}
		p.Teams = append(p.Teams, t)
	}
	return p
}

// BenchmarkGenerate measures resolve + generate in memory.
func BenchmarkGenerate(b *testing.B) {
	engine, err := render.New(templates.FS, "")
	require.NoError(b, err)
	for _, n := range []int{10, 100, 1000} {
		profile := syntheticProfile(n)
		b.Run(fmt.Sprintf("teams=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := generators.Run(plan.Resolve(profile), engine); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRun measures the whole pipeline from profile bytes: load,
// validate, resolve and generate.
func BenchmarkRun(b *testing.B) {
	engine, err := render.New(templates.FS, "")
	require.NoError(b, err)
	for _, n := range []int{10, 100, 1000} {
		data, err := yaml.Marshal(syntheticProfile(n))
		require.NoError(b, err)
		b.Run(fmt.Sprintf("teams=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Run("bench.yaml", data, engine); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestSyntheticProfileIsValid(t *testing.T) {
	data, err := yaml.Marshal(syntheticProfile(3))
	require.NoError(t, err)
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	res, err := Run("bench.yaml", data, engine)
	require.NoError(t, err)
	require.Len(t, res.Plan.Teams, 3)
	require.Equal(t, "istio-certs", res.Plan.Scrape.Strategy)
}

// BenchmarkGenerator measures each generator of the registry alone on the
// 1000-team profile, so a regression points at its generator.
func BenchmarkGenerator(b *testing.B) {
	engine, err := render.New(templates.FS, "")
	require.NoError(b, err)
	p := plan.Resolve(syntheticProfile(1000))
	for _, g := range generators.Registry {
		b.Run(g.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Generate(p, engine); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGeneratorScaling measures the rules generator at 100 and 1000
// teams: its cost must grow linearly with the number of teams.
func BenchmarkGeneratorScaling(b *testing.B) {
	engine, err := render.New(templates.FS, "")
	require.NoError(b, err)
	var rules generators.Generator
	for _, g := range generators.Registry {
		if g.Name == "rules" {
			rules = g
		}
	}
	require.NotNil(b, rules.Generate, "the rules generator is registered")
	for _, n := range []int{100, 1000} {
		p := plan.Resolve(syntheticProfile(n))
		b.Run(fmt.Sprintf("rules/teams=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rules.Generate(p, engine); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
