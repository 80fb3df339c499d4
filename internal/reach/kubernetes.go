package reach

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"obsgen.dev/obsgen/internal/plan"
)

// Compiled evaluates Kubernetes NetworkPolicies with their selectors
// converted once, so a proof over thousands of namespaces stays linear.
// np-guard's netpol-analyzer converts every selector on every check, which
// makes Prometheus' egress rule over N namespaces cost O(N) per check; the
// analyzer remains the reference: obsgen's tests assert that both answer
// every check of every example profile alike.
//
// It implements the NetworkPolicy semantics of the Kubernetes API
// reference (kubernetes.io/docs/concepts/services-networking/network-policies):
// a pod is isolated for a direction when a policy of its namespace selects
// it with that policy type; an isolated pod allows a connection when a rule
// of one of those policies matches the peer and the port; a connection
// needs the source's egress and the destination's ingress. Named ports are
// refused: obsgen never writes them.
type Compiled struct {
	byNS     map[string][]compiledPolicy
	nsLabels map[string]labels.Set
	// pods hold what a check reads of each pod of the cluster, found with
	// one lookup: in a large cluster every further lookup by namespace or
	// pod misses the processor's caches.
	pods map[*Pod]*podView
}

// podView is what the evaluator reads of a pod: its labels, its
// namespace's, and its namespace's policies.
type podView struct {
	labels, nsLabels labels.Set
	policies         []compiledPolicy
}

// end is one end of a check and, for a pod, its view.
type end struct {
	Endpoint
	view *podView // nil for an address
}

type compiledPolicy struct {
	name    string
	pods    labels.Selector
	ingress *ruleSet // nil: the policy does not isolate ingress
	egress  *ruleSet
}

// ruleSet is the rules of one direction of a policy, placed by the peers
// they can match: Prometheus' egress policy has a rule per scraped
// namespace, and a check reads only its peer's namespace's.
type ruleSet struct {
	rules []compiledRule
	// byNamespace are the rules whose peers select pods of a namespace;
	// pods those that select pods of any namespace; addresses those with
	// an ipBlock; anyPeer those without peers.
	byNamespace map[string][]int
	pods        []int
	addresses   []int
	anyPeer     []int
}

type compiledRule struct {
	all   bool // no peers: every peer
	peers []compiledPeer
	ports []compiledPort // empty: every port
}

type compiledPeer struct {
	namespaces *namespaceMatcher // nil with pods set: the policy's namespace
	pods       labels.Selector   // nil: every pod of the namespaces
	ipBlock    *netip.Prefix
	except     []netip.Prefix
	policyNS   string
}

type compiledPort struct {
	protocol  string
	port, end int // 0: every port
}

// NewCompiled compiles the policies for the cluster's namespaces.
func NewCompiled(c *Cluster, policies []*networkingv1.NetworkPolicy) (*Compiled, error) {
	k := &Compiled{byNS: map[string][]compiledPolicy{}, nsLabels: make(map[string]labels.Set, len(c.Namespaces)),
		pods: make(map[*Pod]*podView, len(c.Pods))}
	for _, ns := range c.Namespaces {
		k.nsLabels[ns] = labels.Set(c.namespaceLabels(ns))
	}
	sel := newSelectors()
	for _, np := range policies {
		cp, err := compilePolicy(np, sel)
		if err != nil {
			return nil, fmt.Errorf("reach: NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)
		}
		k.byNS[np.Namespace] = append(k.byNS[np.Namespace], cp)
	}
	for _, pod := range c.Pods {
		k.pods[pod] = k.newView(pod)
	}
	return k, nil
}

func (k *Compiled) newView(pod *Pod) *podView {
	return &podView{labels: labels.Set(pod.Labels.Map()), nsLabels: k.nsLabels[pod.Namespace], policies: k.byNS[pod.Namespace]}
}

// end is e with its pod's view.
func (k *Compiled) end(e Endpoint) end {
	if e.Pod == nil {
		return end{Endpoint: e}
	}
	if v, ok := k.pods[e.Pod]; ok {
		return end{Endpoint: e, view: v}
	}
	return end{Endpoint: e, view: k.newView(e.Pod)}
}

func compilePolicy(np *networkingv1.NetworkPolicy, sel *selectors) (compiledPolicy, error) {
	pods, err := sel.pod(&np.Spec.PodSelector)
	if err != nil {
		return compiledPolicy{}, err
	}
	cp := compiledPolicy{name: np.Namespace + "/" + np.Name, pods: pods}
	types := np.Spec.PolicyTypes
	if len(types) == 0 { // the API server's default
		types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			types = append(types, networkingv1.PolicyTypeEgress)
		}
	}
	for _, t := range types {
		var rules []compiledRule
		if t == networkingv1.PolicyTypeIngress {
			for _, r := range np.Spec.Ingress {
				cr, err := compileRule(np.Namespace, r.From, r.Ports, sel)
				if err != nil {
					return compiledPolicy{}, err
				}
				rules = append(rules, cr)
			}
			cp.ingress = newRuleSet(rules)
		} else {
			for _, r := range np.Spec.Egress {
				cr, err := compileRule(np.Namespace, r.To, r.Ports, sel)
				if err != nil {
					return compiledPolicy{}, err
				}
				rules = append(rules, cr)
			}
			cp.egress = newRuleSet(rules)
		}
	}
	return cp, nil
}

