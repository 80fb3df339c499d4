package plan

import (
	"fmt"
	"slices"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// The flow catalogue: every connection the mesh and the monitoring stack
// need, each with the upstream document that requires it (Ref) and the
// profile field that causes it (Source). Network policies allow exactly
// these; internal/reach proves them against requirements it derives on its
// own, over a synthetic cluster holding pods the profile does not describe.

// Upstream documents the catalogue cites.
const (
	refIstioPorts          = "istio.io docs/ops/deployment/application-requirements (Ports used by Istio)"
	refAmbientNetpol       = "istio.io docs/ambient/usage/networkpolicy"
	refIstioPrometheus     = "istio.io docs/ops/integrations/prometheus"
	refIstioGateway        = "istio.io docs/setup/additional-setup/gateway; manifests/charts/gateway (status-port 15021)"
	refGatewayMetrics      = "manifests/charts/gateway/values.yaml (prometheus.io/port 15020, /stats/prometheus) and templates/deployment.yaml (http-envoy-prom 15090)"
	refWaypointMetrics     = "manifests/charts/istio-control/istio-discovery/files/waypoint.yaml (prometheus.io/port 15020, /stats/prometheus; container port metrics 15020)"
	refWaypointHBONE       = "istio.io docs/ambient/usage/networkpolicy (HBONE on 15008); pilot/pkg/networking/core/listener_waypoint.go (buildWaypointInbound: the waypoint terminates CONNECT on 15008 and re-encapsulates it to the destination's ztunnel)"
	refAMHA                = "github.com/prometheus/alertmanager README (High Availability, --cluster.listen-address :9094)"
	refAMClients           = "thanos docs/components/rule.md (--alertmanagers.url); grafana/mimir docs ruler (-ruler.alertmanager-url): the ruler POSTs to Alertmanager's /api/v2/alerts"
	refK8sSidecar          = "github.com/kiwigrid/k8s-sidecar README (Kubernetes API contact; the reload call goes to localhost)"
	refGrafanaOperator     = "grafana-operator controllers/reconcilers/grafana/service_reconciler.go (AdminURL http://<service>.<namespace>.svc:3000)"
	refPromOperator        = "prometheus-operator cmd/operator/main.go (--apiserver: in-cluster, the operator lists and watches the API server)"
	refPromOperatorWebhook = "prometheus-community/helm-charts kube-prometheus-stack values.yaml (prometheusOperator.admissionWebhooks, tls.internalPort 10250)"
	refNodeLocalDNS        = "kubernetes.io docs/tasks/administer-cluster/nodelocaldns (pods query 169.254.20.10 on the host network)"
	refKonnectivity        = "tigera/operator#5212 (on AKS and GKE webhook calls come from konnectivity-agent pods)"
	refKubeDNS             = "kubernetes.io docs/concepts/services-networking/network-policies (DNS must be allowed under default deny)"
	refPromKubeSD          = "prometheus.io docs/prometheus/latest/configuration (kubernetes_sd_config talks to the API server)"
	refRemoteWrite         = "prometheus.io docs/prometheus/latest/configuration (remote_write url)"
	refFederation          = "prometheus.io docs/prometheus/latest/federation; istio.io docs/ops/best-practices/observability"
	refKialiConfig         = "kiali/kiali config/config.go (external_services: prometheus.url, grafana.internal_url, tracing.internal_url; server.port 20001)"
	refKialiAPI            = "kiali/kiali kubernetes/kubernetes.go (Kiali reads the cluster and port-forwards to istiod and proxies through the API server)"
	refKialiOperator       = "kiali/kiali-operator (an operator that reconciles Kiali resources through the API server)"
	refKialiIstiod         = "kiali/kiali istio/version.go (GET http://istiod.<ns>:15014/version)"
	refTracingSpans        = "istio.io docs/tasks/observability/distributed-tracing; pilot/pkg/model/telemetry_logging.go (every sidecar, gateway and waypoint Envoy exports spans to the provider's service; ztunnel emits none)"
	refTracingBackend      = "opentelemetry.io docs/collector/configuration (exporters send to the tracing store)"
	refGrafanaDS           = "grafana.com docs/grafana/latest/datasources/prometheus (server-side access: Grafana's backend calls the URL)"
	refAlertmanager        = "prometheus.io docs/alerting/latest/configuration (receivers call their endpoints)"
)

// Profile fields that cause flows not tied to a list entry.
const (
	srcMesh       = "mesh.provider"
	srcDataPlane  = "mesh.dataPlane"
	srcMonitoring = "monitoring.namespace"
	srcInMesh     = "monitoring.inMesh"
	srcAPIServer  = "cluster.apiServerCIDRs"
	srcNodes      = "cluster.nodeCIDRs"
	srcFlavours   = "monitoring.flavours"
	srcDashboards = "dashboards"
)

// flows derives every flow the mesh and the monitoring stack need.
func (r *resolver) flows() []Flow {
	prom := r.prometheusPeer()
	out := r.scrapeFlows(prom)
	out = append(out, r.stackFlows(prom)...)
	out = append(out, r.endpointFlows(prom)...)
	out = append(out, r.meshFlows()...)
	out = append(out, r.ambientFlows(prom)...)
	out = append(out, r.gatewayFlows(prom)...)
	out = append(out, r.waypointFlows(prom)...)
	out = append(out, r.kialiFlows(prom)...)
	out = append(out, r.tracingFlows()...)
	out = append(out, r.dnsFlows()...)
	return r.dropTunnelled(out)
}

// dropTunnelled leaves out, in ambient, the TCP ports of flows between two
// enrolled ends: ztunnel carries them over HBONE, so the network only ever
// sees 15008, which the hbone flows open (istio.io
// docs/ambient/usage/networkpolicy).
func (r *resolver) dropTunnelled(flows []Flow) []Flow {
	if !r.plan.Mesh.Ambient {
		return flows
	}
	var out []Flow
	for _, f := range flows {
		if r.enrolled(f.From) && r.enrolled(f.To) && len(f.Ports) > 0 && !slices.ContainsFunc(f.Ports, func(pp PortProto) bool { return pp.Port == PortHBONE }) {
			// ztunnel carries TCP only: UDP (Alertmanager's gossip) still
			// travels on its own port.
			f.Ports = slices.DeleteFunc(slices.Clone(f.Ports), func(pp PortProto) bool { return pp.Protocol == "TCP" })
			if len(f.Ports) == 0 {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// enrolled tells whether a peer's pods are surely in ambient: a team
// namespace, or the Prometheus pods, which obsgen enrolls by their label.
// The monitoring namespace's other pods are enrolled only if the platform
// labels the namespace, so their direct ports stay open as well. A
// waypoint never is: Istio's waypoint template labels its pods
// istio.io/dataplane-mode: none, which the CNI's enablement selectors
// exclude even in an ambient namespace (manifests/charts/istio-cni/
// values.yaml ambient.enablementSelectors), so traffic to it travels on its
// own port.
func (r *resolver) enrolled(p Peer) bool {
	if !p.IsPods() || isWaypoint(p) {
		return false
	}
	m := r.plan.Monitoring
	prom := r.prometheusPeer()
	_, team := r.teamNamespacePaths()[p.Namespace]
	return team ||
		m.InMesh && p.Namespace == prom.Namespace && slices.Equal(p.Labels, prom.Labels)
}

func (r *resolver) prometheusPeer() Peer {
	m := r.plan.Monitoring
	return Peer{Namespace: m.Namespace, Labels: m.Prometheus.PodLabels}
}

// scrapeFlows are Prometheus' scrapes: every team service on the port
// its strategy scrapes, the proxies, the exporters, itself, the API
// servers, kubelets and node-exporter.
func (r *resolver) scrapeFlows(prom Peer) []Flow {
	p := r.plan
	m, c := p.Monitoring, p.Cluster
	var out []Flow
	proxyPort := r.proxyMetricsPort()
	for ti, t := range p.Teams {
		for si, s := range t.Services {
			if s.Endpoint.Port == proxyPort {
				continue // the proxy flow of its namespace opens that port to Prometheus
			}
			out = append(out, Flow{ID: fmt.Sprintf("scrape-%s-%s", s.Team, s.Name), From: prom,
				To: Peer{Namespace: s.Namespace, Labels: s.Selector}, Ports: tcp(s.Endpoint.Port),
				Why:    fmt.Sprintf("Prometheus scrapes %s on %d (%s)", s.Job, s.Endpoint.Port, p.Scrape.Strategy),
				Source: fmt.Sprintf("teams[%d].services[%d]", ti, si), Ref: refIstioPrometheus})
		}
	}
	if proxyPort != 0 {
		// The envoy-stats and istio-merged jobs discover proxies in every
		// namespace: gateways, meshed namespaces no team owns. Under a
		// default deny those are open unless a team's (which its own flow
		// opens below); under a global deny nothing is, so the global
		// policy also opens every pod's proxy port to Prometheus: else
		// each meshed namespace the profile does not describe is a
		// TargetDown that never clears. The rule opens the port on every
		// pod, to Prometheus alone; only proxies listen on it.
		only := SideSource
		if p.GlobalDeny() {
			only = ""
		}
		out = append(out, Flow{ID: "scrape-proxies", From: prom, To: Peer{Any: true}, Ports: tcp(proxyPort), Only: only,
			Why: fmt.Sprintf("Prometheus scrapes every proxy's metrics port %d, in every namespace", proxyPort), Source: "mesh.scrapeStrategy", Ref: refIstioPrometheus})
		namespaces := p.TeamNamespaces()
		if p.Monitoring.InMesh && p.Mesh.Sidecar {
			namespaces = append(namespaces, p.Monitoring.Namespace)
		}
		if p.GlobalDeny() {
			namespaces = nil // the global rule above opens them all
		}
		for _, ns := range namespaces {
			source := srcInMesh
			if ns != p.Monitoring.Namespace {
				source = r.teamNamespacePath(ns)
			}
			out = append(out, Flow{ID: "scrape-proxy-" + ns, From: prom, To: Peer{Namespace: ns}, Ports: tcp(proxyPort), Only: SideDestination,
				Why: fmt.Sprintf("Prometheus scrapes the sidecars' metrics port %d", proxyPort), Source: source, Ref: refIstioPrometheus})
		}
	}
	ksm := Peer{Namespace: m.KubeStateMetrics.Namespace, Labels: m.KubeStateMetrics.PodLabels}
	out = append(out,
		Flow{ID: "scrape-kube-state-metrics", From: prom, To: ksm, Ports: tcp(m.KubeStateMetrics.Port),
			Why: "Prometheus scrapes kube-state-metrics", Source: "monitoring.kubeStateMetrics", Ref: refIstioPrometheus},
		Flow{ID: "kube-state-metrics-to-apiserver", From: ksm, To: Peer{CIDRs: c.APIServerCIDRs}, Ports: tcp(c.APIServerPort),
			Why: "kube-state-metrics watches the API server", Source: srcAPIServer, Ref: "github.com/kubernetes/kube-state-metrics README"},
		Flow{ID: "prometheus-to-apiserver", From: prom, To: Peer{CIDRs: c.APIServerCIDRs}, Ports: tcp(c.APIServerPort),
			Why: "Prometheus discovers targets through the API server and scrapes its metrics", Source: srcAPIServer, Ref: refPromKubeSD},
		Flow{ID: "prometheus-to-nodes", From: prom, To: Peer{CIDRs: c.NodeCIDRs}, Ports: tcp(PortKubelet, m.NodeExporter.Port),
			Why: "Prometheus scrapes kubelet, cAdvisor and node-exporter on the node addresses", Source: srcNodes, Ref: refIstioPrometheus},
		Flow{ID: "scrape-prometheus", From: prom, To: prom, Ports: tcp(PortPrometheus),
			Why: "Prometheus scrapes its own servers' metrics", Source: "monitoring.prometheus.podLabels"},
	)
	if p.Mesh.Istio {
		out = append(out, Flow{ID: "scrape-istiod", From: prom, To: Peer{Namespace: p.Mesh.IstioNamespace, Labels: IstiodLabels},
			Ports: tcp(PortIstiodMonitoring), Why: "Prometheus scrapes istiod's monitoring port", Source: srcMesh, Ref: refIstioPorts})
	}
	if p.Mesh.Ambient {
		out = append(out, Flow{ID: "scrape-ztunnel", From: prom, To: Peer{Namespace: p.Mesh.IstioNamespace, Labels: ZtunnelLabels},
			Ports: tcp(PortMergedMetrics), Why: "Prometheus scrapes ztunnel", Source: srcDataPlane, Ref: refIstioPorts})
	}
	return out
}

// ZtunnelLabels select ztunnel's pods (manifests/charts/ztunnel: app: ztunnel).
var ZtunnelLabels = Labels{{Name: "app", Value: "ztunnel"}}

// proxyMetricsPort is the proxy port the mesh jobs scrape, 15090
// (envoy-stats) or 15020 (istio-merged), or 0 without either job.
func (r *resolver) proxyMetricsPort() int { return proxyPortOf(r.plan.Jobs) }

// teamNamespacePath is the profile path that lists namespace ns.
func (r *resolver) teamNamespacePath(ns string) string {
	if path, ok := r.teamNamespacePaths()[ns]; ok {
		return path
	}
	return "teams"
}

// teamNamespacePaths maps each team namespace to the first profile path
// that lists it. Built once: the flows ask for every namespace, which
// scanning the teams made quadratic in their number.
func (r *resolver) teamNamespacePaths() map[string]string {
	if r.teamNamespaces != nil {
		return r.teamNamespaces
	}
	r.teamNamespaces = map[string]string{}
	for ti, t := range r.plan.Teams {
		for i, ns := range t.Namespaces {
			if _, ok := r.teamNamespaces[ns]; !ok {
				r.teamNamespaces[ns] = fmt.Sprintf("teams[%d].namespaces[%d]", ti, i)
			}
		}
	}
	return r.teamNamespaces
}

// stackFlows connect the monitoring stack's own parts: Grafana, its
// sidecar and operator, Alertmanager and its cluster, the Prometheus
// Operator.
func (r *resolver) stackFlows(prom Peer) []Flow {
	p := r.plan
	m, c := p.Monitoring, p.Cluster
	grafana := Peer{Namespace: m.Grafana.Namespace, Labels: m.Grafana.PodLabels}
	apiserver := Peer{CIDRs: c.APIServerCIDRs}
	var out []Flow
	for i, e := range p.Network.GrafanaIngress {
		out = append(out, Flow{ID: fmt.Sprintf("grafana-ingress-%d", i+1), From: e.Peer, To: grafana, Ports: tcp(m.Grafana.Port),
			Why: "users open Grafana (network.grafanaIngress)", Source: fmt.Sprintf("network.grafanaIngress[%d]", i)})
	}
	if p.Dashboards.Any() {
		out = append(out, Flow{ID: "grafana-to-apiserver", From: grafana, To: apiserver, Ports: tcp(c.APIServerPort),
			Why: "Grafana's dashboard sidecar watches the dashboard ConfigMaps through the API server", Source: srcDashboards, Ref: refK8sSidecar})
	}
	if op := p.Dashboards.Operator; op != nil {
		gop := Peer{Namespace: op.Namespace, Labels: op.PodLabels}
		out = append(out,
			Flow{ID: "grafana-operator-to-apiserver", From: gop, To: apiserver, Ports: tcp(c.APIServerPort),
				Why: "grafana-operator watches its resources through the API server", Source: "dashboards.grafanaOperator.enabled", Ref: refGrafanaOperator},
			Flow{ID: "grafana-operator-to-grafana", From: gop, To: grafana, Ports: tcp(m.Grafana.Port),
				Why: "grafana-operator imports the dashboards through Grafana's HTTP API", Source: "dashboards.grafanaOperator.enabled", Ref: refGrafanaOperator})
	}
	if m.OperatorFlavour {
		op := Peer{Namespace: m.PrometheusOperator.Namespace, Labels: m.PrometheusOperator.PodLabels}
		out = append(out, r.withoutRedundantPodWebhooks([]Flow{
			{ID: "prometheus-operator-to-apiserver", From: op, To: apiserver, Ports: tcp(c.APIServerPort),
				Why: "the Prometheus Operator watches its resources through the API server", Source: srcFlavours, Ref: refPromOperator},
			// As for istiod's webhooks, the API server's source address is
			// not predictable; the webhook is TLS the API server verifies.
			{ID: "prometheus-operator-webhook", From: Peer{CIDRs: Everywhere}, To: op, Ports: tcp(m.PrometheusOperator.Port),
				Why: "the API server calls the Prometheus Operator's admission webhook for PrometheusRules", Source: "monitoring.prometheusOperator.port", Ref: refPromOperatorWebhook},
			{ID: "prometheus-operator-webhook-from-pods", From: konnectivity, To: op, Ports: tcp(m.PrometheusOperator.Port), Only: SideDestination,
				Why: "the API server's webhook calls arrive through konnectivity pods", Source: "monitoring.prometheusOperator.port", Ref: refKonnectivity}})...)
	}
	if !m.Prometheus.Agent {
		am := Peer{Namespace: m.Alertmanager.Namespace, Labels: m.Alertmanager.PodLabels}
		out = append(out,
			Flow{ID: "prometheus-to-alertmanager", From: prom, To: am, Ports: tcp(m.Alertmanager.Port),
				Why: "Prometheus sends alerts to Alertmanager and scrapes its metrics", Source: "monitoring.alertmanager"},
			Flow{ID: "alertmanager-gossip", From: am, To: am, Ports: tcpAndUDP(PortAlertmanagerGossip),
				Why: "Alertmanager replicas gossip silences and notifications, so an alert is sent once", Source: "monitoring.alertmanager", Ref: refAMHA})
		for i, e := range p.Network.AlertmanagerIngress {
			out = append(out, Flow{ID: fmt.Sprintf("alertmanager-ingress-%d", i+1), From: e.Peer, To: am, Ports: tcp(m.Alertmanager.Port),
				Why:    "a ruler sends the alerts it evaluates to Alertmanager (network.alertmanagerIngress)",
				Source: fmt.Sprintf("network.alertmanagerIngress[%d]", i), Ref: refAMClients})
		}
		for i, e := range p.Network.AlertmanagerEgress {
			out = append(out, Flow{ID: fmt.Sprintf("alertmanager-egress-%d", i+1), From: am, To: e.Peer, Ports: tcp(e.Ports...),
				Why:    "Alertmanager delivers notifications to its receivers (network.alertmanagerEgress)",
				Source: fmt.Sprintf("network.alertmanagerEgress[%d]", i), Ref: refAlertmanager})
		}
	}
	return out
}

// endpointFlows reach what the profile names by URL or address: the
// remote-write endpoints, the dashboards' data source, and the global
// Prometheus that federates.
func (r *resolver) endpointFlows(prom Peer) []Flow {
	p := r.plan
	m := p.Monitoring
	var out []Flow
	for i, rw := range m.Prometheus.RemoteWrite {
		if !rw.Endpoint.Known() {
			continue // validation requires cidrs under a deny stance
		}
		out = append(out, Flow{ID: "remote-write-" + rw.Name, From: prom, To: r.narrow(rw.URL, rw.Endpoint), Ports: tcp(rw.Endpoint.Port),
			Why:    "Prometheus remote-writes to " + rw.URL,
			Source: fmt.Sprintf("monitoring.prometheus.remoteWrite[%d].url", i), Ref: refRemoteWrite})
	}
	grafana := Peer{Namespace: m.Grafana.Namespace, Labels: m.Grafana.PodLabels}
	if ds := p.Dashboards.Datasource; p.Dashboards.Any() && ds.Endpoint.Known() {
		to, id := r.narrow(ds.URL, ds.Endpoint), "grafana-to-datasource"
		if slices.Equal(to.Labels, prom.Labels) && to.Namespace == prom.Namespace {
			id = "grafana-to-prometheus"
		}
		out = append(out, Flow{ID: id, From: grafana, To: to, Ports: tcp(ds.Endpoint.Port),
			Why: "Grafana queries its data source " + ds.URL, Source: "dashboards.datasource.url", Ref: refGrafanaDS})
	}
	if f := p.Federation; f != nil {
		for i, s := range f.Sources {
			out = append(out, Flow{ID: fmt.Sprintf("federation-%d", i+1), From: s, To: prom, Ports: tcp(PortPrometheus),
				Why:    "the global Prometheus scrapes /federate",
				Source: fmt.Sprintf("monitoring.prometheus.federation.sources[%d]", i), Ref: refFederation})
		}
	}
	return out
}

// narrow picks the Prometheus pods out of an in-cluster endpoint whose
// host is the Prometheus Service in the monitoring namespace.
func (r *resolver) narrow(raw string, e NetEndpoint) Peer {
	m := r.plan.Monitoring
	if e.InCluster && e.Peer.Namespace == m.Namespace && e.Port == PortPrometheus && serviceName(raw) == m.Prometheus.Name {
		return r.prometheusPeer()
	}
	return e.Peer
}

// meshFlows keep the mesh alive: every proxy (sidecars, gateways,
// ztunnel, waypoints, in any namespace) reaches istiod for configuration
// and certificates, the API server reaches istiod's webhooks, and istiod
// reaches the API server.
func (r *resolver) meshFlows() []Flow {
	p := r.plan
	if !p.Mesh.Istio {
		return nil
	}
	istiod := Peer{Namespace: p.Mesh.IstioNamespace, Labels: IstiodLabels}
	return r.withoutRedundantPodWebhooks(append([]Flow{
		// istiod authenticates xDS and CSR callers itself (mTLS or a
		// service-account token), so 15012 is opened by port to every pod.
		{ID: "xds", From: Peer{Any: true}, To: istiod, Ports: tcp(PortIstiodXDS),
			Why: "every proxy (sidecars, gateways, ztunnel, waypoints) fetches configuration and certificates from istiod", Source: srcMesh, Ref: refIstioPorts},
		// The API server's source address is not predictable (konnectivity,
		// IPIP/VXLAN overlays, managed control planes), and the webhook is
		// TLS with a CA the API server checks, so 15017 is open by port.
		{ID: "webhooks", From: Peer{CIDRs: Everywhere}, To: istiod, Ports: tcp(PortIstiodWebhook),
			Why: "the API server calls istiod's injection and validation webhooks", Source: srcMesh, Ref: refIstioPorts},
		// On AKS and GKE the calls arrive from konnectivity-agent pods in
		// kube-system (tigera/operator#5212), which an address range may
		// not match.
		{ID: "webhooks-from-pods", From: konnectivity, To: istiod, Ports: tcp(PortIstiodWebhook), Only: SideDestination,
			Why: "the API server's webhook calls arrive through konnectivity pods", Source: srcMesh, Ref: refKonnectivity},
		{ID: "istiod-to-apiserver", From: istiod, To: Peer{CIDRs: p.Cluster.APIServerCIDRs}, Ports: tcp(p.Cluster.APIServerPort),
			Why: "istiod watches the API server", Source: srcAPIServer, Ref: refIstioPorts},
	}, r.istioCSRFlows()...))
}

// refIstioCSR is istio-csr's documentation: every proxy's caAddress is
// istio-csr's Service, istiod's CA server is off, and istio-csr signs
// through cert-manager's CertificateRequests.
const refIstioCSR = "cert-manager.io docs/usage/istio-csr; cert-manager/istio-csr deploy/charts/istio-csr (Service port 443 to app.server.serving.port 6443)"

// istioCSRFlows: with istio-csr as the mesh's CA, every proxy asks it for
// its certificate, as it asks istiod for configuration (xds: istio-csr
// authenticates callers by their service-account token itself, so the
// port is opened to every pod), and istio-csr creates CertificateRequests
// and reads the namespaces' trust bundles through the API server.
func (r *resolver) istioCSRFlows() []Flow {
	p := r.plan
	c := p.Mesh.IstioCSR
	if c == nil {
		return nil
	}
	return []Flow{
		{ID: "istio-csr", From: Peer{Any: true}, To: c.Pods, Ports: tcp(c.Port),
			Why: "every proxy (sidecars, gateways, ztunnel, waypoints) gets its workload certificate from istio-csr", Source: "mesh.istioCSR", Ref: refIstioCSR},
		{ID: "istio-csr-to-apiserver", From: c.Pods, To: Peer{CIDRs: p.Cluster.APIServerCIDRs}, Ports: tcp(p.Cluster.APIServerPort),
			Why: "istio-csr creates CertificateRequests and watches the API server", Source: srcAPIServer, Ref: refIstioCSR},
	}
}

// withoutRedundantPodWebhooks leaves out, under Calico, the webhook flows
// from every pod: a Calico rule's nets match workload addresses too
// (docs.tigera.io calico/latest/reference/resources/networkpolicy, "nets"),
// so the flow from 0.0.0.0/0 and ::/0 already covers konnectivity pods. A
// NetworkPolicy ipBlock may not match pods (the behaviour is left to the
// implementation), nor can an AdminNetworkPolicy ingress peer be a range.
func (r *resolver) withoutRedundantPodWebhooks(flows []Flow) []Flow {
	if r.plan.Network.Engine != v1alpha1.EngineCalico {
		return flows
	}
	return slices.DeleteFunc(flows, func(f Flow) bool { return strings.HasSuffix(f.ID, "-from-pods") })
}

// enrolledNamespace is a namespace whose pods ambientFlows give HBONE and
// probes, named for the flows' IDs, with the profile field that enrolls it.
type enrolledNamespace struct {
	id, source string
	peer       Peer
}

// hboneNamespaces are the namespaces whose every pod gets HBONE both ways
// and ambient's probes: the teams', and the monitoring namespace when the
// stack is in the mesh (it may be enrolled as a whole; obsgen's pod label
// enrolls Prometheus in any case).
func (r *resolver) hboneNamespaces() []enrolledNamespace {
	p := r.plan
	var out []enrolledNamespace
	for _, ns := range p.TeamNamespaces() {
		out = append(out, enrolledNamespace{id: ns, source: r.teamNamespacePath(ns), peer: Peer{Namespace: ns}})
	}
	if p.Monitoring.InMesh {
		out = append(out, enrolledNamespace{id: p.Monitoring.Namespace, source: srcInMesh, peer: Peer{Namespace: p.Monitoring.Namespace}})
	}
	return out
}

// ambientFlows are ambient's HBONE tunnel and kubelet probes for every
// enrolled namespace: the teams', and the monitoring namespace when the
// stack is in the mesh.
func (r *resolver) ambientFlows(prom Peer) []Flow {
	p := r.plan
	if !p.Mesh.Ambient {
		return nil
	}
	var out []Flow
	for _, e := range r.hboneNamespaces() {
		out = append(out,
			// The senders are enrolled pods, whose egress their own
			// hbone-out flow opens.
			Flow{ID: "hbone-in-" + e.id, From: Peer{Any: true}, To: e.peer, Ports: tcp(PortHBONE), Only: SideDestination,
				Why: "ambient traffic from the mesh's pods arrives over HBONE on 15008", Source: e.source, Ref: refAmbientNetpol},
			// ztunnel sends from inside the source pod's network namespace,
			// so the sender's egress must allow 15008 too; each receiver
			// opens its own ingress (hbone-in).
			Flow{ID: "hbone-out-" + e.id, From: e.peer, To: Peer{Any: true}, Ports: tcp(PortHBONE), Only: SideSource,
				Why: "ambient traffic leaves the mesh's pods over HBONE on 15008", Source: e.source, Ref: refAmbientNetpol},
			// Every port: a probe may target any container port.
			Flow{ID: "probes-" + e.id, From: Peer{CIDRs: KubeletProbesAmbient}, To: e.peer,
				Why: "in ambient, kubelet probes arrive from 169.254.7.127, on any port", Source: e.source, Ref: refAmbientNetpol})
	}
	return out
}

// gatewayFlows keep every declared gateway's traffic: from its sources on
// its ports and its status port, to every pod (its backends) and to its
// destinations, and Prometheus' scrape of its proxy.
func (r *resolver) gatewayFlows(prom Peer) []Flow {
	var out []Flow
	for gi, g := range r.plan.Mesh.Gateways {
		gw := Peer{Namespace: g.Namespace, Labels: g.PodLabels}
		src := fmt.Sprintf("mesh.gateways[%d]", gi)
		ports := tcp(append(slices.Clone(g.Ports), PortGatewayStatus)...)
		for i, s := range g.Sources {
			out = append(out, Flow{ID: fmt.Sprintf("gateway-%s-in-%d", g.Name, i+1), From: s, To: gw, Ports: ports,
				Why: "clients and load-balancer health checks reach the gateway " + g.Name, Source: src, Ref: refIstioGateway})
		}
		// The backends' own policies decide whether they accept the
		// gateway; obsgen opens the gateway's side only.
		if len(g.Destinations) == 0 {
			// An ingress gateway forwards to the mesh's pods; an egress
			// gateway (one with destinations) only to them.
			out = append(out, Flow{ID: fmt.Sprintf("gateway-%s-backends", g.Name), From: gw, To: Peer{Any: true}, Only: SideSource,
				Why: "the gateway " + g.Name + " forwards to its backends, on their ports", Source: src, Ref: refIstioGateway})
		}
		for i, d := range g.Destinations {
			out = append(out, Flow{ID: fmt.Sprintf("gateway-%s-out-%d", g.Name, i+1), From: gw, To: d.Peer, Ports: tcp(d.Ports...),
				Why: "the gateway " + g.Name + " reaches its destinations", Source: fmt.Sprintf("%s.destinations[%d]", src, i), Ref: refIstioGateway})
		}
		// The istio-gateways job scrapes each declared gateway; when its
		// port is the one scrape-proxies opens to every pod, Prometheus'
		// egress comes from there.
		port := r.jobPort(JobGateways)
		scrape := Flow{ID: "scrape-gateway-" + g.Name, From: prom, To: gw, Ports: tcp(port),
			Why: fmt.Sprintf("Prometheus scrapes the gateway's proxy on %d (istio-gateways)", port), Source: src, Ref: refGatewayMetrics}
		if port == r.proxyMetricsPort() {
			scrape.Only = SideDestination
		}
		out = append(out, scrape)
	}
	return out
}

// jobPort is the port the plan's job of kind scrapes, or 0 without one.
func (r *resolver) jobPort(kind JobKind) int {
	for _, j := range r.plan.Jobs {
		if j.Kind == kind {
			return j.Endpoint.Port
		}
	}
	return 0
}

// isWaypoint tells whether a peer is a waypoint's pods.
func isWaypoint(p Peer) bool {
	_, ok := p.Labels.Get(WaypointLabel)
	return ok && p.IsPods()
}

// waypointFlows keep every declared waypoint working and scraped.
//
// Prometheus scrapes it on 15020 (istio-waypoints): the waypoint is not
// enrolled, so the scrape travels on 15020 even from an enrolled
// Prometheus, and it needs its own flow wherever the waypoint runs.
//
// Its mesh traffic is HBONE on 15008 both ways: clients' ztunnels send
// from inside the client pods' network namespaces to the waypoint's
// 15008, and the waypoint re-encapsulates to the destination pods'
// ztunnel on 15008. In an enrolled namespace (hboneNamespaces) the
// namespace's hbone-in and hbone-out flows already open both for every
// pod, the waypoint's included; elsewhere (Istio's namespace, a namespace
// of its own under a global deny) the waypoint gets its own: 15008 in from
// every pod, and 15008 out to the namespaces it serves, whose own hbone-in
// opens their side.
//
// Two needs have no flow of their own. istiod's 15012 (the waypoint's
// CA_ADDR and discovery address, files/waypoint.yaml) is the xds flow,
// open from every pod. Kubelet probes of its 15021 (readinessProbe and
// startupProbe in files/waypoint.yaml) come from the node's own address:
// ambient rewrites probes to 169.254.7.127 only for pods in the CNI's
// istio-inpod-probes set, the enrolled ones (cni/pkg/iptables/iptables.go),
// and a waypoint is not enrolled; traffic from a pod's own node is always
// allowed by NetworkPolicy (kubernetes.io docs/concepts/services-networking/
// network-policies, "traffic to and from the node where a Pod is running is
// always allowed") and by Calico (projectcalico/calico#1683: a deny still
// lets in "traffic coming from the host it lives on").
func (r *resolver) waypointFlows(prom Peer) []Flow {
	hbone := map[string]bool{}
	for _, e := range r.hboneNamespaces() {
		hbone[e.peer.Namespace] = true
	}
	var out []Flow
	for wi, w := range r.plan.Mesh.Waypoints {
		wp := Peer{Namespace: w.Namespace, Labels: w.PodLabels}
		id := w.Namespace + "-" + w.Name
		src := fmt.Sprintf("mesh.waypoints[%d]", wi)
		out = append(out, Flow{ID: "scrape-waypoint-" + id, From: prom, To: wp, Ports: tcp(r.jobPort(JobWaypoints)),
			Why: fmt.Sprintf("Prometheus scrapes the waypoint %s/%s on %d (istio-waypoints)", w.Namespace, w.Name, r.jobPort(JobWaypoints)), Source: src, Ref: refWaypointMetrics})
		if hbone[w.Namespace] {
			continue
		}
		// The senders are enrolled pods, whose egress their own
		// hbone-out flow opens.
		out = append(out, Flow{ID: "waypoint-" + id + "-hbone-in", From: Peer{Any: true}, To: wp, Ports: tcp(PortHBONE), Only: SideDestination,
			Why: "clients' ztunnels send the traffic of the waypoint's services to it over HBONE on 15008", Source: src, Ref: refWaypointHBONE})
		for _, ns := range w.Namespaces {
			out = append(out, Flow{ID: "waypoint-" + id + "-to-" + ns, From: wp, To: Peer{Namespace: ns}, Ports: tcp(PortHBONE), Only: SideSource,
				Why: "the waypoint forwards its services' traffic to their pods' ztunnel over HBONE on 15008", Source: src + ".namespaces", Ref: refWaypointHBONE})
		}
	}
	return out
}

// konnectivity is where konnectivity-agent runs on AKS and GKE: the API
// server's calls to webhooks arrive from its pods.
var konnectivity = Peer{Namespace: SystemNamespace}

// PortGatewayStatus is the gateways' readiness port (status-port 15021),
// which cloud load balancers health-check.
const PortGatewayStatus = 15021

// dnsFlows let every covered namespace resolve names: the DNS pods on
// their port, and DNS addresses outside the pods (NodeLocal DNSCache) on
// 53. A global deny holds the DNS egress itself, as Calico's
// documentation writes it.
func (r *resolver) dnsFlows() []Flow {
	dns := r.plan.Network.DNS
	if r.plan.GlobalDeny() {
		return nil
	}
	var out []Flow
	for _, ns := range r.plan.Covered {
		out = append(out, Flow{ID: "dns-" + ns, From: Peer{Namespace: ns}, To: Peer{Namespace: dns.Namespace, Labels: dns.PodLabels},
			Ports: tcpAndUDP(dns.Port), Why: "every pod resolves names through the cluster DNS", Source: "network.dns", Ref: refKubeDNS})
		if cidrs := r.plan.Network.DNSCIDRs; len(cidrs) > 0 {
			out = append(out, Flow{ID: "dns-local-" + ns, From: Peer{Namespace: ns}, To: Peer{CIDRs: cidrs},
				Ports: tcpAndUDP(PortDNS), Why: "every pod resolves names through the node-local DNS cache", Source: "network.dns.cidrs", Ref: refNodeLocalDNS})
		}
	}
	return out
}

// kialiFlows are Kiali's connections: users open it; it queries the
// data source the dashboards query, reads the cluster (and reaches
// istiod's and the proxies' admin ports through the API server's
// port-forward), reads istiod's version on 15014, lists the dashboards
// through Grafana's API and reads traces from the query service.
func (r *resolver) kialiFlows(prom Peer) []Flow {
	p := r.plan
	k := p.Kiali
	if k == nil {
		return nil
	}
	kiali := Peer{Namespace: k.Namespace, Labels: k.PodLabels}
	var out []Flow
	for i, e := range k.Ingress {
		out = append(out, Flow{ID: fmt.Sprintf("kiali-ingress-%d", i+1), From: e.Peer, To: kiali, Ports: tcp(k.Port),
			Why: "users open Kiali (kiali.ingress)", Source: fmt.Sprintf("kiali.ingress[%d]", i), Ref: refKialiConfig})
	}
	out = append(out,
		Flow{ID: "kiali-to-apiserver", From: kiali, To: Peer{CIDRs: p.Cluster.APIServerCIDRs}, Ports: tcp(p.Cluster.APIServerPort),
			Why: "Kiali reads the mesh's configuration and workloads, and reaches istiod's and the proxies' admin ports by port-forward, through the API server", Source: "kiali.enabled", Ref: refKialiAPI},
		Flow{ID: "kiali-to-istiod", From: kiali, To: Peer{Namespace: p.Mesh.IstioNamespace, Labels: IstiodLabels}, Ports: tcp(PortIstiodMonitoring),
			Why: "Kiali reads istiod's version on its monitoring port", Source: "kiali.enabled", Ref: refKialiIstiod})
	if e := k.Prometheus.Endpoint; e.Known() {
		to, id := r.narrow(k.Prometheus.URL, e), "kiali-to-datasource"
		if slices.Equal(to.Labels, prom.Labels) && to.Namespace == prom.Namespace {
			id = "kiali-to-prometheus"
		}
		out = append(out, Flow{ID: id, From: kiali, To: to, Ports: tcp(e.Port),
			Why: "Kiali queries the metrics of its graph and health from " + k.Prometheus.URL, Source: "dashboards.datasource.url", Ref: refKialiConfig})
	}
	if k.GrafanaURL != "" {
		g := p.Monitoring.Grafana
		out = append(out, Flow{ID: "kiali-to-grafana", From: kiali, To: Peer{Namespace: g.Namespace, Labels: g.PodLabels}, Ports: tcp(g.Port),
			Why: "Kiali finds the dashboards it links to through Grafana's API", Source: "kiali.enabled", Ref: refKialiConfig})
	}
	if op := k.Operator; op != nil {
		out = append(out, Flow{ID: "kiali-operator-to-apiserver", From: Peer{Namespace: op.Namespace, Labels: op.PodLabels},
			To: Peer{CIDRs: p.Cluster.APIServerCIDRs}, Ports: tcp(p.Cluster.APIServerPort),
			Why: "the Kiali operator watches its Kiali resources and deploys Kiali through the API server", Source: "kiali.install", Ref: refKialiOperator})
	}
	if t := p.Tracing; t != nil && t.Query != nil && t.Query.Endpoint.Known() {
		out = append(out, Flow{ID: "kiali-to-tracing", From: kiali, To: t.Query.Endpoint.Peer, Ports: tcp(t.Query.Endpoint.Port),
			Why: "Kiali reads traces from " + t.Query.URL, Source: "tracing.query.url", Ref: refKialiConfig})
	}
	return out
}

// tracingFlows carry spans: every proxy that reports them (sidecars,
// gateways and waypoints, in any namespace) to the collector, and the
// collector to its stores.
func (r *resolver) tracingFlows() []Flow {
	t := r.plan.Tracing
	if t == nil {
		return nil
	}
	collector := Peer{Namespace: t.Collector.Namespace, Labels: t.Collector.PodLabels}
	out := []Flow{{ID: "tracing-spans", From: Peer{Any: true}, To: collector, Ports: tcp(t.Collector.Port),
		Why: fmt.Sprintf("every proxy exports its spans to the collector (%s on %d)", t.Protocol, t.Collector.Port), Source: "tracing.collector", Ref: refTracingSpans}}
	for i, b := range t.Backends {
		out = append(out, Flow{ID: fmt.Sprintf("tracing-backend-%d", i+1), From: collector, To: b.Peer, Ports: tcp(b.Ports...),
			Why: "the collector exports spans to the tracing store", Source: fmt.Sprintf("tracing.backends[%d]", i), Ref: refTracingBackend})
	}
	return out
}
