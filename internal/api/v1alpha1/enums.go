package v1alpha1

// Enum is implemented by every string type with a closed set of values, so
// the loader, the JSON Schema and the docs share one list.
type Enum interface {
	Values() []string
}

// MeshProvider names the service mesh.
type MeshProvider string

// Mesh providers.
const (
	MeshIstio MeshProvider = "istio"
	MeshNone  MeshProvider = "none"
)

// Values lists the valid mesh providers.
func (MeshProvider) Values() []string { return []string{"istio", "none"} }

// DataPlane names Istio's data plane mode.
type DataPlane string

// Data plane modes.
const (
	DataPlaneSidecar DataPlane = "sidecar"
	DataPlaneAmbient DataPlane = "ambient"
)

// Values lists the valid data plane modes.
func (DataPlane) Values() []string { return []string{"sidecar", "ambient"} }

// MTLSMode is a PeerAuthentication mode.
type MTLSMode string

// mTLS modes.
const (
	MTLSStrict     MTLSMode = "STRICT"
	MTLSPermissive MTLSMode = "PERMISSIVE"
	MTLSDisable    MTLSMode = "DISABLE"
)

// Values lists the valid mTLS modes.
func (MTLSMode) Values() []string { return []string{"STRICT", "PERMISSIVE", "DISABLE"} }

// ScrapeStrategy decides how Prometheus reaches application metrics ports.
type ScrapeStrategy string

// Scrape strategies.
const (
	StrategyAuto           ScrapeStrategy = "auto"
	StrategyMerged         ScrapeStrategy = "merged"
	StrategyIstioCerts     ScrapeStrategy = "istio-certs"
	StrategyPermissivePort ScrapeStrategy = "permissive-port"
	StrategyDirect         ScrapeStrategy = "direct"
	// StrategySecurePort scrapes each sidecar's mTLS merged-metrics
	// listener (ENVOY_SECURE_MERGED_METRICS_PORT, Istio 1.31+).
	StrategySecurePort ScrapeStrategy = "secure-port"
)

// Values lists the valid scrape strategies.
func (ScrapeStrategy) Values() []string {
	return []string{"auto", "merged", "secure-port", "istio-certs", "permissive-port", "direct"}
}

// Flavour is an output flavour.
type Flavour string

// Output flavours.
const (
	FlavourPrometheus Flavour = "prometheus"
	FlavourOperator   Flavour = "operator"
)

// Values lists the valid output flavours.
func (Flavour) Values() []string { return []string{"prometheus", "operator"} }

// NetworkStance is the cluster's network-policy stance.
type NetworkStance string

// Network stances.
const (
	StanceOpen        NetworkStance = "open"
	StanceDefaultDeny NetworkStance = "default-deny"
	StanceGlobalDeny  NetworkStance = "global-deny"
)

// Values lists the valid network stances.
func (NetworkStance) Values() []string { return []string{"open", "default-deny", "global-deny"} }

// NetworkEngine names the network-policy implementation.
type NetworkEngine string

// Network engines.
const (
	EngineKubernetes NetworkEngine = "kubernetes"
	EngineCalico     NetworkEngine = "calico"
	// EngineAdminNetworkPolicy writes a BaselineAdminNetworkPolicy deny
	// and AdminNetworkPolicy allows (policy.networking.k8s.io/v1alpha1).
	EngineAdminNetworkPolicy NetworkEngine = "admin-network-policy"
)

// Values lists the valid network engines.
func (NetworkEngine) Values() []string {
	return []string{"kubernetes", "calico", "admin-network-policy"}
}

// WorkloadKind is the kind of the Prometheus workload.
type WorkloadKind string

// Workload kinds.
const (
	WorkloadStatefulSet WorkloadKind = "StatefulSet"
	WorkloadDeployment  WorkloadKind = "Deployment"
)

// Values lists the valid workload kinds.
func (WorkloadKind) Values() []string { return []string{"StatefulSet", "Deployment"} }

// PrometheusMode is how Prometheus runs.
type PrometheusMode string

// Prometheus modes.
const (
	ModeServer PrometheusMode = "server"
	ModeAgent  PrometheusMode = "agent"
)

// Values lists the valid Prometheus modes.
func (PrometheusMode) Values() []string { return []string{"server", "agent"} }

