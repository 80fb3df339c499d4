package plan

import (
	"fmt"
	"slices"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// JobKind names the shape of a scrape job; the prometheus.yml template has
// one block per kind.
type JobKind string

// Scrape job kinds, in the order they appear in prometheus.yml.
const (
	JobAPIServers       JobKind = "kubernetes-apiservers"
	JobKubelet          JobKind = "kubelet"
	JobCAdvisor         JobKind = "cadvisor"
	JobKubeStateMetrics JobKind = "kube-state-metrics"
	JobNodeExporter     JobKind = "node-exporter"
	JobPrometheus       JobKind = "prometheus"
	JobAlertmanager     JobKind = "alertmanager"
	JobIstiod           JobKind = "istiod"
	JobZtunnel          JobKind = "ztunnel"
	JobEnvoyStats       JobKind = "envoy-stats"
	JobIstioMerged      JobKind = "istio-merged"
	JobPods             JobKind = "kubernetes-pods"
	JobPodsIstioSecure  JobKind = "kubernetes-pods-istio-secure"
	JobTeamServices     JobKind = "team-services"
	// JobGateways scrapes the declared gateways' proxies; its targets
	// carry GatewayTargetLabel.
	JobGateways JobKind = "istio-gateways"
	// JobWaypoints scrapes the declared ambient waypoints; its targets
	// carry WaypointTargetLabel.
	JobWaypoints JobKind = "istio-waypoints"
)

// Target labels of the gateway and waypoint jobs: the declared name of the
// gateway or waypoint a target belongs to.
const (
	GatewayTargetLabel  = "gateway"
	WaypointTargetLabel = "waypoint"
)

// Sidecar filters of the annotation-driven pod jobs.
const (
	SidecarAny     = ""
	SidecarOnly    = "only"
	SidecarExclude = "exclude"
	// SidecarUnmerged keeps the sidecar pods that opted out of metrics
	// merging: their prometheus.io annotations still name the
	// application's port, not the merged :15020.
	SidecarUnmerged = "unmerged"
)

// Istio's fixed ports and paths (istio.io, application requirements).
const (
	PortIstiodMonitoring = 15014
	PortMergedMetrics    = 15020
	// PortSecureMergedMetrics is the mTLS listener obsgen sets with
	// ENVOY_SECURE_MERGED_METRICS_PORT under secure-port: the port Istio's
	// docs and tests use (istio.io docs/tasks/observability/metrics/
	// secure-metrics; pkg/bootstrap/testdata/secure_metrics_golden.json).
	PortSecureMergedMetrics = 15092
	PortEnvoyMetrics        = 15090
	PortKubelet             = 10250
	PathIstioStats          = "/stats/prometheus"
	// PortNameIstiodMonitoring is the istiod Service port of 15014.
	PortNameIstiodMonitoring = "http-monitoring"
	// PortNameEnvoyProm is the istio-proxy container port of 15090.
	PortNameEnvoyProm = "http-envoy-prom"
	// ServiceAccountTokenFile and ServiceAccountCAFile are where every pod
	// finds its service-account credentials.
	ServiceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	ServiceAccountCAFile    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
)

// istioEnvoyControllers is a regex of the gateway.istio.io/managed values
// of the Envoy proxies istiod deploys for Gateway API gateways and
// waypoints (pkg/config/constants: ManagedGatewayControllerLabel,
// ManagedGatewayMeshControllerLabel; files/kube-gateway.yaml, waypoint.yaml).
// Agentgateway's deployments (istio.io-agentgateway-controller) run no
// Envoy and no pilot-agent.
const istioEnvoyControllers = `istio\.io-gateway-controller|istio\.io-mesh-controller`

// IstioEnvoyControllers returns istioEnvoyControllers for the templates.
func (p *Plan) IstioEnvoyControllers() string { return istioEnvoyControllers }

// IstiodLabels select istiod's pods and Service.
var IstiodLabels = Labels{{Name: "app", Value: "istiod"}}

// Job is one Prometheus scrape job.
type Job struct {
	Name string
	Kind JobKind
	// Endpoint is what the job scrapes; Port 0 means the port comes from the
	// target (an annotation or the discovered endpoint).
	Endpoint Endpoint
	// Namespaces limit discovery; empty means all namespaces.
	Namespaces []string
	// Selector keeps pods with these labels.
	Selector Labels
	// Sidecars filters annotation-driven pod jobs by sidecar presence.
	Sidecars string
	// AnnotatedPorts, when set, keep only the pods whose prometheus.io/port
	// is one of them (an annotation-driven job under a deny stance: the
	// ports the policies open from Prometheus to every pod).
	AnnotatedPorts []int
	// TargetLabel names the label that tells Targets apart (the gateway
	// and waypoint jobs: GatewayTargetLabel, WaypointTargetLabel).
	TargetLabel string
	// Targets are the pods the job keeps, each tagged with its name.
	Targets []JobTarget
	// Why explains the port and scheme in plain words.
	Why string
}

// JobTarget is a named set of pods a job keeps: a declared gateway or
// waypoint.
type JobTarget struct {
	Name string
	Pods PodSelector
}

// CarriesTeam tells whether the job's targets carry the team label (from
// their namespace or service), as prometheus.yml's relabeling gives it to
// the sidecar, annotated-pod and team-service jobs, and to the gateway and
// waypoint jobs (a waypoint or gateway in a team's namespace is that
// team's, as envoy-stats labelled such a gateway before it had a job of
// its own); the other jobs' targets are the platform's (a test in
// generators/prometheus holds the two together).
func (j Job) CarriesTeam() bool {
	switch j.Kind {
	case JobEnvoyStats, JobIstioMerged, JobPods, JobPodsIstioSecure, JobTeamServices, JobGateways, JobWaypoints:
		return true
	}
	return false
}

func (r *resolver) jobs(strategy v1alpha1.ScrapeStrategy) []Job {
	jobs := r.platformJobs()
	jobs = append(jobs, r.meshJobs(strategy)...)
	jobs = append(jobs, r.podJobs(strategy, jobs)...)
	if len(r.plan.ServiceTargets) > 0 {
		e := serviceEndpoint(strategy, 0, "")
		jobs = append(jobs, Job{Name: string(JobTeamServices), Kind: JobTeamServices,
			Endpoint: Endpoint{Scheme: e.Scheme, IstioTLS: e.IstioTLS},
			Why:      "every declared team service, in one job over the shared pod discovery: one relabel rule per service tags its pods, each target gets its service's port and path, and its job label is <team>/<service>, so each service still has a job of its own in queries and alerts."})
	}
	return jobs
}

func (r *resolver) platformJobs() []Job {
	m := r.plan.Monitoring
	jobs := []Job{
		{Name: string(JobAPIServers), Kind: JobAPIServers,
			Endpoint:   Endpoint{Port: r.plan.Cluster.APIServerPort, Path: "/metrics", Scheme: "https"},
			Namespaces: []string{"default"},
			Why:        "the API servers serve metrics over HTTPS on their endpoints; Prometheus authenticates with its service-account token. They are not in the mesh."},
		{Name: string(JobKubelet), Kind: JobKubelet,
			Endpoint: Endpoint{Port: PortKubelet, Path: "/metrics", Scheme: "https"},
			Why:      "each kubelet serves metrics over HTTPS on the node address, port 10250, with the service-account token; nodes are not in the mesh."},
		{Name: string(JobCAdvisor), Kind: JobCAdvisor,
			Endpoint: Endpoint{Port: PortKubelet, Path: "/metrics/cadvisor", Scheme: "https"},
			Why:      "container CPU, memory and throttling come from the kubelet's embedded cAdvisor, port 10250, over HTTPS with the service-account token."},
		{Name: string(JobKubeStateMetrics), Kind: JobKubeStateMetrics,
			Endpoint:   Endpoint{Port: m.KubeStateMetrics.Port, Path: "/metrics", Scheme: "http"},
			Namespaces: []string{m.KubeStateMetrics.Namespace}, Selector: m.KubeStateMetrics.PodLabels,
			Why: "kube-state-metrics serves plaintext metrics; honor_labels keeps the namespace and pod of the objects it describes, and the team label is derived from that namespace."},
		{Name: string(JobNodeExporter), Kind: JobNodeExporter,
			Endpoint:   Endpoint{Port: m.NodeExporter.Port, Path: "/metrics", Scheme: "http"},
			Namespaces: []string{m.NodeExporter.Namespace}, Selector: m.NodeExporter.PodLabels,
			Why: "node-exporter runs on the host network and serves plaintext metrics on the node address."},
		{Name: string(JobPrometheus), Kind: JobPrometheus,
			Endpoint:   Endpoint{Port: PortPrometheus, Path: "/metrics", Scheme: "http"},
			Namespaces: []string{m.Namespace}, Selector: m.Prometheus.PodLabels,
			Why: "every Prometheus server scrapes the Prometheus pods on their web port 9090 in plaintext: rule evaluation, configuration reloads, alert delivery and TSDB growth are watched like any other target, and a server that stops answering is a TargetDown of this job."},
	}
	if !m.Prometheus.Agent {
		jobs = append(jobs, Job{Name: string(JobAlertmanager), Kind: JobAlertmanager,
			Endpoint:   Endpoint{Port: m.Alertmanager.Port, Path: "/metrics", Scheme: "http"},
			Namespaces: []string{m.Alertmanager.Namespace}, Selector: m.Alertmanager.PodLabels,
			Why: "Alertmanager serves its metrics in plaintext on the port Prometheus sends alerts to, so failed notifications and configuration reloads alert too."})
	}
	return jobs
}

func (r *resolver) meshJobs(strategy v1alpha1.ScrapeStrategy) []Job {
	mesh := r.plan.Mesh
	if !mesh.Istio {
		return nil
	}
	ns := []string{mesh.IstioNamespace}
	jobs := []Job{{Name: string(JobIstiod), Kind: JobIstiod,
		Endpoint: Endpoint{Port: PortIstiodMonitoring, Path: "/metrics", Scheme: "http"}, Namespaces: ns,
		Why: "istiod serves control-plane metrics in plaintext on port 15014 (service port http-monitoring), outside mTLS, in every mode."}}
	if mesh.Ambient {
		jobs = append(jobs, Job{Name: string(JobZtunnel), Kind: JobZtunnel,
			Endpoint: Endpoint{Port: PortMergedMetrics, Path: "/metrics", Scheme: "http"}, Namespaces: ns,
			Selector: Labels{{Name: "app", Value: "ztunnel"}},
			Why:      "ztunnel serves its metrics (the ambient L4 standard metrics) in plaintext on port 15020, which is outside mTLS."})
	}
	if mesh.Sidecar && strategy != v1alpha1.StrategyMerged && strategy != v1alpha1.StrategySecurePort {
		jobs = append(jobs, Job{Name: string(JobEnvoyStats), Kind: JobEnvoyStats,
			Endpoint: Endpoint{Port: PortEnvoyMetrics, Path: PathIstioStats, Scheme: "http"},
			Why:      "each sidecar's Envoy serves the Istio standard metrics (istio_requests_total, ...) in plaintext on its *-envoy-prom port 15090, which the sidecar does not intercept, so it works in every mTLS mode."})
	}
	if mesh.Sidecar && strategy == v1alpha1.StrategySecurePort {
		jobs = append(jobs, Job{Name: string(JobIstioMerged), Kind: JobIstioMerged,
			Endpoint: Endpoint{Port: PortSecureMergedMetrics, Path: PathIstioStats, Scheme: "https", IstioTLS: true}, Sidecars: SidecarOnly,
			Why: fmt.Sprintf("each sidecar's Envoy serves the merged metrics (Envoy's, the agent's and the application's) on its mTLS listener :%d/stats/prometheus (ENVOY_SECURE_MERGED_METRICS_PORT), which requires a client certificate of the mesh CA, so Prometheus presents Istio certificates; obsgen's istiod settings keep the port out of inbound capture, so the listener itself terminates the TLS and no PeerAuthentication or AuthorizationPolicy applies. The plaintext :15020 and :15090 answer localhost only (METRICS_LOCALHOST_ACCESS_ONLY). A pod started before the settings has no listener there and shows as down until it restarts; pods of declared team services are left to their own jobs.", PortSecureMergedMetrics)})
	}
	if mesh.Sidecar && strategy == v1alpha1.StrategyMerged {
		jobs = append(jobs, Job{Name: string(JobIstioMerged), Kind: JobIstioMerged,
			Endpoint: Endpoint{Port: PortMergedMetrics, Path: PathIstioStats, Scheme: "http"}, Sidecars: SidecarOnly,
			Why: "with metrics merging each sidecar pod serves Envoy's, the agent's and the application's metrics in plaintext on :15020/stats/prometheus, outside mTLS; pods of declared team services are left to their own jobs, and :15090 is not scraped as well, which would count Envoy's metrics twice."})
	}
	if len(mesh.Gateways) > 0 {
		jobs = append(jobs, gatewayJob(mesh, strategy))
	}
	if len(mesh.Waypoints) > 0 {
		jobs = append(jobs, waypointJob(mesh))
	}
	return jobs
}

// gatewayJob scrapes exactly the declared gateways' pods on their proxy's
// metrics endpoint. Istio's gateway chart annotates its pods
// prometheus.io/port "15020", prometheus.io/path "/stats/prometheus"
// (manifests/charts/gateway/values.yaml, podAnnotations), where the
// agent serves its own and Envoy's metrics (pilot/cmd/pilot-agent/status/
// server.go handleStats, PILOT_AGENT_MERGE_ENVOY_STATS on by default);
// Envoy alone serves them on 15090, the istio-proxy container's
// http-envoy-prom port (manifests/charts/gateway/templates/deployment.yaml;
// istio-discovery files/gateway-injection-template.yaml). With metrics
// merging the job takes 15020, as the chart and the merged sidecars do;
// without it 15090, Envoy's metrics only, as envoy-stats takes them from
// sidecars.
//
// Both ports are plaintext and pass no inbound listener: a gateway has no
// traffic capture (the gateway injection template has no init container),
// 15020 is the agent's own HTTP server and 15090 a listener of Envoy's
// bootstrap with no filter but the stats route (tools/packaging/common/
// envoy_bootstrap.json), so neither PeerAuthentication nor an
// AuthorizationPolicy applies to them: deny-by-default needs no ALLOW.
//
// Under secure-port the mesh-wide proxy metadata obsgen's istiod settings
// carry reaches injected gateways too (gateway-injection-template.yaml
// turns proxyMetadata into the istio-proxy env; pkg/kube/inject/webhook.go
// applySecurePrometheusAnnotation annotates them): their plaintext ports
// answer localhost only, and the job takes the mTLS listener, which a
// gateway, without traffic capture, terminates itself.
func gatewayJob(mesh Mesh, strategy v1alpha1.ScrapeStrategy) Job {
	port, what := PortEnvoyMetrics, "Envoy's metrics in plaintext on :15090/stats/prometheus (its http-envoy-prom port), as envoy-stats takes them from sidecars with metrics merging off"
	endpoint := func(port int) Endpoint { return Endpoint{Port: port, Path: PathIstioStats, Scheme: "http"} }
	switch {
	case strategy == v1alpha1.StrategySecurePort:
		port, what = PortSecureMergedMetrics, fmt.Sprintf("the agent's and Envoy's metrics on the mTLS listener :%d/stats/prometheus, with Istio certificates, as istio-merged takes them from sidecars", PortSecureMergedMetrics)
		endpoint = func(port int) Endpoint {
			return Endpoint{Port: port, Path: PathIstioStats, Scheme: "https", IstioTLS: true}
		}
	case mesh.MetricsMerging:
		port, what = PortMergedMetrics, "the agent's and Envoy's metrics in plaintext on :15020/stats/prometheus, where Istio's gateway chart points its prometheus.io annotations"
	}
	var ns []string
	var targets []JobTarget
	for _, g := range mesh.Gateways {
		ns = append(ns, g.Namespace)
		targets = append(targets, JobTarget{Name: g.Name, Pods: PodSelector{Namespace: g.Namespace, Labels: g.PodLabels}})
	}
	return Job{Name: string(JobGateways), Kind: JobGateways,
		Endpoint: endpoint(port), Namespaces: compactSorted(ns),
		TargetLabel: GatewayTargetLabel, Targets: targets,
		Why: "each declared gateway's pods (mesh.gateways: namespace and podLabels) serve " + what + ": a gateway captures no traffic, so neither PeerAuthentication nor authorization policies apply to its metrics ports. Each target carries gateway=<name>; the generic proxy and annotation jobs leave these pods alone, so nothing is scraped twice."}
}

// waypointJob scrapes exactly the declared waypoints' pods. Istio's
// waypoint template (manifests/charts/istio-control/istio-discovery/files/
// waypoint.yaml) labels them gateway.networking.k8s.io/gateway-name:
// <name>, declares container ports 15020 (metrics), 15021 (status-port)
// and 15090 (http-envoy-prom), and annotates them prometheus.io/port
// "15020", prometheus.io/path "/stats/prometheus": the agent's and
// Envoy's metrics there, the L7 metrics with reporter="waypoint" among
// them.
//
// 15020 is plaintext and passes no inbound listener: the template labels
// the pods istio.io/dataplane-mode: none and sidecar.istio.io/inject:
// "false", so neither ztunnel nor iptables capture their traffic (the
// CNI's enablement selectors exclude dataplane-mode none, manifests/charts/
// istio-cni/values.yaml ambient.enablementSelectors; no sidecar, no
// istio-init), and the agent's server is not an Envoy
// listener; authorization policies bound to a waypoint apply to the
// traffic it proxies (its HBONE listener on 15008), not to 15020. So the
// scrape needs no ALLOW under deny-by-default, and from an enrolled
// Prometheus ztunnel sends it straight to 15020, not over HBONE, since the
// waypoint is no HBONE workload (pilot/pkg/serviceregistry/ambient/
// workloads.go setTunnelProtocol).
func waypointJob(mesh Mesh) Job {
	var ns []string
	var targets []JobTarget
	for _, w := range mesh.Waypoints {
		ns = append(ns, w.Namespace)
		targets = append(targets, JobTarget{Name: w.Name, Pods: PodSelector{Namespace: w.Namespace, Labels: w.PodLabels}})
	}
	return Job{Name: string(JobWaypoints), Kind: JobWaypoints,
		Endpoint: Endpoint{Port: PortMergedMetrics, Path: PathIstioStats, Scheme: "http"}, Namespaces: compactSorted(ns),
		TargetLabel: WaypointTargetLabel, Targets: targets,
		Why: "each declared waypoint's pods (gateway.networking.k8s.io/gateway-name: <name> in its namespace) serve the agent's and Envoy's metrics, the request metrics with reporter=\"waypoint\" among them, in plaintext on :15020/stats/prometheus, as Istio's waypoint template annotates them; waypoints are not enrolled in ambient, so the scrape reaches 15020 directly and no mTLS or authorization policy applies. Each target carries waypoint=<name>, and the team of its namespace; the annotation-driven jobs leave these pods alone, so nothing is scraped twice."}
}

// compactSorted sorts s and drops duplicates.
func compactSorted(s []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(s)))
}

