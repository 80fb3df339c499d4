package reach

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// Requirements are the connections a real cluster needs whatever obsgen's
// flow catalogue says. They are derived here from the plan's facts (where
// the components run, the mesh's mode, the teams, the endpoints the
// profile names) and from upstream documents, never from plan.Flows, so a
// flow the catalogue forgets fails the proof. They include pods the profile
// does not describe: gateways installed the way Istio installs them, a
// meshed namespace no team owns, a waypoint.

// Pods the profile does not describe.
const (
	// UnownedNamespace is a meshed namespace outside every team.
	UnownedNamespace = "obsgen-unowned"
	// GatewayNamespace is where a gateway runs in its own namespace, as
	// istio.io docs/setup/additional-setup/gateway installs it.
	GatewayNamespace = "istio-ingress"

	RoleGatewayIstioNS  = "istio-ingressgateway"
	RoleGatewayOwnNS    = "ingress-gateway"
	RoleUnownedWorkload = "unowned-workload"
	RoleWaypoint        = "waypoint"
	RoleZtunnel         = "ztunnel"
)

// Labels of the undescribed pods, from Istio's charts.
var (
	// manifests/charts/gateways/istio-ingress/values.yaml: the default
	// profile's istio-ingressgateway in istio-system.
	istioIngressLabels = plan.Labels{{Name: "app", Value: "istio-ingressgateway"}, {Name: "istio", Value: "ingressgateway"}}
	// manifests/charts/gateway (helm install istio-ingress istio/gateway).
	ownGatewayLabels = plan.Labels{{Name: "app", Value: "istio-ingress"}, {Name: "istio", Value: "ingress"}}
	unownedLabels    = plan.Labels{{Name: "app", Value: "obsgen-unowned"}}
	// A waypoint the profile does not declare, named as `istioctl
	// waypoint apply` names it by default.
	waypointLabels = waypointPodLabels("waypoint")
)

// waypointPodLabels select the pods of the waypoint name: Istio's waypoint
// Deployment selects them by gateway.networking.k8s.io/gateway-name: <name>
// (manifests/charts/istio-control/istio-discovery/files/waypoint.yaml,
// spec.selector; pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go
// GatewayNameLabel).
func waypointPodLabels(name string) plan.Labels {
	return plan.Labels{{Name: "gateway.networking.k8s.io/gateway-name", Value: name}}
}

// Ports the undescribed gateways serve: istio-ingressgateway's Service
// maps 80 and 443 to 8080 and 8443; 15021 is the status port load
// balancers check (manifests/charts/gateways/istio-ingress/values.yaml).
var gatewayTrafficPorts = []int{8080, 8443, plan.PortGatewayStatus}

// requirement is one connection the cluster needs.
type requirement struct {
	id       string
	from, to Endpoint
	proto    string
	port     int
	why      string
	// source is the profile field that makes it needed.
	source string
}

// addUndescribed puts the pods the profile does not describe into the
// cluster: both gateways (unless the profile declares gateways there),
// a meshed namespace no team owns, ztunnel and, in ambient, a waypoint in
// the first team namespace (unless the profile declares the waypoint that
// runs in or serves that namespace, which then stands for it: a waypoint
// no objective needs runs like a declared one, but nothing scrapes it on
// purpose).
func (c *Cluster) addUndescribed() {
	p := c.Plan
	if !p.Mesh.Istio {
		return
	}
	declaredIn := func(ns string) bool {
		return slices.ContainsFunc(p.Mesh.Gateways, func(g plan.Gateway) bool { return g.Namespace == ns })
	}
	if !declaredIn(p.Mesh.IstioNamespace) {
		c.add(p.Mesh.IstioNamespace, istioIngressLabels, RoleGatewayIstioNS)
	}
	if !slices.ContainsFunc(p.Mesh.Gateways, func(g plan.Gateway) bool { return g.Namespace != p.Mesh.IstioNamespace }) {
		c.add(GatewayNamespace, ownGatewayLabels, RoleGatewayOwnNS)
	}
	c.add(UnownedNamespace, unownedLabels, RoleUnownedWorkload)
	if p.Mesh.Ambient {
		c.add(p.Mesh.IstioNamespace, plan.ZtunnelLabels, RoleZtunnel)
		described := func(w plan.Waypoint) bool {
			return w.Namespace == c.teamNS[0] || slices.Contains(w.Namespaces, c.teamNS[0])
		}
		if len(c.teamNS) > 0 && !slices.ContainsFunc(p.Mesh.Waypoints, described) {
			c.add(c.teamNS[0], waypointLabels, RoleWaypoint)
		}
	}
}

