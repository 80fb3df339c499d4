package netpol

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// TestRangesHoldingThePodRangeLeaveThePodsOut: whether an ipBlock matches
// pod addresses is the plugin's choice (Calico's does), so a range that
// holds cluster.podCIDR excepts it. A source of every address (the API
// server's webhook calls) means everyone and keeps the pods; a range
// beside the pod range needs no except.
func TestRangesHoldingThePodRangeLeaveThePodsOut(t *testing.T) {
	p := plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "n"},
		Cluster: v1alpha1.Cluster{APIServerCIDRs: []string{"10.0.0.1/32"}, NodeCIDRs: []string{"10.1.0.0/16"}, PodCIDR: "10.244.0.0/16"},
		Mesh:    v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict},
		Network: v1alpha1.Network{Stance: v1alpha1.StanceDefaultDeny, Engine: v1alpha1.EngineKubernetes,
			GrafanaIngress:     []v1alpha1.NetworkPeer{{CIDRs: []string{"10.0.0.0/8"}}},
			AlertmanagerEgress: []v1alpha1.NetworkPeer{{CIDRs: []string{"10.0.0.0/8", "198.51.100.0/24"}, Ports: []int{443}}}},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"}, Services: []v1alpha1.Service{
			{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}}}}},
	})
	except := map[string][]string{}
	for _, nps := range Policies(p) {
		for _, np := range nps {
			var peers []networkingv1.NetworkPolicyPeer
			for _, r := range np.Spec.Egress {
				peers = append(peers, r.To...)
			}
			for _, r := range np.Spec.Ingress {
				peers = append(peers, r.From...)
			}
			for _, peer := range peers {
				if b := peer.IPBlock; b != nil {
					except[b.CIDR] = b.Except
				}
			}
		}
	}
	assert.Equal(t, []string{"10.244.0.0/16"}, except["10.0.0.0/8"])
	assert.Contains(t, except, "198.51.100.0/24")
	assert.Empty(t, except["198.51.100.0/24"], "beside the pod range")
	assert.Contains(t, except, "0.0.0.0/0")
	assert.Empty(t, except["0.0.0.0/0"], "the webhooks' callers are everyone")
	assert.Empty(t, except["10.1.0.0/16"], "the nodes' range does not hold the pods'")
}
