package calico

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/calico"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
)

func profile(stance v1alpha1.NetworkStance) *v1alpha1.Profile {
	return &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "c"},
		Cluster: v1alpha1.Cluster{APIServerCIDRs: []string{"10.0.0.1/32"}, NodeCIDRs: []string{"10.1.0.0/16"}},
		Mesh:    v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyPermissivePort},
		Network: v1alpha1.Network{Stance: stance, Engine: v1alpha1.EngineCalico,
			AlertmanagerEgress: []v1alpha1.NetworkPeer{{CIDRs: []string{"198.51.100.0/24"}, Ports: []int{443}}}},
		Teams: []v1alpha1.Team{
			{Name: "shop", Namespaces: []string{"shop", "shop-jobs"}, Services: []v1alpha1.Service{
				{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}}}},
			{Name: "bank", Namespaces: []string{"bank"}, Services: []v1alpha1.Service{
				{Name: "ledger", Namespace: "bank", Port: 9102, Selector: map[string]string{"app": "ledger"}}}},
		}}
}

func prove(t *testing.T, p *plan.Plan, policies []calico.Policy) *reach.Result {
	t.Helper()
	c, err := reach.NewCluster(p)
	require.NoError(t, err)
	m, err := reach.NewCalico(c, policies)
	require.NoError(t, err)
	r, err := reach.Prove(c, m)
	require.NoError(t, err)
	return r
}

// TestEveryDocumentDecodesStrictly reads every generated document back with
// the strict Calico decoder (apiVersion, kind, unknown and miscased fields).
func TestEveryDocumentDecodesStrictly(t *testing.T) {
	for _, stance := range []v1alpha1.NetworkStance{v1alpha1.StanceGlobalDeny, v1alpha1.StanceDefaultDeny} {
		p := plan.Resolve(profile(stance))
		files, err := Generate(p, nil)
		require.NoError(t, err)
		docs := 0
		for _, f := range files {
			assert.True(t, f.Manifest, f.Path)
			for _, doc := range regexp.MustCompile(`(?m)^---\n`).Split(string(f.Data), -1) {
				obj, err := calico.DecodeStrict([]byte(doc))
				require.NoError(t, err, "%s: %s", f.Path, doc)
				docs++
				if gnp, ok := obj.(*calico.GlobalNetworkPolicy); ok {
					assert.Contains(t, []string{GlobalDenyName, GlobalAllowName}, gnp.Name)
				}
			}
		}
		assert.Greater(t, docs, len(p.Covered), stance)
	}
}

// TestGlobalDenyStance: the deny-all leaves the excluded namespaces alone
// and is written only when obsgen manages it, but the proof always
// includes it.
func TestGlobalDenyStance(t *testing.T) {
	in := profile(v1alpha1.StanceGlobalDeny)
	p := plan.Resolve(in)
	r := prove(t, p, all(t, p))
	require.NoError(t, r.Err())
	_, _, forbidden, denied := r.Counts()
	assert.Equal(t, forbidden, denied)
	assert.Positive(t, forbidden)

	gnp := GlobalDeny(p)
	sel := calico.MustParseSelector(gnp.Spec.Selector)
	assert.False(t, sel.Matches(map[string]string{calico.LabelNamespace: "kube-system"}), "kube-system is excluded")
	assert.True(t, sel.Matches(map[string]string{calico.LabelNamespace: "shop"}))

	off := false
	in.Network.Calico.GlobalDeny.Manage = &off
	p = plan.Resolve(in)
	files, err := Generate(p, nil)
	require.NoError(t, err)
	for _, f := range files {
		if f.Path == GlobalPath {
			assert.NotContains(t, string(f.Data), GlobalDenyName, "an unmanaged deny is not written")
			assert.Contains(t, string(f.Data), GlobalAllowName, "obsgen's global allows are")
		}
	}
	assert.Contains(t, all(t, p), calico.Policy(GlobalDeny(p)), "but it is modelled")
	require.NoError(t, prove(t, p, all(t, p)).Err())
}

// TestDefaultDenyStance: each isolated namespace gets its own deny-all;
// Istio's namespace gets none (gateways and add-ons installed there keep
// their traffic), only ingress policies for the pods obsgen knows.
func TestDefaultDenyStance(t *testing.T) {
	p := plan.Resolve(profile(v1alpha1.StanceDefaultDeny))
	assert.Nil(t, GlobalDeny(p))
	byNS := Policies(p)
	for _, ns := range p.IsolatedNamespaces() {
		require.NotEmpty(t, byNS[ns], ns)
		assert.Equal(t, NamespaceDenyName, byNS[ns][0].Name, ns)
		assert.Equal(t, "all()", byNS[ns][0].Spec.Selector)
	}
	assert.NotContains(t, p.IsolatedNamespaces(), p.Mesh.IstioNamespace)
	for _, np := range byNS[p.Mesh.IstioNamespace] {
		assert.NotEqual(t, "all()", np.Spec.Selector, "nothing selects every pod of Istio's namespace")
		assert.Equal(t, []calico.PolicyType{calico.PolicyTypeIngress}, np.Spec.Types, "%s: ingress only: istiod keeps its egress", np.Name)
	}
	require.NoError(t, prove(t, p, all(t, p)).Err())
}