// podJobs are the annotation-driven jobs. They discover every pod annotated
// prometheus.io/scrape, on whatever port the annotation names, in every
// namespace, and real clusters hold many such pods no profile describes:
// istio-cni's node agent (manifests/charts/istio-cni/templates/
// daemonset.yaml: prometheus.io/port "15014", on the host network),
// cert-manager (its chart annotates port 9402 unless a ServiceMonitor is
// used), ingress controllers. Under a deny stance the policies let
// Prometheus reach only the flows obsgen opens, and the only port they open
// to every pod is the proxies' metrics port (scrape-proxies), so every other
// annotated target would be down for good, and TargetDown would fire for its
// namespace while the pods are fine. Under the default-deny stance with
// metrics merging the job keeps only pods annotated with the plaintext
// proxy port 15020 (the Gateway API gateways istiod deploys); otherwise
// (envoy-stats, secure-port, ambient, and the global deny, which covers
// every namespace the profile does not describe) it is left out, and so
// is the Istio-certificate job, whose targets are application ports: what
// Prometheus scrapes is what the policies open (obsgen doctor reports
// Services with metrics ports no job scrapes). earlier are the jobs
// before these.
func (r *resolver) podJobs(strategy v1alpha1.ScrapeStrategy, earlier []Job) []Job {
	var open []int
	switch r.plan.Network.Stance {
	case v1alpha1.StanceOpen:
	case v1alpha1.StanceGlobalDeny:
		// The global deny covers every namespace the profile does not
		// describe, and in the described ones the annotated pods are the
		// teams' (sidecars, or declared services and gateways, which have
		// jobs of their own): nothing is left for these jobs to reach.
		return nil
	default:
		// Only the plaintext agent port 15020 (merged) is a port pods
		// are annotated with and the policies open to every pod: Istio
		// annotates the Gateway API gateways it deploys with it
		// (files/kube-gateway.yaml). Under envoy-stats nothing without a
		// sidecar is annotated 15090 (envoy-stats takes those gateways on
		// their http-envoy-prom port), and secure-port's 15092 is an mTLS
		// listener.
		if port := proxyPortOf(earlier); port == PortMergedMetrics {
			open = []int{port}
		} else {
			return nil
		}
	}
	pods := Job{Name: string(JobPods), Kind: JobPods, Endpoint: Endpoint{Scheme: "http"}}
	switch {
	case !r.plan.Mesh.Sidecar || strategy == v1alpha1.StrategyDirect:
		pods.Sidecars = SidecarAny
		pods.Why = "pods annotated prometheus.io/scrape: \"true\" are scraped in plaintext on the port and path of their prometheus.io annotations; nothing in the mesh requires mTLS of them."
	case strategy == v1alpha1.StrategyIstioCerts && r.plan.Mesh.DenyByDefault:
		// Under deny-by-default authorization the sidecars admit Prometheus
		// on the declared services' ports only (obsgen's ALLOW policies), so
		// an undeclared pod's application port refuses it too.
		pods.Sidecars = SidecarExclude
		pods.Why = "annotated pods without a sidecar are scraped in plaintext; annotated sidecar pods are covered by envoy-stats and the team service jobs: the policies let Prometheus reach no other application port."
	case strategy == v1alpha1.StrategyIstioCerts:
		pods.Sidecars = SidecarExclude
		pods.Why = "annotated pods without a sidecar are scraped in plaintext; annotated sidecar pods go to kubernetes-pods-istio-secure."
		secure := Job{Name: string(JobPodsIstioSecure), Kind: JobPodsIstioSecure, Sidecars: SidecarOnly,
			Endpoint: Endpoint{Scheme: "https", IstioTLS: true},
			Why:      "annotated sidecar pods accept only mTLS on their application ports under STRICT, so Prometheus presents Istio certificates over https."}
		return []Job{pods, secure}
	case strategy == v1alpha1.StrategyMerged && open == nil && r.plan.Mesh.MTLS == v1alpha1.MTLSPermissive && !r.plan.Mesh.DenyByDefault:
		// A pod annotated prometheus.istio.io/merge-metrics: "false" keeps
		// its prometheus.io annotations on the application's port (istio/
		// istio pkg/kube/inject/webhook.go, applyPrometheusMerge): the
		// merged :15020 serves no application metrics for it, and under
		// PERMISSIVE its sidecar admits a plaintext scrape of that port.
		pods.Sidecars = SidecarUnmerged
		pods.Why = "annotated pods are scraped in plaintext, which PERMISSIVE mTLS admits: those without a sidecar, and sidecar pods that opted out of metrics merging (prometheus.istio.io/merge-metrics: \"false\"), whose annotations keep their application port; the merged sidecar pods (annotated with :15020) are covered by " + sidecarCover(strategy) + "."
	default: // merged, or permissive-port with sidecars
		pods.Sidecars = SidecarExclude
		pods.Why = "annotated pods without a sidecar are scraped in plaintext; sidecar pods are covered by " + sidecarCover(strategy) + "."
	}
	if open != nil {
		pods.AnnotatedPorts = open
		pods.Why += fmt.Sprintf(" Under the %s stance it keeps only pods annotated with port %d, the port the policies open from Prometheus to every pod.", r.plan.Network.Stance, open[0])
	}
	return []Job{pods}
}

