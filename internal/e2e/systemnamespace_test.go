package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/calico"
	"obsgen.dev/obsgen/internal/plan"
)

// TestKubeStateMetricsInKubeSystemLeavesKubeSystemAlone: kube-state-metrics'
// own manifests deploy it to kube-system (kubernetes/kube-state-metrics
// examples/standard/deployment.yaml). Covering kube-system like the
// monitoring namespace put a default deny there, which cut the cluster's
// own components off (konnectivity's webhook calls, the cluster DNS for
// every namespace): the proof refused the profile. Under every deny stance
// the profile now generates, Prometheus reaches kube-state-metrics there,
// and no obsgen policy isolates a kube-system pod.
func TestKubeStateMetricsInKubeSystemLeavesKubeSystemAlone(t *testing.T) {
	for _, name := range []string{"strict-deny", "admin-network-policy", "calico-global-deny"} {
		t.Run(name, func(t *testing.T) {
			res := exampleVariant(t, name, func(p *v1alpha1.Profile) {
				p.Monitoring.KubeStateMetrics.Namespace = plan.SystemNamespace
			})
			pol := res.Policies
			assert.Empty(t, pol.NetworkPolicies[plan.SystemNamespace], "no NetworkPolicy in kube-system")
			for _, np := range pol.NetworkPolicies {
				for _, n := range np {
					assert.NotEqual(t, plan.SystemNamespace, n.Namespace)
				}
			}
			for _, c := range pol.Calico {
				if np, ok := c.(*calico.NetworkPolicy); ok {
					assert.NotEqual(t, plan.SystemNamespace, np.Namespace, np.Name)
				}
			}
			if b := pol.BaselineAdminNetworkPolicy; b != nil {
				assert.NotContains(t, strings.Join(b.Spec.Subject.Namespaces.MatchExpressions[0].Values, ","), plan.SystemNamespace)
			}
			for _, a := range pol.AdminNetworkPolicies {
				if ns := a.Spec.Subject.Namespaces; ns != nil {
					for _, e := range ns.MatchExpressions {
						assert.NotContains(t, e.Values, plan.SystemNamespace, a.Name)
					}
				}
				if pods := a.Spec.Subject.Pods; pods != nil {
					for _, e := range pods.NamespaceSelector.MatchExpressions {
						assert.NotContains(t, e.Values, plan.SystemNamespace, a.Name)
					}
					assert.NotEqual(t, plan.SystemNamespace, pods.NamespaceSelector.MatchLabels[plan.NamespaceNameLabel], a.Name)
				}
			}
			assert.Contains(t, res.Plan.Jobs[slicesIndexJob(res.Plan, plan.JobKubeStateMetrics)].Namespaces, plan.SystemNamespace)
		})
	}
}

func slicesIndexJob(p *plan.Plan, kind plan.JobKind) int {
	for i, j := range p.Jobs {
		if j.Kind == kind {
			return i
		}
	}
	return -1
}