// proxies are the pods that run an Istio proxy and so need istiod:
// sidecars in every team namespace and in the unowned one, gateways,
// ztunnel, waypoints, and Prometheus when it carries a sidecar.
func (c *Cluster) proxies() []*Pod {
	p := c.Plan
	var out []*Pod
	for _, pod := range c.Pods {
		switch {
		case pod.Namespace == UnownedNamespace, pod.Role == RoleGatewayIstioNS, pod.Role == RoleGatewayOwnNS,
			pod.Role == RoleZtunnel, c.isWaypoint(pod), c.gateways[pod] != nil:
			out = append(out, pod)
		case p.Mesh.Sidecar && c.teamNamespace[pod.Namespace] && pod.Role != RoleIntruder:
			out = append(out, pod)
		case p.Mesh.Sidecar && isPrometheus(pod) && (p.Monitoring.InMesh || p.Monitoring.Prometheus.CertWriter()):
			out = append(out, pod)
		}
	}
	return out
}

// enrolled are the pods ambient redirects through ztunnel: every pod of a
// team namespace, of the meshed namespace no team owns, and the Prometheus
// pods when the stack is in the mesh (obsgen enrolls them by their label;
// the namespace's other pods only if the platform labels it, so the proof
// takes them as not enrolled). Waypoints never are: Istio's waypoint
// template labels them istio.io/dataplane-mode: none, which the CNI's
// enablement selectors exclude even in an ambient namespace
// (manifests/charts/istio-cni/values.yaml ambient.enablementSelectors), so
// their probes are not rewritten to 169.254.7.127 and their traffic is
// their own.
func (c *Cluster) enrolled() []*Pod {
	p := c.Plan
	var out []*Pod
	for _, pod := range c.Pods {
		meshed := c.teamNamespace[pod.Namespace] || pod.Namespace == UnownedNamespace || isPrometheus(pod) && p.Monitoring.InMesh
		if meshed && !c.isWaypoint(pod) {
			out = append(out, pod)
		}
	}
	return out
}

// isWaypoint tells whether pod stands for a waypoint, declared or not.
func (c *Cluster) isWaypoint(pod *Pod) bool {
	return pod.Role == RoleWaypoint || c.waypoints[pod] != nil
}

// requirements lists every connection the cluster needs.
func (c *Cluster) requirements() []requirement {
	// Concatenated in one allocation: with thousands of teams, growing
	// the list copied it over and over.
	return slices.Concat(c.meshRequirements(), c.ambientRequirements(), c.waypointRequirements(),
		c.gatewayRequirements(), c.monitoringRequirements(), c.kialiRequirements(), c.tracingRequirements())
}