// proxyPortOf is the port the envoy-stats or istio-merged job of jobs
// scrapes, or 0 without either (see proxyMetricsPort).
func proxyPortOf(jobs []Job) int {
	for _, j := range jobs {
		if j.Kind == JobEnvoyStats || j.Kind == JobIstioMerged {
			return j.Endpoint.Port
		}
	}
	return 0
}

func sidecarCover(strategy v1alpha1.ScrapeStrategy) string {
	if strategy == v1alpha1.StrategyMerged || strategy == v1alpha1.StrategySecurePort {
		return "istio-merged"
	}
	return "envoy-stats and the team service jobs (their other application ports stay STRICT)"
}

// serviceEndpoint decides the port, path and scheme of a team service.
func serviceEndpoint(strategy v1alpha1.ScrapeStrategy, port int, path string) Endpoint {
	switch strategy {
	case v1alpha1.StrategyMerged:
		return Endpoint{Port: PortMergedMetrics, Path: PathIstioStats, Scheme: "http"}
	case v1alpha1.StrategySecurePort:
		return Endpoint{Port: PortSecureMergedMetrics, Path: PathIstioStats, Scheme: "https", IstioTLS: true}
	case v1alpha1.StrategyIstioCerts:
		return Endpoint{Port: port, Path: path, Scheme: "https", IstioTLS: true}
	default:
		return Endpoint{Port: port, Path: path, Scheme: "http"}
	}
}

