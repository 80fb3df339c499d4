package reach

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
)

// AdminNetwork evaluates the AdminNetworkPolicy API
// (policy.networking.k8s.io/v1alpha1, sigs.k8s.io/network-policy-api
// apis/v1alpha1, whose field documentation is the reference followed here,
// with the layering of https://network-policy-api.sigs.k8s.io/api-overview/)
// with selectors converted once. One direction of a connection (the
// source's egress, the destination's ingress) is decided by three layers in
// turn:
//
//  1. AdminNetworkPolicies whose subject selects the pod and that have rules
//     for the direction ("ANPs with no ingress rules do not affect ingress
//     traffic"), lowest priority value first ("Rules with lower priority
//     values have higher precedence"); inside one policy the first rule
//     that matches the peer and port decides ("a rule that appears at the
//     top ... would take the highest precedence"). Allow and Deny are final;
//     Pass skips the remaining AdminNetworkPolicy rules (adminnetworkpolicy_types.go,
//     AdminNetworkPolicyRuleAction*). "The behavior is undefined if two ANP
//     objects have same priority": when policies of one priority capture a
//     connection with different actions, the answer is an error, never a
//     guess.
//  2. NetworkPolicies, as Compiled evaluates them, when one isolates the pod
//     for the direction ("pass execution to any NetworkPolicies that select
//     the pod").
//  3. The BaselineAdminNetworkPolicy ("If the pod is not selected by any
//     NetworkPolicies then execution is passed to any
//     BaselineAdminNetworkPolicies that select the pod"): its first
//     matching rule, Allow or Deny; then the default, allowed.
//
// A connection needs the source's egress and the destination's ingress;
// addresses outside the pods have no side of their own. Peers: namespaces
// and pods select pods (never addresses), networks select addresses and,
// as shared_types.go says, pods too ("cluster-internal traffic will be
// checked against the rule as well"), nodes select the addresses of the
// plan's node ranges, whose synthetic nodes carry no labels. A peer with no
// field set fails closed as the API asks ("they must assume an unknown
// option has been specified and fail closed"): it matches everything for a
// Deny and nothing for an Allow or Pass. Named ports are refused: obsgen
// never writes them, and the synthetic pods declare no container ports.
type AdminNetwork struct {
	anps []compiledANP // sorted by priority, stable
	// subjects places the AdminNetworkPolicies by the pods they select
	// (adminnetwork_index.go).
	subjects  subjectIndex
	banp      *compiledANP
	netpol    *Compiled // nil: no NetworkPolicy
	nsLabels  map[string]labels.Set
	podLabels map[*Pod]labels.Set
	nodes     []netip.Prefix
}

// compiledANP is an AdminNetworkPolicy or the BaselineAdminNetworkPolicy.
type compiledANP struct {
	name     string
	priority int32
	subject  compiledSubject
	ingress  []compiledANPRule // nil: the policy does not affect ingress
	egress   []compiledANPRule
}

type compiledSubject struct {
	namespaces *namespaceMatcher
	pods       labels.Selector // nil: every pod of the namespaces
}

type compiledANPRule struct {
	name   string
	action string // Allow, Deny or Pass
	peers  []compiledANPPeer
	ports  []compiledPort // nil: every port
}

type compiledANPPeer struct {
	kind       string // namespaces, pods, nodes, networks; "" when no field is set
	namespaces *namespaceMatcher
	pods       labels.Selector
	nodes      labels.Selector
	networks   []netip.Prefix
}

// Actions of AdminNetworkPolicy and BaselineAdminNetworkPolicy rules.
const (
	ActionAllow = string(anpv1alpha1.AdminNetworkPolicyRuleActionAllow)
	ActionDeny  = string(anpv1alpha1.AdminNetworkPolicyRuleActionDeny)
	ActionPass  = string(anpv1alpha1.AdminNetworkPolicyRuleActionPass)
)

// Layers that decide a direction, for Verdict.
const (
	LayerAdmin    = "AdminNetworkPolicy"
	LayerNetwork  = "NetworkPolicy"
	LayerBaseline = "BaselineAdminNetworkPolicy"
	LayerDefault  = "default"
)