// meshRequirements: istio.io docs/ops/deployment/application-requirements,
// "Ports used by Istio": every proxy reaches istiod on 15012 (xDS and CA;
// gateways and ztunnel too: manifests/charts/ztunnel/templates/
// daemonset.yaml CA_ADDRESS and XDS_ADDRESS), the API server reaches the
// webhooks on 15017 from its own address or, behind konnectivity or an
// overlay, from a node's, and istiod watches the API server.
func (c *Cluster) meshRequirements() []requirement {
	p := c.Plan
	if !p.Mesh.Istio {
		return nil
	}
	istiod := c.podEndpoint(p.Mesh.IstioNamespace, plan.IstiodLabels)
	proxies := c.proxies()
	out := make([]requirement, 0, len(proxies)+4)
	for _, pod := range proxies {
		out = append(out, requirement{id: "xds", from: Endpoint{Pod: pod}, to: istiod, proto: "TCP", port: plan.PortIstiodXDS,
			why: "a proxy fetches configuration and certificates from istiod", source: "mesh.provider"})
	}
	for _, from := range []Endpoint{c.address(p.Cluster.APIServerCIDRs), c.address(p.Cluster.NodeCIDRs), c.konnectivity()} {
		if from.Pod != nil || from.Addr.IsValid() {
			out = append(out, requirement{id: "webhooks", from: from, to: istiod, proto: "TCP", port: plan.PortIstiodWebhook,
				why: "the API server calls istiod's injection and validation webhooks", source: "mesh.provider"})
		}
	}
	if api := c.address(p.Cluster.APIServerCIDRs); api.Addr.IsValid() {
		out = append(out, requirement{id: "istiod-to-apiserver", from: istiod, to: api, proto: "TCP", port: p.Cluster.APIServerPort,
			why: "istiod watches the API server", source: "cluster.apiServerCIDRs"})
	}
	if csr := p.Mesh.IstioCSR; csr != nil {
		// With istio-csr every proxy's CA_ADDRESS is istio-csr's Service
		// (cert-manager.io docs/usage/istio-csr), and istio-csr signs
		// through the API server.
		ca := c.podEndpoint(csr.Pods.Namespace, csr.Pods.Labels)
		for _, pod := range proxies {
			out = append(out, requirement{id: "istio-csr", from: Endpoint{Pod: pod}, to: ca, proto: "TCP", port: csr.Port,
				why: "a proxy gets its workload certificate from istio-csr", source: "mesh.istioCSR"})
		}
		if api := c.address(p.Cluster.APIServerCIDRs); api.Addr.IsValid() {
			out = append(out, requirement{id: "istio-csr-to-apiserver", from: ca, to: api, proto: "TCP", port: p.Cluster.APIServerPort,
				why: "istio-csr creates CertificateRequests through the API server", source: "cluster.apiServerCIDRs"})
		}
	}
	return out
}

// ambientRequirements: istio.io docs/ambient/usage/networkpolicy: enrolled
// pods receive and send HBONE on 15008, and kubelet probes arrive from
// 169.254.7.127 on any port. Under a global deny the meshed namespace no
// team owns is left out, as its gateways' and proxies' scrapes are: the
// stance denies what the profile does not describe.
func (c *Cluster) ambientRequirements() []requirement {
	p := c.Plan
	if !p.Mesh.Ambient {
		return nil
	}
	enrolled := slices.DeleteFunc(c.enrolled(), func(pod *Pod) bool {
		return pod.Namespace == UnownedNamespace && p.GlobalDeny() && !slices.Contains(p.Network.Calico.Excluded, pod.Namespace)
	})
	probe := Endpoint{Addr: netip.MustParsePrefix(plan.KubeletProbesAmbient[0]).Addr()}
	out := make([]requirement, 0, 3*len(enrolled))
	for i, pod := range enrolled {
		peer := enrolled[(i+1)%len(enrolled)]
		source := "mesh.dataPlane"
		if isPrometheus(pod) {
			source = "monitoring.inMesh"
		}
		if peer != pod {
			out = append(out, requirement{id: "hbone", from: Endpoint{Pod: peer}, to: Endpoint{Pod: pod}, proto: "TCP", port: plan.PortHBONE,
				why: "ambient traffic between enrolled pods travels over HBONE on 15008", source: source})
		}
		for _, port := range []int{c.appPort(pod), c.unused} {
			out = append(out, requirement{id: "probes", from: probe, to: Endpoint{Pod: pod}, proto: "TCP", port: port,
				why: "kubelet probes of ambient pods arrive from 169.254.7.127", source: source})
		}
	}
	return out
}

