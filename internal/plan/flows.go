package plan

import (
	"fmt"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"slices"
	"strings"
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

// PortProto is a port and its protocol (TCP or UDP).
type PortProto struct {
	Port     int
	Protocol string
}

// Flow is a connection the monitoring stack needs. Network policies allow
// exactly the flows of the plan, and the reachability proof checks them.
type Flow struct {
	// ID names the flow in policy names and reports; unique and stable.
	ID    string
	From  Peer
	To    Peer
	Ports []PortProto
	Why   string
}

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

// Well-known ports of the flows (istio.io, application requirements).
const (
	PortPrometheus       = 9090
	PortDNS              = 53
	PortIstiodXDS        = 15012
	PortIstiodWebhook    = 15017
	PortHBONE            = 15008
	KubeletProbesAmbient = "169.254.7.127/32"
)

func tcp(ports ...int) []PortProto {
	out := make([]PortProto, len(ports))
	for i, p := range ports {
		out[i] = PortProto{Port: p, Protocol: "TCP"}
	}
	return out
}

// flows derives every flow monitoring needs from the jobs and the stack.
func (r *resolver) flows() []Flow {
	p := r.plan
	prom := Peer{Namespace: p.Monitoring.Namespace, Labels: p.Monitoring.Prometheus.PodLabels}
	var out []Flow
	add := func(f Flow) { out = append(out, f) }
	for _, s := range p.ServiceTargets {
		add(Flow{ID: fmt.Sprintf("scrape-%s-%s", s.Team, s.Name), From: prom,
			To: Peer{Namespace: s.Namespace, Labels: s.Selector}, Ports: tcp(s.Endpoint.Port),
			Why: fmt.Sprintf("Prometheus scrapes %s on %d (%s)", s.Job, s.Endpoint.Port, p.Scrape.Strategy)})
	}
	out = append(out, r.proxyFlows(prom)...)
	out = append(out, r.platformFlows(prom)...)
	out = append(out, r.meshFlows(prom)...)
	out = append(out, r.dnsFlows()...)
	return out
}

// proxyFlows opens the sidecar metrics port the mesh jobs scrape in every
// team namespace: 15090 (envoy-stats) or 15020 (istio-merged).
func (r *resolver) proxyFlows(prom Peer) []Flow {
	port := 0
	for _, j := range r.plan.Jobs {
		if j.Kind == JobEnvoyStats || j.Kind == JobIstioMerged {
			port = j.Endpoint.Port
		}
	}
	if port == 0 {
		return nil
	}
	var out []Flow
	for _, ns := range r.plan.TeamNamespaces() {
		out = append(out, Flow{ID: "scrape-proxy-" + ns, From: prom, To: Peer{Namespace: ns}, Ports: tcp(port),
			Why: fmt.Sprintf("Prometheus scrapes the sidecars' metrics port %d", port)})
	}
	return out
}

func (r *resolver) platformFlows(prom Peer) []Flow {
	p := r.plan
	m := p.Monitoring
	c := p.Cluster
	out := []Flow{
		{ID: "scrape-kube-state-metrics", From: prom, To: Peer{Namespace: m.KubeStateMetrics.Namespace, Labels: m.KubeStateMetrics.PodLabels},
			Ports: tcp(m.KubeStateMetrics.Port), Why: "Prometheus scrapes kube-state-metrics"},
		{ID: "kube-state-metrics-to-apiserver", From: Peer{Namespace: m.KubeStateMetrics.Namespace, Labels: m.KubeStateMetrics.PodLabels},
			To: Peer{CIDRs: c.APIServerCIDRs}, Ports: tcp(c.APIServerPort), Why: "kube-state-metrics watches the API server"},
		{ID: "prometheus-to-apiserver", From: prom, To: Peer{CIDRs: c.APIServerCIDRs}, Ports: tcp(c.APIServerPort),
			Why: "Prometheus discovers targets through the API server and scrapes its metrics"},
		{ID: "prometheus-to-nodes", From: prom, To: Peer{CIDRs: c.NodeCIDRs}, Ports: tcp(PortKubelet, m.NodeExporter.Port),
			Why: "Prometheus scrapes kubelet, cAdvisor and node-exporter on the node addresses"},
		{ID: "scrape-prometheus", From: prom, To: prom, Ports: tcp(PortPrometheus),
			Why: "Prometheus scrapes its own servers' metrics"},
		{ID: "grafana-to-prometheus", From: Peer{Namespace: m.Grafana.Namespace, Labels: m.Grafana.PodLabels}, To: prom,
			Ports: tcp(PortPrometheus), Why: "Grafana queries Prometheus"},
	}
	grafana := Peer{Namespace: m.Grafana.Namespace, Labels: m.Grafana.PodLabels}
	for i, e := range p.Network.GrafanaIngress {
		out = append(out, Flow{ID: fmt.Sprintf("grafana-ingress-%d", i+1), From: e.Peer, To: grafana, Ports: tcp(m.Grafana.Port),
			Why: "users open Grafana (network.grafanaIngress)"})
	}
	if !m.Prometheus.Agent {
		am := Peer{Namespace: m.Alertmanager.Namespace, Labels: m.Alertmanager.PodLabels}
		out = append(out, Flow{ID: "prometheus-to-alertmanager", From: prom, To: am, Ports: tcp(m.Alertmanager.Port),
			Why: "Prometheus sends alerts to Alertmanager and scrapes its metrics"})
		for i, e := range p.Network.AlertmanagerEgress {
			out = append(out, Flow{ID: fmt.Sprintf("alertmanager-egress-%d", i+1), From: am, To: e.Peer, Ports: tcp(e.Ports...),
				Why: "Alertmanager delivers notifications to its receivers (network.alertmanagerEgress)"})
		}
	}
	return out
}

func (r *resolver) meshFlows(prom Peer) []Flow {
	p := r.plan
	if !p.Mesh.Istio {
		return nil
	}
	ns := p.Mesh.IstioNamespace
	istiod := Peer{Namespace: ns, Labels: IstiodLabels}
	out := []Flow{
		{ID: "scrape-istiod", From: prom, To: istiod, Ports: tcp(PortIstiodMonitoring), Why: "Prometheus scrapes istiod's monitoring port"},
		{ID: "apiserver-to-istiod", From: Peer{CIDRs: p.Cluster.APIServerCIDRs}, To: istiod, Ports: tcp(PortIstiodWebhook),
			Why: "the API server calls istiod's injection and validation webhooks"},
		{ID: "istiod-to-apiserver", From: istiod, To: Peer{CIDRs: p.Cluster.APIServerCIDRs}, Ports: tcp(p.Cluster.APIServerPort),
			Why: "istiod watches the API server"},
	}
	if p.Mesh.Ambient {
		out = append(out, Flow{ID: "scrape-ztunnel", From: prom, To: Peer{Namespace: ns, Labels: Labels{{Name: "app", Value: "ztunnel"}}},
			Ports: tcp(PortMergedMetrics), Why: "Prometheus scrapes ztunnel"})
	}
	for _, from := range r.proxyNamespaces() {
		out = append(out, Flow{ID: "xds-" + from, From: Peer{Namespace: from}, To: istiod, Ports: tcp(PortIstiodXDS),
			Why: "the mesh's proxies fetch configuration and certificates from istiod"})
	}
	if p.Mesh.Ambient {
		for _, to := range r.plan.TeamNamespaces() {
			out = append(out,
				Flow{ID: "hbone-in-" + to, From: Peer{Any: true}, To: Peer{Namespace: to}, Ports: tcp(PortHBONE),
					Why: "ambient traffic from the mesh's pods arrives over HBONE on 15008"},
				// ztunnel sends from inside the source pod's network
				// namespace, so the sender's egress must allow 15008 too.
				Flow{ID: "hbone-out-" + to, From: Peer{Namespace: to}, To: Peer{Any: true}, Ports: tcp(PortHBONE),
					Why: "ambient traffic leaves the mesh's pods over HBONE on 15008"},
				Flow{ID: "probes-" + to, From: Peer{CIDRs: []string{KubeletProbesAmbient}}, To: Peer{Namespace: to},
					Ports: r.probePorts(to), Why: "in ambient, kubelet probes arrive from 169.254.7.127"})
		}
	}
	return out
}

// probePorts are the application ports of a namespace's services (what
// the kubelet probes, as far as obsgen knows them).
func (r *resolver) probePorts(ns string) []PortProto {
	var ports []int
	for _, s := range r.plan.ServiceTargets {
		if s.Namespace == ns && !slices.Contains(ports, s.AppPort) {
			ports = append(ports, s.AppPort)
		}
	}
	slices.Sort(ports)
	return tcp(ports...)
}

// proxyNamespaces are the namespaces whose pods run a proxy that talks to
// istiod: the teams' (sidecars), and monitoring's when Prometheus has a
// sidecar (in the mesh, or the cert-writing one of istio-certs).
func (r *resolver) proxyNamespaces() []string {
	if !r.plan.Mesh.Sidecar {
		return nil
	}
	out := r.plan.TeamNamespaces()
	m := r.plan.Monitoring
	if m.InMesh || m.Prometheus.CertsVolume != "" {
		out = append(out, m.Namespace)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dnsFlows let every covered namespace resolve names.
func (r *resolver) dnsFlows() []Flow {
	dns := r.plan.Network.DNS
	var out []Flow
	for _, ns := range r.plan.Covered {
		out = append(out, Flow{ID: "dns-" + ns, From: Peer{Namespace: ns}, To: Peer{Namespace: dns.Namespace, Labels: dns.PodLabels},
			Ports: []PortProto{{Port: PortDNS, Protocol: "UDP"}, {Port: PortDNS, Protocol: "TCP"}}, Why: "every pod resolves names through the cluster DNS"})
	}
	return out
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

// Covered names what each namespace obsgen's policies lock down holds: the
// teams', the monitoring stack's and Istio's. p must have its defaults
// (WithDefaults); validation reports exclusions from it, and the plan's
// Covered are its keys.
func Covered(p *v1alpha1.Profile) map[string]string {
	m := p.Monitoring
	out := map[string]string{}
	add := func(ns, what string) {
		if _, ok := out[ns]; !ok && ns != "" {
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
	return out
}
