// Package istio generates the Istio security objects of the mTLS mode: the
// mesh-wide and per-namespace PeerAuthentication, and for the
// permissive-port strategy a workload-selected PeerAuthentication that opens
// exactly each service's metrics port to plaintext (portLevelMtls applies
// only with a selector, to the workload's port, istio.io).
package istio

import (
	"fmt"

	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/generators/operator"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// PeerAuthenticationsPath holds every PeerAuthentication obsgen writes.
const PeerAuthenticationsPath = "istio/peerauthentications.yaml"

// Generate writes the PeerAuthentications when the mesh is Istio.
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	if !p.Mesh.Istio {
		return nil, nil
	}
	f, err := operator.Documents(PeerAuthenticationsPath, PeerAuthentications(p))
	if err != nil {
		return nil, err
	}
	return []output.File{f}, nil
}

// PeerAuthentications are the mesh-wide policy (named default in Istio's
// namespace), one namespace-wide policy per team namespace, and under
// permissive-port one workload policy per service.
func PeerAuthentications(p *plan.Plan) []*securityv1.PeerAuthentication {
	mode := securityv1beta1.PeerAuthentication_MutualTLS_Mode_value[p.Mesh.MTLS]
	out := []*securityv1.PeerAuthentication{peerAuthentication(p, p.Mesh.IstioNamespace, "default", mode)}
	for _, t := range p.Teams {
		for _, ns := range t.Namespaces {
			out = append(out, peerAuthentication(p, ns, "default", mode))
		}
	}
	if p.Scrape.Strategy != "permissive-port" {
		return out
	}
	for _, s := range p.ServiceTargets {
		pa := peerAuthentication(p, s.Namespace, "obsgen-metrics-"+s.Name, int32(securityv1beta1.PeerAuthentication_MutualTLS_STRICT))
		pa.Annotations = map[string]string{"obsgen.dev/why": fmt.Sprintf(
			"Prometheus scrapes %s in plaintext on %d; every other port of the workload stays STRICT", s.Job, s.AppPort)}
		pa.Spec.Selector = &typev1beta1.WorkloadSelector{MatchLabels: s.Selector.Map()}
		pa.Spec.PortLevelMtls = map[uint32]*securityv1beta1.PeerAuthentication_MutualTLS{
			uint32(s.AppPort): {Mode: securityv1beta1.PeerAuthentication_MutualTLS_PERMISSIVE},
		}
		out = append(out, pa)
	}
	return out
}

func peerAuthentication(p *plan.Plan, ns, name string, mode int32) *securityv1.PeerAuthentication {
	labels := operator.Meta(p, "").Labels
	return &securityv1.PeerAuthentication{
		TypeMeta:   metav1.TypeMeta{APIVersion: "security.istio.io/v1", Kind: "PeerAuthentication"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: securityv1beta1.PeerAuthentication{
			Mtls: &securityv1beta1.PeerAuthentication_MutualTLS{Mode: securityv1beta1.PeerAuthentication_MutualTLS_Mode(mode)},
		},
	}
}
