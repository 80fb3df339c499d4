// Package netpol generates the Kubernetes NetworkPolicies of the
// default-deny stance: a default deny of ingress and egress in every covered
// namespace, and for every flow of the plan an egress allow on the source
// side and an ingress allow on the destination side, on exactly the flow's
// ports. Nothing else is opened.
package netpol

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Dir holds one file of policies per namespace.
const Dir = "kubernetes/networkpolicies/"

// Generate writes the policies when the stance is default-deny with the
// Kubernetes engine: one file per namespace that holds a policy.
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	return Write(p, &built.Policies{})
}

// Write builds the policies into pol, for the proof, and writes them.
func Write(p *plan.Plan, pol *built.Policies) ([]output.File, error) {
	if p.Network.Policies != v1alpha1.EngineKubernetes {
		return nil, nil
	}
	pol.NetworkPolicies = Policies(p)
	namespaces := slices.Sorted(maps.Keys(pol.NetworkPolicies))
	files := make([]output.File, len(namespaces))
	for i, ns := range namespaces {
		f, err := namespaceFile(ns, pol.NetworkPolicies[ns])
		if err != nil {
			return nil, err
		}
		files[i] = f
	}
	return files, nil
}

// Policies returns the policies of every namespace obsgen's policies
// touch: one per selected set of pods, holding every ingress and egress
// rule of the flows that start or end there. In an isolated namespace the
// policy for all pods selects them for both directions, so it is also the
// namespace's default deny. A flow from (to) every pod gets an egress
// (ingress) rule in each isolated namespace's policy for all pods; pods
// whose side obsgen does not isolate (plan.DeniesEgress, DeniesIngress)
// need no rule.
func Policies(p *plan.Plan) map[string][]*networkingv1.NetworkPolicy {
	b := &builder{p: p, index: map[string]*networkingv1.NetworkPolicy{}, out: map[string][]*networkingv1.NetworkPolicy{},
		rules: map[string]*metav1.LabelSelector{}, flows: map[*networkingv1.NetworkPolicy][]string{}}
	isolated := p.IsolatedNamespaces()
	for _, ns := range isolated {
		b.policy(ns, nil).Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	}
	for _, f := range p.Flows {
		egress, ingress := p.RuleSites(f, isolated)
		for _, site := range egress {
			b.add(b.policy(site.Namespace, site.Labels), networkingv1.PolicyTypeEgress, f.ID, f.To, f.Ports)
		}
		for _, site := range ingress {
			b.add(b.policy(site.Namespace, site.Labels), networkingv1.PolicyTypeIngress, f.ID, f.From, f.Ports)
		}
	}
	for np, ids := range b.flows {
		np.Annotations = map[string]string{manifest.FlowsAnnotation: strings.Join(ids, " ")}
	}
	return b.out
}

// add gives np a rule of direction dir with the flow's other end, merged
// into an existing rule where only the namespace differs.
func (b *builder) add(np *networkingv1.NetworkPolicy, dir networkingv1.PolicyType, id string, peer plan.Peer, pp []plan.PortProto) {
	if !slices.Contains(b.flows[np], id) { // a flow within one pod set is both egress and ingress
		b.flows[np] = append(b.flows[np], id)
	}
	addType(np, dir)
	if b.merge(np, dir, peer, pp) {
		return
	}
	other := peers(b.p, peer, dir == networkingv1.PolicyTypeIngress)
	if dir == networkingv1.PolicyTypeEgress {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: other, Ports: ports(pp)})
	} else {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: other, Ports: ports(pp)})
	}
	if k := ruleKey(np, dir, peer, pp); k != "" {
		// The selector pointer is shared with the rule, so later appends to
		// the rule slices cannot leave it stale.
		b.rules[k] = other[0].NamespaceSelector
	}
}

// ruleKey identifies rules of a policy that differ only in the namespace of
// their pod peer; CIDR and all-namespace peers are never merged.
func ruleKey(np *networkingv1.NetworkPolicy, dir networkingv1.PolicyType, peer plan.Peer, pp []plan.PortProto) string {
	if peer.IsCIDR() || peer.Any {
		return ""
	}
	return fmt.Sprintf("%s/%s|%s|%v|%v", np.Namespace, np.Name, dir, peer.Labels, pp)
}