// Verdict is how one direction of a connection was decided: the layer, the
// policy and rule (or NetworkPolicy) that decided it, and the kind of peer
// the rule matched.
type Verdict struct {
	Allowed bool
	Layer   string
	Policy  string
	Rule    string
	Peer    string
}

// String describes the verdict for reports and test failures.
func (v Verdict) String() string {
	verb := "denied"
	if v.Allowed {
		verb = "allowed"
	}
	switch v.Layer {
	case LayerDefault:
		return verb + " by default (no policy decides)"
	case LayerNetwork:
		return fmt.Sprintf("%s by %s %s", verb, v.Layer, v.Policy)
	}
	return fmt.Sprintf("%s by %s %s rule %q (%s peer)", verb, v.Layer, v.Policy, v.Rule, v.Peer)
}

// NewAdminNetwork compiles the policies for the cluster: the
// AdminNetworkPolicies, the BaselineAdminNetworkPolicy (nil: none) and the
// NetworkPolicies of the layer between them (none for the profiles obsgen
// writes: the teams own theirs).
func NewAdminNetwork(c *Cluster, anps []*anpv1alpha1.AdminNetworkPolicy, banp *anpv1alpha1.BaselineAdminNetworkPolicy,
	policies []*networkingv1.NetworkPolicy) (*AdminNetwork, error) {
	a := &AdminNetwork{nsLabels: map[string]labels.Set{}, podLabels: map[*Pod]labels.Set{}}
	for _, ns := range c.Namespaces {
		a.nsLabels[ns] = labels.Set(c.namespaceLabels(ns))
	}
	for _, pod := range c.Pods {
		a.podLabels[pod] = labels.Set(pod.Labels.Map())
	}
	for _, cidr := range c.Plan.Cluster.NodeCIDRs {
		if prefix, err := netip.ParsePrefix(cidr); err == nil {
			a.nodes = append(a.nodes, prefix)
		}
	}
	for _, addr := range c.Nodes {
		a.nodes = append(a.nodes, netip.PrefixFrom(addr, addr.BitLen()))
	}
	for _, anp := range anps {
		cp, err := compileANP(anp)
		if err != nil {
			return nil, fmt.Errorf("reach: AdminNetworkPolicy %s: %w", anp.Name, err)
		}
		a.anps = append(a.anps, cp)
	}
	slices.SortStableFunc(a.anps, func(x, y compiledANP) int { return cmp.Compare(x.priority, y.priority) })
	a.subjects = a.newSubjectIndex(c)
	if banp != nil {
		cp, err := compileBANP(banp)
		if err != nil {
			return nil, fmt.Errorf("reach: BaselineAdminNetworkPolicy %s: %w", banp.Name, err)
		}
		a.banp = &cp
	}
	if len(policies) > 0 {
		np, err := NewCompiled(c, policies)
		if err != nil {
			return nil, err
		}
		a.netpol = np
	}
	return a, nil
}

// Name describes the model.
func (*AdminNetwork) Name() string {
	return "AdminNetworkPolicy semantics (obsgen's evaluator of AdminNetworkPolicies, NetworkPolicies and the BaselineAdminNetworkPolicy; obsgen-verify proves the policies again with np-guard netpol-analyzer)"
}

// Allowed applies the source's egress and the destination's ingress.
func (a *AdminNetwork) Allowed(src, dst Endpoint, proto string, port int) (bool, error) {
	egress, ingress, err := a.Decide(src, dst, proto, port)
	return egress.Allowed && ingress.Allowed, err
}

// Decide returns how the source's egress and the destination's ingress are
// decided. An address has no side of its own: its verdict is the default.
func (a *AdminNetwork) Decide(src, dst Endpoint, proto string, port int) (egress, ingress Verdict, err error) {
	egress, ingress = Verdict{Allowed: true, Layer: LayerDefault}, Verdict{Allowed: true, Layer: LayerDefault}
	if src.Pod != nil {
		if egress, err = a.direction(src.Pod, dst, proto, port, false); err != nil {
			return egress, ingress, err
		}
	}
	if dst.Pod != nil {
		ingress, err = a.direction(dst.Pod, src, proto, port, true)
	}
	return egress, ingress, err
}

