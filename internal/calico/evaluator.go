package calico

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Endpoint is a Calico workload endpoint: a pod.
type Endpoint struct {
	// Name is optional; it only names the endpoint in traces.
	Name string
	// Namespace is the pod's namespace; its labels come from the Namespace
	// of that name given to NewEvaluator.
	Namespace string
	// Labels are the pod's labels. Calico adds projectcalico.org/namespace,
	// projectcalico.org/orchestrator and projectcalico.org/serviceaccount.
	Labels map[string]string
	// ServiceAccount is the pod's service account ("" for none).
	ServiceAccount string
	// ServiceAccountLabels are the labels of that service account, for
	// serviceAccountSelector and rule serviceAccounts.selector.
	ServiceAccountLabels map[string]string
	// IPs are the pod's addresses, for nets and notNets.
	IPs []netip.Addr
	// Host marks a host endpoint (a node's interface, such as the ones
	// calico-kube-controllers creates with hostEndpoint.autoCreate): it
	// has no namespace, Calico gives it neither projectcalico.org/namespace
	// nor namespace labels, and only global policies select it
	// (docs.tigera.io calico/latest/reference/resources/hostendpoint).
	Host bool
}

// String is "namespace/name", or "namespace/<k=v,...>" for an endpoint
// without a name.
func (e Endpoint) String() string {
	if e.Name != "" {
		return e.Namespace + "/" + e.Name
	}
	kvs := make([]string, 0, len(e.Labels))
	for k, v := range e.Labels {
		kvs = append(kvs, k+"="+v)
	}
	slices.Sort(kvs)
	return e.Namespace + "/<" + strings.Join(kvs, ",") + ">"
}

// Namespace is a Kubernetes namespace and its labels, as the caller knows
// them (Kubernetes sets kubernetes.io/metadata.name; pass it if the policies
// use it). The Evaluator adds Calico's projectcalico.org/name.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Peer is one end of a connection: a Calico endpoint, or a bare IP address
// (an API server, a node, anything outside the pod network). Selectors never
// match a bare IP: Calico matches selectors against endpoints only.
type Peer struct {
	endpoint *Endpoint
	addr     netip.Addr
	// prepared is what Evaluator.Prepare derived from the endpoint, for
	// the Evaluator by only; nil for a peer not prepared.
	prepared *peerInfo
	by       *Evaluator
}

// EndpointPeer returns a Peer for a workload endpoint.
func EndpointPeer(e Endpoint) Peer { return Peer{endpoint: &e} }

// IPPeer returns a Peer for a non-endpoint address.
func IPPeer(addr netip.Addr) Peer { return Peer{addr: addr.Unmap()} }

// Endpoint returns the endpoint of an endpoint peer.
func (p Peer) Endpoint() (Endpoint, bool) {
	if p.endpoint == nil {
		return Endpoint{}, false
	}
	return *p.endpoint, true
}

// Addr returns the address of an IP peer.
func (p Peer) Addr() (netip.Addr, bool) { return p.addr, p.endpoint == nil && p.addr.IsValid() }

func (p Peer) String() string {
	switch {
	case p.endpoint != nil:
		return p.endpoint.String()
	case p.addr.IsValid():
		return p.addr.String()
	default:
		return "<invalid peer>"
	}
}

// PolicyRef identifies a policy in traces and errors.
type PolicyRef struct {
	Kind      string // KindGlobalNetworkPolicy or KindNetworkPolicy
	Namespace string // "" for a GlobalNetworkPolicy
	Name      string
	Order     *float64
}