// merge adds peer's namespace to an existing rule of np with the same pods
// and ports, so Prometheus' egress to 3000 namespaces is one rule.
func (b *builder) merge(np *networkingv1.NetworkPolicy, dir networkingv1.PolicyType, peer plan.Peer, pp []plan.PortProto) bool {
	k := ruleKey(np, dir, peer, pp)
	sel, ok := b.rules[k]
	if k == "" || !ok {
		return false
	}
	if ns, single := sel.MatchLabels[plan.NamespaceNameLabel]; single {
		sel.MatchLabels = nil
		sel.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: plan.NamespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{ns}}}
	}
	sel.MatchExpressions[0].Values = append(sel.MatchExpressions[0].Values, peer.Namespace)
	return true
}

// builder collects the policies by namespace and selector.
type builder struct {
	p     *plan.Plan
	index map[string]*networkingv1.NetworkPolicy
	out   map[string][]*networkingv1.NetworkPolicy
	// rules finds the namespace selector of a rule that can take more
	// namespaces.
	rules map[string]*metav1.LabelSelector
	// flows are the flow IDs each policy allows.
	flows map[*networkingv1.NetworkPolicy][]string
}

// policy returns the policy of the pods labels selects in ns (all pods for
// no labels), creating it on first use: obsgen-all for all pods, else
// obsgen-<label values>.
func (b *builder) policy(ns string, labels plan.Labels) *networkingv1.NetworkPolicy {
	k := fmt.Sprintf("%s/%v", ns, labels)
	if np, ok := b.index[k]; ok {
		return np
	}
	np := &networkingv1.NetworkPolicy{TypeMeta: typeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: plan.PolicyName(labels), Namespace: ns, Labels: manifest.Meta(b.p, "").Labels},
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: selector(labels)}}
	b.index[k] = np
	b.out[ns] = append(b.out[ns], np)
	return np
}

func addType(np *networkingv1.NetworkPolicy, t networkingv1.PolicyType) {
	if !slices.Contains(np.Spec.PolicyTypes, t) {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, t)
	}
}

var typeMeta = metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}

// peers are the rule's other end. An address range leaves the pod range
// out (plan.PodExcept): the monitoring flows never reach pods through it.
func peers(pl *plan.Plan, p plan.Peer, source bool) []networkingv1.NetworkPolicyPeer {
	switch {
	case p.IsCIDR():
		out := make([]networkingv1.NetworkPolicyPeer, len(p.CIDRs))
		for i, c := range p.CIDRs {
			out[i] = networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c, Except: pl.PodExcept(c, source)}}
		}
		return out
	case p.Any:
		return []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
	}
	sel := selector(p.Labels)
	return []networkingv1.NetworkPolicyPeer{{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{plan.NamespaceNameLabel: p.Namespace}},
		PodSelector:       &sel,
	}}
}

func selector(l plan.Labels) metav1.LabelSelector { return metav1.LabelSelector{MatchLabels: l.Map()} }

// ports lists the rule's ports; none means every port.
func ports(in []plan.PortProto) []networkingv1.NetworkPolicyPort {
	if len(in) == 0 {
		return nil
	}
	out := make([]networkingv1.NetworkPolicyPort, len(in))
	for i, p := range in {
		proto := corev1Protocol(p.Protocol)
		port := intstr.FromInt32(int32(p.Port))
		out[i] = networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port}
	}
	return out
}

// namespaceFile writes a namespace's policies as one multi-document file.
func namespaceFile(ns string, policies []*networkingv1.NetworkPolicy) (output.File, error) {
	f, err := manifest.Documents(Dir+ns+".yaml", policies)
	if err != nil {
		return output.File{}, fmt.Errorf("network policies of %s: %w", ns, err)
	}
	return f, nil
}

func corev1Protocol(p string) corev1.Protocol { return corev1.Protocol(p) }
