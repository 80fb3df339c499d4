// Package netpol generates the Kubernetes NetworkPolicies of the
// default-deny stance: a default deny of ingress and egress in every covered
// namespace, and for every flow of the plan an egress allow on the source
// side and an ingress allow on the destination side, on exactly the flow's
// ports. Nothing else is opened.
package netpol

import (
	"bytes"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"obsgen.dev/obsgen/generators/operator"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Dir holds one file of policies per namespace.
const Dir = "kubernetes/networkpolicies/"

// namespaceLabel is set on every namespace by Kubernetes (1.21+).
const namespaceLabel = "kubernetes.io/metadata.name"

// Generate writes the policies when the stance is default-deny with the
// Kubernetes engine.
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	if p.Network.Stance != "default-deny" || p.Network.Engine != "kubernetes" {
		return nil, nil
	}
	byNS := Policies(p)
	var files []output.File
	for _, ns := range p.Covered {
		f, err := namespaceFile(ns, byNS[ns])
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// Policies returns the policies of every covered namespace.
func Policies(p *plan.Plan) map[string][]*networkingv1.NetworkPolicy {
	covered := func(ns string) bool { return slices.Contains(p.Covered, ns) }
	out := map[string][]*networkingv1.NetworkPolicy{}
	meta := func(ns, name string) metav1.ObjectMeta {
		m := operator.Meta(p, "")
		return metav1.ObjectMeta{Name: "obsgen-" + name, Namespace: ns, Labels: m.Labels}
	}
	for _, ns := range p.Covered {
		out[ns] = append(out[ns], &networkingv1.NetworkPolicy{
			TypeMeta:   typeMeta,
			ObjectMeta: meta(ns, "default-deny"),
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}},
		})
	}
	for _, f := range p.Flows {
		if !f.From.IsCIDR() && !f.From.Any && covered(f.From.Namespace) {
			out[f.From.Namespace] = append(out[f.From.Namespace], egress(meta(f.From.Namespace, f.ID+"-egress"), f))
		}
		if !f.To.IsCIDR() && covered(f.To.Namespace) {
			out[f.To.Namespace] = append(out[f.To.Namespace], ingress(meta(f.To.Namespace, f.ID+"-ingress"), f))
		}
	}
	return out
}

var typeMeta = metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}

func egress(meta metav1.ObjectMeta, f plan.Flow) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{TypeMeta: typeMeta, ObjectMeta: withWhy(meta, f),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: selector(f.From.Labels),
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: peers(f.To), Ports: ports(f.Ports)}},
		}}
}

func ingress(meta metav1.ObjectMeta, f plan.Flow) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{TypeMeta: typeMeta, ObjectMeta: withWhy(meta, f),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: selector(f.To.Labels),
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers(f.From), Ports: ports(f.Ports)}},
		}}
}

// withWhy records the reason of the flow on the policy, for reviewers.
func withWhy(meta metav1.ObjectMeta, f plan.Flow) metav1.ObjectMeta {
	meta.Annotations = map[string]string{"obsgen.dev/why": f.Why}
	return meta
}

func peers(p plan.Peer) []networkingv1.NetworkPolicyPeer {
	switch {
	case p.IsCIDR():
		out := make([]networkingv1.NetworkPolicyPeer, len(p.CIDRs))
		for i, c := range p.CIDRs {
			out[i] = networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c}}
		}
		return out
	case p.Any:
		return []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
	}
	sel := selector(p.Labels)
	return []networkingv1.NetworkPolicyPeer{{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceLabel: p.Namespace}},
		PodSelector:       &sel,
	}}
}

func selector(l plan.Labels) metav1.LabelSelector {
	if len(l) == 0 {
		return metav1.LabelSelector{}
	}
	m := map[string]string{}
	for _, lb := range l {
		m[lb.Name] = lb.Value
	}
	return metav1.LabelSelector{MatchLabels: m}
}

func ports(in []plan.PortProto) []networkingv1.NetworkPolicyPort {
	out := make([]networkingv1.NetworkPolicyPort, len(in))
	for i, p := range in {
		proto := corev1Protocol(p.Protocol)
		port := intstr.FromInt32(int32(p.Port))
		out[i] = networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port}
	}
	return out
}

// namespaceFile writes a namespace's policies as one multi-document file,
// each document decoded strictly into NetworkPolicy first.
func namespaceFile(ns string, policies []*networkingv1.NetworkPolicy) (output.File, error) {
	var buf bytes.Buffer
	for i, np := range policies {
		f, err := operator.Manifest(Dir+ns+".yaml", np)
		if err != nil {
			return output.File{}, fmt.Errorf("network policy %s/%s: %w", ns, np.Name, err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(bytes.TrimPrefix(f.Data, []byte(output.Header)))
	}
	return output.Manifest(Dir+ns+".yaml", buf.Bytes()), nil
}

func corev1Protocol(p string) corev1.Protocol { return corev1.Protocol(p) }