// direction runs the three layers for pod's side of a connection with peer.
func (a *AdminNetwork) direction(pod *Pod, peer Endpoint, proto string, port int, ingress bool) (Verdict, error) {
	v, decided, err := a.adminLayer(pod, peer, proto, port, ingress)
	if err != nil || decided {
		return v, err
	}
	if a.netpol != nil {
		if allowed, isolated, by := a.netpol.decide(pod, peer, proto, port, ingress); isolated {
			return Verdict{Allowed: allowed, Layer: LayerNetwork, Policy: by}, nil
		}
	}
	if a.banp != nil && a.selects(a.banp, pod, ingress) {
		if rule, peerKind, ok := a.firstMatch(a.banp, peer, proto, port, ingress); ok {
			return Verdict{Allowed: rule.action == ActionAllow, Layer: LayerBaseline, Policy: a.banp.name, Rule: rule.name, Peer: peerKind}, nil
		}
	}
	return Verdict{Allowed: true, Layer: LayerDefault}, nil
}

// adminLayer applies the AdminNetworkPolicies one priority at a time.
// decided is false when no rule captures the connection or a Pass does.
// Only the policies that select pod are read (subjectsOf): the others
// could not capture the connection.
func (a *AdminNetwork) adminLayer(pod *Pod, peer Endpoint, proto string, port int, ingress bool) (v Verdict, decided bool, err error) {
	subjects := a.subjectsOf(pod, ingress)
	for i := 0; i < len(subjects); {
		var found []captured
		priority := a.anps[subjects[i]].priority
		j := i
		for ; j < len(subjects) && a.anps[subjects[j]].priority == priority; j++ {
			anp := &a.anps[subjects[j]]
			if rule, peerKind, ok := a.firstMatch(anp, peer, proto, port, ingress); ok {
				found = append(found, captured{action: rule.action,
					Verdict: Verdict{Allowed: rule.action == ActionAllow, Layer: LayerAdmin, Policy: anp.name, Rule: rule.name, Peer: peerKind}})
			}
		}
		if len(found) > 0 {
			return settle(found, priority)
		}
		i = j
	}
	return Verdict{}, false, nil
}

// captured is what one AdminNetworkPolicy's rule does with a connection.
type captured struct {
	Verdict
	action string
}

// settle turns the verdicts of the policies of one priority into one. They
// must agree: the API leaves the outcome of same-priority policies
// undefined.
func settle(found []captured, priority int32) (Verdict, bool, error) {
	first := found[0]
	for _, c := range found[1:] {
		if c.action != first.action {
			return Verdict{}, false, fmt.Errorf("AdminNetworkPolicies %s (%s) and %s (%s) have the same priority %d and decide the connection differently; the API leaves the outcome undefined",
				first.Policy, first.action, c.Policy, c.action, priority)
		}
	}
	return first.Verdict, first.action != ActionPass, nil
}

// selects tells whether the policy's subject selects pod and the policy
// has rules for the direction.
func (a *AdminNetwork) selects(p *compiledANP, pod *Pod, ingress bool) bool {
	if ingress && p.ingress == nil || !ingress && p.egress == nil {
		return false
	}
	if !p.subject.namespaces.matches(a.nsLabels[pod.Namespace]) {
		return false
	}
	return p.subject.pods == nil || p.subject.pods.Matches(a.labelsOf(pod))
}

// firstMatch returns the policy's first rule for the direction that
// matches the peer and the port, and the kind of peer that matched.
func (a *AdminNetwork) firstMatch(p *compiledANP, peer Endpoint, proto string, port int, ingress bool) (*compiledANPRule, string, bool) {
	rules := p.egress
	if ingress {
		rules = p.ingress
	}
	for i := range rules {
		r := &rules[i]
		if !r.matchesPort(proto, port) {
			continue
		}
		if kind, ok := a.matchPeer(r, peer); ok {
			return r, kind, true
		}
	}
	return nil, "", false
}

// matchesPort: a rule without ports matches every port ("If Ports is not
// set then the rule does not filter traffic via port").
func (r *compiledANPRule) matchesPort(proto string, port int) bool {
	if r.ports == nil {
		return true
	}
	for _, p := range r.ports {
		if p.protocol == proto && p.port <= port && port <= p.end {
			return true
		}
	}
	return false
}

