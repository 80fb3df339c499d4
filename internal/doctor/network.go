package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/clusterstate"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
)

// network evaluates the cluster's own policies between its own pods, with
// the models the proof of the generated output uses (internal/reach):
//   - AdminNetworkPolicies and the BaselineAdminNetworkPolicy, with the
//     NetworkPolicies as the layer between them, when the cluster has any;
//   - otherwise the NetworkPolicies alone;
//   - and Calico's policies when there are any. Calico also enforces
//     NetworkPolicies (as order-1000 policies of its default tier); obsgen
//     asks both models and needs both to allow, which is exact unless a
//     Calico Allow that ends evaluation before the NetworkPolicies is the
//     only thing letting a connection through.
type network struct {
	models []reach.Model
	calico *reach.Calico
	pods   map[*corev1.Pod]*reach.Pod
	// hosts are the host-network pods' addresses (their nodes').
	hosts map[*corev1.Pod]netip.Addr
	// stand-in for Prometheus when its pod is not in the state.
	stand *reach.Pod
	st    *doctor
	notes []string
}

func newNetwork(d *doctor) *network {
	n := &network{pods: map[*corev1.Pod]*reach.Pod{}, hosts: map[*corev1.Pod]netip.Addr{}, st: d}
	nsLabels := map[string]map[string]string{}
	for _, ns := range d.st.Namespaces {
		nsLabels[ns.Name] = ns.Labels
	}
	var pods []*reach.Pod
	for _, pod := range d.st.Pods {
		ip, err := netip.ParseAddr(pod.Status.PodIP)
		if err != nil {
			continue
		}
		if pod.Spec.HostNetwork {
			// A host-network pod is its node to the policy engines: no
			// NetworkPolicy selects it, and connections to it are
			// connections to the node's address (kubernetes.io docs/
			// concepts/services-networking/network-policies, "NetworkPolicy
			// and hostNetwork pods"; Calico and Cilium treat it as host
			// traffic). networkCause asks about its address instead.
			n.hosts[pod] = ip
			continue
		}
		rp := &reach.Pod{Name: pod.Namespace + "/" + pod.Name, Namespace: pod.Namespace, Labels: plan.SortedLabels(pod.Labels), IP: ip, Role: pod.Name}
		n.pods[pod] = rp
		pods = append(pods, rp)
	}
	if len(d.prom) == 0 {
		n.stand = &reach.Pod{Name: d.p.Monitoring.Namespace + "/prometheus (stand-in)", Namespace: d.p.Monitoring.Namespace,
			Labels: d.p.Monitoring.Prometheus.PodLabels, IP: netip.MustParseAddr("203.0.113.254"), Role: "prometheus (stand-in)"}
		pods = append(pods, n.stand)
	}
	c := reach.NewLiveCluster(d.p, nsLabels, pods)
	// A host-network pod's address is its node's: an AdminNetworkPolicy
	// nodes peer selects it whether or not cluster.nodeCIDRs hold it
	// (network-policy-api apis/v1alpha1 adminnetworkpolicy_types.go,
	// AdminNetworkPolicyEgressPeer.Nodes).
	for _, addr := range n.hosts {
		c.Nodes = append(c.Nodes, addr)
	}
	slices.SortFunc(c.Nodes, func(a, b netip.Addr) int { return a.Compare(b) })
	c.Nodes = slices.Compact(c.Nodes)
	st := d.st
	if name := labelledNodes(st); name != "" {
		n.notes = append(n.notes, fmt.Sprintf("%s selects nodes by label; the cluster state holds no node labels, so doctor takes every node to carry none", name))
	}
	switch {
	case len(st.AdminNetworkPolicies) > 0 || st.BaselineAdminNetworkPolicy != nil:
		m, err := reach.NewAdminNetwork(c, st.AdminNetworkPolicies, st.BaselineAdminNetworkPolicy, st.NetworkPolicies)
		n.use(m, err)
	case len(st.NetworkPolicies) > 0:
		m, err := reach.NewCompiled(c, st.NetworkPolicies)
		n.use(m, err)
	}
	if len(st.Calico) > 0 {
		m, err := reach.NewCalico(c, st.Calico)
		if n.use(m, err) {
			n.calico = m
		}
	}
	return n
}

func (n *network) use(m reach.Model, err error) bool {
	if err != nil {
		n.notes = append(n.notes, fmt.Sprintf("the cluster's network policies were not evaluated: %v", err))
		return false
	}
	n.models = append(n.models, m)
	return true
}

// prometheus are the endpoints that stand for Prometheus.
func (n *network) prometheus() []reach.Endpoint {
	if n.stand != nil {
		return []reach.Endpoint{{Pod: n.stand}}
	}
	var out []reach.Endpoint
	for _, p := range n.st.prom {
		if rp := n.pods[p]; rp != nil {
			out = append(out, reach.Endpoint{Pod: rp})
		}
	}
	return out
}

// allowed asks every model; the first refusal is returned with the model.
func (n *network) allowed(src, dst reach.Endpoint, port int) (bool, string, error) {
	for _, m := range n.models {
		ok, err := m.Allowed(src, dst, "TCP", port)
		if err != nil {
			return false, m.Name(), err
		}
		if !ok {
			return false, m.Name(), nil
		}
	}
	return true, "", nil
}

