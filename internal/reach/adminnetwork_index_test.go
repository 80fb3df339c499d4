package reach

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
)

// scanAdminLayer is adminLayer without the subject index: every policy,
// one priority at a time.
func scanAdminLayer(a *AdminNetwork, pod *Pod, peer Endpoint, proto string, port int, ingress bool) (Verdict, bool, error) {
	for i := 0; i < len(a.anps); {
		var found []captured
		j := i
		for ; j < len(a.anps) && a.anps[j].priority == a.anps[i].priority; j++ {
			anp := &a.anps[j]
			if !a.selects(anp, pod, ingress) {
				continue
			}
			if rule, peerKind, ok := a.firstMatch(anp, peer, proto, port, ingress); ok {
				found = append(found, captured{action: rule.action,
					Verdict: Verdict{Allowed: rule.action == ActionAllow, Layer: LayerAdmin, Policy: anp.name, Rule: rule.name, Peer: peerKind}})
			}
		}
		if len(found) > 0 {
			return settle(found, a.anps[i].priority)
		}
		i = j
	}
	return Verdict{}, false, nil
}

// TestSubjectIndexAnswersAsAScanDoes: with subjects the index places by
// namespace name and subjects it cannot place (every namespace, a label
// other than the name), the AdminNetworkPolicy layer decides every
// direction of every connection of the hand-worked cluster as a scan of
// every policy does.
func TestSubjectIndexAnswersAsAScanDoes(t *testing.T) {
	w := newHandWorld()
	anps, banp, nps := handPolicies()
	all := &metav1.LabelSelector{}
	anps = append(anps,
		&anpv1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "everyone-to-mon"}, Spec: anpv1alpha1.AdminNetworkPolicySpec{
			Priority: 25, Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: all},
			Egress: []anpv1alpha1.AdminNetworkPolicyEgressRule{
				{Name: "mon", Action: anpv1alpha1.AdminNetworkPolicyRuleActionAllow, To: []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Namespaces: nsSel("mon")}}, Ports: tcp(9090)},
			}}},
		&anpv1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "db-closed"}, Spec: anpv1alpha1.AdminNetworkPolicySpec{
			Priority: 15, Subject: anpv1alpha1.AdminNetworkPolicySubject{Pods: &anpv1alpha1.NamespacedPod{
				NamespaceSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"bank"}}}},
				PodSelector:       metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}},
			Ingress: []anpv1alpha1.AdminNetworkPolicyIngressRule{
				{Name: "deny", Action: anpv1alpha1.AdminNetworkPolicyRuleActionDeny, From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: all}}},
			}}})
	a, err := NewAdminNetwork(w.c, anps, banp, nps)
	require.NoError(t, err)
	require.NotEmpty(t, a.subjects.anywhere, "some subjects are not placed by name")
	endpoints := []Endpoint{w.web, w.db, w.ledger, w.prom, w.outside, w.node, w.external}
	compared := 0
	for _, from := range endpoints {
		for _, to := range endpoints {
			for _, port := range []int{443, 8080, 9090, 9102, 10250} {
				for _, side := range []struct {
					pod     *Pod
					peer    Endpoint
					ingress bool
				}{{from.Pod, to, false}, {to.Pod, from, true}} {
					if side.pod == nil {
						continue
					}
					wantV, wantDecided, wantErr := scanAdminLayer(a, side.pod, side.peer, "TCP", port, side.ingress)
					gotV, gotDecided, gotErr := a.adminLayer(side.pod, side.peer, "TCP", port, side.ingress)
					assert.Equal(t, wantV, gotV, "%s -> %s %d", from, to, port)
					assert.Equal(t, wantDecided, gotDecided, "%s -> %s %d", from, to, port)
					assert.Equal(t, wantErr, gotErr, "%s -> %s %d", from, to, port)
					compared++
				}
			}
		}
	}
	t.Logf("%d directions compared", compared)
}
