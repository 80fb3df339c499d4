package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/verify"
	"obsgen.dev/obsgen/templates"
)

// TestEveryGeneratedConfigurationLoadsUpstream: generate checks
// Prometheus' and Alertmanager's files with light checks
// (internal/promcheck, generators/alertmanager); here, for every example,
// its sharded, agent and operator-only variants, every Prometheus
// configuration (each shard, agent mode, the operator flavour's source and
// additional scrape configs, the federation job) loads in Prometheus' own
// loader with every service discovery, alertmanager.yml in Alertmanager's,
// and the reference network proof agrees with obsgen's, as obsgen-verify
// checks them.
func TestEveryGeneratedConfigurationLoadsUpstream(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	seen := map[string]int{}
	for _, ex := range append(evaluatorVariants(t), operatorOnly(t, engine)...) {
		r, err := verify.Profile(ex.result, engine)
		require.NoError(t, err, ex.result.Plan.Name)
		assert.Empty(t, r.Problems, ex.result.Plan.Name)
		for _, c := range r.Checked {
			switch {
			case strings.Contains(c, "in agent mode"):
				seen["agent"]++
			case strings.Contains(c, "-shard-"):
				seen["shard"]++
			case strings.Contains(c, "unsharded"):
				seen["operator source"]++
			case strings.Contains(c, "as scrape configs"):
				seen["scrape config lists"]++
			case strings.Contains(c, "Alertmanager"):
				seen["alertmanager"]++
			case strings.Contains(c, "agrees on"):
				seen["network"]++
			}
		}
	}
	for _, kind := range []string{"agent", "shard", "operator source", "scrape config lists", "alertmanager", "network"} {
		assert.Positive(t, seen[kind], "no %s checked", kind)
	}
	t.Logf("checked: %v", seen)
}

// operatorOnly are the examples with the operator flavour alone: the
// configuration its resources mirror is then no output file.
func operatorOnly(t *testing.T, engine *render.Engine) []example {
	t.Helper()
	var out []example
	for _, ex := range examples(t) {
		p := *ex.result.Loaded.Profile
		p.Metadata.Name += "-operator-only"
		p.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourOperator}
		data, err := yaml.Marshal(&p)
		require.NoError(t, err)
		res, err := pipeline.Run(ex.file, data, engine)
		require.NoError(t, err, p.Metadata.Name)
		out = append(out, example{file: ex.file, result: res})
	}
	return out
}
