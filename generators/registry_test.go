package generators

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/scale"
	"obsgen.dev/obsgen/profiles"
	"obsgen.dev/obsgen/templates"
)

// TestRunIsTheSameOnAnyNumberOfThreads: the registry runs generators in
// parallel; the files come out in the same order, byte for byte, with the
// same proof, however many run at once.
func TestRunIsTheSameOnAnyNumberOfThreads(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	for _, name := range []string{"calico-global-deny.yaml", "strict-deny.yaml", "ambient.yaml"} {
		data, err := profiles.FS.ReadFile(name)
		require.NoError(t, err)
		var base v1alpha1.Profile
		require.NoError(t, yaml.Unmarshal(data, &base))
		scaled, err := scale.Teams(&base, 12)
		require.NoError(t, err)
		p := plan.Resolve(scaled)
		var first *Generated
		for _, procs := range []int{1, 2, 3, 8} {
			prev := runtime.GOMAXPROCS(procs)
			g, err := Run(p, engine)
			runtime.GOMAXPROCS(prev)
			require.NoError(t, err, name)
			if first == nil {
				first = g
				continue
			}
			require.Equal(t, first.Files, g.Files, "%s, GOMAXPROCS=%d", name, procs)
			require.Equal(t, first.Proof.Result.Checks, g.Proof.Result.Checks, "%s, GOMAXPROCS=%d", name, procs)
		}
	}
}

// runSteps starts a step only after those it names, never runs more than
// the limit at once, and stops at the first error.
func TestRunStepsKeepsOrderLimitAndErrors(t *testing.T) {
	var mu sync.Mutex
	var finished []string
	running, most := 0, 0
	mk := func(name string, after ...string) step {
		return step{name: name, after: after, run: func() error {
			mu.Lock()
			running++
			most = max(most, running)
			for _, a := range after {
				require.Contains(t, finished, a, "%s started before %s finished", name, a)
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			running--
			finished = append(finished, name)
			mu.Unlock()
			return nil
		}}
	}
	steps := []step{mk("d", "b", "c"), mk("a"), mk("b", "a"), mk("c"), mk("e"), mk("f", "d")}
	require.NoError(t, runSteps(steps, 2))
	require.Len(t, finished, len(steps))
	require.LessOrEqual(t, most, 2)

	ran := false
	err := runSteps([]step{
		{name: "x", run: func() error { return errors.New("x failed") }},
		{name: "y", after: []string{"x"}, run: func() error { ran = true; return nil }},
	}, 2)
	require.EqualError(t, err, "x failed")
	require.False(t, ran, "a step after a failed one never runs")

	nop := func() error { return nil }
	require.ErrorContains(t, runSteps([]step{{name: "y", after: []string{"nope"}, run: nop}}, 1), "not a step")
	require.ErrorContains(t, runSteps([]step{{name: "y", run: nop}, {name: "y", run: nop}}, 1), "two steps")
	require.ErrorContains(t, runSteps([]step{{name: "y", after: []string{"y"}, run: nop}}, 1), "after itself")
	require.ErrorContains(t, runSteps([]step{
		{name: "a", after: []string{"c"}, run: nop}, {name: "b", after: []string{"a"}, run: nop}, {name: "c", after: []string{"b"}, run: nop},
	}, 2), "after itself")
}

// Every name a generator comes after is a generator, and none comes after
// itself (checkSteps refuses a cycle).
func TestTheRegistryNamesRealGenerators(t *testing.T) {
	names := map[string]bool{}
	for _, g := range Registry {
		names[g.Name] = true
	}
	for _, g := range Registry {
		for _, a := range g.After {
			require.True(t, names[a], "%s comes after %s", g.Name, a)
		}
	}
	for _, n := range policyGenerators {
		require.True(t, names[n], n)
	}
	steps := []step{{name: "reports", after: policyGenerators}}
	for _, g := range Registry {
		steps = append(steps, step{name: g.Name, after: g.After})
	}
	require.NoError(t, checkSteps(steps))
}

// TestStreamingGeneratorsStreamWhatTheyGenerate: a generator's Stream
// gives Generate's files, and RunSettling hands each step's files to
// settle (the streamed ones as they come) and keeps what settle returns,
// in Run's order.
func TestStreamingGeneratorsStreamWhatTheyGenerate(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	data, err := profiles.FS.ReadFile("calico-global-deny.yaml")
	require.NoError(t, err)
	var base v1alpha1.Profile
	require.NoError(t, yaml.Unmarshal(data, &base))
	scaled, err := scale.Teams(&base, 12)
	require.NoError(t, err)
	p := plan.Resolve(scaled)
	streams := 0
	for _, gen := range Registry {
		if gen.Stream == nil {
			continue
		}
		streams++
		want, err := gen.Generate(p, engine, &built.Objects{})
		require.NoError(t, err, gen.Name)
		var got []output.File
		rest, err := gen.Stream(p, engine, &built.Objects{}, func(f ...output.File) { got = append(got, f...) })
		require.NoError(t, err, gen.Name)
		require.NotEmpty(t, got, "%s streams nothing", gen.Name)
		require.Equal(t, want, append(got, rest...), gen.Name)
	}
	require.Positive(t, streams)

	plain, err := Run(p, engine)
	require.NoError(t, err)
	var mu sync.Mutex
	calls := 0
	settled, err := RunSettling(p, engine, func(files []output.File) []output.File {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return output.Forget(files)
	})
	require.NoError(t, err)
	require.Greater(t, calls, len(Registry)+1, "streamed files are settled as they come")
	require.Len(t, settled.Files, len(plain.Files))
	for i, f := range settled.Files {
		require.Equal(t, plain.Files[i].Path, f.Path)
		require.Equal(t, len(plain.Files[i].Data), f.Size(), f.Path)
		if i < len(settled.Files)-1 {
			require.Nil(t, f.Data, "%s was not settled", f.Path)
		}
	}
}