func serviceWhy(strategy v1alpha1.ScrapeStrategy, s Service, reason string) string {
	switch strategy {
	case v1alpha1.StrategyMerged:
		return fmt.Sprintf("the sidecar merges the application's :%d%s into :15020/stats/prometheus, served in plaintext outside mTLS; the pods need the annotations prometheus.io/scrape: \"true\", prometheus.io/port: \"%d\" and prometheus.io/path: %q, which the injector rewrites.", s.AppPort, s.AppPath, s.AppPort, s.AppPath)
	case v1alpha1.StrategySecurePort:
		return fmt.Sprintf("the sidecar merges the application's :%d%s into its merged metrics, which its mTLS listener :%d/stats/prometheus serves to clients with a mesh certificate; the pods need the annotations prometheus.io/scrape: \"true\", prometheus.io/port: \"%d\" and prometheus.io/path: %q, which the injector rewrites.", s.AppPort, s.AppPath, PortSecureMergedMetrics, s.AppPort, s.AppPath)
	case v1alpha1.StrategyIstioCerts:
		return fmt.Sprintf("STRICT sidecars accept only mTLS on :%d, so Prometheus presents Istio certificates over https (the certificate carries a SPIFFE identity, not the pod IP, hence insecure_skip_verify).", s.AppPort)
	case v1alpha1.StrategyPermissivePort:
		return fmt.Sprintf("a port-level PERMISSIVE PeerAuthentication on this workload opens :%d to plaintext scrapes; every other port stays STRICT.", s.AppPort)
	}
	return fmt.Sprintf(":%d%s is scraped directly in plaintext: %s.", s.AppPort, s.AppPath, reason)
}
