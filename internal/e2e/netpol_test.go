package e2e

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/generators/netpol"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
)

func kubernetesPolicies(p *plan.Plan) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	byNS := netpol.Policies(p)
	for _, ns := range p.Covered {
		out = append(out, byNS[ns]...)
	}
	return out
}

// TestNetworkPoliciesAllowExactlyTheMonitoringFlows proves every example
// that locks the network down: the Kubernetes NetworkPolicies with np-guard's
// netpol-analyzer, the Calico policies with obsgen's Calico evaluator, over
// the synthetic cluster. Every flow monitoring needs is allowed, and the
// flows obsgen must not open are denied: other namespaces, Grafana, an
// outsider or a pod labelled like Prometheus elsewhere reaching a metrics
// port, teams reaching each other, Prometheus reaching a port it does not
// scrape.
func TestNetworkPoliciesAllowExactlyTheMonitoringFlows(t *testing.T) {
	engines := map[string]int{}
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if p.Network.Stance == "open" {
			continue
		}
		engines[string(p.Network.Engine)]++
		t.Run(p.Name, func(t *testing.T) {
			_, r, err := proveWith(p, true)
			require.NoError(t, err)
			assert.NoError(t, r.Err())
			required, allowed, forbidden, denied := r.Counts()
			assert.Positive(t, required)
			assert.Positive(t, forbidden)
			t.Logf("%s (%s): %d/%d required flows allowed, %d/%d forbidden flows denied", p.Name, r.Model, allowed, required, denied, forbidden)
		})
	}
	assert.Positive(t, engines["kubernetes"], "no example uses Kubernetes NetworkPolicies")
	assert.Positive(t, engines["calico"], "no example uses Calico")
}

// TestTheProofCatchesWrongPolicies shows the proof is not vacuous: without
// one of obsgen's policies a required flow is denied, and with an extra
// allow-all ingress policy a forbidden flow is allowed.
func TestTheProofCatchesWrongPolicies(t *testing.T) {
	var p *plan.Plan
	for _, ex := range examples(t) {
		if ex.result.Plan.Name == "strict-deny" {
			p = ex.result.Plan
		}
	}
	require.NotNil(t, p)
	c, err := reach.NewCluster(p)
	require.NoError(t, err)
	policies := kubernetesPolicies(p)

	var withoutPrometheus []*networkingv1.NetworkPolicy
	for _, np := range policies {
		if np.Namespace == p.Monitoring.Namespace && np.Name == "obsgen-"+p.Monitoring.Prometheus.PodLabels.Values()[0] {
			continue
		}
		withoutPrometheus = append(withoutPrometheus, np)
	}
	require.Len(t, withoutPrometheus, len(policies)-1, "the Prometheus policy exists")
	// Without Prometheus' own policy its pods fall back to the namespace's
	// default deny: every scrape is denied at the source.
	m, err := reach.NewKubernetes(c, withoutPrometheus)
	require.NoError(t, err)
	r, err := reach.Prove(c, m)
	require.NoError(t, err)
	require.Error(t, r.Err())
	assert.Contains(t, r.Err().Error(), "must be allowed but is denied")

	team := p.ServiceTargets[0].Namespace
	allowAll := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "allow-all", Namespace: team},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{}}},
	}
	m, err = reach.NewKubernetes(c, append(policies, allowAll))
	require.NoError(t, err)
	r, err = reach.Prove(c, m)
	require.NoError(t, err)
	require.Error(t, r.Err())
	assert.Contains(t, r.Err().Error(), "must be denied but is allowed")
}

// TestCompiledEvaluatorAgreesWithTheAnalyzer: the reports are computed by
// obsgen's compiled NetworkPolicy evaluator; for every example, with its
// policies and with each policy left out in turn, it must answer every
// pair of synthetic pods and addresses on every port monitoring uses as
// np-guard's netpol-analyzer does.
func TestCompiledEvaluatorAgreesWithTheAnalyzer(t *testing.T) {
	compared := 0
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if p.Network.Stance != "default-deny" || p.Network.Engine != "kubernetes" {
			continue
		}
		c, err := reach.NewCluster(p)
		require.NoError(t, err)
		policies := kubernetesPolicies(p)
		variants := [][]*networkingv1.NetworkPolicy{policies}
		for i := range policies {
			variants = append(variants, append(slices.Clone(policies[:i]), policies[i+1:]...))
		}
		endpoints := []reach.Endpoint{{Addr: netip.MustParseAddr(strings.Split(p.Cluster.APIServerCIDRs[0], "/")[0])}}
		for _, pod := range c.Pods {
			endpoints = append(endpoints, reach.Endpoint{Pod: pod})
		}
		var ports []plan.PortProto
		for _, f := range p.Flows {
			ports = append(ports, f.Ports...)
		}
		for _, s := range p.ServiceTargets {
			ports = append(ports, plan.PortProto{Port: s.AppPort, Protocol: "TCP"})
		}
		for vi, v := range variants {
			ref, err := reach.NewKubernetes(c, v)
			require.NoError(t, err)
			fast, err := reach.NewCompiled(c, v)
			require.NoError(t, err)
			for _, src := range endpoints {
				for _, dst := range endpoints {
					if src == dst || (src.Pod == nil && dst.Pod == nil) {
						continue
					}
					for _, pp := range ports {
						want, err := ref.Allowed(src, dst, pp.Protocol, pp.Port)
						require.NoError(t, err)
						got, err := fast.Allowed(src, dst, pp.Protocol, pp.Port)
						require.NoError(t, err)
						compared++
						if want != got {
							t.Fatalf("%s variant %d: %s -> %s %s/%d: analyzer %v, compiled %v", p.Name, vi, src, dst, pp.Protocol, pp.Port, want, got)
						}
					}
				}
			}
		}
	}
	assert.Greater(t, compared, 10000)
	t.Logf("%d connections compared", compared)
}