// matchPeer tells whether one of the rule's peers matches e.
func (a *AdminNetwork) matchPeer(r *compiledANPRule, e Endpoint) (string, bool) {
	for _, p := range r.peers {
		if a.peerMatches(p, r.action, e) {
			return cmp.Or(p.kind, "unknown"), true
		}
	}
	return "", false
}

func (a *AdminNetwork) peerMatches(p compiledANPPeer, action string, e Endpoint) bool {
	switch p.kind {
	case "namespaces":
		return e.Pod != nil && p.namespaces.matches(a.nsLabels[e.Pod.Namespace])
	case "pods":
		return e.Pod != nil && p.namespaces.matches(a.nsLabels[e.Pod.Namespace]) && p.pods.Matches(a.labelsOf(e.Pod))
	case "networks":
		addr := e.Addr
		if e.Pod != nil {
			addr = e.Pod.IP
		}
		return containsAny(p.networks, addr)
	case "nodes":
		// A synthetic node has no labels: only selectors an empty label
		// set satisfies select it.
		return e.Pod == nil && containsAny(a.nodes, e.Addr) && p.nodes.Matches(labels.Set{})
	}
	return action == ActionDeny // fail closed
}

func (a *AdminNetwork) labelsOf(pod *Pod) labels.Set {
	if l, ok := a.podLabels[pod]; ok {
		return l
	}
	return labels.Set(pod.Labels.Map())
}

func compileANP(anp *anpv1alpha1.AdminNetworkPolicy) (compiledANP, error) {
	if anp.Spec.Priority < 0 || anp.Spec.Priority > 1000 {
		return compiledANP{}, fmt.Errorf("priority %d is outside 0..1000", anp.Spec.Priority)
	}
	cp := compiledANP{name: anp.Name, priority: anp.Spec.Priority}
	var err error
	if cp.subject, err = compileSubject(anp.Spec.Subject); err != nil {
		return cp, err
	}
	for _, r := range anp.Spec.Ingress {
		peers := make([]anpv1alpha1.AdminNetworkPolicyEgressPeer, len(r.From))
		for i, p := range r.From {
			peers[i] = anpv1alpha1.AdminNetworkPolicyEgressPeer{Namespaces: p.Namespaces, Pods: p.Pods}
		}
		cr, err := compileANPRule(r.Name, string(r.Action), peers, r.Ports, true)
		if err != nil {
			return cp, err
		}
		cp.ingress = append(cp.ingress, cr)
	}
	for _, r := range anp.Spec.Egress {
		cr, err := compileANPRule(r.Name, string(r.Action), r.To, r.Ports, true)
		if err != nil {
			return cp, err
		}
		cp.egress = append(cp.egress, cr)
	}
	return cp, nil
}

func compileBANP(banp *anpv1alpha1.BaselineAdminNetworkPolicy) (compiledANP, error) {
	cp := compiledANP{name: banp.Name}
	var err error
	if cp.subject, err = compileSubject(banp.Spec.Subject); err != nil {
		return cp, err
	}
	for _, r := range banp.Spec.Ingress {
		peers := make([]anpv1alpha1.AdminNetworkPolicyEgressPeer, len(r.From))
		for i, p := range r.From {
			peers[i] = anpv1alpha1.AdminNetworkPolicyEgressPeer{Namespaces: p.Namespaces, Pods: p.Pods}
		}
		cr, err := compileANPRule(r.Name, string(r.Action), peers, r.Ports, false)
		if err != nil {
			return cp, err
		}
		cp.ingress = append(cp.ingress, cr)
	}
	for _, r := range banp.Spec.Egress {
		cr, err := compileANPRule(r.Name, string(r.Action), r.To, r.Ports, false)
		if err != nil {
			return cp, err
		}
		cp.egress = append(cp.egress, cr)
	}
	return cp, nil
}

// compileSubject converts a subject, which sets exactly one field.
func compileSubject(s anpv1alpha1.AdminNetworkPolicySubject) (compiledSubject, error) {
	switch {
	case (s.Namespaces == nil) == (s.Pods == nil):
		return compiledSubject{}, errors.New("the subject must set exactly one of namespaces and pods")
	case s.Namespaces != nil:
		ns, err := newNamespaceMatcher(s.Namespaces)
		return compiledSubject{namespaces: ns}, err
	}
	return compileNamespacedPod(s.Pods)
}

