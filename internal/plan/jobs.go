package plan

import (
	"fmt"

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
)

// Istio's fixed ports and paths (istio.io, application requirements).
const (
	PortIstiodMonitoring = 15014
	PortMergedMetrics    = 15020
	PortEnvoyMetrics     = 15090
	PortKubelet          = 10250
	PathIstioStats       = "/stats/prometheus"
	// PortNameIstiodMonitoring is the istiod Service port of 15014.
	PortNameIstiodMonitoring = "http-monitoring"
	// PortNameEnvoyProm is the istio-proxy container port of 15090.
	PortNameEnvoyProm = "http-envoy-prom"
	// ServiceAccountTokenFile and ServiceAccountCAFile are where every pod
	// finds its service-account credentials.
	ServiceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	ServiceAccountCAFile    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
)

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
	// Why explains the port and scheme in plain words.
	Why string
}

// CarriesTeam tells whether the job's targets carry the team label (from
// their namespace or service), as prometheus.yml's relabeling gives it to
// the sidecar, annotated-pod and team-service jobs; the other jobs' targets
// are the platform's (a test in generators/prometheus holds the two
// together).
func (j Job) CarriesTeam() bool {
	switch j.Kind {
	case JobEnvoyStats, JobIstioMerged, JobPods, JobPodsIstioSecure, JobTeamServices:
		return true
	}
	return false
}

func (r *resolver) jobs(strategy v1alpha1.ScrapeStrategy) []Job {
	jobs := r.platformJobs()
	jobs = append(jobs, r.meshJobs(strategy)...)
	jobs = append(jobs, r.podJobs(strategy)...)
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
	if mesh.Sidecar && strategy != v1alpha1.StrategyMerged {
		jobs = append(jobs, Job{Name: string(JobEnvoyStats), Kind: JobEnvoyStats,
			Endpoint: Endpoint{Port: PortEnvoyMetrics, Path: PathIstioStats, Scheme: "http"},
			Why:      "each sidecar's Envoy serves the Istio standard metrics (istio_requests_total, ...) in plaintext on its *-envoy-prom port 15090, which the sidecar does not intercept, so it works in every mTLS mode."})
	}
	if mesh.Sidecar && strategy == v1alpha1.StrategyMerged {
		jobs = append(jobs, Job{Name: string(JobIstioMerged), Kind: JobIstioMerged,
			Endpoint: Endpoint{Port: PortMergedMetrics, Path: PathIstioStats, Scheme: "http"}, Sidecars: SidecarOnly,
			Why: "with metrics merging each sidecar pod serves Envoy's, the agent's and the application's metrics in plaintext on :15020/stats/prometheus, outside mTLS; pods of declared team services are left to their own jobs, and :15090 is not scraped as well, which would count Envoy's metrics twice."})
	}
	return jobs
}

func (r *resolver) podJobs(strategy v1alpha1.ScrapeStrategy) []Job {
	pods := Job{Name: string(JobPods), Kind: JobPods, Endpoint: Endpoint{Scheme: "http"}}
	switch {
	case !r.plan.Mesh.Sidecar || strategy == v1alpha1.StrategyDirect:
		pods.Sidecars = SidecarAny
		pods.Why = "pods annotated prometheus.io/scrape: \"true\" are scraped in plaintext on the port and path of their prometheus.io annotations; nothing in the mesh requires mTLS of them."
	case strategy == v1alpha1.StrategyIstioCerts:
		pods.Sidecars = SidecarExclude
		pods.Why = "annotated pods without a sidecar are scraped in plaintext; annotated sidecar pods go to kubernetes-pods-istio-secure."
		secure := Job{Name: string(JobPodsIstioSecure), Kind: JobPodsIstioSecure, Sidecars: SidecarOnly,
			Endpoint: Endpoint{Scheme: "https", IstioTLS: true},
			Why:      "annotated sidecar pods accept only mTLS on their application ports under STRICT, so Prometheus presents Istio certificates over https."}
		return []Job{pods, secure}
	default: // merged, or permissive-port with sidecars
		pods.Sidecars = SidecarExclude
		pods.Why = "annotated pods without a sidecar are scraped in plaintext; sidecar pods are covered by " + sidecarCover(strategy) + "."
	}
	return []Job{pods}
}

func sidecarCover(strategy v1alpha1.ScrapeStrategy) string {
	if strategy == v1alpha1.StrategyMerged {
		return "istio-merged"
	}
	return "envoy-stats and the team service jobs (their other application ports stay STRICT)"
}

// serviceEndpoint decides the port, path and scheme of a team service.
func serviceEndpoint(strategy v1alpha1.ScrapeStrategy, port int, path string) Endpoint {
	switch strategy {
	case v1alpha1.StrategyMerged:
		return Endpoint{Port: PortMergedMetrics, Path: PathIstioStats, Scheme: "http"}
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
	case v1alpha1.StrategyIstioCerts:
		return fmt.Sprintf("STRICT sidecars accept only mTLS on :%d, so Prometheus presents Istio certificates over https (the certificate carries a SPIFFE identity, not the pod IP, hence insecure_skip_verify).", s.AppPort)
	case v1alpha1.StrategyPermissivePort:
		return fmt.Sprintf("a port-level PERMISSIVE PeerAuthentication on this workload opens :%d to plaintext scrapes; every other port stays STRICT.", s.AppPort)
	}
	return fmt.Sprintf(":%d%s is scraped directly in plaintext: %s.", s.AppPort, s.AppPath, reason)
}
