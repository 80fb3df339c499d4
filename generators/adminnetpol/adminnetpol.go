// Package adminnetpol generates the admin-network-policy engine's objects
// (policy.networking.k8s.io/v1alpha1, sigs.k8s.io/network-policy-api): the
// BaselineAdminNetworkPolicy `default` denies every covered namespace's
// traffic to and from pods and networks, and one AdminNetworkPolicy per
// selected set of pods allows exactly the plan's flows. AdminNetworkPolicy
// Allow rules are final, so the monitoring flows work whatever
// NetworkPolicies the teams write; everything else falls through to the
// teams' NetworkPolicies and then to the baseline deny.
package adminnetpol

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Files of the engine.
const (
	ANPPath  = "kubernetes/adminnetworkpolicies.yaml"
	BANPPath = "kubernetes/baselineadminnetworkpolicy.yaml"
)

var (
	anpType  = metav1.TypeMeta{APIVersion: "policy.networking.k8s.io/v1alpha1", Kind: "AdminNetworkPolicy"}
	banpType = metav1.TypeMeta{APIVersion: "policy.networking.k8s.io/v1alpha1", Kind: "BaselineAdminNetworkPolicy"}
)

// Generate writes the objects when the engine is admin-network-policy.
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	return Write(p, &built.Policies{})
}

// Write builds the objects into pol, for the proof, and writes them.
func Write(p *plan.Plan, pol *built.Policies) ([]output.File, error) {
	if p.Network.Policies != v1alpha1.EngineAdminNetworkPolicy {
		return nil, nil
	}
	// The proof always holds the baseline; with manage false it stands
	// for the cluster's own, which the profile says denies the same.
	pol.BaselineAdminNetworkPolicy, pol.AdminNetworkPolicies = Baseline(p), Policies(p)
	var files []output.File
	if p.Network.ManageBaseline {
		banp, err := manifest.Documents(BANPPath, []*anpv1alpha1.BaselineAdminNetworkPolicy{pol.BaselineAdminNetworkPolicy})
		if err != nil {
			return nil, err
		}
		files = append(files, banp)
	}
	anps, err := manifest.Documents(ANPPath, pol.AdminNetworkPolicies)
	if err != nil {
		return nil, err
	}
	files = append(files, anps)
	for i := range files {
		files[i].Data = slices.Concat([]byte(output.Header), []byte(experimentalNote), files[i].Data[len(output.Header):])
	}
	return files, nil
}

// experimentalNote heads both files. Their networks peers were in the
// experimental channel only up to v0.1.5 (apis/v1alpha1/shared_types.go,
// <network-policy-api:experimental>), whose standard CRDs prune them,
// which leaves a peer empty and the object refused; the standard CRDs of
// v0.1.7 and v0.1.8 carry them (validated with the CEL function isCIDR,
// which CRDs may use from Kubernetes 1.31; v0.1.5's CRD leaves it as a
// TODO for that release). v0.2.0 (2026-04) removed both kinds from
// both channels for ClusterNetworkPolicy (v1alpha2), so the CRDs must come
// from a v0.1 release.
const experimentalNote = `# Needs network-policy-api's AdminNetworkPolicy CRDs from release v0.1.8 or
# earlier (v0.2.0 replaced both kinds with ClusterNetworkPolicy): the
# experimental channel (config/crd/experimental, as kube-network-policies
# installs them), or the standard one from v0.1.7 on. The standard channel
# of v0.1.5 and earlier drops the networks peers, and the API server then
# refuses these objects; the CRDs of v0.1.7 and v0.1.8 need Kubernetes 1.31
# (their CEL rule isCIDR), so before it use v0.1.5's experimental channel.
`

