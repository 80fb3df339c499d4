package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/generators"
	"obsgen.dev/obsgen/generators/reports"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/scale"
	"obsgen.dev/obsgen/profiles"
	"obsgen.dev/obsgen/templates"
)

// benchBase is the example the benchmarks grow: every feature that costs
// something at scale (two flavours, shards, a Calico global deny, deny-by-
// default authorization, permissive-port exceptions, gateways, receivers).
const benchBase = "calico-global-deny.yaml"

// scaledProfile is benchBase grown to n teams (see scale.Teams).
func scaledProfile(tb testing.TB, n int) *v1alpha1.Profile {
	tb.Helper()
	return scaledExample(tb, benchBase, n)
}

// scaledExample is the example profile name grown to n teams.
func scaledExample(tb testing.TB, name string, n int) *v1alpha1.Profile {
	tb.Helper()
	data, err := profiles.FS.ReadFile(name)
	require.NoError(tb, err)
	var base v1alpha1.Profile
	require.NoError(tb, yaml.Unmarshal(data, &base))
	p, err := scale.Teams(&base, n)
	require.NoError(tb, err)
	return p
}

func scaledYAML(tb testing.TB, n int) []byte {
	tb.Helper()
	data, err := yaml.Marshal(scaledProfile(tb, n))
	require.NoError(tb, err)
	return data
}

// BenchmarkRun measures the whole pipeline from profile bytes: load,
// validate, resolve, generate and the self-checks generate runs.
func BenchmarkRun(b *testing.B) {
	engine, err := render.New(templates.FS, "")
	require.NoError(b, err)
	for _, n := range []int{10, 100, 1000} {
		data := scaledYAML(b, n)
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

// BenchmarkGenerate measures resolve + generate from a loaded profile.
func BenchmarkGenerate(b *testing.B) {
	engine, err := render.New(templates.FS, "")
	require.NoError(b, err)
	for _, n := range []int{10, 100, 1000} {
		profile := scaledProfile(b, n)
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

func TestScaledProfileIsValid(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	res, err := Run("bench.yaml", scaledYAML(t, 5), engine)
	require.NoError(t, err)
	require.Len(t, res.Plan.Teams, 5)
	require.Equal(t, "orders-2", res.Plan.Teams[4].Name, "copies carry a suffix")
}

// BenchmarkGenerator measures each generator of the registry alone on the
// 1000-team profile, so a regression points at its generator, and last
// the reports (the proof of the policy objects the registry built, and
// its tables).
func BenchmarkGenerator(b *testing.B) {
	engine, err := render.New(templates.FS, "")
	require.NoError(b, err)
	p := plan.Resolve(scaledProfile(b, 1000))
	for _, g := range generators.Registry {
		b.Run(g.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Generate(p, engine, &built.Objects{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("reports", func(b *testing.B) {
		pol, err := generators.Policies(p)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := reports.Generate(p, pol); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkProve measures the network proof alone (synthetic cluster,
// policy model, every check) per engine at 100, 1000 and 10,000 teams, so
// its growth with the number of teams is measured rather than assumed:
// each tenfold step should cost about ten times as much.
func BenchmarkProve(b *testing.B) {
	engines := []string{benchBase, "strict-deny.yaml", "ambient.yaml", "admin-network-policy.yaml"}
	for _, name := range engines {
		for _, n := range []int{100, 1000, 10000} {
			b.Run(fmt.Sprintf("%s/teams=%d", strings.TrimSuffix(name, ".yaml"), n), func(b *testing.B) {
				p := plan.Resolve(scaledExample(b, name, n))
				pol, err := generators.Policies(p)
				require.NoError(b, err)
				b.ReportAllocs()
				for b.Loop() {
					proof, err := reports.Prove(p, pol, nil)
					if err != nil {
						b.Fatal(err)
					}
					if err := proof.Result.Err(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkReports measures the reports generator (the proof of the built
// policy objects and its tables) at 100, 1000 and 10,000 teams, for its
// growth.
func BenchmarkReports(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("teams=%d", n), func(b *testing.B) {
			p := plan.Resolve(scaledProfile(b, n))
			pol, err := generators.Policies(p)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := reports.Generate(p, pol); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReference measures the bundled example (profiles.Default), what
// `obsgen generate` without arguments runs, from profile bytes.
func BenchmarkReference(b *testing.B) {
	engine, err := render.New(templates.FS, "")
	require.NoError(b, err)
	data, err := profiles.FS.ReadFile(profiles.Default)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(profiles.Default, data, engine); err != nil {
			b.Fatal(err)
		}
	}
}
