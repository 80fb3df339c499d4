package plan

import (
	"net/netip"
	"slices"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// Peer is one side of a flow: pods (by namespace and labels; no labels
// means every pod of the namespace), every pod of every namespace (Any), or
// address ranges.
type Peer struct {
	Namespace string
	Labels    Labels
	Any       bool
	CIDRs     []string
}

// IsCIDR tells whether the peer is an address range rather than pods.
func (p Peer) IsCIDR() bool { return len(p.CIDRs) > 0 }

// IsPods tells whether the peer is the pods of one namespace.
func (p Peer) IsPods() bool { return !p.IsCIDR() && !p.Any }

// PodExcept is what a rule with the address range cidr leaves out so that
// it never matches pods: cluster.podCIDR when cidr holds it, else nothing.
// Calico's nets match pod addresses (projectcalico.org/v3 EntityRule), so
// do an AdminNetworkPolicy's networks (network-policy-api
// apis/v1alpha1/shared_types.go) and, on most implementations, a
// NetworkPolicy's ipBlock (kubernetes.io network-policies: ipBlock is
// meant for cluster-external addresses; whether it matches pods is left
// to the plugin). A NetworkPolicy's except must lie inside its cidr
// (networking.k8s.io/v1 IPBlock), hence only a range that holds the pod
// range gets one; a range inside the pod range is refused by the profile's
// validation. A source range of every address means everyone on purpose
// (Everywhere: the API server's unpredictable address for webhooks, a
// gateway's clients), pods included, and keeps them.
func (p *Plan) PodExcept(cidr string, source bool) []string {
	pods, err := netip.ParsePrefix(p.Cluster.PodCIDR)
	if err != nil {
		return nil
	}
	r, err := netip.ParsePrefix(cidr)
	if err != nil || source && r.Bits() == 0 || r.Addr().Is4() != pods.Addr().Is4() || r.Bits() >= pods.Bits() || !r.Contains(pods.Addr()) {
		return nil
	}
	return []string{p.Cluster.PodCIDR}
}

// PortProto is a port and its protocol (TCP or UDP).
type PortProto struct {
	Port     int
	Protocol string
}

// Flow is a connection the mesh or the monitoring stack needs. Network
// policies allow exactly the flows of the plan, and the reachability proof
// checks them against requirements it derives on its own.
type Flow struct {
	// ID names the flow in policy names and reports; unique and stable.
	ID   string
	From Peer
	To   Peer
	// Ports are the destination ports; none means every port (a gateway's
	// backends, kubelet probes in ambient).
	Ports []PortProto
	Why   string
	// Source is the profile field the flow comes from (a path such as
	// network.alertmanagerEgress[0]), so a failing proof points at it.
	Source string
	// Ref names the upstream document or code the flow is required by.
	Ref string
	// Only, when set, limits the policies to one side of the flow: a flow
	// to every pod opens the sender's egress and leaves each destination
	// its own ingress (SideSource); a flow from every pod opens the
	// receiver's ingress when the senders' egress comes from their own
	// flows (SideDestination).
	Only Side
}

// Side is one end of a flow.
type Side string

// Sides of a flow.
const (
	SideSource      Side = "source"
	SideDestination Side = "destination"
)

// SourceSide tells whether policies open the flow at its source.
func (f Flow) SourceSide() bool { return f.Only != SideDestination }

// DestinationSide tells whether policies open the flow at its destination.
func (f Flow) DestinationSide() bool { return f.Only != SideSource }

// AllPorts tells whether the flow opens every port of its destination.
func (f Flow) AllPorts() bool { return len(f.Ports) == 0 }

// NamespaceNameLabel is set on every namespace by Kubernetes (1.21+); the
// policies select namespaces by it.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// PolicyName names obsgen's network policy for the pods labels selects in
// a namespace: obsgen-all for all of them, else obsgen-<label values>.
func PolicyName(labels Labels) string {
	if len(labels) == 0 {
		return "obsgen-all"
	}
	return "obsgen-" + strings.Join(labels.Values(), "-")
}

// Well-known ports of the flows.
const (
	PortPrometheus = 9090
	PortDNS        = 53
	// istio.io docs/ops/deployment/application-requirements, "Ports used
	// by Istio": istiod serves xDS and the CA on 15012 and the webhooks on
	// 15017; 15008 is the HBONE tunnel.
	PortIstiodXDS     = 15012
	PortIstiodWebhook = 15017
	PortHBONE         = 15008
	// github.com/prometheus/alertmanager README, "High Availability":
	// --cluster.listen-address defaults to 0.0.0.0:9094, TCP and UDP.
	PortAlertmanagerGossip = 9094
)

// KubeletProbesAmbient is where kubelet probes of ambient pods come from:
// istio.io docs/ambient/usage/networkpolicy ("by default ambient uses the
// link-local address 169.254.7.127"), and its IPv6 twin
// (cni/pkg/nodeagent/options.go, HostProbeSNATAddress and
// HostProbeSNATAddressV6).
var KubeletProbesAmbient = []string{"169.254.7.127/32", "fd16:9254:7127:1337:ffff:ffff:ffff:ffff/128"}

// Everywhere are the address ranges of every IPv4 and IPv6 address.
var Everywhere = []string{"0.0.0.0/0", "::/0"}

func tcp(ports ...int) []PortProto {
	out := make([]PortProto, len(ports))
	for i, p := range ports {
		out[i] = PortProto{Port: p, Protocol: "TCP"}
	}
	return out
}

func tcpAndUDP(port int) []PortProto {
	return []PortProto{{Port: port, Protocol: "UDP"}, {Port: port, Protocol: "TCP"}}
}

// IsolatedNamespaces are the namespaces whose every pod obsgen's policies
// deny by default (namespaced engines): the covered namespaces but Istio's.
// In Istio's namespace obsgen selects only the pods it knows (istiod,
// ztunnel, declared gateways), for ingress only, so gateways and add-ons
// installed there keep their traffic and istiod keeps its egress (remote
// JWKS, remote clusters) that no profile describes.
func (p *Plan) IsolatedNamespaces() []string {
	return slices.DeleteFunc(slices.Clone(p.Covered), func(ns string) bool { return p.Mesh.Istio && ns == p.Mesh.IstioNamespace })
}

// GlobalDeny tells whether a global deny covers every namespace but the
// excluded ones (Calico's global-deny stance).
func (p *Plan) GlobalDeny() bool { return p.Network.Stance == v1alpha1.StanceGlobalDeny }

// DeniesEgress tells whether obsgen's deny isolates the egress of pods in
// ns, so a flow from them needs an allow: under a global deny every
// namespace but the excluded ones, else the isolated namespaces.
func (p *Plan) DeniesEgress(ns string) bool {
	switch {
	case p.Network.Stance == v1alpha1.StanceOpen:
		return false
	case p.GlobalDeny():
		return !slices.Contains(p.Network.Calico.Excluded, ns)
	}
	// As IsolatedNamespaces, without copying Covered: the proof asks once
	// per flow, and Covered is sorted like every slice of the plan.
	_, covered := slices.BinarySearch(p.Covered, ns)
	return covered && !(p.Mesh.Istio && ns == p.Mesh.IstioNamespace)
}

// DeniesIngress tells whether a flow into pods of ns needs an allow: as
// DeniesEgress, and also in Istio's namespace, where obsgen's policies
// select the pods flows lead to (istiod, ztunnel, declared gateways) for
// ingress only.
func (p *Plan) DeniesIngress(ns string) bool {
	if p.Network.Stance != v1alpha1.StanceOpen && p.Mesh.Istio && ns == p.Mesh.IstioNamespace {
		return true
	}
	return p.DeniesEgress(ns)
}

// Site is a set of pods whose policy holds one side of a flow.
type Site struct {
	Namespace string
	Labels    Labels
}

// RuleSites says which pods' policies hold a flow's rules: its egress
// rule at the source, its ingress rule at the destination. A side that
// obsgen does not isolate needs none (DeniesEgress, DeniesIngress), a side
// the flow leaves open (Only) neither, and "every pod" stands for the
// namespaces in every (the isolated ones; none under a global deny, whose
// engine holds those sides in a global policy).
func (p *Plan) RuleSites(f Flow, every []string) (egress, ingress []Site) {
	all := func() []Site {
		out := make([]Site, len(every))
		for i, ns := range every {
			out[i] = Site{Namespace: ns}
		}
		return out
	}
	switch {
	case !f.SourceSide():
	case f.From.Any:
		egress = all()
	case f.From.IsPods() && p.DeniesEgress(f.From.Namespace):
		egress = []Site{{Namespace: f.From.Namespace, Labels: f.From.Labels}}
	}
	switch {
	case !f.DestinationSide():
	case f.To.Any:
		ingress = all()
	case f.To.IsPods() && p.DeniesIngress(f.To.Namespace):
		ingress = []Site{{Namespace: f.To.Namespace, Labels: f.To.Labels}}
	}
	return egress, ingress
}

// TeamNamespaces are every team's namespaces, sorted (a namespace belongs
// to one team).
func (p *Plan) TeamNamespaces() []string {
	var out []string
	for _, t := range p.Teams {
		out = append(out, t.Namespaces...)
	}
	slices.Sort(out)
	return out
}

// SystemNamespace is never covered, whatever the profile locates there:
// it holds the cluster's own components (the cluster DNS, konnectivity,
// the network plugin's agents), which no profile describes, so a default
// deny there cuts the whole cluster off. kube-state-metrics' own manifests
// deploy it there (kubernetes/kube-state-metrics examples/standard/
// deployment.yaml, namespace kube-system); its pods then stay unisolated,
// as under Calico's global deny, whose default exclusions name it
// (DefaultExcludedNamespaces), and Prometheus' egress reaches them.
const SystemNamespace = "kube-system"

// Covered names what each namespace obsgen's policies lock down holds: the
// teams', the monitoring stack's and Istio's. p must have its defaults
// (WithDefaults); validation reports exclusions from it, and the plan's
// Covered are its keys.
func Covered(p *v1alpha1.Profile) map[string]string {
	m := p.Monitoring
	out := map[string]string{}
	add := func(ns, what string) {
		if _, ok := out[ns]; !ok && ns != "" && ns != SystemNamespace {
			out[ns] = what
		}
	}
	add(m.Namespace, "Prometheus (monitoring.namespace)")
	add(m.Alertmanager.Namespace, "Alertmanager")
	add(m.Grafana.Namespace, "Grafana")
	add(m.KubeStateMetrics.Namespace, "kube-state-metrics")
	add(m.NodeExporter.Namespace, "node-exporter")
	if p.Mesh.Provider == v1alpha1.MeshIstio {
		add(p.Mesh.IstioNamespace, "istiod (mesh.istioNamespace)")
	}
	for _, t := range p.Teams {
		for _, ns := range t.Namespaces {
			add(ns, "the workloads of team "+t.Name)
		}
	}
	if p.Mesh.Provider == v1alpha1.MeshIstio {
		if p.Kiali.Enabled {
			add(p.Kiali.Namespace, "Kiali")
			if p.Kiali.Install == v1alpha1.KialiOperator {
				add(p.Kiali.Operator.Namespace, "the Kiali operator")
			}
		}
		if p.Tracing.Enabled {
			add(p.Tracing.Collector.Namespace, "the tracing collector")
		}
	}
	return out
}