// Baseline is the cluster's BaselineAdminNetworkPolicy (a singleton named
// default, which the CRD enforces with a CEL rule on metadata.name in
// config/crd/*/policy.networking.k8s.io_baselineadminnetworkpolicies.yaml,
// so applying it replaces the cluster's own: network.adminNetworkPolicy.
// baseline.manage false leaves it out of the output): the isolated namespaces deny ingress from every pod and egress
// to every pod and network. Ingress from outside the pod network (the API
// server, kubelet probes) is not matched by an ingress peer and stays open.
// Each peer sets exactly one field: the CRD's peers have minProperties and
// maxProperties 1 (config/crd/experimental/
// policy.networking.k8s.io_baselineadminnetworkpolicies.yaml), and
// `namespaces: {}` selects every pod of every namespace. The `networks`
// peer needs the experimental channel up to v0.1.5 (see experimentalNote).
func Baseline(p *plan.Plan) *anpv1alpha1.BaselineAdminNetworkPolicy {
	all := []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}
	return &anpv1alpha1.BaselineAdminNetworkPolicy{TypeMeta: banpType,
		ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: manifest.Meta(p, "").Labels,
			Annotations: map[string]string{manifest.WhyAnnotation: "default deny for the namespaces obsgen isolates; the cluster's only baseline (it must be named default), so applying it replaces one the cluster has: set network.adminNetworkPolicy.baseline.manage false then"}},
		Spec: anpv1alpha1.BaselineAdminNetworkPolicySpec{
			Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: namespaces(p.IsolatedNamespaces())},
			Ingress: []anpv1alpha1.BaselineAdminNetworkPolicyIngressRule{{Name: "deny-all", Action: anpv1alpha1.BaselineAdminNetworkPolicyRuleActionDeny, From: all}},
			Egress: []anpv1alpha1.BaselineAdminNetworkPolicyEgressRule{{Name: "deny-all", Action: anpv1alpha1.BaselineAdminNetworkPolicyRuleActionDeny,
				To: []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Namespaces: &metav1.LabelSelector{}}, {Networks: []anpv1alpha1.CIDR{"0.0.0.0/0", "::/0"}}}}},
		},
	}
}

// Policies are the AdminNetworkPolicies: one per selected set of pods,
// with an Allow rule per flow that starts or ends there, rules that differ
// only in the peer's namespace merged. A flow from (to) every pod gets its
// rule in each isolated namespace's policy for all pods. The pods obsgen
// selects in Istio's namespace, which the baseline leaves alone, end
// their ingress rules with a Deny from every pod, so only the flows reach
// istiod's and ztunnel's ports.
//
// Egress to address ranges goes into a second policy per set of pods, one
// priority later (NetworksSuffix): a `networks` peer matches pod addresses
// too ("if you Allow or Deny traffic to 0.0.0.0/0, that will allow or deny
// all IPv4 pod-to-pod traffic as well. If you don't want that, add a rule
// that Passes all pod traffic before the Networks rule",
// sigs.k8s.io/network-policy-api apis/v1alpha1/shared_types.go,
// AdminNetworkPolicyEgressPeer.Networks). Each such Allow follows a Pass
// for every pod on the same ports, so pods stay behind the teams'
// NetworkPolicies and the baseline. The Pass lives a priority after the
// pod Allows because the outcome of same-priority policies that decide a
// connection differently is undefined (AdminNetworkPolicySpec.Priority):
// an Allow to istiod of one policy and a Pass of another on the same pod
// and port would otherwise race.
func Policies(p *plan.Plan) []*anpv1alpha1.AdminNetworkPolicy {
	b := &builder{p: p, index: map[string]*anpv1alpha1.AdminNetworkPolicy{}, merge: map[string]*metav1.LabelSelector{}}
	isolated := p.IsolatedNamespaces()
	for _, f := range p.Flows {
		egress, ingress := p.RuleSites(f, isolated)
		for _, site := range egress {
			b.egress(b.policy(site.Namespace, site.Labels, f.ID, f.To.IsCIDR()), f)
		}
		// Ingress peers are pods only: traffic from address ranges is
		// never denied by the baseline, so it needs no allow.
		if f.From.IsCIDR() {
			continue
		}
		for _, site := range ingress {
			b.ingress(b.policy(site.Namespace, site.Labels, f.ID, false), f)
		}
	}
	for _, anp := range b.out {
		if !slices.Contains(isolated, b.ns[anp]) && len(anp.Spec.Ingress) > 0 {
			anp.Spec.Ingress = append(anp.Spec.Ingress, anpv1alpha1.AdminNetworkPolicyIngressRule{Name: "deny-others",
				Action: anpv1alpha1.AdminNetworkPolicyRuleActionDeny, From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}})
		}
	}
	return b.out
}