// String is "GlobalNetworkPolicy/name" or "NetworkPolicy/namespace/name".
func (r PolicyRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// RuleRef identifies a rule: the policy, the direction and the index in that
// direction's rules.
type RuleRef struct {
	Policy    PolicyRef
	Direction PolicyType
	Index     int
}

// String is, for example, "NetworkPolicy/team-a/allow-web ingress[0]".
func (r RuleRef) String() string {
	return fmt.Sprintf("%s %s[%d]", r.Policy, strings.ToLower(string(r.Direction)), r.Index)
}

// Decision says what decided one direction of a connection.
type Decision string

// The decisions.
const (
	// DecisionAllow: a rule with action Allow matched.
	DecisionAllow Decision = "Allow"
	// DecisionDeny: a rule with action Deny matched.
	DecisionDeny Decision = "Deny"
	// DecisionPass: a rule with action Pass matched, which skips the rest of
	// the (only) tier; the Kubernetes namespace profile then allows.
	DecisionPass Decision = "Pass"
	// DecisionEndOfTier: policies applied but none of their rules decided;
	// the default tier's implicit deny drops the traffic.
	DecisionEndOfTier Decision = "EndOfTierDeny"
	// DecisionNoPolicy: no policy applied; the Kubernetes namespace profile
	// allows.
	DecisionNoPolicy Decision = "NoPolicy"
)

// DirectionTrace explains the verdict of one direction at one endpoint.
type DirectionTrace struct {
	Direction PolicyType
	// Endpoint is the endpoint the direction was evaluated at.
	Endpoint string
	// Applied lists the policies that applied to the endpoint for the
	// direction and were evaluated, in evaluation order.
	Applied []PolicyRef
	// Logged lists the Log rules that matched on the way.
	Logged []RuleRef
	// Decision is what decided; Rule is the deciding rule for Allow, Deny
	// and Pass.
	Decision Decision
	Rule     *RuleRef
	Allowed  bool
}

func (d DirectionTrace) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s: ", strings.ToLower(string(d.Direction)), d.Endpoint)
	if d.Allowed {
		b.WriteString("allowed: ")
	} else {
		b.WriteString("denied: ")
	}
	switch d.Decision {
	case DecisionAllow, DecisionDeny:
		fmt.Fprintf(&b, "%s rule %s", d.Decision, d.Rule)
	case DecisionPass:
		fmt.Fprintf(&b, "Pass rule %s skips the tier; the namespace profile allows", d.Rule)
	case DecisionEndOfTier:
		b.WriteString("no rule decided in the default tier (end-of-tier deny)")
	case DecisionNoPolicy:
		b.WriteString("no policy applies; the namespace profile allows")
	}
	if len(d.Applied) > 0 {
		b.WriteString("; applied: ")
		for i, p := range d.Applied {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.String())
		}
	}
	for _, r := range d.Logged {
		fmt.Fprintf(&b, "; logged by %s", r)
	}
	return b.String()
}

// Trace explains a verdict of Evaluator.Allowed.
type Trace struct {
	Src, Dst string
	Protocol string
	Port     int
	// Egress is the egress check at the source; nil when the source is not
	// an endpoint.
	Egress *DirectionTrace
	// Ingress is the ingress check at the destination; nil when the
	// destination is not an endpoint.
	Ingress *DirectionTrace
	// Notes are caveats, such as a namespace the Evaluator was not given.
	Notes []string
	// Err is set when the query itself is invalid; the verdict is then
	// false.
	Err     error
	Allowed bool
}

func (t Trace) String() string {
	var b strings.Builder
	verdict := "denied"
	if t.Allowed {
		verdict = "allowed"
	}
	fmt.Fprintf(&b, "%s %s -> %s port %d: %s", t.Protocol, t.Src, t.Dst, t.Port, verdict)
	if t.Err != nil {
		fmt.Fprintf(&b, " (invalid query: %v)", t.Err)
	}
	for _, d := range []*DirectionTrace{t.Egress, t.Ingress} {
		if d != nil {
			b.WriteString("\n  " + d.String())
		}
	}
	if t.Egress == nil && t.Err == nil {
		b.WriteString("\n  egress: not checked (source is not a Calico endpoint)")
	}
	if t.Ingress == nil && t.Err == nil {
		b.WriteString("\n  ingress: not checked (destination is not a Calico endpoint)")
	}
	for _, n := range t.Notes {
		b.WriteString("\n  note: " + n)
	}
	return b.String()
}

// Evaluator decides whether Calico allows a connection, given the Calico
// policies of a cluster and its namespaces. See the package documentation
// for the semantics and what is not supported. An Evaluator does not change
// once built and is safe for concurrent use.
type Evaluator struct {
	policies   []*compiledPolicy // in evaluation order
	namespaces map[string]map[string]string
	// byNamespace lists, by their place in policies, the policies that can
	// apply only to workload endpoints of a namespace; anywhere, the rest
	// (index.go).
	byNamespace map[string][]int
	anywhere    []int
}