// waypointRequirements: a waypoint takes its services' traffic over HBONE
// on 15008 from the clients' ztunnels, which send from inside the client
// pods, and forwards it over HBONE to the destination pods' ztunnel
// (istio.io docs/ambient/usage/networkpolicy; istio's pilot/pkg/networking/
// core/listener_waypoint.go buildWaypointInbound). Clients and
// destinations stand in the namespaces it serves that are surely enrolled
// (the teams'); an undeclared waypoint serves its own namespace.
// Its other needs are asked elsewhere: istiod's 15012 with every proxy,
// its scrape with every job's targets. Its kubelet probes come from its
// own node, which no policy can refuse (a waypoint is not enrolled, so
// they are not rewritten to 169.254.7.127); no model here knows nodes, so
// they are not asked.
func (c *Cluster) waypointRequirements() []requirement {
	var out []requirement
	for _, pod := range c.Pods {
		if !c.isWaypoint(pod) {
			continue
		}
		served, source := []string{pod.Namespace}, "mesh.dataPlane"
		if w := c.waypoints[pod]; w != nil {
			served, source = w.Namespaces, c.waypointSource(*w)
		}
		wp := Endpoint{Pod: pod}
		for _, ns := range served {
			if !c.teamNamespace[ns] {
				continue
			}
			peer := c.podEndpoint(ns, nil)
			out = append(out,
				requirement{id: "waypoint-hbone", from: peer, to: wp, proto: "TCP", port: plan.PortHBONE,
					why: "clients' ztunnels send a waypoint its services' traffic over HBONE", source: source},
				requirement{id: "waypoint-hbone", from: wp, to: peer, proto: "TCP", port: plan.PortHBONE,
					why: "a waypoint forwards its services' traffic to their pods over HBONE", source: source})
		}
	}
	return out
}

func (c *Cluster) waypointSource(w plan.Waypoint) string {
	return "mesh.waypoints[" + strconv.Itoa(c.waypointByName[w.Namespace+"/"+w.Name]) + "]"
}

// gatewayRequirements: a gateway receives its clients' traffic on its
// ports and the load balancer's health checks on 15021, and reaches its
// backends. obsgen must not take that away: for declared gateways under
// every stance, for undescribed ones wherever obsgen's deny does not cover
// their namespace by design (under global-deny everything undeclared is
// denied, which is the stance).
func (c *Cluster) gatewayRequirements() []requirement {
	p := c.Plan
	client := Endpoint{Addr: netip.MustParseAddr("203.0.113.10")}
	var out []requirement
	for _, pod := range c.Pods {
		var ports []int
		var source string
		clients := []Endpoint{client}
		switch pod.Role {
		case RoleGatewayIstioNS, RoleGatewayOwnNS:
			if p.GlobalDeny() && !slices.Contains(p.Network.Calico.Excluded, pod.Namespace) {
				continue
			}
			ports, source = gatewayTrafficPorts, "mesh.gateways"
		default:
			g := c.gateways[pod]
			if g == nil {
				continue
			}
			ports, source = append(slices.Clone(g.Ports), plan.PortGatewayStatus), c.gatewaySource(*g)
			clients = nil
			for _, s := range g.Sources {
				if s.Any {
					// Every pod: a team's pod, whose egress obsgen's deny
					// isolates, stands for them.
					clients = append(clients, c.endpoint(s))
				} else {
					clients = append(clients, c.peerEndpoint(s))
				}
			}
			for i, d := range g.Destinations {
				for _, port := range d.Ports {
					out = append(out, requirement{id: "gateway-destinations", from: Endpoint{Pod: pod}, to: c.peerEndpoint(d.Peer), proto: "TCP", port: port,
						why: "a gateway reaches its destinations", source: fmt.Sprintf("%s.destinations[%d]", source, i)})
				}
			}
		}
		for _, from := range clients {
			for _, port := range ports {
				out = append(out, requirement{id: "gateway-traffic", from: from, to: Endpoint{Pod: pod}, proto: "TCP", port: port,
					why: "clients and load-balancer health checks reach a gateway", source: source})
			}
		}
		// The backends' own policies decide whether they accept a gateway;
		// obsgen must leave the gateway's egress open: asked towards a pod
		// no deny isolates.
		if g := c.gateways[pod]; g == nil || len(g.Destinations) == 0 {
			out = append(out, requirement{id: "gateway-backends", from: Endpoint{Pod: pod}, to: c.openEndpoint(), proto: "TCP", port: 8080,
				why: "an ingress gateway forwards to its backends", source: source})
		}
	}
	return out
}

func (c *Cluster) gatewaySource(g plan.Gateway) string {
	return "mesh.gateways[" + strconv.Itoa(c.gatewayByName[g.Name]) + "]"
}