func (b *builder) egress(anp *anpv1alpha1.AdminNetworkPolicy, f plan.Flow) {
	if sel := b.merged(anp, "egress", f.To, f.Ports); sel != nil {
		sel.MatchExpressions[0].Values = append(sel.MatchExpressions[0].Values, f.To.Namespace)
		return
	}
	if f.To.IsCIDR() {
		anp.Spec.Egress = append(anp.Spec.Egress, anpv1alpha1.AdminNetworkPolicyEgressRule{
			Name: ruleName(f.ID, "-pods"), Action: anpv1alpha1.AdminNetworkPolicyRuleActionPass,
			To: []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Namespaces: &metav1.LabelSelector{}}}, Ports: ports(f.Ports)})
	}
	anp.Spec.Egress = append(anp.Spec.Egress, anpv1alpha1.AdminNetworkPolicyEgressRule{
		Name: ruleName(f.ID, ""), Action: anpv1alpha1.AdminNetworkPolicyRuleActionAllow, To: b.egressPeers(anp, f.To, f.Ports), Ports: ports(f.Ports)})
}

// maxRuleName is the longest rule name the CRD takes
// (AdminNetworkPolicyEgressRule.Name: +kubebuilder:validation:MaxLength=100).
const maxRuleName = 100

// ruleName is id and suffix, id shortened so the name fits.
func ruleName(id, suffix string) string {
	if len(id)+len(suffix) > maxRuleName {
		id = id[:maxRuleName-len(suffix)]
	}
	return id + suffix
}

func (b *builder) ingress(anp *anpv1alpha1.AdminNetworkPolicy, f plan.Flow) {
	if sel := b.merged(anp, "ingress", f.From, f.Ports); sel != nil {
		sel.MatchExpressions[0].Values = append(sel.MatchExpressions[0].Values, f.From.Namespace)
		return
	}
	anp.Spec.Ingress = append(anp.Spec.Ingress, anpv1alpha1.AdminNetworkPolicyIngressRule{
		Name: ruleName(f.ID, ""), Action: anpv1alpha1.AdminNetworkPolicyRuleActionAllow, From: b.ingressPeers(anp, f.From, f.Ports), Ports: ports(f.Ports)})
}

type builder struct {
	p     *plan.Plan
	index map[string]*anpv1alpha1.AdminNetworkPolicy
	out   []*anpv1alpha1.AdminNetworkPolicy
	// ns is the namespace of each policy's subject.
	ns map[*anpv1alpha1.AdminNetworkPolicy]string
	// merge finds the namespace selector of a rule that can take more
	// namespaces.
	merge map[string]*metav1.LabelSelector
}

// NetworksSuffix ends the name of the policy that holds a set of pods'
// egress to address ranges, one priority after its other rules.
const NetworksSuffix = "-networks"