// wirePort is the port a scrape of port travels on: in ambient, traffic
// between two enrolled pods is HBONE on 15008 (istio.io docs/ambient/usage/
// networkpolicy).
func (d *doctor) wirePort(src, dst *corev1.Pod, port int) int {
	if d.p.Mesh.Ambient && src != nil && dst != nil && enrolled(d.ns[src.Namespace], src) && enrolled(d.ns[dst.Namespace], dst) {
		return plan.PortHBONE
	}
	return port
}

// networkCause checks the scrape from every Prometheus pod.
func (d *doctor) networkCause(e expectation, pod *corev1.Pod, port int) (cause, bool) {
	n := d.net
	dst := reach.Endpoint{Pod: n.pods[pod]}
	if addr, ok := n.hosts[pod]; ok {
		dst = reach.Endpoint{Addr: addr}
	}
	if len(n.models) == 0 || dst.Pod == nil && !dst.Addr.IsValid() {
		return cause{}, false
	}
	srcPods := d.prom
	for i, src := range n.prometheus() {
		var srcPod *corev1.Pod
		if i < len(srcPods) {
			srcPod = srcPods[i]
		}
		wire := d.wirePort(srcPod, pod, port)
		ok, model, err := n.allowed(src, dst, wire)
		if err != nil {
			n.notes = append(n.notes, fmt.Sprintf("%s -> %s:%d not evaluated by %s: %v", src, dst, wire, model, err))
			continue
		}
		if ok {
			continue
		}
		evidence := d.explainDrop(src, dst, wire)
		fix := fmt.Sprintf("apply obsgen's network policies (`kubectl apply -k %s`), which allow this flow", d.outDir())
		if id := d.flowFor(pod.Namespace, port); id != "" {
			fix += fmt.Sprintf(" (flow %s)", id)
		}
		if dst.Addr.IsValid() && d.p.Network.Stance != v1alpha1.StanceOpen && !d.inNodeCIDRs(dst.Addr) {
			// obsgen's egress to host-network pods is the node ranges'
			// (flow prometheus-to-nodes): reapplying cannot reach an
			// address outside them.
			fix = fmt.Sprintf("the node address %s is outside cluster.nodeCIDRs %v, which obsgen's policies open to Prometheus: add the nodes' range to cluster.nodeCIDRs, regenerate and apply", dst.Addr, d.p.Cluster.NodeCIDRs)
		}
		if d.p.Network.Stance == v1alpha1.StanceOpen {
			fix = fmt.Sprintf("the profile says network.stance: %s, but the cluster isolates these pods; set network.stance and network.engine to what the cluster enforces and apply obsgen's policies", d.p.Network.Stance)
		}
		return cause{severity: Critical, code: CauseNetworkPolicy,
			summary:  fmt.Sprintf("the cluster's network policies drop %s -> %s on TCP %d (%s): the scrape times out", src, dstName(pod, dst), wire, model),
			evidence: evidence, fix: fix,
			ref:      "kubernetes.io docs/concepts/services-networking/network-policies; docs.tigera.io calico/latest/reference/resources/globalnetworkpolicy",
			explains: []symptom{symTimeout}}, true
	}
	return cause{}, false
}

// labelledNodes names the first AdminNetworkPolicy or the
// BaselineAdminNetworkPolicy with a nodes peer that selects by label.
func labelledNodes(st *clusterstate.State) string {
	labelled := func(sel *metav1.LabelSelector) bool {
		return sel != nil && (len(sel.MatchLabels) > 0 || len(sel.MatchExpressions) > 0)
	}
	for _, a := range st.AdminNetworkPolicies {
		for _, r := range a.Spec.Egress {
			for _, to := range r.To {
				if labelled(to.Nodes) {
					return "AdminNetworkPolicy " + a.Name
				}
			}
		}
	}
	if b := st.BaselineAdminNetworkPolicy; b != nil {
		for _, r := range b.Spec.Egress {
			for _, to := range r.To {
				if labelled(to.Nodes) {
					return "BaselineAdminNetworkPolicy " + b.Name
				}
			}
		}
	}
	return ""
}

// inNodeCIDRs tells whether addr lies in the profile's node ranges.
func (d *doctor) inNodeCIDRs(addr netip.Addr) bool {
	for _, c := range d.p.Cluster.NodeCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}

// dstName names a scrape's destination: the pod, or the node address a
// host-network pod answers on.
func dstName(pod *corev1.Pod, dst reach.Endpoint) string {
	if dst.Pod != nil {
		return dst.Pod.Name
	}
	return fmt.Sprintf("%s/%s (host network, node address %s)", pod.Namespace, pod.Name, dst.Addr)
}