// konnectivity is a konnectivity-agent pod, through which the API server
// reaches webhooks on AKS and GKE (tigera/operator#5212).
func (c *Cluster) konnectivity() Endpoint {
	return Endpoint{Pod: c.add("kube-system", plan.Labels{{Name: "k8s-app", Value: "konnectivity-agent"}}, "konnectivity-agent")}
}

// address is an address inside the first of cidrs, or none.
func (c *Cluster) address(cidrs []string) Endpoint {
	if len(cidrs) == 0 {
		return Endpoint{}
	}
	return c.endpoint(plan.Peer{CIDRs: cidrs[:1]})
}

// peerEndpoint is where a peer of the profile stands: its pod (added when
// no flow named it), an address in its range, or any pod.
func (c *Cluster) peerEndpoint(p plan.Peer) Endpoint {
	if p.IsPods() {
		return c.podEndpoint(p.Namespace, p.Labels)
	}
	return c.endpoint(p)
}

// podEndpoint is the pod of (ns, labels), added to the cluster when no
// flow named it: requirements never depend on the flows.
func (c *Cluster) podEndpoint(ns string, labels plan.Labels) Endpoint {
	return Endpoint{Pod: c.add(ns, labels, c.roles[key(ns, labels)])}
}

// appPort is a port the pod serves: its service's application port, or
// 8080.
func (c *Cluster) appPort(pod *Pod) int {
	if port, ok := c.appPorts[key(pod.Namespace, pod.Labels)]; ok {
		return port
	}
	return 8080
}

// monitoringRequirements are the monitoring stack's connections: every
// scrape of every job the plan configures (prometheus.yml is the
// authority on what Prometheus scrapes), alert delivery and Alertmanager's
// cluster (github.com/prometheus/alertmanager README, "High
// Availability": 9094 TCP and UDP), Grafana's queries and its dashboard
// sidecar's API-server watch (kiwigrid/k8s-sidecar README), the operators'
// API-server watches and webhooks, the endpoints the profile names by URL,
// and DNS from every namespace obsgen isolates.
func (c *Cluster) monitoringRequirements() []requirement {
	return slices.Concat(c.scrapeRequirements(), c.stackRequirements(), c.dnsRequirements())
}

