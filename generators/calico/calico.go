// Package calico generates the projectcalico.org/v3 policies of the calico
// engine. Under the global-deny stance: the GlobalNetworkPolicy that denies
// all traffic outside the excluded namespaces (unless the cluster has its
// own, network.calico.globalDeny.manage: false), with the DNS egress every
// pod needs, as Calico's documentation writes it. Under default-deny: a
// namespaced deny-all in each covered namespace. Then, for every flow of the
// plan, Calico NetworkPolicies (order network.calico.order, before the
// deny) with an egress allow at the source and an ingress allow at the
// destination on exactly the flow's ports and protocol.
package calico

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/calico"
	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Files of the Calico policies: one per namespace, and the global ones.
const (
	Dir        = "calico/"
	GlobalPath = Dir + "globalnetworkpolicies.yaml"
)

// Names of the deny policies.
const (
	GlobalDenyName    = "obsgen-global-deny"
	NamespaceDenyName = "obsgen-default-deny"
)

// Generate writes the Calico policies when the engine is calico: the
// global policies, then one file per namespace that holds a policy.
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	return Write(p, &built.Policies{})
}

// Write builds every Calico policy in force into pol, for the proof: the
// global deny (written by obsgen or, when not managed, the one the profile
// describes), obsgen's global allows and the namespaced policies; and
// writes those obsgen manages.
func Write(p *plan.Plan, pol *built.Policies) ([]output.File, error) {
	if p.Network.Policies != v1alpha1.EngineCalico {
		return nil, nil
	}
	var files []output.File
	var written []*calico.GlobalNetworkPolicy
	if deny := GlobalDeny(p); deny != nil {
		pol.Calico = append(pol.Calico, deny)
		if p.Network.Calico.ManageDeny {
			written = append(written, deny)
		}
	}
	if allow := GlobalAllow(p); allow != nil {
		pol.Calico = append(pol.Calico, allow)
		written = append(written, allow)
	}
	if len(written) > 0 {
		f, err := manifest.Documents(GlobalPath, written)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	byNS := Policies(p)
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		f, err := manifest.Documents(Dir+ns+".yaml", byNS[ns])
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		for _, np := range byNS[ns] {
			pol.Calico = append(pol.Calico, np)
		}
	}
	return files, nil
}

// Globals are the GlobalNetworkPolicies of the global-deny stance: the
// deny-all (with deny) and the allows for flows from or to every pod,
// which no namespaced policy can hold when every namespace is denied.
func Globals(p *plan.Plan, deny bool) []*calico.GlobalNetworkPolicy {
	var out []*calico.GlobalNetworkPolicy
	if gnp := GlobalDeny(p); gnp != nil && deny {
		out = append(out, gnp)
	}
	if gnp := GlobalAllow(p); gnp != nil {
		out = append(out, gnp)
	}
	return out
}

// GlobalAllowName names obsgen's global allow policy.
const GlobalAllowName = "obsgen-mesh"

// denySelector selects what the global deny covers: workload endpoints
// outside the excluded namespaces. has(projectcalico.org/namespace) keeps
// host endpoints out: a GlobalNetworkPolicy selects them too, and with
// automatic host endpoints a bare "not in" would cut every node off
// (docs.tigera.io calico/latest/reference/resources/globalnetworkpolicy,
// "applies to workload endpoint resources in all namespaces, and to host
// endpoint resources"; network-policy/get-started/kubernetes-default-deny).
func denySelector(p *plan.Plan) string {
	return calico.And(calico.Has(calico.LabelNamespace), calico.NotIn(calico.LabelNamespace, p.Network.Calico.Excluded...)).MustBuild()
}

// GlobalDeny is the global deny-all of the global-deny stance: every
// workload endpoint outside the excluded namespaces, both directions, with
// no rule but the DNS egress, so everything else ends at the tier's
// default deny.
func GlobalDeny(p *plan.Plan) *calico.GlobalNetworkPolicy {
	if !p.GlobalDeny() {
		return nil
	}
	n := p.Network
	gnp := calico.NewGlobalNetworkPolicy(GlobalDenyName)
	gnp.Labels = manifest.Meta(p, "").Labels
	gnp.Annotations = map[string]string{manifest.WhyAnnotation: "deny all traffic not explicitly allowed, outside " + strings.Join(n.Calico.Excluded, ", ") +
		"; every pod may still resolve names through the cluster DNS"}
	gnp.Spec.Order = calico.Float64(float64(n.Calico.DenyOrder))
	gnp.Spec.Selector = denySelector(p)
	gnp.Spec.Types = []calico.PolicyType{calico.PolicyTypeIngress, calico.PolicyTypeEgress}
	dns := []calico.EntityRule{{
		Selector:          podSelector(n.DNS.PodLabels.Map()),
		NamespaceSelector: calico.Eq(calico.LabelName, n.DNS.Namespace).MustBuild(),
		Ports:             []calico.Port{calico.SinglePort(uint16(n.DNS.Port))},
	}}
	for _, nets := range byFamily(n.DNSCIDRs) {
		dns = append(dns, calico.EntityRule{Nets: nets, Ports: []calico.Port{calico.SinglePort(plan.PortDNS)}})
	}
	for _, to := range dns {
		for _, proto := range []calico.Protocol{"UDP", "TCP"} {
			gnp.Spec.Egress = append(gnp.Spec.Egress, calico.Rule{Action: calico.Allow, Protocol: calico.ProtocolPtr(proto), Destination: to})
		}
	}
	return gnp
}