// AuthorizationStance is the mesh's authorization default.
type AuthorizationStance string

// Authorization stances.
const (
	AuthorizationAllow         AuthorizationStance = "allow"
	AuthorizationDenyByDefault AuthorizationStance = "deny-by-default"
)

// Values lists the valid authorization stances.
func (AuthorizationStance) Values() []string { return []string{"allow", "deny-by-default"} }

// PeerAuthenticationOwnership says which PeerAuthentications obsgen writes.
type PeerAuthenticationOwnership string

// PeerAuthentication ownerships.
const (
	PeerAuthenticationManage        PeerAuthenticationOwnership = "manage"
	PeerAuthenticationWorkloadsOnly PeerAuthenticationOwnership = "workloads-only"
	PeerAuthenticationNone          PeerAuthenticationOwnership = "none"
)

// Values lists the valid PeerAuthentication ownerships.
func (PeerAuthenticationOwnership) Values() []string {
	return []string{"manage", "workloads-only", "none"}
}

// RuleEvaluator names what evaluates obsgen's rules that need every series
// of the cluster: absent() alerts, aggregations over a service's pods and
// the objectives.
type RuleEvaluator string

// Rule evaluators.
const (
	// EvaluatorAuto picks prometheus for one server, and for an agent or a
	// sharded server the ruler of the remote-write store (thanos-ruler for
	// a Thanos Receive URL, .../api/v1/receive; mimir-ruler for a Mimir or
	// Cortex URL, .../api/v1/push).
	EvaluatorAuto       RuleEvaluator = "auto"
	EvaluatorPrometheus RuleEvaluator = "prometheus"
	// EvaluatorThanosRuler is a Thanos Ruler that queries every shard
	// (through Thanos Query): PrometheusRule objects it selects, and rule
	// files for `thanos rule --rule-file`.
	EvaluatorThanosRuler RuleEvaluator = "thanos-ruler"
	// EvaluatorMimirRuler is the Mimir (or Cortex) ruler: a rule namespace
	// file that `mimirtool rules sync` loads.
	EvaluatorMimirRuler RuleEvaluator = "mimir-ruler"
)

// Values lists the valid rule evaluators.
func (RuleEvaluator) Values() []string {
	return []string{"auto", "prometheus", "thanos-ruler", "mimir-ruler"}
}

// CertificateSource is where Prometheus gets its mesh certificates.
type CertificateSource string

// Certificate sources.
const (
	CertificatesSidecar     CertificateSource = "sidecar"
	CertificatesCertManager CertificateSource = "cert-manager"
)

// Values lists the valid certificate sources.
func (CertificateSource) Values() []string { return []string{"sidecar", "cert-manager"} }

// IssuerKind is the kind of a cert-manager issuer.
type IssuerKind string

// Issuer kinds.
const (
	ClusterIssuerKind IssuerKind = "ClusterIssuer"
	IssuerKindIssuer  IssuerKind = "Issuer"
)

// Values lists the valid issuer kinds.
func (IssuerKind) Values() []string { return []string{"ClusterIssuer", "Issuer"} }

// KialiInstall is how Kiali is installed.
type KialiInstall string

// Kiali installations.
const (
	KialiOperator KialiInstall = "operator"
	KialiHelm     KialiInstall = "helm"
)

// Values lists the valid Kiali installations.
func (KialiInstall) Values() []string { return []string{"operator", "helm"} }

// TracingProtocol is how proxies send spans.
type TracingProtocol string

// Tracing protocols.
const (
	TracingOTLPGRPC TracingProtocol = "otlp-grpc"
	TracingOTLPHTTP TracingProtocol = "otlp-http"
	TracingZipkin   TracingProtocol = "zipkin"
)

// Values lists the valid tracing protocols.
func (TracingProtocol) Values() []string { return []string{"otlp-grpc", "otlp-http", "zipkin"} }

// TracingProvider is the tracing store Kiali reads.
type TracingProvider string

// Tracing stores.
const (
	TracingJaeger TracingProvider = "jaeger"
	TracingTempo  TracingProvider = "tempo"
)

// Values lists the valid tracing stores.
func (TracingProvider) Values() []string { return []string{"jaeger", "tempo"} }