func (c *Cluster) scrapeRequirements() []requirement {
	p := c.Plan
	m := p.Monitoring
	prom := c.podEndpoint(m.Namespace, m.Prometheus.PodLabels)
	// Sized for a scrape of each service and of each team namespace's
	// proxies: growing a list of a hundred thousand copied it over and
	// over.
	out := make([]requirement, 0, len(p.ServiceTargets)+2*len(c.teamNS)+len(p.Jobs))
	scrape := func(to Endpoint, port int, source string) {
		out = append(out, requirement{id: "scrape", from: prom, to: to, proto: "TCP", port: port,
			why: "Prometheus scrapes a target of its configuration", source: source})
	}
	for ti, t := range p.Teams {
		for si, s := range t.Services {
			scrape(c.podEndpoint(s.Namespace, s.Selector), s.Endpoint.Port, fmt.Sprintf("teams[%d].services[%d]", ti, si))
		}
	}
	for _, j := range p.Jobs {
		switch j.Kind {
		case plan.JobEnvoyStats, plan.JobIstioMerged:
			for _, ns := range c.teamNS {
				scrape(c.podEndpoint(ns, nil), j.Endpoint.Port, "mesh.scrapeStrategy")
			}
			for _, pod := range c.Pods {
				// The job discovers every proxy but the declared gateways':
				// gateways and workloads the profile does not describe,
				// under every stance (a target the policies refuse is a
				// TargetDown that never clears).
				undescribed := pod.Role == RoleGatewayIstioNS || pod.Role == RoleGatewayOwnNS || pod.Role == RoleUnownedWorkload
				if undescribed {
					scrape(Endpoint{Pod: pod}, j.Endpoint.Port, "mesh.scrapeStrategy")
				}
			}
			if m.InMesh && p.Mesh.Sidecar && m.KubeStateMetrics.Namespace == m.Namespace {
				scrape(c.podEndpoint(m.Namespace, m.KubeStateMetrics.PodLabels), j.Endpoint.Port, "monitoring.inMesh")
			}
		case plan.JobGateways:
			for _, pod := range c.Pods {
				if g := c.gateways[pod]; g != nil {
					scrape(Endpoint{Pod: pod}, j.Endpoint.Port, c.gatewaySource(*g))
				}
			}
		case plan.JobWaypoints:
			for _, pod := range c.Pods {
				if w := c.waypoints[pod]; w != nil {
					scrape(Endpoint{Pod: pod}, j.Endpoint.Port, c.waypointSource(*w))
				}
			}
		case plan.JobPods, plan.JobPodsIstioSecure:
			c.annotatedRequirements(j, scrape)
		case plan.JobIstiod:
			scrape(c.podEndpoint(p.Mesh.IstioNamespace, plan.IstiodLabels), j.Endpoint.Port, "mesh.provider")
		case plan.JobZtunnel:
			scrape(c.podEndpoint(p.Mesh.IstioNamespace, plan.ZtunnelLabels), j.Endpoint.Port, "mesh.dataPlane")
		case plan.JobKubeStateMetrics:
			scrape(c.podEndpoint(m.KubeStateMetrics.Namespace, m.KubeStateMetrics.PodLabels), j.Endpoint.Port, "monitoring.kubeStateMetrics")
		case plan.JobPrometheus:
			// Each server scrapes every Prometheus pod, its replicas too.
			scrape(Endpoint{Pod: c.replica(prom.Pod)}, j.Endpoint.Port, "monitoring.prometheus")
		case plan.JobAlertmanager:
			scrape(c.podEndpoint(m.Alertmanager.Namespace, m.Alertmanager.PodLabels), j.Endpoint.Port, "monitoring.alertmanager")
		case plan.JobAPIServers:
			scrape(c.address(p.Cluster.APIServerCIDRs), p.Cluster.APIServerPort, "cluster.apiServerCIDRs")
		case plan.JobKubelet, plan.JobCAdvisor:
			scrape(c.address(p.Cluster.NodeCIDRs), j.Endpoint.Port, "cluster.nodeCIDRs")
		case plan.JobNodeExporter:
			scrape(c.address(p.Cluster.NodeCIDRs), j.Endpoint.Port, "cluster.nodeCIDRs")
		}
	}
	return slices.DeleteFunc(out, func(r requirement) bool { return r.to.Pod == nil && !r.to.Addr.IsValid() })
}

// Ports real clusters annotate for Prometheus on pods no profile
// describes: istio-cni's node agent (istio/istio manifests/charts/
// istio-cni/templates/daemonset.yaml: prometheus.io/port "15014"; on the
// node's address when it shares the host network, as in ambient), an
// application's own metrics port, such as cert-manager's 9402 (its chart
// annotates its pods unless a ServiceMonitor is used), and the plaintext
// proxy port 15020 that istiod annotates the Gateway API gateways it
// deploys with (files/kube-gateway.yaml; no sidecar injection).
const (
	annotatedCNIPort     = 15014
	annotatedAppPort     = 9402
	annotatedGatewayPort = plan.PortMergedMetrics
)

// annotatedRequirements: an annotation-driven job discovers annotated pods
// the profile does not describe, and every one it keeps must be reachable,
// or it is a target down for good and a TargetDown alert for its
// namespace. The stand-ins: istio-cni at the node addresses and on the
// outsider pod (its pod address), the outsider on an application port
// (no sidecar), the meshed workload of the namespace no team owns on one
// (with a sidecar, for the Istio-certificate job), and the gateway in its
// own namespace on 15020 (taken as one istiod deployed: no sidecar).
func (c *Cluster) annotatedRequirements(j plan.Job, scrape func(Endpoint, int, string)) {
	p := c.Plan
	keeps := func(port int, sidecar bool) bool {
		switch {
		case sidecar && j.Sidecars == plan.SidecarExclude, !sidecar && j.Sidecars == plan.SidecarOnly:
			return false
		}
		return len(j.AnnotatedPorts) == 0 || slices.Contains(j.AnnotatedPorts, port)
	}
	const source = "network.stance"
	outsider := c.Pod(OutsideNamespace, outsiderLabels)
	for _, t := range []struct {
		to      Endpoint
		port    int
		sidecar bool
	}{
		{c.address(p.Cluster.NodeCIDRs), annotatedCNIPort, false},
		{Endpoint{Pod: outsider}, annotatedCNIPort, false},
		{Endpoint{Pod: outsider}, annotatedAppPort, false},
		{Endpoint{Pod: c.Pod(UnownedNamespace, unownedLabels)}, annotatedAppPort, p.Mesh.Sidecar},
		{Endpoint{Pod: c.Pod(GatewayNamespace, ownGatewayLabels)}, annotatedGatewayPort, false},
	} {
		if (t.to.Pod != nil || t.to.Addr.IsValid()) && keeps(t.port, t.sidecar) {
			scrape(t.to, t.port, source)
		}
	}
}

