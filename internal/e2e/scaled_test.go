package e2e

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/generators/reports"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
	"obsgen.dev/obsgen/internal/scale"
	"obsgen.dev/obsgen/internal/testtools"
)

// scaledExample is the example profile name grown to n teams: copies of a
// team share its services' selectors, so the policies select several
// namespaces at once, as on a large platform.
func scaledExample(t *testing.T, name string, n int) *plan.Plan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testtools.RepoRoot(t), "profiles", name))
	require.NoError(t, err)
	var base v1alpha1.Profile
	require.NoError(t, yaml.Unmarshal(data, &base))
	p, err := scale.Teams(&base, n)
	require.NoError(t, err)
	return plan.Resolve(p)
}

// TestCompiledEvaluatorAgreesWithTheAnalyzerAtScale: grown to several
// copies of each team, the policies select namespaces by lists of names,
// which the compiled evaluator indexes and keeps as sets; it must still
// answer every pair of synthetic pods and addresses on every port
// monitoring uses as np-guard's netpol-analyzer does.
func TestCompiledEvaluatorAgreesWithTheAnalyzerAtScale(t *testing.T) {
	p := scaledExample(t, "strict-deny.yaml", 8)
	c, err := reach.NewCluster(p)
	require.NoError(t, err)
	policies := reports.KubernetesPolicies(p)
	ref, err := reach.NewKubernetes(c, policies)
	require.NoError(t, err)
	fast, err := reach.NewCompiled(c, policies)
	require.NoError(t, err)
	endpoints := []reach.Endpoint{{Addr: netip.MustParseAddr(strings.Split(p.Cluster.APIServerCIDRs[0], "/")[0])}}
	for _, pod := range c.Pods {
		endpoints = append(endpoints, reach.Endpoint{Pod: pod})
	}
	ports := map[plan.PortProto]bool{}
	for _, f := range p.Flows {
		for _, pp := range f.Ports {
			ports[pp] = true
		}
	}
	compared := 0
	for _, src := range endpoints {
		for _, dst := range endpoints {
			if src == dst || (src.Pod == nil && dst.Pod == nil) {
				continue
			}
			for pp := range ports {
				want, err := ref.Allowed(src, dst, pp.Protocol, pp.Port)
				require.NoError(t, err)
				got, err := fast.Allowed(src, dst, pp.Protocol, pp.Port)
				require.NoError(t, err)
				require.Equal(t, want, got, "%s -> %s %s/%d: analyzer %v, compiled %v", src, dst, pp.Protocol, pp.Port, want, got)
				compared++
			}
		}
	}
	assert.Greater(t, compared, 10000)
	t.Logf("%d connections compared", compared)
}