// GlobalAllow holds, under the global-deny stance, the sides of the flows
// from or to every pod: istiod's xDS for every proxy, ambient's HBONE,
// gateways' backends. It selects what the deny selects, before it.
func GlobalAllow(p *plan.Plan) *calico.GlobalNetworkPolicy {
	if !p.GlobalDeny() {
		return nil
	}
	d := &draft{}
	b := &builder{p: p, merge: map[string]*draftRule{}}
	for _, f := range p.Flows {
		if f.From.Any && f.SourceSide() {
			b.add(d, calico.PolicyTypeEgress, f.ID, f.To, f.Ports)
		}
		if f.To.Any && f.DestinationSide() {
			b.add(d, calico.PolicyTypeIngress, f.ID, f.From, f.Ports)
		}
	}
	if len(d.rules) == 0 {
		return nil
	}
	np := d.build(p)
	gnp := calico.NewGlobalNetworkPolicy(GlobalAllowName)
	gnp.Labels, gnp.Annotations = np.Labels, np.Annotations
	gnp.Spec.Order, gnp.Spec.Selector, gnp.Spec.Types = np.Spec.Order, denySelector(p), np.Spec.Types
	gnp.Spec.Ingress, gnp.Spec.Egress = np.Spec.Ingress, np.Spec.Egress
	return gnp
}

// Policies returns the namespaced policies: the deny-all of every
// isolated namespace under default-deny, then one allow policy per
// selected set of pods, holding the rules of every flow that starts or
// ends there. A flow from (to) every pod gets its rule in each isolated
// namespace's policy for all pods under default-deny, and in GlobalAllow
// under global-deny.
func Policies(p *plan.Plan) map[string][]*calico.NetworkPolicy {
	b := &builder{p: p, index: map[string]*draft{}, merge: map[string]*draftRule{}}
	var isolated []string
	if !p.GlobalDeny() {
		isolated = p.IsolatedNamespaces()
	}
	for _, f := range p.Flows {
		egress, ingress := p.RuleSites(f, isolated)
		for _, site := range egress {
			b.add(b.policy(site.Namespace, site.Labels), calico.PolicyTypeEgress, f.ID, f.To, f.Ports)
		}
		for _, site := range ingress {
			b.add(b.policy(site.Namespace, site.Labels), calico.PolicyTypeIngress, f.ID, f.From, f.Ports)
		}
	}
	out := map[string][]*calico.NetworkPolicy{}
	for _, ns := range isolated {
		deny := calico.NewNetworkPolicy(ns, NamespaceDenyName)
		deny.Labels = manifest.Meta(p, "").Labels
		deny.Annotations = map[string]string{manifest.WhyAnnotation: "default deny: nothing in " + ns + " is reachable or reaches out unless allowed"}
		deny.Spec.Order = calico.Float64(float64(p.Network.Calico.DenyOrder))
		deny.Spec.Selector = calico.All().MustBuild()
		deny.Spec.Types = []calico.PolicyType{calico.PolicyTypeIngress, calico.PolicyTypeEgress}
		out[ns] = append(out[ns], deny)
	}
	for _, d := range b.drafts {
		out[d.ns] = append(out[d.ns], d.build(p))
	}
	return out
}

// draft is an allow policy being collected.
type draft struct {
	ns     string
	labels plan.Labels
	types  []calico.PolicyType
	rules  []*draftRule
	flows  []string
}

// draftRule is one rule; namespaces grows while flows that differ only in
// the peer's namespace are merged into it.
type draftRule struct {
	dir        calico.PolicyType
	peer       plan.Peer
	namespaces []string
	protocol   string
	ports      []int
}

type builder struct {
	p      *plan.Plan
	index  map[string]*draft
	drafts []*draft
	merge  map[string]*draftRule
}

func (b *builder) policy(ns string, labels plan.Labels) *draft {
	k := fmt.Sprintf("%s/%v", ns, labels)
	if d, ok := b.index[k]; ok {
		return d
	}
	d := &draft{ns: ns, labels: labels}
	b.index[k] = d
	b.drafts = append(b.drafts, d)
	return d
}