func (c *Cluster) stackRequirements() []requirement {
	p := c.Plan
	m := p.Monitoring
	prom := c.podEndpoint(m.Namespace, m.Prometheus.PodLabels)
	grafana := c.podEndpoint(m.Grafana.Namespace, m.Grafana.PodLabels)
	api := c.address(p.Cluster.APIServerCIDRs)
	var out []requirement
	need := func(id string, from, to Endpoint, proto string, port int, why, source string) {
		if (from.Pod != nil || from.Addr.IsValid()) && (to.Pod != nil || to.Addr.IsValid()) && port != 0 {
			out = append(out, requirement{id: id, from: from, to: to, proto: proto, port: port, why: why, source: source})
		}
	}
	need("watch-apiserver", c.podEndpoint(m.KubeStateMetrics.Namespace, m.KubeStateMetrics.PodLabels), api, "TCP", p.Cluster.APIServerPort,
		"kube-state-metrics watches the API server", "cluster.apiServerCIDRs")
	need("discovery", prom, api, "TCP", p.Cluster.APIServerPort, "Prometheus discovers its targets through the API server", "cluster.apiServerCIDRs")
	if !m.Prometheus.Agent {
		am := c.podEndpoint(m.Alertmanager.Namespace, m.Alertmanager.PodLabels)
		need("alerts", prom, am, "TCP", m.Alertmanager.Port, "Prometheus sends alerts to Alertmanager", "monitoring.alertmanager")
		peer := c.add(m.Alertmanager.Namespace, m.Alertmanager.PodLabels, "")
		replica := c.replica(peer)
		for _, proto := range []string{"TCP", "UDP"} {
			need("alertmanager-cluster", Endpoint{Pod: replica}, Endpoint{Pod: peer}, proto, plan.PortAlertmanagerGossip,
				"Alertmanager replicas gossip so each alert is sent once", "monitoring.alertmanager")
		}
		for i, e := range p.Network.AlertmanagerEgress {
			for _, port := range e.Ports {
				need("notifications", am, c.peerEndpoint(e.Peer), "TCP", port, "Alertmanager calls its receivers", fmt.Sprintf("network.alertmanagerEgress[%d]", i))
			}
		}
		// A ruler POSTs its alerts to Alertmanager's API (thanos
		// docs/components/rule.md --alertmanagers.url; Mimir's
		// -ruler.alertmanager-url).
		for i, e := range p.Network.AlertmanagerIngress {
			need("ruler-alerts", c.peerEndpoint(e.Peer), am, "TCP", m.Alertmanager.Port, "a ruler sends its alerts to Alertmanager", fmt.Sprintf("network.alertmanagerIngress[%d]", i))
		}
	}
	if d := p.Dashboards; d.Any() {
		need("datasource", grafana, c.urlEndpoint(d.Datasource.Endpoint), "TCP", d.Datasource.Endpoint.Port,
			"Grafana queries its data source "+d.Datasource.URL, "dashboards.datasource.url")
		need("dashboard-sidecar", grafana, api, "TCP", p.Cluster.APIServerPort, "Grafana's dashboard sidecar watches ConfigMaps", "dashboards")
		if op := d.Operator; op != nil {
			gop := c.podEndpoint(op.Namespace, op.PodLabels)
			need("grafana-operator", gop, api, "TCP", p.Cluster.APIServerPort, "grafana-operator watches the API server", "dashboards.grafanaOperator.enabled")
			need("grafana-operator", gop, grafana, "TCP", m.Grafana.Port, "grafana-operator calls Grafana's API", "dashboards.grafanaOperator.enabled")
		}
	}
	for i, e := range p.Network.GrafanaIngress {
		need("grafana-users", c.peerEndpoint(e.Peer), grafana, "TCP", m.Grafana.Port, "users open Grafana", fmt.Sprintf("network.grafanaIngress[%d]", i))
	}
	if m.OperatorFlavour {
		op := c.podEndpoint(m.PrometheusOperator.Namespace, m.PrometheusOperator.PodLabels)
		need("prometheus-operator", op, api, "TCP", p.Cluster.APIServerPort, "the Prometheus Operator watches the API server", "monitoring.flavours")
		for _, from := range []Endpoint{api, c.konnectivity()} {
			need("prometheus-operator-webhook", from, op, "TCP", m.PrometheusOperator.Port, "the API server calls the operator's admission webhook", "monitoring.prometheusOperator.port")
		}
	}
	for i, rw := range m.Prometheus.RemoteWrite {
		need("remote-write", prom, c.urlEndpoint(rw.Endpoint), "TCP", rw.Endpoint.Port, "Prometheus remote-writes to "+rw.URL,
			fmt.Sprintf("monitoring.prometheus.remoteWrite[%d].url", i))
	}
	if f := p.Federation; f != nil {
		for i, s := range f.Sources {
			need("federation", c.peerEndpoint(s), prom, "TCP", plan.PortPrometheus, "the global Prometheus scrapes /federate",
				fmt.Sprintf("monitoring.prometheus.federation.sources[%d]", i))
		}
	}
	return out
}

