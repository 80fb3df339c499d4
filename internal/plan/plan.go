// Package plan resolves a validated profile into the facts every generator
// shares: defaults, the scrape strategy and why, the scrape jobs with their
// ports and schemes, selectors, names and labels. Generators read the plan,
// never the profile, so every artifact agrees on each decision.
package plan

import (
	"time"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// Plan is the resolved, sorted form of a profile.
type Plan struct {
	Name           string
	Cluster        Cluster
	Mesh           Mesh
	Scrape         Scrape
	Monitoring     Monitoring
	Network        Network
	Teams          []Team
	ExternalLabels Labels
	// Jobs are the scrape jobs in the order they appear in prometheus.yml.
	Jobs []Job
	// ServiceTargets are every team service in the order the team-services
	// job tags them: services without a selector first, so a service with
	// a selector in the same namespace wins.
	ServiceTargets []Service
	// Covered are the namespaces the network policies lock down, sorted.
	Covered []string
	// Flows are the connections the monitoring stack needs.
	Flows []Flow
	// Federation is set when a global Prometheus federates from this one.
	Federation *Federation
	// Alerting owns and routes the cluster-wide alerts and tunes the rest.
	Alerting Alerting
	// Rules says where the rules are evaluated.
	Rules Rules
	// Claimed are the pods dedicated jobs scrape; the annotation-driven jobs
	// drop them so no target is scraped twice.
	Claimed []PodSelector
	// ClaimGroups are Claimed grouped by label keys: one drop rule each.
	ClaimGroups []ClaimGroup
	// ProxyClaimGroups group the claimed pods whose proxy a dedicated job
	// scrapes (declared gateways and waypoints): envoy-stats, which keeps
	// every http-envoy-prom port, drops these (and not the team services'
	// pods, whose Envoy it still scrapes).
	ProxyClaimGroups []ClaimGroup
	// Dashboards are the Grafana dashboards to generate.
	Dashboards Dashboards
	// Kiali and Tracing are set when their sections are enabled (Istio
	// only).
	Kiali   *Kiali
	Tracing *Tracing
}

// ClaimGroup holds claimed pod selectors that use the same label keys.
type ClaimGroup struct {
	// Keys are the label names, sorted.
	Keys []string
	// Matches hold, per selector, the namespace and then the values of Keys.
	Matches [][]string
}

// Cluster is the resolved cluster description.
type Cluster struct {
	Name           string
	APIServerCIDRs []string
	APIServerPort  int
	NodeCIDRs      []string
	PodCIDR        string
}

// Mesh is the resolved mesh description.
type Mesh struct {
	Istio   bool
	Sidecar bool // Istio with the sidecar data plane
	Ambient bool // Istio with the ambient data plane
	MTLS    v1alpha1.MTLSMode
	// Version is the Istio release (mesh.version, major.minor).
	Version        string
	IstioNamespace string
	MetricsMerging bool
	// DenyByDefault tells that an allow-nothing AuthorizationPolicy exists.
	DenyByDefault bool
	TrustDomain   string
	// DefaultPeerAuthentications tells obsgen to own the `default`
	// PeerAuthentications (mesh-wide and per team namespace);
	// WorkloadPeerAuthentications, the workload port exceptions.
	DefaultPeerAuthentications  bool
	WorkloadPeerAuthentications bool
	// Gateways are the declared ingress and egress gateways.
	Gateways []Gateway
	// Waypoints are the declared ambient waypoints.
	Waypoints []Waypoint
	// IstioCSR is the certificate authority the proxies call instead of
	// istiod's (mesh.istioCSR), or nil.
	IstioCSR *IstioCSR
	// RequestReporter is the `reporter` of the request metrics obsgen
	// reads for a service: "destination" (the destination's sidecar), or
	// "waypoint" in ambient, where only waypoints see requests.
	RequestReporter string
}

// IstiodCA tells whether istiod signs the workload certificates and so
// exports its CA metrics (citadel_server_*, security/pkg/server/ca/
// monitoring.go): Istio without istio-csr, which runs istiod with
// ENABLE_CA_SERVER=false (cert-manager.io docs/usage/istio-csr), when
// istiod registers no CA (pilot/pkg/bootstrap/server.go maybeCreateCA).
func (m Mesh) IstiodCA() bool { return m.Istio && m.IstioCSR == nil }

// IstioCSR is cert-manager's istio-csr: its pods and the pod port it
// serves certificate requests on.
type IstioCSR struct {
	Pods Peer
	Port int
}

// Waypoint is a declared ambient waypoint.
type Waypoint struct {
	Name      string
	Namespace string
	// Namespaces are those whose services use the waypoint.
	Namespaces []string
	// PodLabels select the waypoint's pods.
	PodLabels Labels
}

// WaypointLabel is the label Istio's gateway controller puts on a
// waypoint's pods: the Gateway's name (Gateway API GEP-1762; istio
// pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go
// GatewayNameLabel, and the Deployment's selector in istio-discovery
// files/waypoint.yaml).
const WaypointLabel = "gateway.networking.k8s.io/gateway-name"

// Gateway is a declared Istio gateway.
type Gateway struct {
	Name      string
	Namespace string
	PodLabels Labels
	Ports     []int
	// Sources may reach Ports (default: every pod and every address).
	Sources []Peer
	// Destinations are outside addresses the gateway sends to.
	Destinations []ExternalPeer
}

// Scrape holds the global scrape settings and the chosen strategy.
type Scrape struct {
	Strategy           v1alpha1.ScrapeStrategy
	Reason             string
	Interval           string
	Timeout            string
	EvaluationInterval string
	// Shards is how many Prometheus servers split the targets; 1 means no
	// sharding.
	Shards int
	// TLS holds the Istio certificate files, set only for istio-certs.
	TLS *TLSFiles
}

// TLSFiles are where the Prometheus container reads Istio's certificates.
type TLSFiles struct {
	MountPath string
	CAFile    string
	CertFile  string
	KeyFile   string
}

// Monitoring is the resolved monitoring stack.
type Monitoring struct {
	Namespace       string
	RunbookBaseURL  string
	InMesh          bool
	RawFlavour      bool
	OperatorFlavour bool
	// ScrapeClasses tells that the operator's scrape classes carry TLS
	// files to ScrapeConfigs (monitoring.operatorVersion 0.74 or later).
	ScrapeClasses bool
	// ScrapeConfigJobName tells that a ScrapeConfig names its job
	// (spec.jobName, 0.75 or later); before, the job is named by a last
	// relabeling, as in the monitors.
	ScrapeConfigJobName bool
	// PodMonitorPortNumber tells that a PodMonitor endpoint takes
	// portNumber (0.79 or later); before, targetPort.
	PodMonitorPortNumber bool
	// AlertmanagerRelabelings tells that the Prometheus resource's
	// Alertmanager endpoints take alertRelabelings (0.74 or later).
	AlertmanagerRelabelings bool
	Prometheus              Prometheus
	Alertmanager            Component
	Grafana                 Component
	KubeStateMetrics        Component
	NodeExporter            Component
	// PrometheusOperator locates the operator (operator flavour).
	PrometheusOperator Component
}

// Prometheus is the resolved Prometheus server.
type Prometheus struct {
	Name string
	// Agent tells that Prometheus runs in agent mode: no rules, no alerting.
	Agent          bool
	RemoteWrite    []RemoteWrite
	Workload       string // StatefulSet or Deployment
	ServiceAccount string
	PodLabels      Labels
	// PodAnnotations are what the Prometheus pods need for the strategy.
	PodAnnotations Labels
	// PodLabels for the mesh: ambient enrollment of the Prometheus pods.
	MeshPodLabels Labels
	// CertsVolume is the volume of the mesh certificates Prometheus
	// presents (istio-certs and secure-port; empty otherwise): in memory,
	// filled by the cert-writing sidecar, or CertsSecret's.
	CertsVolume string
	// CertsSecret is the Secret a cert-manager Certificate writes the
	// certificates to (istioCertificates.source cert-manager), else "".
	CertsSecret string
	// CertIssuer is the cert-manager issuer of that Certificate.
	CertIssuer *CertIssuer
	// RuleLookback is the longest history the rules this Prometheus
	// evaluates read (RuleLookback); 0 for an agent.
	RuleLookback time.Duration
	// Retention is the operator flavour's spec.retention: the profile's,
	// else RuleLookback when the operator's default keeps less, else ""
	// (the operator's default, 24h).
	Retention string
	// RawRetention is the --storage.tsdb.retention.time the raw flavour
	// asks the Prometheus it configures to run with: the profile's, else
	// RuleLookback when Prometheus' own default (15d) keeps less, else "".
	RawRetention string
	// Storage is each pod's persistent volume claim; nil: an emptyDir.
	Storage *Storage
}

// CertWriter tells whether an istio-proxy sidecar that only writes
// certificates runs next to Prometheus (it intercepts no inbound port).
func (p Prometheus) CertWriter() bool { return p.CertsVolume != "" && p.CertsSecret == "" }

// CertIssuer is a cert-manager issuer reference.
type CertIssuer struct {
	Name, Kind, Group string
}

// Federation is what a global Prometheus needs to federate from this one.
type Federation struct {
	// Targets are the addresses the global Prometheus scrapes /federate on.
	Targets []string
	// Metrics are the Istio standard metrics aggregated to workload level.
	Metrics []string
	// Sources are where the global Prometheus scrapes /federate from.
	Sources []Peer
}

// IstioStandardMetrics are the series of Istio's standard metrics
// (istio.io, docs/reference/config/metrics), histograms as their series.
var IstioStandardMetrics = []string{
	"istio_requests_total",
	"istio_request_duration_milliseconds_bucket", "istio_request_duration_milliseconds_count", "istio_request_duration_milliseconds_sum",
	"istio_request_bytes_bucket", "istio_request_bytes_count", "istio_request_bytes_sum",
	"istio_response_bytes_bucket", "istio_response_bytes_count", "istio_response_bytes_sum",
	"istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total",
	"istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total",
}

// IstioDurationBucketsMs are the whole-millisecond boundaries of Istio's
// istio_request_duration_milliseconds histogram (the proxy's default
// buckets: 0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
// 30000, 60000, 300000, 600000, 1800000, 3600000). A latency objective's
// threshold must be one of them.
var IstioDurationBucketsMs = []int{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// RemoteWrite is a remote-write endpoint with its queue settings (zero
// values keep Prometheus' defaults).
type RemoteWrite struct {
	Name              string
	URL               string
	Headers           Labels
	Capacity          int
	MinShards         int
	MaxShards         int
	MaxSamplesPerSend int
	BatchSendDeadline string
	// Endpoint is where the URL leads, for network policies.
	Endpoint NetEndpoint
}

// Component locates a piece of the monitoring stack.
type Component struct {
	Namespace string
	PodLabels Labels
	Port      int
	Service   string
}

// Network is the resolved network-policy stance.
type Network struct {
	Stance v1alpha1.NetworkStance
	Engine v1alpha1.NetworkEngine
	// Policies is the engine whose policies obsgen writes and proves, the
	// one place that decides it: Engine, or none under the open stance
	// (validation allows global-deny with Calico only, and the
	// AdminNetworkPolicy engine with default-deny only).
	Policies v1alpha1.NetworkEngine
	DNS      Component
	// DNSCIDRs are DNS addresses outside the pods (NodeLocal DNSCache),
	// queried on port 53.
	DNSCIDRs []string
	// GrafanaIngress may open Grafana; AlertmanagerEgress receive
	// Alertmanager's notifications; AlertmanagerIngress send it alerts
	// besides Prometheus (a ruler).
	GrafanaIngress      []ExternalPeer
	AlertmanagerEgress  []ExternalPeer
	AlertmanagerIngress []ExternalPeer
	Calico              Calico
	// ANPPriority is the priority of obsgen's AdminNetworkPolicies.
	ANPPriority int
	// ManageBaseline tells obsgen to write the BaselineAdminNetworkPolicy.
	ManageBaseline bool
}

// ExternalPeer is a party outside the monitoring stack, with the ports it
// serves (egress destinations only).
type ExternalPeer struct {
	Peer
	Ports []int
}

// Calico holds the settings of the calico engine.
type Calico struct {
	// Order of obsgen's allow policies.
	Order int
	// ManageDeny tells obsgen to write the global deny-all.
	ManageDeny bool
	// DenyOrder is the deny-all's order.
	DenyOrder int
	// Excluded are the namespaces the global deny leaves alone.
	Excluded []string
}

// Team is a resolved team.
type Team struct {
	Name              string
	Namespaces        []string
	Receiver          string
	SeverityReceivers Labels
	AlertLabels       Labels
	// DisabledAlerts are the alerts the team gets none of.
	DisabledAlerts []string
	// Overrides change alerts (by name) for this team only.
	Overrides map[string]Override
	Services  []Service
}

// Service is a resolved team service.
type Service struct {
	Team      string
	Name      string
	Namespace string
	Selector  Labels
	AppPort   int
	AppPath   string
	// Job is the job label of this service's targets: <team>/<service>.
	Job string
	// Endpoint is what Prometheus scrapes for this service's metrics.
	Endpoint Endpoint
	// Why explains the endpoint in plain words.
	Why  string
	SLOs SLOs
	// Waypoint is the ambient waypoint that sees the service's requests
	// ("" with sidecars, or in ambient when none serves its namespace:
	// then no request metrics exist for it).
	Waypoint string
}

// SLOs are a service's objectives; nil pointers mean none.
type SLOs struct {
	Availability *AvailabilitySLO
	Latency      *LatencySLO
}

// AvailabilitySLO is an availability objective in percent.
type AvailabilitySLO struct{ Target float64 }

// LatencySLO is a latency objective: Target percent under ThresholdMs.
type LatencySLO struct {
	ThresholdMs int
	Target      float64
}

// Endpoint is a port, path and scheme Prometheus scrapes.
type Endpoint struct {
	Port   int
	Path   string
	Scheme string
	// IstioTLS tells that the scrape presents Istio certificates.
	IstioTLS bool
}

// PodSelector selects pods by namespace and labels.
type PodSelector struct {
	Namespace string
	Labels    Labels
}

// Label is a name and a value.
type Label struct {
	Name  string
	Value string
}

// Labels is a list of labels sorted by name.
type Labels []Label

// Map returns the labels as a map, nil when there are none.
func (l Labels) Map() map[string]string {
	if len(l) == 0 {
		return nil
	}
	m := make(map[string]string, len(l))
	for _, lb := range l {
		m[lb.Name] = lb.Value
	}
	return m
}

// Values lists the label values in name order.
func (l Labels) Values() []string { return l.each(func(lb Label) string { return lb.Value }) }

// Get returns the value of the label name and whether it is set.
func (l Labels) Get(name string) (string, bool) {
	for _, lb := range l {
		if lb.Name == name {
			return lb.Value, true
		}
	}
	return "", false
}

// Names lists the label names in order.
func (l Labels) Names() []string { return l.each(func(lb Label) string { return lb.Name }) }

func (l Labels) each(f func(Label) string) []string {
	out := make([]string, len(l))
	for i, lb := range l {
		out[i] = f(lb)
	}
	return out
}

// Values lists the namespace, then the label values in name order: what a
// relabel rule over [namespace, labels...] source labels matches.
func (s PodSelector) Values() []string {
	return append([]string{s.Namespace}, s.Labels.Values()...)
}

// SelectorValues lists the namespace, then the selector's values: what the
// team-services rule over [namespace, selector labels...] matches.
func (s Service) SelectorValues() []string {
	return PodSelector{Namespace: s.Namespace, Labels: s.Selector}.Values()
}

// CanonicalService is the Istio canonical service of a team service: what
// destination_canonical_service holds for its pods. Istio takes it from
// the pod's service.istio.io/canonical-name, app.kubernetes.io/name or app
// label; obsgen reads those from the service's selector and falls back to
// the service name.
func (s Service) CanonicalService() string {
	if name, ok := s.LabeledCanonicalService(); ok {
		return name
	}
	return s.Name
}

// LabeledCanonicalService is the canonical service a label of the
// service's selector names, in Istio's order (istio/istio
// pkg/kube/labels/labels.go, nameLabels), and whether one does: without
// such a label Istio names it after the workload, which the profile does
// not know.
func (s Service) LabeledCanonicalService() (string, bool) {
	for _, key := range []string{"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"} {
		if v, ok := s.Selector.Get(key); ok {
			return v, true
		}
	}
	return "", false
}
