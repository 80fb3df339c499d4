package e2e

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/np-guard/netpol-analyzer/pkg/netpol/eval"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/generators/netpol"
	"obsgen.dev/obsgen/internal/plan"
)

// syntheticCluster holds one pod per distinct flow endpoint and an
// intruder pod per team namespace, for the network-policy analyzer.
type syntheticCluster struct {
	p      *plan.Plan
	engine *eval.PolicyEngine
	pods   map[string]string // endpoint key -> "namespace/name"
	next   int
}

func newSyntheticCluster(t *testing.T, p *plan.Plan) *syntheticCluster {
	t.Helper()
	c := &syntheticCluster{p: p, engine: eval.NewPolicyEngine(), pods: map[string]string{}}
	namespaces := slices.Clone(p.Covered)
	namespaces = append(namespaces, p.Network.DNS.Namespace, outsideNamespace)
	slices.Sort(namespaces)
	for _, ns := range slices.Compact(namespaces) {
		require.NoError(t, c.engine.InsertObject(&corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"kubernetes.io/metadata.name": ns}}}))
	}
	for _, f := range p.Flows {
		for _, peer := range []plan.Peer{f.From, f.To} {
			if !peer.IsCIDR() && !peer.Any {
				c.pod(t, peer.Namespace, peer.Labels)
			}
		}
	}
	for _, t2 := range p.Teams {
		for _, ns := range t2.Namespaces {
			c.pod(t, ns, plan.Labels{{Name: "app", Value: "intruder"}})
		}
	}
	c.pod(t, outsideNamespace, plan.Labels{{Name: "app", Value: "outsider"}})
	c.pod(t, outsideNamespace, p.Monitoring.Prometheus.PodLabels) // an impostor
	for _, ns := range p.Covered {
		for _, np := range netpol.Policies(p)[ns] {
			require.NoError(t, c.engine.InsertObject(np))
		}
	}
	return c
}

// outsideNamespace has no policies of its own, so what its pod reaches is
// decided by the destination's ingress policies alone.
const outsideNamespace = "outside"

func key(ns string, labels plan.Labels) string { return fmt.Sprintf("%s%v", ns, labels) }

// pod returns the pod that stands for (ns, labels), creating it once.
func (c *syntheticCluster) pod(t *testing.T, ns string, labels plan.Labels) string {
	t.Helper()
	k := key(ns, labels)
	if name, ok := c.pods[k]; ok {
		return name
	}
	c.next++
	l := map[string]string{"obsgen.dev/synthetic": "true"}
	for _, lb := range labels {
		l[lb.Name] = lb.Value
	}
	name := fmt.Sprintf("pod-%d", c.next)
	ip := fmt.Sprintf("100.64.%d.%d", c.next/250, c.next%250+1)
	require.NoError(t, c.engine.InsertObject(&corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: l},
		Spec:       corev1.PodSpec{NodeName: "node-1"},
		Status:     corev1.PodStatus{PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIP: "100.127.0.1"},
	}))
	c.pods[k] = ns + "/" + name
	return c.pods[k]
}

// endpoint names a peer for the analyzer: a pod, or an address in a range.
func (c *syntheticCluster) endpoint(t *testing.T, p plan.Peer) string {
	t.Helper()
	switch {
	case p.IsCIDR():
		prefix := netip.MustParsePrefix(p.CIDRs[0])
		if prefix.Bits() == prefix.Addr().BitLen() {
			return prefix.Addr().String()
		}
		return prefix.Addr().Next().String()
	case p.Any:
		return c.pods[key(c.p.Teams[0].Namespaces[0], plan.Labels{{Name: "app", Value: "intruder"}})]
	}
	return c.pods[key(p.Namespace, p.Labels)]
}

func (c *syntheticCluster) allowed(t *testing.T, src, dst, proto string, port int) bool {
	t.Helper()
	ok, err := c.engine.CheckIfAllowed(src, dst, proto, fmt.Sprint(port))
	require.NoError(t, err, "%s -> %s %s/%d", src, dst, proto, port)
	return ok
}

// TestNetworkPoliciesAllowExactlyTheMonitoringFlows feeds the generated
// NetworkPolicies and a synthetic cluster to np-guard's netpol-analyzer:
// every flow monitoring needs is allowed, and the flows obsgen must not open
// are denied: other teams and Grafana reaching a metrics port, teams reaching
// each other, Prometheus reaching a port it does not scrape.
func TestNetworkPoliciesAllowExactlyTheMonitoringFlows(t *testing.T) {
	tested := 0
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if p.Network.Stance != "default-deny" || p.Network.Engine != "kubernetes" {
			continue
		}
		tested++
		t.Run(p.Name, func(t *testing.T) {
			c := newSyntheticCluster(t, p)
			required := 0
			for _, f := range p.Flows {
				src, dst := c.endpoint(t, f.From), c.endpoint(t, f.To)
				for _, port := range f.Ports {
					required++
					assert.True(t, c.allowed(t, src, dst, port.Protocol, port.Port), "flow %s (%s): %s -> %s %s/%d must be allowed",
						f.ID, f.Why, src, dst, port.Protocol, port.Port)
				}
			}
			denied := c.forbidden(t)
			t.Logf("%s: %d required flows allowed, %d forbidden flows denied", p.Name, required, denied)
		})
	}
	assert.Positive(t, tested, "no example uses the Kubernetes default-deny stance")
}

// forbidden checks what must stay closed and returns how many checks ran.
func (c *syntheticCluster) forbidden(t *testing.T) int {
	p := c.p
	prom := c.pods[key(p.Monitoring.Namespace, p.Monitoring.Prometheus.PodLabels)]
	grafana := c.pods[key(p.Monitoring.Grafana.Namespace, p.Monitoring.Grafana.PodLabels)]
	outsider := c.pods[key(outsideNamespace, plan.Labels{{Name: "app", Value: "outsider"}})]
	impostor := c.pods[key(outsideNamespace, p.Monitoring.Prometheus.PodLabels)]
	n := 0
	deny := func(src, dst string, port int, what string) {
		n++
		assert.False(t, c.allowed(t, src, dst, "TCP", port), "%s: %s -> %s TCP/%d must be denied", what, src, dst, port)
	}
	for _, s := range p.ServiceTargets {
		target := c.pods[key(s.Namespace, s.Selector)]
		for _, team := range p.Teams {
			for _, ns := range team.Namespaces {
				if ns == s.Namespace {
					continue
				}
				intruder := c.pods[key(ns, plan.Labels{{Name: "app", Value: "intruder"}})]
				deny(intruder, target, s.Endpoint.Port, "another namespace reaches a metrics port")
				deny(intruder, target, s.AppPort, "teams' namespaces reach each other")
			}
		}
		deny(grafana, target, s.Endpoint.Port, "Grafana reaches a metrics port")
		deny(outsider, target, s.Endpoint.Port, "a pod outside the covered namespaces reaches a metrics port")
		deny(outsider, target, s.AppPort, "a pod outside the covered namespaces reaches a team")
		deny(impostor, target, s.Endpoint.Port, "a pod labelled like Prometheus in another namespace reaches a metrics port")
		deny(prom, target, 9999, "Prometheus reaches a port it does not scrape")
	}
	deny(prom, grafana, p.Monitoring.Grafana.Port, "Prometheus reaches Grafana")
	deny(outsider, prom, plan.PortPrometheus, "a pod outside the covered namespaces queries Prometheus")
	return n
}