// urlEndpoint is where a URL of the profile leads: the Prometheus pods for
// the Prometheus Service, any pod of a Service's namespace, or an address.
func (c *Cluster) urlEndpoint(e plan.NetEndpoint) Endpoint {
	m := c.Plan.Monitoring
	switch {
	case !e.Known():
		return Endpoint{}
	case e.InCluster && e.Peer.Namespace == m.Namespace && e.Port == plan.PortPrometheus:
		return c.podEndpoint(m.Namespace, m.Prometheus.PodLabels)
	case e.InCluster:
		return c.podEndpoint(e.Peer.Namespace, nil)
	}
	return c.peerEndpoint(e.Peer)
}

// replica is a second pod like pod, for connections between replicas.
func (c *Cluster) replica(pod *Pod) *Pod {
	labels := append(slices.Clone(pod.Labels), plan.Label{Name: "obsgen.dev/replica", Value: "2"})
	slices.SortFunc(labels, func(a, b plan.Label) int { return strings.Compare(a.Name, b.Name) })
	return c.add(pod.Namespace, labels, pod.Role+"-2")
}

// dnsRequirements: kubernetes.io docs/concepts/services-networking/
// network-policies: under a default deny, pods must still reach the
// cluster DNS.
func (c *Cluster) dnsRequirements() []requirement {
	p := c.Plan
	dns := c.podEndpoint(p.Network.DNS.Namespace, p.Network.DNS.PodLabels)
	isolated := p.IsolatedNamespaces()
	out := make([]requirement, 0, 4*len(isolated))
	local := c.address(p.Network.DNSCIDRs)
	for _, ns := range isolated {
		from := c.podEndpoint(ns, nil)
		for _, proto := range []string{"UDP", "TCP"} {
			out = append(out, requirement{id: "dns", from: from, to: dns, proto: proto, port: p.Network.DNS.Port,
				why: "every pod resolves names through the cluster DNS", source: "network.dns"})
			if local.Addr.IsValid() {
				out = append(out, requirement{id: "dns", from: from, to: local, proto: proto, port: plan.PortDNS,
					why: "every pod resolves names through the node-local DNS cache", source: "network.dns.cidrs"})
			}
		}
	}
	return out
}

// RolePrometheus names the pod of the Prometheus servers; its replica
// (replica) is RolePrometheus + "-2".
const RolePrometheus = "prometheus"

// isPrometheus tells whether pod stands for the Prometheus servers.
func isPrometheus(pod *Pod) bool {
	return pod.Role == RolePrometheus || pod.Role == RolePrometheus+"-2"
}