// TestTheGlobalDenySparesHostEndpoints: a GlobalNetworkPolicy selects host
// endpoints too (docs.tigera.io, GlobalNetworkPolicy reference). With
// automatic host endpoints, a deny whose selector only says "namespace not
// in ..." would match every node and cut the kubelet off; obsgen's selects
// workload endpoints only. The companion shows the naive selector does cut
// a node off in the same evaluator.
func TestTheGlobalDenySparesHostEndpoints(t *testing.T) {
	p := plan.Resolve(profile(v1alpha1.StanceGlobalDeny))
	node := calico.Endpoint{Name: "node-1", Host: true, IPs: []netip.Addr{netip.MustParseAddr("10.1.0.5")},
		Labels: map[string]string{"projectcalico.org/created-by": "calico-kube-controllers", "kubernetes.io/hostname": "node-1"}}
	apiserver := calico.IPPeer(netip.MustParseAddr("10.0.0.1"))
	allowed := func(policies []calico.Policy) bool {
		ev, err := calico.NewEvaluator(policies, nil)
		require.NoError(t, err)
		ok, trace := ev.Allowed(apiserver, calico.EndpointPeer(node), "TCP", 10250)
		require.NoError(t, trace.Err)
		return ok
	}
	var policies []calico.Policy
	for _, g := range Globals(p, true) {
		policies = append(policies, g)
	}
	assert.True(t, allowed(policies), "the API server reaches the kubelet on a node with an automatic host endpoint")

	naive := GlobalDeny(p)
	naive.Spec.Selector = calico.NotIn(calico.LabelNamespace, p.Network.Calico.Excluded...).MustBuild()
	assert.False(t, allowed([]calico.Policy{naive}), "a selector without has(projectcalico.org/namespace) denies the node")
}

// TestTheCalicoProofCatchesWrongPolicies: without Prometheus' allow policy
// its scrapes are denied; with an allow-all ingress policy ordered before
// obsgen's, an intruder reaches a metrics port. (Ingress alone would not
// do: every covered pod's egress is locked down too.)
func TestTheCalicoProofCatchesWrongPolicies(t *testing.T) {
	p := plan.Resolve(profile(v1alpha1.StanceGlobalDeny))
	policies := slices.DeleteFunc(all(t, p), func(pol calico.Policy) bool {
		ref := pol.Ref()
		return ref.Namespace == p.Monitoring.Namespace && strings.HasSuffix(ref.Name, "-prometheus")
	})
	require.Len(t, policies, len(all(t, p))-1)
	err := prove(t, p, policies).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be allowed but is denied")

	allowAll := calico.NewGlobalNetworkPolicy("allow-all")
	allowAll.Spec.Order = calico.Float64(1)
	allowAll.Spec.Selector = "all()"
	allowAll.Spec.Types = []calico.PolicyType{calico.PolicyTypeIngress, calico.PolicyTypeEgress}
	allowAll.Spec.Ingress = []calico.Rule{{Action: calico.Allow}}
	allowAll.Spec.Egress = []calico.Rule{{Action: calico.Allow}}
	err = prove(t, p, append(all(t, p), allowAll)).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be denied but is allowed")
}

// all is every Calico policy in force under the plan, as Write hands them
// to the proof.
func all(t *testing.T, p *plan.Plan) []calico.Policy {
	t.Helper()
	var pol built.Policies
	_, err := Write(p, &pol)
	require.NoError(t, err)
	return pol.Calico
}

// TestRangesHoldingThePodRangeLeaveThePodsOut: Calico's nets match pod
// addresses, so Alertmanager's egress to 10.0.0.0/8 would reach every pod
// in 10.244.0.0/16 on 443, and Grafana's ingress from 10.0.0.0/8 would
// admit every pod. The rules carry notNets with the pod range; the proof,
// whose synthetic pods live in cluster.podCIDR, fails without it.
func TestRangesHoldingThePodRangeLeaveThePodsOut(t *testing.T) {
	for _, stance := range []v1alpha1.NetworkStance{v1alpha1.StanceGlobalDeny, v1alpha1.StanceDefaultDeny} {
		in := profile(stance)
		in.Cluster.PodCIDR = "10.244.0.0/16"
		in.Network.AlertmanagerEgress = []v1alpha1.NetworkPeer{{CIDRs: []string{"10.0.0.0/8"}, Ports: []int{443}}}
		in.Network.GrafanaIngress = []v1alpha1.NetworkPeer{{CIDRs: []string{"10.0.0.0/8"}}}
		p := plan.Resolve(in)
		c, err := reach.NewCluster(p)
		require.NoError(t, err)
		for _, pod := range c.Pods {
			require.True(t, netip.MustParsePrefix("10.244.0.0/16").Contains(pod.IP), "%s at %s", pod.Name, pod.IP)
		}
		policies := all(t, p)
		require.NoError(t, prove(t, p, policies).Err(), stance)
		withNets := 0
		for _, pol := range policies {
			np, ok := pol.(*calico.NetworkPolicy)
			if !ok {
				continue
			}
			for _, r := range slices.Concat(np.Spec.Egress, np.Spec.Ingress) {
				for _, e := range []calico.EntityRule{r.Source, r.Destination} {
					if slices.Contains(e.Nets, "10.0.0.0/8") {
						withNets++
						assert.Equal(t, []string{"10.244.0.0/16"}, e.NotNets, np.Name)
					}
				}
			}
		}
		assert.GreaterOrEqual(t, withNets, 2, "Alertmanager's egress and Grafana's ingress")

		for _, pol := range policies {
			if np, ok := pol.(*calico.NetworkPolicy); ok {
				for i := range np.Spec.Egress {
					np.Spec.Egress[i].Destination.NotNets = nil
				}
				for i := range np.Spec.Ingress {
					np.Spec.Ingress[i].Source.NotNets = nil
				}
			}
		}
		err = prove(t, p, policies).Err()
		require.Error(t, err, stance)
		assert.Contains(t, err.Error(), "pods-through-alertmanager-egress")
		assert.Contains(t, err.Error(), "pods-through-grafana")
	}
}