// explainDrop names the policies that decide a dropped connection.
func (d *doctor) explainDrop(src, dst reach.Endpoint, port int) []string {
	var out []string
	if dst.Pod != nil {
		if iso := isolating(d.st.NetworkPolicies, d.ns, dst.Pod, networkingv1.PolicyTypeIngress); len(iso) > 0 {
			out = append(out, fmt.Sprintf("NetworkPolicies isolating %s for ingress: %s", dst.Pod.Name, strings.Join(iso, ", ")))
		}
	}
	if src.Pod != nil {
		if iso := isolating(d.st.NetworkPolicies, d.ns, src.Pod, networkingv1.PolicyTypeEgress); len(iso) > 0 {
			out = append(out, fmt.Sprintf("NetworkPolicies isolating %s for egress: %s", src.Pod.Name, strings.Join(iso, ", ")))
		}
	}
	if d.net.calico != nil {
		if t := strings.TrimSpace(d.net.calico.Explain(src, dst, "TCP", port)); t != "" {
			out = append(out, "Calico: "+t)
		}
	}
	for _, m := range d.net.models {
		if a, ok := m.(*reach.AdminNetwork); ok {
			eg, in, err := a.Decide(src, dst, "TCP", port)
			if err == nil {
				out = append(out, "egress "+eg.String(), "ingress "+in.String())
			}
		}
	}
	return out
}

// isolating are the NetworkPolicies that select pod for a direction.
func isolating(nps []*networkingv1.NetworkPolicy, _ map[string]*corev1.Namespace, pod *reach.Pod, dir networkingv1.PolicyType) []string {
	var out []string
	for _, np := range nps {
		if np.Namespace != pod.Namespace || !hasType(np, dir) {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels.Map())) {
			continue
		}
		out = append(out, np.Namespace+"/"+np.Name)
	}
	return out
}

// hasType applies the default of policyTypes: Ingress, plus Egress when the
// policy has egress rules (networking/v1 types.go, PolicyTypes).
func hasType(np *networkingv1.NetworkPolicy, t networkingv1.PolicyType) bool {
	if len(np.Spec.PolicyTypes) > 0 {
		return slices.Contains(np.Spec.PolicyTypes, t)
	}
	return t == networkingv1.PolicyTypeIngress || len(np.Spec.Egress) > 0
}

// flowFor is the plan's flow from Prometheus to ns on port, or "".
func (d *doctor) flowFor(ns string, port int) string {
	for _, f := range d.p.Flows {
		if f.To.Namespace != ns || f.From.Namespace != d.p.Monitoring.Namespace {
			continue
		}
		if slices.ContainsFunc(f.Ports, func(pp plan.PortProto) bool { return pp.Port == port }) {
			return f.ID
		}
	}
	return ""
}

// checkFlows asks the cluster's policies about every flow of the plan
// between pods the cluster runs: one pod on each side, the first that
// matches. Flows to every pod, to addresses or on every port are left to
// the proof of the generated policies: they say nothing about one pod.
func (d *doctor) checkFlows() int {
	if len(d.net.models) == 0 {
		return 0
	}
	checked := 0
	for _, f := range d.p.Flows {
		if !f.From.IsPods() || !f.To.IsPods() || f.AllPorts() {
			continue
		}
		src, srcPod := d.endpointOf(f.From)
		dst, dstPod := d.endpointOf(f.To)
		if src.Pod == nil || dst.Pod == nil {
			continue
		}
		for _, pp := range f.Ports {
			if !strings.EqualFold(pp.Protocol, "TCP") && pp.Protocol != "" {
				continue
			}
			checked++
			wire := d.wirePort(srcPod, dstPod, pp.Port)
			ok, model, err := d.net.allowed(src, dst, wire)
			if err != nil || ok {
				continue
			}
			sev := Warning
			if f.From.Namespace == d.p.Monitoring.Namespace || f.To.Namespace == d.p.Monitoring.Namespace {
				sev = Critical
			}
			d.add(Finding{Severity: sev, Cause: CauseFlowBlocked, Subject: fmt.Sprintf("flow %s: %s -> %s TCP %d", f.ID, src, dst, wire),
				Summary:  fmt.Sprintf("the cluster's policies (%s) drop a connection monitoring needs: %s", model, f.Why),
				Evidence: d.explainDrop(src, dst, wire),
				Fix:      fmt.Sprintf("apply obsgen's policies (`kubectl apply -k %s`); the flow comes from %s", d.outDir(), f.Source),
				Ref:      f.Ref})
			break
		}
	}
	return checked
}

// endpointOf is the first live pod a flow peer selects.
func (d *doctor) endpointOf(peer plan.Peer) (reach.Endpoint, *corev1.Pod) {
	if peer.Namespace == d.p.Monitoring.Namespace && d.net.stand != nil && labelsInclude(peer.Labels.Map(), d.p.Monitoring.Prometheus.PodLabels.Map()) {
		return reach.Endpoint{Pod: d.net.stand}, nil
	}
	for _, pod := range d.matching(peer.Namespace, peer.Labels.Map()) {
		if rp := d.net.pods[pod]; rp != nil {
			return reach.Endpoint{Pod: rp}, pod
		}
	}
	return reach.Endpoint{}, nil
}

func labelsInclude(sel, set map[string]string) bool {
	return labels.SelectorFromSet(sel).Matches(labels.Set(set))
}
