package v1alpha1

// APIVersion and Kind identify an obsgen profile document.
const (
	APIVersion = "obsgen.dev/v1alpha1"
	Kind       = "Profile"
)

// Profile describes one cluster's observability stack: where monitoring runs,
// how the mesh secures traffic, how the network is locked down and which teams
// own which namespaces and services. obsgen generates every artifact from it.
type Profile struct {
	// APIVersion must be obsgen.dev/v1alpha1.
	APIVersion string `yaml:"apiVersion" json:"apiVersion" jsonschema:"required,enum=obsgen.dev/v1alpha1"`
	// Kind must be Profile.
	Kind string `yaml:"kind" json:"kind" jsonschema:"required,enum=Profile"`
	// Metadata names the profile.
	Metadata Metadata `yaml:"metadata" json:"metadata" jsonschema:"required"`
	// Cluster describes the Kubernetes cluster.
	Cluster Cluster `yaml:"cluster,omitempty" json:"cluster,omitempty"`
	// Mesh describes the service mesh and how Prometheus gets past its mTLS.
	Mesh Mesh `yaml:"mesh,omitempty" json:"mesh,omitempty"`
	// Monitoring describes where Prometheus, Alertmanager, Grafana and the
	// exporters run, and which output flavours obsgen writes.
	Monitoring Monitoring `yaml:"monitoring,omitempty" json:"monitoring,omitempty"`
	// Network describes the cluster's network-policy stance.
	Network Network `yaml:"network,omitempty" json:"network,omitempty"`
	// Alerting owns and routes the cluster-wide alerts and tunes the
	// generated alerts for every team.
	Alerting Alerts `yaml:"alerting,omitempty" json:"alerting,omitempty"`
	// Teams lists the teams, the namespaces each owns and their services.
	// An entry `include: teams/*.yaml` stands for the teams of the files
	// the glob matches, relative to the profile's folder, one team per file
	// in file-name order, so each team can own its file; diagnostics name
	// that file (see `obsgen team add`).
	Teams []Team `yaml:"teams,omitempty" json:"teams,omitempty"`
	// Dashboards configures the Grafana dashboards.
	Dashboards Dashboards `yaml:"dashboards,omitempty" json:"dashboards,omitempty"`
	// Kiali points Kiali at this profile's monitoring stack and opens its
	// traffic. Off by default.
	Kiali Kiali `yaml:"kiali,omitempty" json:"kiali,omitempty"`
	// Tracing sends every proxy's spans to a collector and opens their
	// path. Off by default.
	Tracing Tracing `yaml:"tracing,omitempty" json:"tracing,omitempty"`
}

