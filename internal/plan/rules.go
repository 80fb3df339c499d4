package plan

import (
	"net/url"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// Rules says where obsgen's rules are evaluated.
//
// Rules that read single series (a pod's restarts, one Prometheus' failed
// reloads) are right on any server that holds the series, so every
// Prometheus server (every shard) evaluates them. Rules that need every
// series of the cluster (absent(), sums over a service's pods, the
// objectives) are right only where every series is: one unsharded server,
// or a ruler over the store every shard or agent writes to (Thanos Ruler
// through Thanos Query, the Mimir or Cortex ruler).
type Rules struct {
	// Global evaluates the rules that need every series: "prometheus",
	// "thanos-ruler" or "mimir-ruler".
	Global string
	// Local tells that the Prometheus servers evaluate the rules that read
	// single series: false for an agent, which evaluates nothing.
	Local bool
	// Why explains the choice in plain words.
	Why string
	// MimirNamespace is the Mimir ruler namespace (mimir-ruler only).
	MimirNamespace string
	// ClusterScoped tells that the ruler reads a store that may hold other
	// clusters: its rules select cluster="<name>" and keep the label.
	ClusterScoped bool
}

// Evaluators of the rules that need every series.
const (
	EvaluatorPrometheus  = string(v1alpha1.EvaluatorPrometheus)
	EvaluatorThanosRuler = string(v1alpha1.EvaluatorThanosRuler)
	EvaluatorMimirRuler  = string(v1alpha1.EvaluatorMimirRuler)
)

// EvaluatorLabel tells which evaluator a PrometheusRule is for: the
// Prometheus resource selects "prometheus", a ThanosRuler "thanos-ruler",
// so neither loads the other's rules.
const EvaluatorLabel = "obsgen.dev/evaluator"

// Ruler tells whether a ruler, not Prometheus, evaluates the rules that
// need every series.
func (r Rules) Ruler() bool { return r.Global != EvaluatorPrometheus }

// TwoEvaluators tells that a ruler evaluates the rules that need every
// series while the Prometheus servers evaluate the others: two ways to
// Alertmanager, so two heartbeats (Watchdog.RulerReceiver).
func (r Rules) TwoEvaluators() bool { return r.Global != "" && r.Ruler() && r.Local }

// GlobalName is the evaluator of the rules that need every series, in
// words: Prometheus, Thanos Ruler or Mimir ruler.
func (r Rules) GlobalName() string {
	switch r.Global {
	case EvaluatorThanosRuler:
		return "Thanos Ruler"
	case EvaluatorMimirRuler:
		return "Mimir ruler"
	}
	return "Prometheus"
}

// Recorded tells whether obsgen's recording rules run somewhere, so
// dashboards can read them.
func (r Rules) Recorded() bool { return r.Global != "" }

// ResolveRules is where a profile (with its defaults) has its rules
// evaluated, as the plan says it.
func ResolveRules(p *v1alpha1.Profile) Rules { return resolveRules(p) }

func resolveRules(p *v1alpha1.Profile) Rules {
	pr := p.Monitoring.Prometheus
	agent := pr.Mode == v1alpha1.ModeAgent
	out := Rules{Local: !agent, Global: string(p.Monitoring.Rules.Evaluator)}
	switch {
	case out.Global != string(v1alpha1.EvaluatorAuto):
		out.Why = "set in monitoring.rules.evaluator"
	case !agent && pr.Shards <= 1:
		out.Global, out.Why = EvaluatorPrometheus, "one Prometheus server holds every series"
	default:
		// Validation refuses a profile whose store cannot be told.
		out.Global = StoreRuler(pr.RemoteWrite)
		what := "an agent evaluates no rules"
		if !agent {
			what = "each shard holds part of the series"
		}
		out.Why = what + ", and the " + out.GlobalName() + " reads the store the remote write sends every series to"
	}
	if out.Ruler() {
		out.ClusterScoped = true
		out.MimirNamespace = p.Monitoring.Rules.Namespace
		if out.MimirNamespace == "" && out.Global == EvaluatorMimirRuler {
			out.MimirNamespace = "obsgen-" + p.Cluster.Name
		}
	}
	return out
}

// StoreRuler is the ruler of the store remote-write URLs lead to, told by
// the URL's path: Thanos Receive's remote-write handler listens on
// /api/v1/receive (thanos docs/components/receive.md), Mimir's and
// Cortex's distributor on /api/v1/push (grafana/mimir
// docs/sources/mimir/references/http-api, "Remote write"). "" when no URL
// or the URLs disagree.
func StoreRuler(rw []v1alpha1.RemoteWrite) string {
	found := ""
	for _, w := range rw {
		u, err := url.Parse(w.URL)
		if err != nil {
			return ""
		}
		var kind string
		switch path := strings.TrimSuffix(u.Path, "/"); {
		case strings.HasSuffix(path, "/api/v1/receive"):
			kind = EvaluatorThanosRuler
		case strings.HasSuffix(path, "/api/v1/push"):
			kind = EvaluatorMimirRuler
		default:
			return ""
		}
		if found != "" && found != kind {
			return ""
		}
		found = kind
	}
	return found
}

// PrometheusPrincipal is the SPIFFE identity Prometheus' requests carry
// in Istio's metrics (source_principal) when they are mutual TLS: with
// the istio-certs strategy's certificates, or through ztunnel in ambient.
func (p *Plan) PrometheusPrincipal() string {
	return "spiffe://" + p.Mesh.TrustDomain + "/ns/" + p.Monitoring.Namespace + "/sa/" + p.Monitoring.Prometheus.ServiceAccount
}

// FailedRequests are the two sets of matchers of istio_requests_total
// whose union is the requests that failed on the server's side: an HTTP
// 5xx; or a gRPC call whose status, which Istio reports as
// grpc_response_status (istio.io docs/reference/config/metrics, labels),
// is one google.rpc.Code maps to a 5xx (googleapis google/rpc/code.proto,
// "HTTP Mapping": UNKNOWN 2, DEADLINE_EXCEEDED 4, UNIMPLEMENTED 12,
// INTERNAL 13, UNAVAILABLE 14, DATA_LOSS 15). A gRPC server answers HTTP
// 200 with the failure in the grpc-status trailer, so on response_code
// alone a failing gRPC service looked healthy. The second set excludes
// 5xx, so no request counts twice, and 4xx and 0: when a plain HTTP
// answer carries no grpc-status, Envoy derives one from the HTTP status
// (envoy source/common/grpc/common.cc getGrpcStatus, status.cc: 429
// becomes UNAVAILABLE, 404 UNIMPLEMENTED, 400 INTERNAL), so a client's
// error answered by a proxy or middleware would pass for a server's
// failure. A gRPC-aware reply (HTTP 200 with a grpc-status) counts by its
// status, Envoy's own included: its rate limit answers UNAVAILABLE unless
// rate_limited_as_resource_exhausted makes it RESOURCE_EXHAUSTED, which
// is not a failure here. Kiali's gRPC error branch excludes 0 and 4xx the
// same way (its HTTP branch, unlike this one, counts them); like Kiali's error queries
// (business/metrics_labels_builder.go, BuildForErrors) it matches the
// gRPC status positively, so requests without the label are not gRPC
// failures. Client errors (4xx, INVALID_ARGUMENT, NOT_FOUND, ...) are not
// the service's failures.
var FailedRequests = [2]string{`response_code=~"5.."`, `response_code!~"0|[45]..", grpc_response_status=~"2|4|12|13|14|15"`}

// FailedRequestRate is the PromQL rate of istio_requests_total's failed
// requests (FailedRequests) among those sel selects, over window, summed
// by the labels in by (none: one sum): the two selections carry
// different response codes, so `or` keeps both.
func FailedRequestRate(by, sel, window string) string {
	sum := "sum"
	if by != "" {
		sum = "sum by (" + by + ")"
	}
	if sel != "" {
		sel += ", "
	}
	return sum + " (rate(istio_requests_total{" + sel + FailedRequests[0] + "}[" + window + "]) or rate(istio_requests_total{" +
		sel + FailedRequests[1] + "}[" + window + "]))"
}

// RequestMatchers select, in Istio's request metrics, the requests a
// service serves: those its reporter (the destination's sidecar, or the
// waypoint in ambient) counts, without Prometheus' own scrapes. Scrapes of
// an application port that pass the destination's proxy (istio-certs,
// permissive-port, ambient through a waypoint) are counted in
// istio_requests_total like any request: /metrics latency would count
// against latency objectives and a service that only gets scraped would
// never look idle. Mutual-TLS scrapes carry Prometheus' identity as
// source_principal. Under permissive-port they are plaintext on a port
// the port-level exception opens and only Prometheus may reach; every
// other request of the STRICT mesh is mutual TLS, so plaintext ones are
// the scrapes (connection_security_policy="none"; istio.io
// docs/reference/config/metrics, labels).
func (p *Plan) RequestMatchers() string {
	m := `reporter="` + p.Mesh.RequestReporter + `"`
	if !p.Mesh.Istio {
		return m
	}
	m += `, source_principal!="` + p.PrometheusPrincipal() + `"`
	if p.Scrape.Strategy == v1alpha1.StrategyPermissivePort {
		m += `, connection_security_policy!="none"`
	}
	return m
}