// NewEvaluator checks and compiles the policies. It fails, listing every
// problem, on a policy Calico would reject (a selector that does not parse,
// an unknown action or protocol, ports without a protocol that has them, ...)
// and on one that uses a feature the Evaluator does not model (see the
// package documentation), rather than give a verdict that could be wrong.
func NewEvaluator(policies []Policy, namespaces []Namespace) (*Evaluator, error) {
	ev := &Evaluator{namespaces: map[string]map[string]string{}}
	var errs []error
	for _, ns := range namespaces {
		if _, dup := ev.namespaces[ns.Name]; dup {
			errs = append(errs, fmt.Errorf("namespace %q given twice", ns.Name))
			continue
		}
		ev.namespaces[ns.Name] = namespaceLabels(ns.Name, ns.Labels)
	}
	seen, parsed := map[string]bool{}, map[string]Selector{}
	for i, p := range policies {
		cp, perrs := compilePolicy(p, parsed)
		name := fmt.Sprintf("policies[%d]", i)
		if cp != nil && cp.ref.Name != "" {
			name = cp.ref.String()
			if seen[name] {
				errs = append(errs, fmt.Errorf("%s given twice", name))
			}
			seen[name] = true
		}
		for _, err := range perrs {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		if cp != nil && len(perrs) == 0 {
			ev.policies = append(ev.policies, cp)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(ev.policies, comparePolicies)
	ev.indexPolicies()
	return ev, nil
}

// comparePolicies orders policies as Felix does within a tier: by order
// (nil is +Inf, last), then by name. Felix's tie-break key for a
// NetworkPolicy has varied across releases (it has included the
// namespace), so for a tie between policies of the same name this puts
// GlobalNetworkPolicies first, then NetworkPolicies by namespace; do not
// rely on it.
func comparePolicies(a, b *compiledPolicy) int {
	return cmp.Or(
		cmp.Compare(a.order, b.order),
		strings.Compare(a.ref.Name, b.ref.Name),
		strings.Compare(a.ref.Namespace, b.ref.Namespace), // "" (global) first
	)
}

// Policies returns the policies in evaluation order.
func (ev *Evaluator) Policies() []PolicyRef {
	refs := make([]PolicyRef, len(ev.policies))
	for i, p := range ev.policies {
		refs[i] = p.ref
	}
	return refs
}

// Allowed reports whether Calico allows a new connection from src to dst on
// the given protocol ("TCP", "UDP", "SCTP", "ICMP", ..., any case, or a
// number) and destination port (ignored by rules without ports). The
// connection is allowed when the egress policy at src (if src is an
// endpoint) and the ingress policy at dst (if dst is an endpoint) both allow
// it. The Trace says what decided each side.
func (ev *Evaluator) Allowed(src, dst Peer, proto string, port int) (bool, Trace) {
	t := Trace{Src: ev.name(src), Dst: ev.name(dst), Protocol: proto, Port: port}
	protoNum, ok := queryProtocol(proto)
	switch {
	case !ok:
		t.Err = fmt.Errorf("unknown protocol %q", proto)
	case port < 0 || port > math.MaxUint16:
		t.Err = fmt.Errorf("port %d is not in 0-65535", port)
	case src.endpoint == nil && !src.addr.IsValid():
		t.Err = errors.New("invalid source peer")
	case dst.endpoint == nil && !dst.addr.IsValid():
		t.Err = errors.New("invalid destination peer")
	case src.endpoint != nil && src.endpoint.Namespace == "" && !src.endpoint.Host,
		dst.endpoint != nil && dst.endpoint.Namespace == "" && !dst.endpoint.Host:
		t.Err = errors.New("an endpoint needs a namespace")
	}
	if t.Err != nil {
		return false, t
	}
	c := connection{src: ev.peer(src, &t), dst: ev.peer(dst, &t), proto: protoNum, port: uint16(port)}
	t.Allowed = true
	if c.src.endpoint != nil {
		d := ev.decide(PolicyTypeEgress, c.src, c.dst, &c)
		t.Egress = &d
		t.Allowed = t.Allowed && d.Allowed
	}
	if c.dst.endpoint != nil {
		d := ev.decide(PolicyTypeIngress, c.dst, c.src, &c)
		t.Ingress = &d
		t.Allowed = t.Allowed && d.Allowed
	}
	return t.Allowed, t
}

// Prepare returns p with what the Evaluator derives from its endpoint (its
// label sets, the policies that apply to it) derived once, for a caller
// that asks about the same peer many times. Allowed answers for the
// prepared peer as for p.
func (ev *Evaluator) Prepare(p Peer) Peer {
	if e := p.endpoint; e == nil || e.Namespace == "" && !e.Host {
		return p // an address, or an invalid endpoint Allowed reports
	}
	info := ev.newPeerInfo(p.endpoint)
	for _, dir := range []PolicyType{PolicyTypeIngress, PolicyTypeEgress} {
		policies := ev.applicable(dir, info)
		info.applied[directionIndex(dir)] = policies
		info.appliedRefs[directionIndex(dir)] = refs(policies)
	}
	info.prepared = true
	p.prepared, p.by = info, ev
	return p
}

// name is the peer as traces show it.
func (ev *Evaluator) name(p Peer) string {
	if p.prepared != nil && p.by == ev {
		return p.prepared.name
	}
	return p.String()
}

// decide evaluates the default tier for one direction at the local endpoint.
func (ev *Evaluator) decide(dir PolicyType, local, remote *peerInfo, c *connection) DirectionTrace {
	d := DirectionTrace{Direction: dir, Endpoint: local.name}
	policies, applied := ev.policiesOf(dir, local)
	for i, p := range policies {
		if p.decide(dir, remote, c, &d) {
			d.Applied = applied[: i+1 : i+1]
			return d
		}
	}
	d.Applied = applied
	if len(d.Applied) > 0 {
		d.Decision, d.Allowed = DecisionEndOfTier, false
	} else {
		d.Decision, d.Allowed = DecisionNoPolicy, true
	}
	return d
}

// policiesOf lists the policies that apply to local for the direction, in
// evaluation order, and their references. A trace's Applied is a prefix of
// the references, capped so that appending to it copies: a prepared peer's
// are shared by every trace.
func (ev *Evaluator) policiesOf(dir PolicyType, local *peerInfo) ([]*compiledPolicy, []PolicyRef) {
	if local.prepared {
		return local.applied[directionIndex(dir)], local.appliedRefs[directionIndex(dir)]
	}
	policies := ev.applicable(dir, local)
	return policies, refs(policies)
}

// refs are the references of policies, nil for none.
func refs(policies []*compiledPolicy) []PolicyRef {
	if len(policies) == 0 {
		return nil
	}
	out := make([]PolicyRef, len(policies))
	for i, p := range policies {
		out[i] = p.ref
	}
	return out // len == cap: appending to a trace's Applied copies
}

func directionIndex(dir PolicyType) int {
	if dir == PolicyTypeIngress {
		return 0
	}
	return 1
}

// decide runs the rules of the direction that can match the remote peer,
// in order, and tells whether one decided.
func (p *compiledPolicy) decide(dir PolicyType, remote *peerInfo, c *connection, d *DirectionTrace) bool {
	rules := p.rules(dir)
	decided := false
	p.index(dir).candidates(remote, func(i int) bool {
		r := &rules[i]
		if !r.matches(c) {
			return true
		}
		ref := RuleRef{Policy: p.ref, Direction: dir, Index: i}
		switch r.action {
		case Log:
			d.Logged = append(d.Logged, ref)
			return true
		case Allow:
			d.Decision, d.Allowed = DecisionAllow, true
		case Deny:
			d.Decision, d.Allowed = DecisionDeny, false
		case Pass:
			d.Decision, d.Allowed = DecisionPass, true
		}
		d.Rule = &ref
		decided = true
		return false
	})
	return decided
}

// peerInfo is a peer with the label sets Calico evaluates selectors on.
type peerInfo struct {
	endpoint *Endpoint
	// name is the endpoint as traces show it.
	name  string
	addrs []netip.Addr
	// labels is the endpoint's label set as Felix sees it: its own labels,
	// Calico's projectcalico.org/ labels, and the namespace's and service
	// account's labels prefixed with pcns. and pcsa.
	labels map[string]string
	// nsLabels are the namespace's labels plus projectcalico.org/name.
	nsLabels map[string]string
	// saLabels are the service account's labels plus projectcalico.org/name;
	// nil without a service account.
	saLabels map[string]string
	// note is a caveat for traces; "" for none.
	note string
	// applied are the policies that apply to the endpoint for ingress and
	// egress, in evaluation order, when prepared (Evaluator.Prepare).
	applied     [2][]*compiledPolicy
	appliedRefs [2][]PolicyRef
	prepared    bool
}

// The prefixes Calico gives inherited namespace and service account labels.
const (
	namespaceLabelPrefix      = "pcns."
	serviceAccountLabelPrefix = "pcsa."
)

// peer is what the Evaluator knows of p, with its caveats noted in t.
func (ev *Evaluator) peer(p Peer, t *Trace) *peerInfo {
	if p.endpoint == nil {
		return &peerInfo{addrs: []netip.Addr{p.addr}}
	}
	pi := p.prepared
	if pi == nil || p.by != ev {
		pi = ev.newPeerInfo(p.endpoint)
	}
	if pi.note != "" && !slices.Contains(t.Notes, pi.note) {
		t.Notes = append(t.Notes, pi.note)
	}
	return pi
}

func (ev *Evaluator) newPeerInfo(e *Endpoint) *peerInfo {
	pi := &peerInfo{endpoint: e, name: e.String(), labels: map[string]string{}}
	for _, a := range e.IPs {
		pi.addrs = append(pi.addrs, a.Unmap())
	}
	if e.Host {
		maps.Copy(pi.labels, e.Labels)
		return pi
	}
	nsLabels, ok := ev.namespaces[e.Namespace]
	if !ok {
		nsLabels = namespaceLabels(e.Namespace, nil)
		pi.note = fmt.Sprintf("namespace %q was not given to the evaluator: it is taken to have no labels but %s", e.Namespace, LabelName)
	}
	pi.nsLabels = nsLabels
	for k, v := range nsLabels {
		pi.labels[namespaceLabelPrefix+k] = v
	}
	if e.ServiceAccount != "" {
		pi.saLabels = map[string]string{}
		for k, v := range e.ServiceAccountLabels {
			pi.saLabels[k] = v
		}
		pi.saLabels[LabelName] = e.ServiceAccount
		for k, v := range pi.saLabels {
			pi.labels[serviceAccountLabelPrefix+k] = v
		}
		pi.labels[LabelServiceAccount] = e.ServiceAccount
	}
	for k, v := range e.Labels {
		pi.labels[k] = v
	}
	pi.labels[LabelNamespace] = e.Namespace
	pi.labels[LabelOrchestrator] = OrchestratorKubernetes
	return pi
}

func namespaceLabels(name string, labels map[string]string) map[string]string {
	l := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		l[k] = v
	}
	l[LabelName] = name
	return l
}

// hasFamily reports whether the peer can be the end of IPv4 (4) or IPv6 (6)
// traffic: an IP peer of that family, or an endpoint with an address of
// that family or with no addresses at all.
func (p *peerInfo) hasFamily(v int) bool {
	if p.endpoint != nil && len(p.addrs) == 0 {
		return true
	}
	return slices.ContainsFunc(p.addrs, func(a netip.Addr) bool { return family(a) == v })
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

type connection struct {
	src, dst *peerInfo
	proto    uint8
	port     uint16
}

// queryProtocol reads the protocol of a query: a name in any case or a
// number.
func queryProtocol(s string) (uint8, bool) {
	if n, ok := protocolNumbers[Protocol(s)]; ok {
		return n, true
	}
	for name, n := range protocolNumbers {
		if strings.EqualFold(string(name), s) {
			return n, true
		}
	}
	n, err := strconv.ParseUint(s, 10, 8)
	return uint8(n), err == nil && n > 0
}

// Compiled policies.

type compiledPolicy struct {
	ref       PolicyRef
	order     float64
	namespace string // the NetworkPolicy's namespace; "" for a GNP
	global    bool
	// selector is nil when the spec selector is empty (always true).
	selector   *Selector
	nsSelector *Selector // GNP only
	saSelector *Selector
	// hostOnly marks a doNotTrack or preDNAT GNP: Calico applies those to
	// host endpoints only.
	hostOnly        bool
	ingress, egress bool
	ingressRules    []compiledRule
	egressRules     []compiledRule
	// ingressIndex and egressIndex place the rules by the namespaces of
	// the peers they can match (index.go).
	ingressIndex, egressIndex ruleIndex
}

func (p *compiledPolicy) rules(dir PolicyType) []compiledRule {
	if dir == PolicyTypeIngress {
		return p.ingressRules
	}
	return p.egressRules
}

func (p *compiledPolicy) index(dir PolicyType) *ruleIndex {
	if dir == PolicyTypeIngress {
		return &p.ingressIndex
	}
	return &p.egressIndex
}

// appliesTo reports whether the policy applies to the local endpoint for
// the direction.
func (p *compiledPolicy) appliesTo(dir PolicyType, local *peerInfo) bool {
	if p.hostOnly || (dir == PolicyTypeIngress && !p.ingress) || (dir == PolicyTypeEgress && !p.egress) {
		return false
	}
	if !p.global && local.endpoint.Namespace != p.namespace {
		return false
	}
	hasSA := local.saLabels != nil
	// Calico turns a GlobalNetworkPolicy's namespaceSelector and
	// serviceAccountSelector into label selectors and then rewrites every
	// all() in the combined selector: to has(projectcalico.org/namespace)
	// when there is a namespaceSelector, else to
	// has(projectcalico.org/serviceaccount) when there is a
	// serviceAccountSelector. For pods only the latter can be false.
	specAll := true
	if p.global && p.nsSelector == nil && p.saSelector != nil {
		specAll = hasSA
	}
	if p.selector != nil && !p.selector.eval(local.labels, evalContext{all: specAll}) {
		return false
	}
	if p.nsSelector != nil && !p.nsSelector.eval(local.nsLabels, evalContext{all: true}) {
		return false
	}
	if p.saSelector != nil {
		saAll := true
		if p.global {
			saAll = hasSA
		}
		if !p.saSelector.eval(local.saLabels, evalContext{all: saAll}) {
			return false
		}
	}
	return true
}

type compiledRule struct {
	action Action
	// ipVersion is 4 or 6 when the rule is limited to one IP version,
	// explicitly or by the family of its CIDRs; 0 otherwise.
	ipVersion           int
	proto, notProto     int // -1 when unset
	source, destination compiledEntity
}

func (r *compiledRule) matches(c *connection) bool {
	if r.ipVersion != 0 && !(c.src.hasFamily(r.ipVersion) && c.dst.hasFamily(r.ipVersion)) {
		return false
	}
	if r.proto >= 0 && int(c.proto) != r.proto {
		return false
	}
	if r.notProto >= 0 && int(c.proto) == r.notProto {
		return false
	}
	return r.source.matches(c.src, -1) && r.destination.matches(c.dst, int(c.port))
}

type compiledEntity struct {
	nets, notNets   []netip.Prefix
	ports, notPorts []Port
	// selects is true when the rule selects endpoints (selector,
	// namespaceSelector or serviceAccounts, or, in a NetworkPolicy, also a
	// lone notSelector): a bare IP peer then never matches.
	selects bool
	// ownNamespace limits selected endpoints to the NetworkPolicy's
	// namespace when there is no namespaceSelector.
	ownNamespace string
	selector     *Selector
	nsSelector   *Selector
	saNames      []string
	saSelector   *Selector
	notSelector  *Selector
}

// matches reports whether the peer satisfies the entity criteria; port is
// the peer's port, or -1 when unknown (the source port).
func (e *compiledEntity) matches(p *peerInfo, port int) bool {
	if len(e.nets) > 0 && !anyAddrIn(p.addrs, e.nets) {
		return false
	}
	if len(e.notNets) > 0 && anyAddrIn(p.addrs, e.notNets) {
		return false
	}
	if len(e.ports) > 0 && !portIn(port, e.ports) {
		return false
	}
	if len(e.notPorts) > 0 && portIn(port, e.notPorts) {
		return false
	}
	if e.selects {
		if p.endpoint == nil {
			return false
		}
		if e.nsSelector != nil {
			// In a namespaceSelector Calico makes all() "any namespaced
			// endpoint" and global() "no namespaced endpoint".
			if !e.nsSelector.eval(p.nsLabels, evalContext{all: true, global: false}) {
				return false
			}
		} else if e.ownNamespace != "" && p.endpoint.Namespace != e.ownNamespace {
			return false
		}
		if e.selector != nil && !e.selector.eval(p.labels, evalContext{all: true}) {
			return false
		}
		if len(e.saNames) > 0 && (p.saLabels == nil || !slices.Contains(e.saNames, p.endpoint.ServiceAccount)) {
			return false
		}
		if e.saSelector != nil && !e.saSelector.eval(p.saLabels, evalContext{all: true}) {
			return false
		}
	}
	if e.notSelector != nil && p.endpoint != nil && e.notSelector.eval(p.labels, evalContext{all: true}) {
		return false
	}
	return true
}

func anyAddrIn(addrs []netip.Addr, nets []netip.Prefix) bool {
	for _, a := range addrs {
		for _, n := range nets {
			if n.Contains(a) {
				return true
			}
		}
	}
	return false
}

func portIn(port int, ports []Port) bool {
	return port >= 0 && slices.ContainsFunc(ports, func(p Port) bool { return p.Contains(uint16(port)) })
}

// Compilation and validation.

type compiler struct {
	errs []error
	// parsed are the selectors parsed so far, by their text, shared by the
	// policies of one Evaluator: every team's policies repeat the same
	// ones. A parsed Selector is never changed.
	parsed map[string]Selector
}

func (c *compiler) errorf(path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// selector parses a selector field; it returns nil for an empty one.
// global() is only allowed where allowGlobal says.
func (c *compiler) selector(path, s string, allowGlobal bool) *Selector {
	if s == "" {
		return nil
	}
	sel, ok := c.parsed[s]
	if !ok {
		var err error
		if sel, err = ParseSelector(s); err != nil {
			c.errorf(path, "%v", err)
			return nil
		}
		if c.parsed != nil {
			c.parsed[s] = sel
		}
	}
	if !allowGlobal && sel.usesGlobal() {
		c.errorf(path, "global() can only be used in a rule's namespaceSelector")
	}
	return &sel
}

// compilePolicy checks and compiles a policy. It returns the policy (nil if
// it is nil or of an unknown type) and its problems.
func compilePolicy(p Policy, parsed map[string]Selector) (*compiledPolicy, []error) {
	var (
		cp   = &compiledPolicy{}
		c    = compiler{parsed: parsed}
		spec NetworkPolicySpec // the fields the two kinds share
	)
	switch p := p.(type) {
	case *GlobalNetworkPolicy:
		if p == nil {
			return nil, []error{errors.New("nil policy")}
		}
		s := p.Spec
		spec = NetworkPolicySpec{Tier: s.Tier, Order: s.Order, Ingress: s.Ingress, Egress: s.Egress,
			Selector: s.Selector, Types: s.Types, ServiceAccountSelector: s.ServiceAccountSelector}
		cp.global = true
		cp.nsSelector = c.selector("spec.namespaceSelector", s.NamespaceSelector, false)
		cp.hostOnly = s.DoNotTrack || s.PreDNAT
	case *NetworkPolicy:
		if p == nil {
			return nil, []error{errors.New("nil policy")}
		}
		spec = p.Spec
		cp.namespace = p.Namespace
		if p.Namespace == "" {
			c.errorf("metadata.namespace", "a NetworkPolicy needs a namespace")
		}
	default:
		return nil, []error{fmt.Errorf("unsupported policy type %T", p)}
	}
	cp.ref = p.Ref()
	if cp.ref.Name == "" {
		c.errorf("metadata.name", "a policy needs a name")
	}
	if spec.Tier != "" && spec.Tier != DefaultTier {
		c.errorf("spec.tier", "tier %q is not supported: the evaluator models the default tier only", spec.Tier)
	}
	cp.order = math.Inf(1)
	if spec.Order != nil {
		if math.IsNaN(*spec.Order) {
			c.errorf("spec.order", "order is NaN")
		}
		cp.order = *spec.Order
	}
	cp.selector = c.selector("spec.selector", spec.Selector, false)
	cp.saSelector = c.selector("spec.serviceAccountSelector", spec.ServiceAccountSelector, false)

	// Types, defaulted as Calico does when they are empty: Ingress when
	// there are no egress rules, Egress when there are only egress rules,
	// both when there are both.
	types := spec.Types
	if len(types) == 0 {
		switch {
		case len(spec.Egress) == 0:
			types = []PolicyType{PolicyTypeIngress}
		case len(spec.Ingress) == 0:
			types = []PolicyType{PolicyTypeEgress}
		default:
			types = []PolicyType{PolicyTypeIngress, PolicyTypeEgress}
		}
	}
	for i, t := range types {
		switch t {
		case PolicyTypeIngress:
			cp.ingress = true
		case PolicyTypeEgress:
			cp.egress = true
		default:
			c.errorf(fmt.Sprintf("spec.types[%d]", i), "unknown policy type %q (want Ingress or Egress)", t)
		}
	}

	ns := cp.namespace
	for i, r := range spec.Ingress {
		cp.ingressRules = append(cp.ingressRules, c.rule(fmt.Sprintf("spec.ingress[%d]", i), r, ns))
	}
	for i, r := range spec.Egress {
		cp.egressRules = append(cp.egressRules, c.rule(fmt.Sprintf("spec.egress[%d]", i), r, ns))
	}
	return cp, c.errs
}

func (c *compiler) rule(path string, r Rule, policyNamespace string) compiledRule {
	cr := compiledRule{action: r.Action, proto: -1, notProto: -1}
	switch r.Action {
	case Allow, Deny, Log, Pass:
	case "":
		c.errorf(path+".action", "a rule needs an action")
	default:
		c.errorf(path+".action", "unknown action %q (want Allow, Deny, Log or Pass)", r.Action)
	}
	if r.IPVersion != nil {
		if v := *r.IPVersion; v != 4 && v != 6 {
			c.errorf(path+".ipVersion", "ipVersion %d is not 4 or 6", v)
		} else {
			cr.ipVersion = v
		}
	}
	for _, f := range []struct {
		name string
		p    *Protocol
		dst  *int
	}{{"protocol", r.Protocol, &cr.proto}, {"notProtocol", r.NotProtocol, &cr.notProto}} {
		if f.p == nil {
			continue
		}
		if n, ok := f.p.Number(); ok {
			*f.dst = int(n)
		} else {
			c.errorf(path+"."+f.name, "unknown protocol %q (want TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255)", string(*f.p))
		}
	}
	if r.ICMP != nil || r.NotICMP != nil {
		c.errorf(path, "icmp and notICMP matches are not supported by the evaluator")
	}
	if r.HTTP != nil {
		c.errorf(path+".http", "HTTP matches (application layer policy) are not supported by the evaluator")
	}
	hasPorts := len(r.Source.Ports)+len(r.Source.NotPorts)+len(r.Destination.Ports)+len(r.Destination.NotPorts) > 0
	if hasPorts && (r.Protocol == nil || !r.Protocol.SupportsPorts()) {
		c.errorf(path, "rules that specify ports must set protocol to TCP, UDP or SCTP")
	}
	if len(r.Source.Ports)+len(r.Source.NotPorts) > 0 {
		c.errorf(path+".source", "source ports are not supported by the evaluator (a query has no source port)")
	}
	var families []int
	cr.source = c.entity(path+".source", r.Source, policyNamespace, &families)
	cr.destination = c.entity(path+".destination", r.Destination, policyNamespace, &families)
	slices.Sort(families)
	switch families = slices.Compact(families); {
	case len(families) > 1:
		c.errorf(path, "rule contains both IPv4 and IPv6 CIDRs")
	case len(families) == 1 && cr.ipVersion != 0 && cr.ipVersion != families[0]:
		c.errorf(path, "ipVersion %d does not match the IPv%d CIDRs", cr.ipVersion, families[0])
	case len(families) == 1:
		// Calico renders a rule with CIDRs of one family for that family
		// only.
		cr.ipVersion = families[0]
	}
	return cr
}

func (c *compiler) entity(path string, e EntityRule, policyNamespace string, families *[]int) compiledEntity {
	var ce compiledEntity
	nets := func(field string, ss []string) []netip.Prefix {
		var out []netip.Prefix
		for i, s := range ss {
			p, err := parseNet(s)
			if err != nil {
				c.errorf(fmt.Sprintf("%s.%s[%d]", path, field, i), "%v", err)
				continue
			}
			*families = append(*families, family(p.Addr()))
			out = append(out, p)
		}
		return out
	}
	ce.nets = nets("nets", e.Nets)
	ce.notNets = nets("notNets", e.NotNets)
	ports := func(field string, ps []Port) []Port {
		for i, p := range ps {
			if err := p.validate(); err != nil {
				c.errorf(fmt.Sprintf("%s.%s[%d]", path, field, i), "%v", err)
			} else if p.IsNamed() {
				c.errorf(fmt.Sprintf("%s.%s[%d]", path, field, i), "named port %q is not supported by the evaluator", p.PortName)
			}
		}
		return ps
	}
	ce.ports = ports("ports", e.Ports)
	ce.notPorts = ports("notPorts", e.NotPorts)
	if e.Services != nil {
		c.errorf(path+".services", "service matches are not supported by the evaluator")
	}
	ce.selector = c.selector(path+".selector", e.Selector, false)
	ce.notSelector = c.selector(path+".notSelector", e.NotSelector, false)
	ce.nsSelector = c.selector(path+".namespaceSelector", e.NamespaceSelector, true)
	if ce.nsSelector != nil && ce.nsSelector.usesGlobal() {
		if _, only := ce.nsSelector.root.(globalNode); !only {
			c.errorf(path+".namespaceSelector", "global() cannot be combined with other selectors")
		}
	}
	if sa := e.ServiceAccounts; sa != nil {
		ce.saNames = sa.Names
		ce.saSelector = c.selector(path+".serviceAccounts.selector", sa.Selector, false)
	}
	// Calico's rule selector (GetEntityRuleSelector in libcalico-go): the
	// rule selects endpoints as soon as it has a selector, a service account
	// match or a namespaceSelector; in a NetworkPolicy, a notSelector alone
	// also limits the rule to endpoints of the policy's namespace.
	ce.selects = ce.selector != nil || len(ce.saNames) > 0 || ce.saSelector != nil ||
		e.NamespaceSelector != "" || (policyNamespace != "" && e.NotSelector != "")
	if ce.nsSelector == nil && e.NamespaceSelector == "" {
		ce.ownNamespace = policyNamespace
	}
	return ce
}

// parseNet reads a CIDR or a bare address (a /32 or /128), masked as Calico
// does ("10.1.2.3/8" is 10.0.0.0/8).
func parseNet(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