// Kiali configures Kiali (kiali.io) to read the generated stack: the
// Prometheus (or shared store) the dashboards query, the generated Grafana
// dashboards and the tracing backend.
type Kiali struct {
	// Enabled turns the section on.
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Install is how Kiali is installed: `operator` (obsgen writes a Kiali
	// resource) or `helm` (obsgen writes the kiali-server chart's values
	// and the `kiali` ConfigMap the chart renders).
	Install KialiInstall `yaml:"install,omitempty" json:"install,omitempty" jsonschema:"default=operator"`
	// Namespace Kiali runs in. Default: mesh.istioNamespace.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// PodLabels select Kiali's pods. Default: app.kubernetes.io/name=kiali.
	PodLabels map[string]string `yaml:"podLabels,omitempty" json:"podLabels,omitempty"`
	// Port is Kiali's server port (kiali/kiali config/config.go,
	// server.port).
	Port int `yaml:"port,omitempty" json:"port,omitempty" jsonschema:"default=20001,minimum=1,maximum=65535"`
	// Ingress lists who may open Kiali (users' address ranges, or an
	// ingress controller's pods). Under a deny stance nobody can reach
	// Kiali without it.
	Ingress []NetworkPeer `yaml:"ingress,omitempty" json:"ingress,omitempty"`
	// GrafanaURL is Grafana's address as users' browsers open it. Kiali
	// builds its links to the dashboards from it (external_url) and, on
	// Kubernetes, shows none without it.
	GrafanaURL string `yaml:"grafanaURL,omitempty" json:"grafanaURL,omitempty"`
	// GrafanaInternalURL is where Kiali reaches Grafana's API inside the
	// cluster (internal_url). Default:
	// http://<monitoring.grafana.service>.<namespace>.svc:<monitoring.grafana.port>.
	// Set it when the Service's port or name differs from the pods': the
	// grafana Helm chart's Service listens on 80 (service.port) in front of
	// the pods' 3000, grafana-operator names it <Grafana name>-service.
	// Kiali shows no dashboard links when it cannot reach Grafana.
	GrafanaInternalURL string `yaml:"grafanaInternalURL,omitempty" json:"grafanaInternalURL,omitempty"`
	// GrafanaToken is the Secret key holding a Grafana service-account
	// token Kiali searches the dashboards with; without it Grafana must let
	// anonymous viewers use its API.
	GrafanaToken *SecretKey `yaml:"grafanaToken,omitempty" json:"grafanaToken,omitempty"`
	// Operator locates the Kiali operator (install: operator), which
	// watches its resources through the API server. Defaults: namespace
	// kiali-operator, pod label app.kubernetes.io/name=kiali-operator.
	Operator Component `yaml:"operator,omitempty" json:"operator,omitempty"`
}

// SecretKey names a key of a Secret in the component's namespace.
type SecretKey struct {
	// Secret is the Secret's name.
	Secret string `yaml:"secret" json:"secret" jsonschema:"required"`
	// Key is the key in the Secret.
	Key string `yaml:"key" json:"key" jsonschema:"required"`
}

// Tracing configures distributed tracing: the collector every proxy
// reports spans to, the Istio settings that make them, and the query
// service Kiali and Grafana read traces from.
type Tracing struct {
	// Enabled turns the section on.
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Protocol the proxies send spans with: `otlp-grpc` (4317),
	// `otlp-http` (4318) or `zipkin` (9411).
	Protocol TracingProtocol `yaml:"protocol,omitempty" json:"protocol,omitempty" jsonschema:"default=otlp-grpc"`
	// SamplingPercentage of requests traced (0 to 100).
	SamplingPercentage *float64 `yaml:"samplingPercentage,omitempty" json:"samplingPercentage,omitempty" jsonschema:"default=1,minimum=0,maximum=100"`
	// Collector locates the collector's pods and Service. Defaults:
	// namespace monitoring.namespace, service opentelemetry-collector, pod
	// label app.kubernetes.io/name=opentelemetry-collector, the protocol's
	// port. The Service's port must equal its target port.
	Collector Component `yaml:"collector,omitempty" json:"collector,omitempty"`
	// Backends are where the collector exports spans (the tracing
	// store's pods or address ranges, with their ports).
	Backends []NetworkPeer `yaml:"backends,omitempty" json:"backends,omitempty"`
	// Query is the tracing store's query service, which Kiali and Grafana
	// read traces from.
	Query *TracingQuery `yaml:"query,omitempty" json:"query,omitempty"`
}

// TracingQuery locates the tracing store's query service.
type TracingQuery struct {
	// Provider is `jaeger` or `tempo`.
	Provider TracingProvider `yaml:"provider,omitempty" json:"provider,omitempty" jsonschema:"default=jaeger"`
	// URL of the query service inside the cluster, such as
	// http://tracing.istio-system:16685/jaeger (Jaeger's gRPC query) or
	// http://tempo.tracing:3200. An in-cluster Service's port must equal
	// its target port.
	URL string `yaml:"url" json:"url" jsonschema:"required"`
	// CIDRs of the query service when its host is not a Service name.
	CIDRs []string `yaml:"cidrs,omitempty" json:"cidrs,omitempty"`
	// PodLabels select the query service's pods (default: every pod of its
	// namespace).
	PodLabels map[string]string `yaml:"podLabels,omitempty" json:"podLabels,omitempty"`
	// ExternalURL is the tracing UI as users' browsers open it, for links.
	ExternalURL string `yaml:"externalURL,omitempty" json:"externalURL,omitempty"`
	// Headers Kiali sends with every query, such as a multi-tenant
	// store's tenant (X-Scope-OrgID).
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// Metadata names a profile.
type Metadata struct {
	// Name is the profile's name and the folder its output goes to
	// (out/<name>/). A DNS-1123 label: lower-case letters, digits and '-',
	// at most 63 characters.
	Name string `yaml:"name" json:"name" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9]*[a-z0-9])?$,maxLength=63"`
}

// Cluster describes the Kubernetes cluster the stack runs in.
type Cluster struct {
	// Name becomes the `cluster` external label of every series.
	// Default: metadata.name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// APIServerCIDRs are the addresses of the Kubernetes API server
	// endpoints (the `default/kubernetes` Endpoints), not the Service's
	// ClusterIP: network policies see the address after the Service is
	// resolved. Required when network.stance is not `open`: Prometheus needs
	// egress to them for service discovery.
	APIServerCIDRs []string `yaml:"apiServerCIDRs,omitempty" json:"apiServerCIDRs,omitempty"`
	// APIServerPort is the port of the API server endpoints (often 6443 on
	// kubeadm clusters, 443 on managed ones).
	APIServerPort int `yaml:"apiServerPort,omitempty" json:"apiServerPort,omitempty" jsonschema:"default=443,minimum=1,maximum=65535"`
	// NodeCIDRs hold the nodes' addresses. Required when network.stance is
	// not `open`: Prometheus scrapes kubelets, cAdvisor and node-exporter on
	// host addresses.
	NodeCIDRs []string `yaml:"nodeCIDRs,omitempty" json:"nodeCIDRs,omitempty"`
	// PodCIDR is the pod address range. Optional; with it, rules for
	// address ranges that hold it leave the pods out (NetworkPolicy
	// except, Calico notNets), and the proof places its pods there.
	PodCIDR string `yaml:"podCIDR,omitempty" json:"podCIDR,omitempty"`
}

// Mesh describes the service mesh.
type Mesh struct {
	// Provider is `istio` or `none` (no mesh: everything is scraped in
	// plaintext).
	Provider MeshProvider `yaml:"provider,omitempty" json:"provider,omitempty" jsonschema:"default=istio"`
	// Version is the Istio release the mesh runs, as major.minor (for
	// example "1.31"; a patch release such as "1.31.2" is read as its
	// minor; with revisions, the oldest revision that runs workloads). Strategies depend on it: `secure-port` needs 1.31
	// (ENVOY_SECURE_MERGED_METRICS_PORT, istio/istio#60391, 1.31.0 change
	// notes), and `auto` picks it from 1.31 on.
	Version string `yaml:"version,omitempty" json:"version,omitempty" jsonschema:"default=1.31,pattern=^1\\.[0-9]+(\\.[0-9]+)?$"`
	// DataPlane is `sidecar` (Envoy next to each workload) or `ambient`
	// (ztunnel per node, optional waypoints).
	DataPlane DataPlane `yaml:"dataPlane,omitempty" json:"dataPlane,omitempty" jsonschema:"default=sidecar"`
	// MTLS is the mesh-wide PeerAuthentication mode: STRICT, PERMISSIVE or
	// DISABLE.
	MTLS MTLSMode `yaml:"mtls,omitempty" json:"mtls,omitempty" jsonschema:"default=PERMISSIVE"`
	// IstioNamespace is where istiod (and ztunnel) run.
	IstioNamespace string `yaml:"istioNamespace,omitempty" json:"istioNamespace,omitempty" jsonschema:"default=istio-system"`
	// MetricsMerging tells whether Istio's metrics merging is on
	// (meshConfig.enablePrometheusMerge; Istio's default is on). With it the
	// sidecar serves the app's, the agent's and Envoy's metrics on
	// :15020/stats/prometheus in plaintext.
	MetricsMerging *bool `yaml:"metricsMerging,omitempty" json:"metricsMerging,omitempty" jsonschema:"default=true"`
	// ScrapeStrategy decides how Prometheus reaches application metrics
	// ports: `auto` picks from the data plane, mTLS mode, metrics merging
	// and Istio version (see `obsgen explain`); `merged` scrapes :15020;
	// `secure-port` scrapes each sidecar's and gateway's mTLS merged-metrics
	// listener :15092 with Istio certificates, the plaintext ports closed to
	// everything but localhost (Istio 1.31+, metrics merging on; obsgen
	// writes the istiod settings it needs); `istio-certs` scrapes
	// app ports over TLS with Istio-issued certificates; `permissive-port`
	// scrapes app ports in plaintext and opens exactly those ports with a
	// port-level PERMISSIVE PeerAuthentication; `direct` scrapes app ports in
	// plaintext (no mTLS to get past, or ambient with Prometheus enrolled).
	ScrapeStrategy ScrapeStrategy `yaml:"scrapeStrategy,omitempty" json:"scrapeStrategy,omitempty" jsonschema:"default=auto"`
	// Authorization is the mesh's authorization stance: `allow` (Istio's
	// default: no AuthorizationPolicy denies anything) or `deny-by-default`
	// (an allow-nothing AuthorizationPolicy exists; obsgen writes the ALLOW
	// policies that let Prometheus reach each metrics port it scrapes
	// through the proxy, and nothing else).
	Authorization AuthorizationStance `yaml:"authorization,omitempty" json:"authorization,omitempty" jsonschema:"default=allow"`
	// IstioCSR says the proxies get their workload certificates from
	// cert-manager's istio-csr instead of istiod's CA: istiod runs with
	// ENABLE_CA_SERVER=false and every proxy's caAddress names istio-csr's
	// Service (cert-manager.io docs/usage/istio-csr). obsgen then opens
	// every proxy's way to istio-csr and istio-csr's to the API server
	// under a deny stance, as it does istiod's, and leaves out the alerts
	// on istiod's CA metrics (citadel_server_*), which a CA that is off
	// never exports, with the dashboard's certificate panel. Under a Calico
	// global deny cert-manager's namespace must be excluded from the deny:
	// its controller and webhook sign istio-csr's requests. In ambient,
	// ztunnel takes its CA address from the ztunnel chart's own caAddress
	// (not global.caAddress), and istio-csr must trust ztunnel's node
	// accounts (app.server.caTrustedNodeAccounts: istio-system/ztunnel).
	IstioCSR *IstioCSR `yaml:"istioCSR,omitempty" json:"istioCSR,omitempty"`
	// TrustDomain is the mesh's trust domain: the Prometheus identity is
	// <trustDomain>/ns/<monitoring namespace>/sa/<service account>.
	TrustDomain string `yaml:"trustDomain,omitempty" json:"trustDomain,omitempty" jsonschema:"default=cluster.local"`
	// PeerAuthentication says which PeerAuthentications obsgen owns:
	// `manage` writes the mesh-wide `default` in Istio's namespace, a
	// `default` per team namespace and the workload port exceptions the
	// scrape strategy needs; `workloads-only` writes the workload
	// exceptions only (the platform manages the `default` objects); `none`
	// writes none, which is valid only when the plan needs no exception.
	PeerAuthentication PeerAuthenticationOwnership `yaml:"peerAuthentication,omitempty" json:"peerAuthentication,omitempty" jsonschema:"default=manage"`
	// Gateways are the mesh's ingress and egress gateways. Under a deny
	// stance obsgen keeps their traffic flowing (from their sources on
	// their ports, to every pod of the mesh and to their destinations),
	// lets Prometheus scrape their proxy (job istio-gateways, each target
	// labelled gateway=<name>) and keeps their link to istiod.
	// Gateways not listed here keep their link to istiod but, under the
	// global-deny stance, none of their traffic.
	Gateways []Gateway `yaml:"gateways,omitempty" json:"gateways,omitempty"`
	// Waypoints are the ambient data plane's waypoint proxies. In ambient,
	// request metrics (istio_requests_total, durations, response codes)
	// come only from waypoints, reported with reporter="waypoint"; ztunnel
	// reports TCP metrics only (istio.io ambient "post-migration
	// observability" notes; Istio's own mesh dashboard queries
	// reporter=~"source|waypoint", manifests/addons/dashboards/lib/
	// queries.libsonnet). obsgen scrapes them (job istio-waypoints, each
	// target labelled waypoint=<name>), keeps their traffic flowing, and
	// reads services' requests from them. A latency or availability
	// objective needs a waypoint for its service's namespace.
	Waypoints []Waypoint `yaml:"waypoints,omitempty" json:"waypoints,omitempty"`
}

// IstioCSR is cert-manager's istio-csr, the mesh's certificate authority.
type IstioCSR struct {
	// Namespace istio-csr runs in (its chart installs into the release
	// namespace; cert-manager's documentation uses cert-manager).
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty" jsonschema:"default=cert-manager"`
	// PodLabels select istio-csr's pods. Default: app:
	// cert-manager-istio-csr, its chart's Service selector
	// (deploy/charts/istio-csr/templates/service.yaml).
	PodLabels map[string]string `yaml:"podLabels,omitempty" json:"podLabels,omitempty"`
	// CertManagerNamespace is where cert-manager's controller and webhook
	// run, which sign and admit istio-csr's CertificateRequests. Default:
	// istio-csr's namespace (cert-manager.io installs both into
	// cert-manager; OpenShift's cert-manager Operator runs istio-csr in a
	// namespace of its own).
	CertManagerNamespace string `yaml:"certManagerNamespace,omitempty" json:"certManagerNamespace,omitempty"`
	// Port is the pod port istio-csr serves certificate requests on: its
	// chart's app.server.serving.port, which the Service's port 443
	// targets. Network policies see the pod port.
	Port int `yaml:"port,omitempty" json:"port,omitempty" jsonschema:"default=6443"`
}

// Waypoint is an ambient waypoint proxy: a Gateway of class istio-waypoint,
// whose pods carry gateway.networking.k8s.io/gateway-name: <name>.
type Waypoint struct {
	// Name of the waypoint's Gateway resource (istioctl waypoint apply
	// names it `waypoint` by default). A DNS-1123 label.
	Name string `yaml:"name" json:"name" jsonschema:"required"`
	// Namespace the waypoint runs in.
	Namespace string `yaml:"namespace" json:"namespace" jsonschema:"required"`
	// Namespaces whose services use the waypoint (labelled
	// istio.io/use-waypoint: <name>, with istio.io/use-waypoint-namespace
	// when it runs elsewhere). Default: the waypoint's namespace.
	Namespaces []string `yaml:"namespaces,omitempty" json:"namespaces,omitempty" jsonschema:"uniqueItems=true"`
}

// Gateway is an Istio ingress or egress gateway deployment.
type Gateway struct {
	// Name of the gateway, unique in the profile; it names the policies.
	// A DNS-1123 label.
	Name string `yaml:"name" json:"name" jsonschema:"required"`
	// Namespace the gateway pods run in. Default: mesh.istioNamespace,
	// where istioctl's default profile installs istio-ingressgateway.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// PodLabels select the gateway pods, for example istio: ingressgateway.
	PodLabels map[string]string `yaml:"podLabels" json:"podLabels" jsonschema:"required"`
	// Ports are the container ports the gateway listens on for traffic
	// (istio-ingressgateway: 8080 and 8443).
	Ports []int `yaml:"ports" json:"ports" jsonschema:"required,minItems=1"`
	// Sources may reach the gateway's ports: address ranges or pods.
	// Default: every pod and every address (0.0.0.0/0, ::/0).
	Sources []NetworkPeer `yaml:"sources,omitempty" json:"sources,omitempty"`
	// Destinations are outside the cluster's pods (an egress gateway's
	// external services): address ranges with their ports. The gateway
	// may always reach every pod (its backends).
	Destinations []NetworkPeer `yaml:"destinations,omitempty" json:"destinations,omitempty"`
}

// Monitoring describes the monitoring stack.
type Monitoring struct {
	// Namespace is where Prometheus runs.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty" jsonschema:"default=monitoring"`
	// InMesh tells whether the monitoring namespace is part of the mesh:
	// labelled for sidecar injection, or in ambient, where obsgen enrolls
	// the Prometheus pods by label and the platform may enroll the whole
	// namespace (the policies work either way). obsgen keeps the stack's
	// components reachable under STRICT and deny-by-default. Default: false.
	InMesh bool `yaml:"inMesh,omitempty" json:"inMesh,omitempty"`
	// Flavours lists the output flavours: `prometheus` (raw prometheus.yml
	// and rule files) and/or `operator` (Prometheus Operator resources).
	// Default: [prometheus].
	Flavours []Flavour `yaml:"flavours,omitempty" json:"flavours,omitempty" jsonschema:"uniqueItems=true"`
	// Prometheus describes the Prometheus server.
	Prometheus Prometheus `yaml:"prometheus,omitempty" json:"prometheus,omitempty"`
	// RunbookBaseURL prefixes every alert's runbook_url annotation: the URL
	// is the base followed by the alert name. Point it at your runbooks.
	RunbookBaseURL string `yaml:"runbookBaseURL,omitempty" json:"runbookBaseURL,omitempty" jsonschema:"default=https://runbooks.example.com/alerts/"`
	// Alertmanager describes Alertmanager. Defaults: the monitoring
	// namespace, pod label app.kubernetes.io/name=alertmanager, port 9093.
	Alertmanager Component `yaml:"alertmanager,omitempty" json:"alertmanager,omitempty"`
	// Grafana describes Grafana. Defaults: the monitoring namespace, pod
	// label app.kubernetes.io/name=grafana, port 3000.
	Grafana Component `yaml:"grafana,omitempty" json:"grafana,omitempty"`
	// KubeStateMetrics describes kube-state-metrics, scraped in plaintext.
	// Defaults: the monitoring namespace, pod label
	// app.kubernetes.io/name=kube-state-metrics, port 8080 (the
	// kube-state-metrics chart's, and kube-prometheus-stack's). Its own
	// manifests deploy it to kube-system, which obsgen never isolates.
	// kube-prometheus binds it to 127.0.0.1 behind kube-rbac-proxy's HTTPS
	// (8443), which obsgen's job does not speak.
	KubeStateMetrics Component `yaml:"kubeStateMetrics,omitempty" json:"kubeStateMetrics,omitempty"`
	// NodeExporter describes node-exporter (host network), scraped in
	// plaintext. Defaults follow kube-prometheus-stack: the monitoring
	// namespace, pod label app.kubernetes.io/name=prometheus-node-exporter
	// (the prometheus-node-exporter chart's name), port 9100. kube-prometheus
	// labels it app.kubernetes.io/name=node-exporter but serves it only
	// through kube-rbac-proxy's HTTPS, which obsgen's job does not speak.
	// `obsgen doctor` names the labels of a node-exporter the job does not
	// select.
	NodeExporter Component `yaml:"nodeExporter,omitempty" json:"nodeExporter,omitempty"`
	// PrometheusOperator locates the Prometheus Operator (operator flavour
	// only), which watches the API server and serves the admission webhook
	// that checks PrometheusRules on port. Defaults follow
	// kube-prometheus-stack: the monitoring namespace, pod label
	// app.kubernetes.io/component=prometheus-operator, port 10250
	// (prometheusOperator.tls.internalPort). kube-prometheus and the
	// operator's bundle.yaml label app.kubernetes.io/name=prometheus-operator
	// and serve on 8080 (8443 behind kube-rbac-proxy): set both.
	PrometheusOperator Component `yaml:"prometheusOperator,omitempty" json:"prometheusOperator,omitempty"`
	// OperatorVersion is the Prometheus Operator release the operator
	// flavour targets, as 0.minor (for example "0.94"); the operator
	// flavour needs 0.72 or later (ScrapeConfigs sharded, #6135, and their
	// discovery limited to namespaces, #6178). From 0.74 on, the jobs that present Istio certificates
	// are ScrapeConfigs of the scrape class istio-mtls, which the
	// Prometheus resource defines with the certificate files (scrape
	// classes came with 0.72, prometheus-operator#6199; their TLS settings
	// reach PodMonitors, Probes and ScrapeConfigs from 0.74, #6573); before
	// it they go to additionalScrapeConfigs, as only raw configuration
	// reads files. Before 0.75 a ScrapeConfig's job is named by a first
	// relabeling (spec.jobName came with 0.75, #6618), and before 0.79 a
	// PodMonitor selects its port with targetPort (portNumber came with
	// 0.79, #7150).
	OperatorVersion string `yaml:"operatorVersion,omitempty" json:"operatorVersion,omitempty" jsonschema:"default=0.94,pattern=^0\\.[0-9]+(\\.[0-9]+)?$"`
	// Rules says where obsgen's rules are evaluated.
	Rules Rules `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// Rules says where obsgen's alerting and recording rules are evaluated.
// An agent evaluates none, and each shard of a sharded server holds part
// of the series: absent() alerts and aggregations over a service's pods
// are wrong there. Those rules go to a ruler that sees every series; the
// rules about single series stay on each server.
type Rules struct {
	// Evaluator of the rules that need every series: `auto`, `prometheus`
	// (one server), `thanos-ruler` or `mimir-ruler`. `auto` picks
	// prometheus for one server, and for an agent or shards the ruler of
	// the remote-write store its URL names (Thanos Receive
	// .../api/v1/receive, Mimir or Cortex .../api/v1/push).
	Evaluator RuleEvaluator `yaml:"evaluator,omitempty" json:"evaluator,omitempty" jsonschema:"default=auto"`
	// Namespace is the Mimir ruler namespace of the rule file
	// (mimirtool rules sync). Default: obsgen-<cluster.name>.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
}

// Prometheus describes the Prometheus server.
type Prometheus struct {
	// Name prefixes the objects obsgen emits for this Prometheus.
	Name string `yaml:"name,omitempty" json:"name,omitempty" jsonschema:"default=prometheus"`
	// Workload is the kind of the Prometheus workload the raw flavour's pod
	// patch targets: StatefulSet or Deployment.
	Workload WorkloadKind `yaml:"workload,omitempty" json:"workload,omitempty" jsonschema:"default=StatefulSet"`
	// ServiceAccount is the Prometheus pods' service account; under STRICT
	// mTLS it is the identity Istio authorization policies allow.
	ServiceAccount string `yaml:"serviceAccount,omitempty" json:"serviceAccount,omitempty" jsonschema:"default=prometheus"`
	// PodLabels select the Prometheus pods (network policies use them).
	// Default: app.kubernetes.io/name=prometheus, or prometheus-agent in
	// agent mode with the operator flavour: the Prometheus Operator sets
	// that label on the pods it runs, whatever the pod metadata says.
	PodLabels map[string]string `yaml:"podLabels,omitempty" json:"podLabels,omitempty"`
	// ScrapeInterval is the global scrape interval (a Prometheus duration).
	ScrapeInterval string `yaml:"scrapeInterval,omitempty" json:"scrapeInterval,omitempty" jsonschema:"default=30s"`
	// ScrapeTimeout is the global scrape timeout; at most ScrapeInterval.
	ScrapeTimeout string `yaml:"scrapeTimeout,omitempty" json:"scrapeTimeout,omitempty" jsonschema:"default=10s"`
	// EvaluationInterval is how often rules are evaluated.
	EvaluationInterval string `yaml:"evaluationInterval,omitempty" json:"evaluationInterval,omitempty" jsonschema:"default=30s"`
	// Shards splits the scrape targets over this many Prometheus servers
	// (hashmod of the target address); each gets its own configuration and a
	// `shard` external label. Default: 1.
	Shards int `yaml:"shards,omitempty" json:"shards,omitempty" jsonschema:"default=1,minimum=1,maximum=64"`
	// Mode is `server` (scrape, store, evaluate rules, alert) or `agent`
	// (scrape and remote-write only: no rules, no alerting, no local
	// queries; Prometheus --agent, or the operator's PrometheusAgent).
	Mode PrometheusMode `yaml:"mode,omitempty" json:"mode,omitempty" jsonschema:"default=server"`
	// RemoteWrite sends every sample on to long-term storage (Thanos
	// Receive, Mimir, Cortex or any remote-write endpoint). Required in
	// agent mode.
	RemoteWrite []RemoteWrite `yaml:"remoteWrite,omitempty" json:"remoteWrite,omitempty"`
	// Retention is how long Prometheus keeps its samples (a Prometheus
	// duration): the operator flavour's spec.retention. It may not be
	// shorter than the longest range the rules this Prometheus evaluates
	// read (30d for objectives evaluated here, 3d for the mesh's service
	// recordings): Prometheus answers a longer range from what it still
	// has, without an error. Default: that range when it is longer than
	// the operator's default of 24h, else the operator's default. The raw
	// flavour does not run Prometheus: set its
	// --storage.tsdb.retention.time to at least this (Prometheus keeps 15d
	// by default). Not in agent mode.
	Retention string `yaml:"retention,omitempty" json:"retention,omitempty"`
	// Storage is the persistent volume each Prometheus pod keeps its data
	// (an agent: its write-ahead log) on: the operator flavour's
	// spec.storage.volumeClaimTemplate, one ReadWriteOnce claim per pod,
	// with fsGroup 65534 so Prometheus (nobody) can write to it. Default:
	// none, an emptyDir, which every new pod (a rollout, an eviction, a
	// node drain) starts empty, and the objectives with it. The raw flavour
	// leaves storage to your StatefulSet.
	Storage *PrometheusStorage `yaml:"storage,omitempty" json:"storage,omitempty"`
	// Federation prepares this Prometheus for a global one, as Istio
	// recommends: workload-level recording rules and the /federate job the
	// global Prometheus adds.
	Federation *Federation `yaml:"federation,omitempty" json:"federation,omitempty"`
	// ExternalLabels are added to every series and alert, next to
	// `cluster`.
	ExternalLabels map[string]string `yaml:"externalLabels,omitempty" json:"externalLabels,omitempty"`
	// IstioCertificates says where Prometheus gets the mesh certificates
	// it presents under `istio-certs` and `secure-port`.
	IstioCertificates IstioCertificates `yaml:"istioCertificates,omitempty" json:"istioCertificates,omitempty"`
}

// PrometheusStorage is the persistent volume claim of each Prometheus pod.
type PrometheusStorage struct {
	// Size is the storage each claim requests, a Kubernetes quantity such
	// as 50Gi. Size it for the retention: samples take about 1-2 bytes
	// each (prometheus.io docs/prometheus/latest/storage), plus the
	// write-ahead log and room to compact. A larger size later does not
	// grow existing claims.
	Size string `yaml:"size" json:"size" jsonschema:"required"`
	// StorageClassName is the claims' StorageClass. Default: the cluster's
	// default StorageClass (without one, the claims stay Pending).
	StorageClassName string `yaml:"storageClassName,omitempty" json:"storageClassName,omitempty"`
}

// IstioCertificates says where Prometheus gets its mesh certificates.
type IstioCertificates struct {
	// Source is `sidecar` (an istio-proxy sidecar that only writes the
	// workload certificate, OUTPUT_CERTS; istio.io docs/ops/integrations/
	// prometheus, "TLS settings") or `cert-manager`: a cert-manager
	// Certificate from an issuer of the mesh CA (the one istio-csr signs
	// the mesh's certificates with) for Prometheus' SPIFFE identity,
	// mounted from its Secret, and no sidecar (istio.io docs/tasks/
	// observability/metrics/secure-metrics: "Istio can be integrated with
	// cert-manager to provision certificates for Prometheus").
	Source CertificateSource `yaml:"source,omitempty" json:"source,omitempty" jsonschema:"default=sidecar"`
	// Issuer is the cert-manager issuer of the mesh CA (source
	// cert-manager). A Certificate may use a ClusterIssuer, or an Issuer of
	// its own namespace only: istio-csr's Issuer in istio-system cannot
	// sign for the monitoring namespace.
	Issuer *CertificateIssuer `yaml:"issuer,omitempty" json:"issuer,omitempty"`
}

// CertificateIssuer is a cert-manager issuer reference.
type CertificateIssuer struct {
	// Name of the ClusterIssuer or Issuer.
	Name string `yaml:"name" json:"name" jsonschema:"required"`
	// Kind is ClusterIssuer, or Issuer in the monitoring namespace.
	Kind IssuerKind `yaml:"kind,omitempty" json:"kind,omitempty" jsonschema:"default=ClusterIssuer"`
	// Group of the issuer's API.
	Group string `yaml:"group,omitempty" json:"group,omitempty" jsonschema:"default=cert-manager.io"`
}

// Federation configures hierarchical federation to a global Prometheus.
type Federation struct {
	// Enabled writes the workload: recording rules (each Istio standard
	// metric's 5m rate summed to workload level,
	// workload:<metric>:rate5m) and the global Prometheus' /federate job.
	// Default: false.
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Targets are the host:port addresses the global Prometheus federates
	// from, one per shard. Default: the Prometheus Service,
	// <prometheus.name>.<namespace>.svc:9090.
	Targets []string `yaml:"targets,omitempty" json:"targets,omitempty"`
	// Sources are where the global Prometheus scrapes /federate from
	// (its address ranges, or its namespace and pod labels). Required
	// under a deny stance: without it nothing reaches Prometheus' port.
	Sources []NetworkPeer `yaml:"sources,omitempty" json:"sources,omitempty"`
}

// RemoteWrite is one remote-write endpoint.
type RemoteWrite struct {
	// Name identifies the endpoint in Prometheus' metrics and logs; unique.
	Name string `yaml:"name" json:"name" jsonschema:"required"`
	// URL of the endpoint, http or https, such as
	// http://thanos-receive.monitoring:19291/api/v1/receive. Unless
	// Prometheus runs in an ambient mesh, the write leaves without the
	// mesh's mTLS: Prometheus has no sidecar, or one that captures no
	// outbound traffic (traffic.sidecar.istio.io/includeOutboundIPRanges:
	// "", set for a certificate-writing sidecar and for monitoring.inMesh),
	// so a receiver whose namespace is in the mesh under STRICT refuses
	// it. Give the receiver's port a PERMISSIVE exception, or run it
	// outside the mesh.
	URL string `yaml:"url" json:"url" jsonschema:"required"`
	// Headers are sent with every request, for example X-Scope-OrgID for a
	// Mimir tenant. Authorization and transport headers are not allowed.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Queue tunes the write queue; unset fields keep Prometheus' defaults.
	Queue *Queue `yaml:"queue,omitempty" json:"queue,omitempty"`
	// CIDRs are the endpoint's addresses. Under a deny stance Prometheus
	// may reach only them on the URL's port: a NetworkPolicy cannot name a
	// host. Not needed for an in-cluster Service URL
	// (<service>.<namespace>[.svc...]), whose namespace's pods are allowed.
	CIDRs []string `yaml:"cidrs,omitempty" json:"cidrs,omitempty"`
}

// Queue tunes a remote-write queue (Prometheus' queue_config).
type Queue struct {
	// Capacity is how many samples each shard buffers.
	Capacity int `yaml:"capacity,omitempty" json:"capacity,omitempty" jsonschema:"minimum=1"`
	// MinShards is the least number of parallel senders.
	MinShards int `yaml:"minShards,omitempty" json:"minShards,omitempty" jsonschema:"minimum=1"`
	// MaxShards is the most parallel senders.
	MaxShards int `yaml:"maxShards,omitempty" json:"maxShards,omitempty" jsonschema:"minimum=1"`
	// MaxSamplesPerSend is the largest batch.
	MaxSamplesPerSend int `yaml:"maxSamplesPerSend,omitempty" json:"maxSamplesPerSend,omitempty" jsonschema:"minimum=1"`
	// BatchSendDeadline is how long a shard waits to fill a batch (a
	// Prometheus duration).
	BatchSendDeadline string `yaml:"batchSendDeadline,omitempty" json:"batchSendDeadline,omitempty"`
}

// Component locates one piece of the monitoring stack.
type Component struct {
	// Namespace the component runs in. Default: monitoring.namespace.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// PodLabels select the component's pods.
	PodLabels map[string]string `yaml:"podLabels,omitempty" json:"podLabels,omitempty"`
	// Port is the component's HTTP port.
	Port int `yaml:"port,omitempty" json:"port,omitempty" jsonschema:"minimum=1,maximum=65535"`
	// Service is the Kubernetes Service in front of the pods: the operator
	// flavour's Prometheus resource reaches Alertmanager through it, Kiali
	// Grafana by default. Default: the component's name; for Alertmanager
	// alertmanager-operated, the Service the Prometheus Operator creates
	// for every Alertmanager it runs, whatever the install.
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
}

// Network describes the cluster's network-policy stance.
type Network struct {
	// Stance is `open` (no policies), `default-deny` (obsgen emits a
	// Kubernetes default-deny per covered namespace and the allows monitoring
	// needs) or `global-deny` (a Calico global deny-all exists or is emitted;
	// obsgen emits the allows).
	Stance NetworkStance `yaml:"stance,omitempty" json:"stance,omitempty" jsonschema:"default=open"`
	// Engine is `kubernetes` (NetworkPolicy), `calico` (projectcalico.org/v3)
	// or `admin-network-policy` (a BaselineAdminNetworkPolicy that denies the
	// covered namespaces' traffic and AdminNetworkPolicies that allow the
	// monitoring flows; default-deny only).
	Engine NetworkEngine `yaml:"engine,omitempty" json:"engine,omitempty" jsonschema:"default=kubernetes"`
	// DNS locates the cluster DNS every pod must reach. Defaults: namespace
	// kube-system, pod label k8s-app=kube-dns.
	DNS DNS `yaml:"dns,omitempty" json:"dns,omitempty"`
	// GrafanaIngress lists who may open Grafana (users' address ranges, or
	// an ingress controller's pods). Under a deny stance nobody can reach
	// Grafana's port without it. Address ranges are matched against the
	// source the pod sees: behind an ingress controller that is the
	// controller's pod (name its pods instead), and through a LoadBalancer
	// or NodePort Service with externalTrafficPolicy Cluster a node's
	// address (the Service API: only Local keeps the client's).
	GrafanaIngress []NetworkPeer `yaml:"grafanaIngress,omitempty" json:"grafanaIngress,omitempty"`
	// AlertmanagerEgress lists where Alertmanager delivers notifications
	// (the receivers' address ranges or pods, with their ports). Under a
	// deny stance no notification leaves the cluster without it.
	AlertmanagerEgress []NetworkPeer `yaml:"alertmanagerEgress,omitempty" json:"alertmanagerEgress,omitempty"`
	// AlertmanagerIngress lists who else sends alerts to Alertmanager, on
	// its port: a ruler (monitoring.rules.evaluator thanos-ruler or
	// mimir-ruler), as its pods or, outside the cluster, the ingress
	// controller's pods or the address ranges that forward its requests.
	// Under a deny stance only Prometheus reaches Alertmanager without it,
	// so the ruler's alerts (the service alerts and SLO pages among them)
	// are dropped.
	AlertmanagerIngress []NetworkPeer `yaml:"alertmanagerIngress,omitempty" json:"alertmanagerIngress,omitempty"`
	// Calico tunes the projectcalico.org/v3 policies of the calico engine.
	Calico Calico `yaml:"calico,omitempty" json:"calico,omitempty"`
	// AdminNetworkPolicy tunes the admin-network-policy engine.
	AdminNetworkPolicy AdminNetworkPolicy `yaml:"adminNetworkPolicy,omitempty" json:"adminNetworkPolicy,omitempty"`
}

// AdminNetworkPolicy tunes the AdminNetworkPolicies obsgen writes.
type AdminNetworkPolicy struct {
	// Priority of obsgen's AdminNetworkPolicies (1 is applied first, 1000
	// last). Their Allow rules are final: they take precedence over every
	// NetworkPolicy and AdminNetworkPolicy of a higher number. Egress to
	// address ranges uses the next priority, after a Pass for every pod.
	Priority int `yaml:"priority,omitempty" json:"priority,omitempty" jsonschema:"default=50,minimum=1,maximum=999"`
	// Baseline describes the BaselineAdminNetworkPolicy that denies the
	// covered namespaces' traffic.
	Baseline Baseline `yaml:"baseline,omitempty" json:"baseline,omitempty"`
}

// Baseline is the cluster's BaselineAdminNetworkPolicy. The API allows one
// per cluster, named default (its CRD refuses any other name), so writing
// it replaces a baseline the cluster already has.
type Baseline struct {
	// Manage tells obsgen to write the BaselineAdminNetworkPolicy default
	// that denies the covered namespaces. Set it to false when the cluster
	// has a baseline of its own, which applying obsgen's would replace:
	// obsgen then writes the AdminNetworkPolicies only, and proves them
	// against the deny it would have written, so the cluster's baseline
	// must deny those namespaces too (or leave them open).
	Manage *bool `yaml:"manage,omitempty" json:"manage,omitempty" jsonschema:"default=true"`
}

// NetworkPeer is a party outside the monitoring stack: address ranges, or
// the pods of a namespace (all of them, or those podLabels selects).
type NetworkPeer struct {
	// CIDRs are address ranges. Set either cidrs or namespace.
	CIDRs []string `yaml:"cidrs,omitempty" json:"cidrs,omitempty"`
	// Namespace of the peer pods.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// PodLabels select the peer pods in namespace; empty means all of them.
	PodLabels map[string]string `yaml:"podLabels,omitempty" json:"podLabels,omitempty"`
	// Ports are the TCP ports of an egress destination (required for
	// alertmanagerEgress, unused for grafanaIngress: Grafana's port is
	// known).
	Ports []int `yaml:"ports,omitempty" json:"ports,omitempty"`
}

// Calico tunes the Calico policies.
type Calico struct {
	// Order of the allow policies obsgen writes. Calico applies lower
	// orders first, so it must be below the deny's order.
	Order int `yaml:"order,omitempty" json:"order,omitempty" jsonschema:"default=100,minimum=0"`
	// GlobalDeny describes the global deny-all of the global-deny stance.
	GlobalDeny GlobalDeny `yaml:"globalDeny,omitempty" json:"globalDeny,omitempty"`
}

// GlobalDeny is the Calico GlobalNetworkPolicy that denies all traffic not
// explicitly allowed, outside the excluded namespaces.
type GlobalDeny struct {
	// Manage tells obsgen to write the deny-all GlobalNetworkPolicy. Set it
	// to false when the cluster has one already: obsgen then writes the
	// allows only, and proves them against the deny described here.
	Manage *bool `yaml:"manage,omitempty" json:"manage,omitempty" jsonschema:"default=true"`
	// Order of the deny-all policy (the policies of lower order are applied
	// first).
	Order int `yaml:"order,omitempty" json:"order,omitempty" jsonschema:"default=2000,minimum=1"`
	// ExcludedNamespaces are left out of the deny: the system namespaces
	// that must keep working on their own policies. Default: kube-system,
	// calico-system, calico-apiserver, tigera-operator. They must not
	// include a namespace obsgen's policies cover.
	ExcludedNamespaces []string `yaml:"excludedNamespaces,omitempty" json:"excludedNamespaces,omitempty"`
}

// DNS locates the cluster DNS pods.
type DNS struct {
	// Namespace of the DNS pods.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty" jsonschema:"default=kube-system"`
	// PodLabels select the DNS pods.
	PodLabels map[string]string `yaml:"podLabels,omitempty" json:"podLabels,omitempty"`
	// Port the DNS pods listen on (the Service's targetPort): 53, or 5353
	// on OpenShift (namespace openshift-dns, podLabels
	// dns.operator.openshift.io/daemonset-dns: default).
	Port int `yaml:"port,omitempty" json:"port,omitempty" jsonschema:"default=53,minimum=1,maximum=65535"`
	// CIDRs are DNS addresses outside the pods, such as NodeLocal
	// DNSCache's link-local 169.254.20.10/32 on the host network: pods
	// send their queries there, on port 53.
	CIDRs []string `yaml:"cidrs,omitempty" json:"cidrs,omitempty"`
}

// Team is a group that owns namespaces and services and receives their alerts.
type Team struct {
	// Name of the team: the `team` label on its series and alerts. A
	// DNS-1123 label.
	Name string `yaml:"name" json:"name" jsonschema:"required"`
	// Namespaces the team owns. A namespace belongs to one team only.
	Namespaces []string `yaml:"namespaces" json:"namespaces" jsonschema:"required,minItems=1"`
	// Alerting routes the team's alerts.
	Alerting Alerting `yaml:"alerting,omitempty" json:"alerting,omitempty"`
	// Services are the team's workloads that expose application metrics.
	Services []Service `yaml:"services,omitempty" json:"services,omitempty"`
}

// Alerting routes a team's alerts.
type Alerting struct {
	// Receiver is the Alertmanager receiver for the team's alerts.
	// Default: the team name.
	Receiver string `yaml:"receiver,omitempty" json:"receiver,omitempty"`
	// SeverityReceivers override Receiver per severity, for example
	// {critical: payments-pager}.
	SeverityReceivers map[string]string `yaml:"severityReceivers,omitempty" json:"severityReceivers,omitempty"`
	// Labels are added to every alert of the team, for routing.
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	// Disable lists alerts (by name) the team gets none of.
	Disable []string `yaml:"disable,omitempty" json:"disable,omitempty" jsonschema:"uniqueItems=true"`
	// Overrides change an alert's threshold or `for` for this team only
	// (over alerting.overrides).
	Overrides map[string]AlertOverride `yaml:"overrides,omitempty" json:"overrides,omitempty"`
}

// Service is a workload whose application metrics Prometheus scrapes.
type Service struct {
	// Name of the service: the `service` label of its scrape job.
	Name string `yaml:"name" json:"name" jsonschema:"required"`
	// Namespace the workload runs in; the team must own it.
	Namespace string `yaml:"namespace" json:"namespace" jsonschema:"required"`
	// Selector holds the workload's pod labels. Required by the
	// permissive-port strategy; without it every pod of the namespace is
	// scraped on Port.
	Selector map[string]string `yaml:"selector,omitempty" json:"selector,omitempty"`
	// Port is the container port serving application metrics.
	Port int `yaml:"port" json:"port" jsonschema:"required,minimum=1,maximum=65535"`
	// Path is the HTTP path of the metrics.
	Path string `yaml:"path,omitempty" json:"path,omitempty" jsonschema:"default=/metrics"`
	// SLOs are the service's objectives, measured from Istio metrics.
	SLOs *SLOs `yaml:"slos,omitempty" json:"slos,omitempty"`
}

// SLOs are a service's objectives over a 30-day window.
type SLOs struct {
	// Availability is the share of requests that must not fail on the
	// server's side: an HTTP 5xx, or a gRPC status mapped to one (UNKNOWN,
	// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS).
	Availability *AvailabilitySLO `yaml:"availability,omitempty" json:"availability,omitempty"`
	// Latency is the share of requests that must be faster than a threshold.
	Latency *LatencySLO `yaml:"latency,omitempty" json:"latency,omitempty"`
}

// AvailabilitySLO is an availability objective.
type AvailabilitySLO struct {
	// Target in percent, for example 99.9. Between 0 and 100, exclusive.
	Target float64 `yaml:"target" json:"target" jsonschema:"required,exclusiveMinimum=0,exclusiveMaximum=100"`
}

// LatencySLO is a latency objective.
type LatencySLO struct {
	// ThresholdMs is the latency a request must beat, in milliseconds.
	ThresholdMs int `yaml:"thresholdMs" json:"thresholdMs" jsonschema:"required,minimum=1"`
	// Target in percent of requests faster than ThresholdMs. Between 0 and
	// 100, exclusive.
	Target float64 `yaml:"target" json:"target" jsonschema:"required,exclusiveMinimum=0,exclusiveMaximum=100"`
}