func compileNamespacedPod(p *anpv1alpha1.NamespacedPod) (compiledSubject, error) {
	ns, err := newNamespaceMatcher(&p.NamespaceSelector)
	if err != nil {
		return compiledSubject{}, err
	}
	pods, err := metav1.LabelSelectorAsSelector(&p.PodSelector)
	return compiledSubject{namespaces: ns, pods: pods}, err
}

// compileANPRule converts a rule; ingress peers come as egress peers with
// only namespaces or pods set. Pass exists in AdminNetworkPolicies only.
func compileANPRule(name, action string, peers []anpv1alpha1.AdminNetworkPolicyEgressPeer, ports *[]anpv1alpha1.AdminNetworkPolicyPort, admin bool) (compiledANPRule, error) {
	r := compiledANPRule{name: name, action: action}
	if action != ActionAllow && action != ActionDeny && (action != ActionPass || !admin) {
		return r, fmt.Errorf("rule %q: unknown action %q", name, action)
	}
	if len(peers) == 0 {
		return r, fmt.Errorf("rule %q: no peer (the API requires at least one)", name)
	}
	for _, p := range peers {
		cp, err := compileANPPeer(p)
		if err != nil {
			return r, fmt.Errorf("rule %q: %w", name, err)
		}
		r.peers = append(r.peers, cp)
	}
	if ports == nil {
		return r, nil
	}
	r.ports = []compiledPort{}
	for _, p := range *ports {
		cp, err := compileANPPort(p)
		if err != nil {
			return r, fmt.Errorf("rule %q: %w", name, err)
		}
		r.ports = append(r.ports, cp)
	}
	return r, nil
}

func compileANPPeer(p anpv1alpha1.AdminNetworkPolicyEgressPeer) (compiledANPPeer, error) {
	set := 0
	for _, isSet := range []bool{p.Namespaces != nil, p.Pods != nil, p.Nodes != nil, p.Networks != nil} {
		if isSet {
			set++
		}
	}
	if set > 1 {
		return compiledANPPeer{}, errors.New("a peer must set exactly one field")
	}
	var err error
	var cp compiledANPPeer
	switch {
	case p.Namespaces != nil:
		cp.kind = "namespaces"
		cp.namespaces, err = newNamespaceMatcher(p.Namespaces)
	case p.Pods != nil:
		cp.kind = "pods"
		var s compiledSubject
		s, err = compileNamespacedPod(p.Pods)
		cp.namespaces, cp.pods = s.namespaces, s.pods
	case p.Nodes != nil:
		cp.kind = "nodes"
		cp.nodes, err = metav1.LabelSelectorAsSelector(p.Nodes)
	case p.Networks != nil:
		cp.kind = "networks"
		for _, n := range p.Networks {
			prefix, perr := netip.ParsePrefix(string(n))
			if perr != nil {
				return cp, perr
			}
			cp.networks = append(cp.networks, prefix.Masked())
		}
	}
	return cp, err
}

// compileANPPort converts a port; the protocol defaults to TCP.
func compileANPPort(p anpv1alpha1.AdminNetworkPolicyPort) (compiledPort, error) {
	switch {
	case p.NamedPort != nil:
		return compiledPort{}, fmt.Errorf("named port %q is not supported", *p.NamedPort)
	case p.PortNumber != nil && p.PortRange == nil:
		return compiledPort{protocol: protocolOr(p.PortNumber.Protocol), port: int(p.PortNumber.Port), end: int(p.PortNumber.Port)}, nil
	case p.PortRange != nil && p.PortNumber == nil:
		r := p.PortRange
		if r.Start < 1 || r.End < r.Start {
			return compiledPort{}, fmt.Errorf("port range %d-%d is empty", r.Start, r.End)
		}
		return compiledPort{protocol: protocolOr(r.Protocol), port: int(r.Start), end: int(r.End)}, nil
	}
	return compiledPort{}, errors.New("a port must set exactly one of portNumber, portRange and namedPort")
}

func protocolOr(p corev1.Protocol) string {
	if p == "" {
		return string(corev1.ProtocolTCP)
	}
	return string(p)
}
