package generators

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
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