func newRuleSet(rules []compiledRule) *ruleSet {
	s := &ruleSet{rules: rules}
	for i, r := range rules {
		if r.all {
			s.anyPeer = append(s.anyPeer, i)
		}
		for _, p := range r.peers {
			namespaces, ok := p.podNamespaces()
			switch {
			case p.ipBlock != nil:
				s.addresses = appendOnce(s.addresses, i)
			case !ok:
				s.pods = appendOnce(s.pods, i)
			}
			for _, ns := range namespaces {
				s.place(ns, i)
			}
		}
	}
	return s
}

// place lists rule i under namespace ns; most policies never need the map.
func (s *ruleSet) place(ns string, i int) {
	if s.byNamespace == nil {
		s.byNamespace = map[string][]int{}
	}
	s.byNamespace[ns] = appendOnce(s.byNamespace[ns], i)
}

// appendOnce appends rule i unless it was the last appended.
func appendOnce(rules []int, i int) []int {
	if len(rules) > 0 && rules[len(rules)-1] == i {
		return rules
	}
	return append(rules, i)
}

// podNamespaces are the namespaces whose pods the peer can select, or
// false when it selects pods of any: its policy's own without a
// namespaceSelector, those a namespaceSelector requires by name
// (kubernetes.io/metadata.name, the only namespace label of the cluster's
// namespaces). An ipBlock selects none.
func (p compiledPeer) podNamespaces() ([]string, bool) {
	switch {
	case p.ipBlock != nil:
		return nil, true
	case p.namespaces == nil:
		return []string{p.policyNS}, true
	case p.namespaces.names == nil:
		return nil, false
	}
	return slices.Collect(maps.Keys(p.namespaces.names)), true
}

// namespaceMatcher is a namespaceSelector whose first requirement that
// the namespace's name (kubernetes.io/metadata.name, the only namespace
// label of the cluster's namespaces) be one of a list is kept as a set:
// obsgen's Prometheus policy lists every team namespace of a service in
// one, which the selector would scan on every check.
type namespaceMatcher struct {
	names map[string]bool // nil: no such requirement
	rest  []labels.Requirement
}

