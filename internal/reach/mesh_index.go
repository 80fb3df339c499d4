package reach

import (
	securityv1beta1 "istio.io/api/security/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"

	"obsgen.dev/obsgen/internal/plan"
)

// meshIndex places the Istio objects by the namespace they apply in, in
// their order, so a check reads its destination's namespace's objects
// rather than every team's: a scan of all of them made the mesh layer
// quadratic in the number of teams.
type meshIndex struct {
	// meshWide are the PeerAuthentications of Istio's root namespace
	// without a selector; namespacePAs the other ones without a selector
	// and workloadPAs those with one, by namespace.
	meshWide     []*securityv1.PeerAuthentication
	namespacePAs map[string][]*securityv1.PeerAuthentication
	workloadPAs  map[string][]*securityv1.PeerAuthentication
	// allows are the ALLOW AuthorizationPolicies by namespace.
	allows map[string][]*securityv1.AuthorizationPolicy
	// istioCerts are the ports Prometheus scrapes with Istio certificates
	// (the istio-certs jobs), by key of the service's pods.
	istioCerts map[string][]int
}

func newMeshIndex(p *plan.Plan, pas []*securityv1.PeerAuthentication, aps []*securityv1.AuthorizationPolicy) meshIndex {
	x := meshIndex{namespacePAs: map[string][]*securityv1.PeerAuthentication{}, workloadPAs: map[string][]*securityv1.PeerAuthentication{},
		allows: map[string][]*securityv1.AuthorizationPolicy{}, istioCerts: map[string][]int{}}
	for _, pa := range pas {
		switch {
		case pa.Spec.Selector != nil:
			x.workloadPAs[pa.Namespace] = append(x.workloadPAs[pa.Namespace], pa)
		case pa.Namespace == p.Mesh.IstioNamespace:
			x.meshWide = append(x.meshWide, pa)
		default:
			x.namespacePAs[pa.Namespace] = append(x.namespacePAs[pa.Namespace], pa)
		}
	}
	for _, ap := range aps {
		if ap.Spec.Action == securityv1beta1.AuthorizationPolicy_ALLOW {
			x.allows[ap.Namespace] = append(x.allows[ap.Namespace], ap)
		}
	}
	for _, s := range p.ServiceTargets {
		if s.Endpoint.IstioTLS {
			k := key(s.Namespace, s.Selector)
			x.istioCerts[k] = append(x.istioCerts[k], s.Endpoint.Port)
		}
	}
	for _, j := range p.Jobs {
		// The annotation-driven job with Istio certificates scrapes the
		// annotated port of the undescribed sidecar pod that stands for
		// real clusters' (annotatedRequirements) with them too.
		if j.Kind == plan.JobPodsIstioSecure {
			k := key(UnownedNamespace, unownedLabels)
			x.istioCerts[k] = append(x.istioCerts[k], annotatedAppPort)
		}
	}
	return x
}

// meshPod is what the mesh layer derives from a pod, so that a check
// looks its pods up once: how it takes part in the mesh (meshMode), its
// identity, the PeerAuthentications of its namespace (but the mesh-wide
// ones) and of its workload, the ALLOW policies that select it, and the
// ports Prometheus scrapes on it with Istio certificates.
type meshPod struct {
	mode                      mode
	inbound, outbound         bool
	identity                  principal
	namespacePAs, workloadPAs []*securityv1.PeerAuthentication
	allows                    []*securityv1.AuthorizationPolicy
	istioCerts                []int
}

func (m *Mesh) derive(pod *Pod, principals map[string]principal) *meshPod {
	md, in, out := m.meshMode(pod)
	mp := &meshPod{mode: md, inbound: in, outbound: out, identity: m.identity(pod, principals),
		istioCerts: m.istioCerts[key(pod.Namespace, pod.Labels)]}
	if pod.Namespace != m.c.Plan.Mesh.IstioNamespace {
		mp.namespacePAs = m.namespacePAs[pod.Namespace]
	}
	for _, pa := range m.workloadPAs[pod.Namespace] {
		if selects(pa.Spec.Selector.MatchLabels, pod.Labels) {
			mp.workloadPAs = append(mp.workloadPAs, pa)
		}
	}
	for _, ap := range m.allows[pod.Namespace] {
		if ap.Spec.Selector == nil || selects(ap.Spec.Selector.MatchLabels, pod.Labels) {
			mp.allows = append(mp.allows, ap)
		}
	}
	return mp
}

// offMesh is the meshPod of an address: outside the mesh.
var offMesh = &meshPod{}

// pod is what the layer derived from pod; outside the mesh for an
// address.
func (m *Mesh) pod(pod *Pod) *meshPod {
	if pod == nil {
		return offMesh
	}
	if mp, ok := m.pods[pod]; ok {
		return mp
	}
	return m.derive(pod, nil)
}