// add gives d one rule per protocol of the flow's ports.
func (b *builder) add(d *draft, dir calico.PolicyType, id string, peer plan.Peer, pp []plan.PortProto) {
	if !slices.Contains(d.flows, id) { // a flow within one pod set is both egress and ingress
		d.flows = append(d.flows, id)
	}
	if !slices.Contains(d.types, dir) {
		d.types = append(d.types, dir)
	}
	if len(pp) == 0 {
		// Every port of every protocol: rules without protocol or ports.
		if !peer.IsCIDR() {
			d.rules = append(d.rules, &draftRule{dir: dir, peer: peer, namespaces: []string{peer.Namespace}})
		}
		for _, nets := range byFamily(peer.CIDRs) {
			d.rules = append(d.rules, &draftRule{dir: dir, peer: plan.Peer{CIDRs: nets}})
		}
		return
	}
	byProto := map[string][]int{}
	var protos []string
	for _, x := range pp {
		if _, ok := byProto[x.Protocol]; !ok {
			protos = append(protos, x.Protocol)
		}
		byProto[x.Protocol] = append(byProto[x.Protocol], x.Port)
	}
	for _, proto := range protos {
		ports := byProto[proto]
		k := ""
		if !peer.IsCIDR() && !peer.Any {
			k = fmt.Sprintf("%s/%v|%s|%v|%s|%v", d.ns, d.labels, dir, peer.Labels, proto, ports)
			if r, ok := b.merge[k]; ok {
				r.namespaces = append(r.namespaces, peer.Namespace)
				continue
			}
		}
		if peer.IsCIDR() {
			// Calico refuses a rule whose nets mix IPv4 and IPv6: one
			// rule per family.
			for _, nets := range byFamily(peer.CIDRs) {
				d.rules = append(d.rules, &draftRule{dir: dir, peer: plan.Peer{CIDRs: nets}, protocol: proto, ports: ports})
			}
			continue
		}
		r := &draftRule{dir: dir, peer: peer, protocol: proto, ports: ports}
		if k != "" {
			r.namespaces = []string{peer.Namespace}
			b.merge[k] = r
		}
		d.rules = append(d.rules, r)
	}
}

// byFamily splits address ranges into the IPv4 ones and the IPv6 ones,
// in that order, leaving out an empty family.
func byFamily(cidrs []string) [][]string {
	var v4, v6 []string
	for _, c := range cidrs {
		if strings.Contains(c, ":") {
			v6 = append(v6, c)
		} else {
			v4 = append(v4, c)
		}
	}
	var out [][]string
	for _, f := range [][]string{v4, v6} {
		if len(f) > 0 {
			out = append(out, f)
		}
	}
	return out
}

func (d *draft) build(p *plan.Plan) *calico.NetworkPolicy {
	np := calico.NewNetworkPolicy(d.ns, plan.PolicyName(d.labels))
	np.Labels = manifest.Meta(p, "").Labels
	np.Annotations = map[string]string{manifest.FlowsAnnotation: strings.Join(d.flows, " ")}
	np.Spec.Order = calico.Float64(float64(p.Network.Calico.Order))
	np.Spec.Selector = podSelector(d.labels.Map())
	slices.SortFunc(d.types, func(a, b calico.PolicyType) int { return cmp.Compare(typeRank(a), typeRank(b)) })
	np.Spec.Types = d.types
	for _, r := range d.rules {
		ports := make([]calico.Port, len(r.ports))
		for i, port := range r.ports {
			ports[i] = calico.SinglePort(uint16(port))
		}
		rule := calico.Rule{Action: calico.Allow}
		if r.protocol != "" {
			rule.Protocol = calico.ProtocolPtr(calico.Protocol(r.protocol))
		}
		other := r.entity(p)
		if r.dir == calico.PolicyTypeEgress {
			other.Ports = ports
			rule.Destination = other
			np.Spec.Egress = append(np.Spec.Egress, rule)
		} else {
			rule.Source = other
			rule.Destination = calico.EntityRule{Ports: ports}
			np.Spec.Ingress = append(np.Spec.Ingress, rule)
		}
	}
	return np
}

func typeRank(t calico.PolicyType) int {
	if t == calico.PolicyTypeIngress {
		return 0
	}
	return 1
}

// entity is the rule's other end: address ranges without the pod range
// (plan.PodExcept), every pod of every namespace, or pods by labels in the
// listed namespaces.
func (r *draftRule) entity(p *plan.Plan) calico.EntityRule {
	switch {
	case r.peer.IsCIDR():
		var not []string
		for _, c := range r.peer.CIDRs {
			for _, e := range p.PodExcept(c, r.dir == calico.PolicyTypeIngress) {
				if !slices.Contains(not, e) {
					not = append(not, e)
				}
			}
		}
		return calico.EntityRule{Nets: slices.Clone(r.peer.CIDRs), NotNets: not}
	case r.peer.Any:
		return calico.EntityRule{NamespaceSelector: calico.All().MustBuild()}
	}
	e := calico.EntityRule{}
	if len(r.namespaces) == 1 {
		e.NamespaceSelector = calico.Eq(calico.LabelName, r.namespaces[0]).MustBuild()
	} else {
		e.NamespaceSelector = calico.In(calico.LabelName, r.namespaces...).MustBuild()
	}
	if len(r.peer.Labels) > 0 {
		e.Selector = podSelector(r.peer.Labels.Map())
	}
	return e
}

// podSelector selects pods by all of their labels; all() without labels.
func podSelector(labels map[string]string) string {
	if len(labels) == 0 {
		return calico.All().MustBuild()
	}
	var exprs []calico.Expr
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		exprs = append(exprs, calico.Eq(k, labels[k]))
	}
	return calico.And(exprs...).MustBuild()
}