func newNamespaceMatcher(sel *metav1.LabelSelector) (*namespaceMatcher, error) {
	if sel == nil {
		return &namespaceMatcher{names: map[string]bool{}}, nil // selects nothing, as labels.Nothing
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	m := &namespaceMatcher{}
	reqs, _ := s.Requirements()
	for _, r := range reqs {
		if m.names == nil && r.Key() == plan.NamespaceNameLabel && slices.Contains(nameOperators, r.Operator()) {
			m.names = map[string]bool{}
			for _, v := range r.ValuesUnsorted() {
				m.names[v] = true
			}
			continue
		}
		m.rest = append(m.rest, r)
	}
	return m, nil
}

var nameOperators = []selection.Operator{selection.Equals, selection.DoubleEquals, selection.In}

// matches tells whether the namespace labels l satisfy every requirement.
func (m *namespaceMatcher) matches(l labels.Set) bool {
	if name, ok := l[plan.NamespaceNameLabel]; m.names != nil && (!ok || !m.names[name]) {
		return false
	}
	for _, r := range m.rest {
		if !r.Matches(l) {
			return false
		}
	}
	return true
}

func compileRule(ns string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, sel *selectors) (compiledRule, error) {
	r := compiledRule{all: len(peers) == 0}
	for _, p := range peers {
		cp := compiledPeer{policyNS: ns}
		var err error
		if p.NamespaceSelector != nil {
			if cp.namespaces, err = sel.namespace(p.NamespaceSelector); err != nil {
				return r, err
			}
		}
		if p.PodSelector != nil {
			if cp.pods, err = sel.pod(p.PodSelector); err != nil {
				return r, err
			}
		}
		if b := p.IPBlock; b != nil {
			prefix, err := netip.ParsePrefix(b.CIDR)
			if err != nil {
				return r, err
			}
			cp.ipBlock = &prefix
			for _, e := range b.Except {
				ex, err := netip.ParsePrefix(e)
				if err != nil {
					return r, err
				}
				cp.except = append(cp.except, ex)
			}
		}
		r.peers = append(r.peers, cp)
	}
	for _, p := range ports {
		cp := compiledPort{protocol: string(corev1.ProtocolTCP)}
		if p.Protocol != nil {
			cp.protocol = string(*p.Protocol)
		}
		if p.Port != nil {
			if p.Port.StrVal != "" {
				return r, fmt.Errorf("named port %q is not supported", p.Port.StrVal)
			}
			cp.port, cp.end = int(p.Port.IntVal), int(p.Port.IntVal)
			if p.EndPort != nil {
				cp.end = int(*p.EndPort)
			}
		}
		r.ports = append(r.ports, cp)
	}
	return r, nil
}

// Name describes the model.
func (*Compiled) Name() string {
	return "Kubernetes NetworkPolicy semantics (obsgen's compiled evaluator; obsgen-verify proves the policies again with np-guard netpol-analyzer)"
}

// Allowed applies the source's egress and the destination's ingress.
func (k *Compiled) Allowed(src, dst Endpoint, proto string, port int) (bool, error) {
	from, to := k.end(src), k.end(dst)
	if src.Pod != nil && !direction(from, to, proto, port, false) {
		return false, nil
	}
	if dst.Pod != nil && !direction(to, from, proto, port, true) {
		return false, nil
	}
	return true, nil
}

// direction decides local's side: isolated pods need a matching rule.
func direction(local, peer end, proto string, port int, ingress bool) bool {
	allowed, isolated, _ := decide(local, peer, proto, port, ingress)
	return allowed || !isolated
}

// decide tells whether a NetworkPolicy isolates pod for the direction and,
// if so, whether one of its rules allows the connection (by is the first
// policy that does). A pod no policy isolates is left to the layer below:
// the BaselineAdminNetworkPolicy, or the default allow.
func (k *Compiled) decide(pod *Pod, peer Endpoint, proto string, port int, ingress bool) (allowed, isolated bool, by string) {
	return decide(k.end(Endpoint{Pod: pod}), k.end(peer), proto, port, ingress)
}

func decide(local, peer end, proto string, port int, ingress bool) (allowed, isolated bool, by string) {
	for _, p := range local.view.policies {
		rules := p.egress
		if ingress {
			rules = p.ingress
		}
		if rules == nil || !p.pods.Matches(local.view.labels) {
			continue
		}
		isolated = true
		if anyRule(rules, peer, proto, port) {
			return true, true, p.name
		}
	}
	return false, isolated, ""
}

// anyRule tells whether a rule of the set allows peer on the port, asking
// only the rules that can match peer; a policy's rules add up, so their
// order does not matter.
func anyRule(s *ruleSet, peer end, proto string, port int) bool {
	if peer.Pod == nil {
		return anyOf(s, s.anyPeer, peer, proto, port) || anyOf(s, s.addresses, peer, proto, port)
	}
	return anyOf(s, s.anyPeer, peer, proto, port) || anyOf(s, s.pods, peer, proto, port) ||
		anyOf(s, s.byNamespace[peer.Pod.Namespace], peer, proto, port)
}

func anyOf(s *ruleSet, rules []int, peer end, proto string, port int) bool {
	for _, i := range rules {
		if r := &s.rules[i]; r.matchesPort(proto, port) && (r.all || anyPeer(r.peers, peer)) {
			return true
		}
	}
	return false
}

func (r compiledRule) matchesPort(proto string, port int) bool {
	if len(r.ports) == 0 {
		return true
	}
	for _, p := range r.ports {
		if p.protocol == proto && (p.port == 0 || p.port <= port && port <= p.end) {
			return true
		}
	}
	return false
}

func anyPeer(peers []compiledPeer, e end) bool {
	for _, p := range peers {
		if p.ipBlock != nil {
			// Whether an ipBlock matches pod addresses is left to the
			// implementation (kubernetes.io network-policies: ipBlock is
			// meant for cluster-external addresses); like np-guard's
			// analyzer, the reference, it matches addresses only. obsgen
			// never relies on an ipBlock for a flow between pods.
			if e.Pod == nil && p.ipBlock.Contains(e.Addr) && !containsAny(p.except, e.Addr) {
				return true
			}
			continue
		}
		if e.Pod == nil {
			continue // pod selectors never match an address outside the cluster's pods
		}
		if p.namespaces == nil {
			if e.Pod.Namespace != p.policyNS {
				continue
			}
		} else if !p.namespaces.matches(e.view.nsLabels) {
			continue
		}
		if p.pods == nil || p.pods.Matches(e.view.labels) {
			return true
		}
	}
	return false
}

func containsAny(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