// policy returns the policy of the pods labels selects in ns, named
// obsgen-<ns>-all or obsgen-<ns>-<label values>, or for egress to address
// ranges (networks) the same name with NetworksSuffix.
func (b *builder) policy(ns string, labels plan.Labels, flow string, networks bool) *anpv1alpha1.AdminNetworkPolicy {
	k := fmt.Sprintf("%s/%v/%t", ns, labels, networks)
	anp, ok := b.index[k]
	if !ok {
		// Cluster-scoped: the namespace joins the name.
		name := "obsgen-" + ns + strings.TrimPrefix(plan.PolicyName(labels), "obsgen")
		priority := b.p.Network.ANPPriority
		if networks {
			name, priority = name+NetworksSuffix, priority+1
		}
		anp = &anpv1alpha1.AdminNetworkPolicy{TypeMeta: anpType,
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: manifest.Meta(b.p, "").Labels, Annotations: map[string]string{}},
			Spec: anpv1alpha1.AdminNetworkPolicySpec{Priority: int32(priority),
				Subject: anpv1alpha1.AdminNetworkPolicySubject{Pods: &anpv1alpha1.NamespacedPod{
					NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{plan.NamespaceNameLabel: ns}},
					PodSelector:       metav1.LabelSelector{MatchLabels: labels.Map()}}}}}
		b.index[k] = anp
		b.out = append(b.out, anp)
		if b.ns == nil {
			b.ns = map[*anpv1alpha1.AdminNetworkPolicy]string{}
		}
		b.ns[anp] = ns
	}
	if f := anp.Annotations[manifest.FlowsAnnotation]; !slices.Contains(strings.Fields(f), flow) {
		anp.Annotations[manifest.FlowsAnnotation] = strings.TrimSpace(f + " " + flow)
	}
	return anp
}

// merged returns the namespace selector of an existing rule of anp with the
// same direction, pods and ports as peer, or nil.
func (b *builder) merged(anp *anpv1alpha1.AdminNetworkPolicy, dir string, peer plan.Peer, pp []plan.PortProto) *metav1.LabelSelector {
	if peer.IsCIDR() || peer.Any {
		return nil
	}
	return b.merge[fmt.Sprintf("%s|%s|%v|%v", anp.Name, dir, peer.Labels, pp)]
}

// podPeer selects peer's pods by namespace name (an In list, so later
// namespaces can join) and labels.
func (b *builder) podPeer(anp *anpv1alpha1.AdminNetworkPolicy, dir string, peer plan.Peer, pp []plan.PortProto) *anpv1alpha1.NamespacedPod {
	ns := &anpv1alpha1.NamespacedPod{
		NamespaceSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: plan.NamespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{peer.Namespace}}}},
		PodSelector: metav1.LabelSelector{MatchLabels: peer.Labels.Map()},
	}
	b.merge[fmt.Sprintf("%s|%s|%v|%v", anp.Name, dir, peer.Labels, pp)] = &ns.NamespaceSelector
	return ns
}

func (b *builder) egressPeers(anp *anpv1alpha1.AdminNetworkPolicy, peer plan.Peer, pp []plan.PortProto) []anpv1alpha1.AdminNetworkPolicyEgressPeer {
	switch {
	case peer.IsCIDR():
		nets := make([]anpv1alpha1.CIDR, len(peer.CIDRs))
		for i, c := range peer.CIDRs {
			nets[i] = anpv1alpha1.CIDR(c)
		}
		return []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Networks: nets}}
	case peer.Any:
		return []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Namespaces: &metav1.LabelSelector{}}}
	}
	return []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Pods: b.podPeer(anp, "egress", peer, pp)}}
}

func (b *builder) ingressPeers(anp *anpv1alpha1.AdminNetworkPolicy, peer plan.Peer, pp []plan.PortProto) []anpv1alpha1.AdminNetworkPolicyIngressPeer {
	if peer.Any {
		return []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}
	}
	return []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Pods: b.podPeer(anp, "ingress", peer, pp)}}
}

func namespaces(ns []string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: plan.NamespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: slices.Clone(ns)}}}
}

// ports lists the rule's ports; nil (every port) for none.
func ports(in []plan.PortProto) *[]anpv1alpha1.AdminNetworkPolicyPort {
	if len(in) == 0 {
		return nil
	}
	out := make([]anpv1alpha1.AdminNetworkPolicyPort, len(in))
	for i, p := range in {
		out[i] = anpv1alpha1.AdminNetworkPolicyPort{PortNumber: &anpv1alpha1.Port{Protocol: corev1.Protocol(p.Protocol), Port: int32(p.Port)}}
	}
	return &out
}
