package e2e

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
	"obsgen.dev/obsgen/internal/reach/analyzer"
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
	policies := kubernetesPolicies(p)
	ref, err := analyzer.NewKubernetes(c, policies)
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

// TestTheProofCatchesATeamOpenToEveryTeamAtScale: above exhaustiveLimit
// team namespaces the proof tries each service with the intruders of its
// own team's other namespaces and of the next team's only. Policies that
// open every team namespace's egress and one team's namespace to every
// team namespace (but not to the outside, so no outsider check sees it)
// are still caught by them, under the compiled evaluator and the analyzer.
func TestTheProofCatchesATeamOpenToEveryTeamAtScale(t *testing.T) {
	p := scaledExample(t, "strict-deny.yaml", 30)
	require.Greater(t, len(p.TeamNamespaces()), 24, "past the exhaustive limit")
	c, err := reach.NewCluster(p)
	require.NoError(t, err)
	target := p.ServiceTargets[len(p.ServiceTargets)/2]
	policies := kubernetesPolicies(p)
	mutant := append(slices.Clone(policies), openToTeams(target.Namespace, p.TeamNamespaces()))
	for _, ns := range p.TeamNamespaces() {
		mutant = append(mutant, networkPolicy(ns, "open-egress", networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, Egress: []networkingv1.NetworkPolicyEgressRule{{}}}))
	}
	models := map[string]func([]*networkingv1.NetworkPolicy) (reach.Model, error){
		"compiled": func(ps []*networkingv1.NetworkPolicy) (reach.Model, error) { return reach.NewCompiled(c, ps) },
		"analyzer": func(ps []*networkingv1.NetworkPolicy) (reach.Model, error) { return analyzer.NewKubernetes(c, ps) },
	}
	for name, newModel := range models {
		model, err := newModel(policies)
		require.NoError(t, err)
		r, err := reach.Prove(c, model)
		require.NoError(t, err)
		require.NoError(t, r.Err(), "%s: the generated policies pass", name)

		model, err = newModel(mutant)
		require.NoError(t, err)
		r, err = reach.Prove(c, model)
		require.NoError(t, err)
		failures := r.Failures()
		require.NotEmpty(t, failures, name)
		for _, f := range failures {
			assert.True(t, strings.HasPrefix(f.Flow, "intruder-to-"), "%s: only intruders see it: %s", name, f.Describe())
			assert.Equal(t, target.Namespace, f.To.Pod.Namespace, name)
		}
	}
}

// openToTeams lets every pod of the team namespaces into every pod of ns.
func openToTeams(ns string, teams []string) *networkingv1.NetworkPolicy {
	from := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: plan.NamespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: teams}}}}
	return networkPolicy(ns, "open-to-teams", networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{from}}}})
}

func networkPolicy(ns, name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       spec,
	}
}
