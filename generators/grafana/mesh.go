package grafana

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"obsgen.dev/obsgen/internal/plan"
)

// byService is how the per-service recordings are keyed, without team.
const byService = "destination_workload_namespace, destination_canonical_service"

// meshOverview is the whole mesh at a glance: traffic, success rate,
// latency, mTLS coverage and the services that fail most.
func meshOverview(p *plan.Plan, m Meta) (dashboard.Dashboard, error) {
	pq := newQueries(p)
	b := newBoard(p, m, "Requests, errors, latency and mTLS across the mesh, from Istio's standard metrics.", tagPlatform)
	if p.Rules.Recorded() {
		b.Annotation(alertsAnnotation(pq.sel(`alertname=~"Istio.*"`)))
	}
	b.WithRow(row("Traffic")).
		WithPanel(singleStat("Requests", "Requests per second the mesh's destinations answered.", "reqps", 6, neutral,
			q(pq.requests("", ""), "requests"))).
		WithPanel(singleStat("Success rate", "Share of requests that did not fail on the server's side (an HTTP 5xx, or a gRPC status mapped to one: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS).", "percentunit", 6, atLeast(0.95, 0.99),
			q("1 - ("+pq.errorRatio("", "")+")", "success"))).
		WithPanel(singleStat("mTLS coverage", pq.mtlsWhat()+pq.mtlsCaveat(),
			"percentunit", 6, healthyAtOne, pq.mtlsShares("", "")...)).
		// An idle service keeps its rate series at 0 for as long as its
		// proxies keep their counters: only those with requests count,
		// and an idle mesh reads 0 (count of nothing is no result).
		WithPanel(singleStat("Services with traffic", "Destination services that answered requests.", "short", 6, neutral,
			q(fmt.Sprintf("count(%s > 0) or vector(0)", pq.requests(byService, "")), "services"))).
		WithPanel(graph("Requests by namespace", "Requests per second by destination namespace.", "reqps", 12,
			q(pq.requests("destination_workload_namespace", ""), "{{destination_workload_namespace}}"))).
		WithPanel(graph("Request duration", "Mesh-wide request duration quantiles, from the destinations' histograms.", "ms", 12,
			q(meshQuantile(pq, "0.5"), "p50"), q(meshQuantile(pq, "0.9"), "p90"), q(meshQuantile(pq, "0.99"), "p99")))
	b.WithRow(row("Errors and security")).
		WithPanel(instantTable("Top services by errors", "The ten services with the highest share of server errors (HTTP 5xx or a gRPC server status).", "percentunit", 12,
			q(fmt.Sprintf("topk(10, %s)", pq.errorRatio(byService, "")), ""))).
		WithPanel(graph("mTLS coverage by namespace", pq.mtlsWhat()+" By destination namespace."+pq.mtlsCaveat(), "percentunit", 12,
			pq.mtlsShares("destination_workload_namespace", "{{destination_workload_namespace}} ")...))
	return build(b)
}

// meshQuantile is a mesh-wide quantile: over every destination's buckets.
func meshQuantile(pq queries, value string) string {
	return fmt.Sprintf("histogram_quantile(%s, %s)", value, pq.buckets("le", ""))
}

// mtlsCaveat says, where the request matchers leave plaintext requests
// out as Prometheus' scrapes (permissive-port: plan.RequestMatchers), that
// the share cannot fall below one.
func (pq queries) mtlsCaveat() string {
	if !strings.Contains(pq.received, `connection_security_policy!="none"`) {
		return ""
	}
	return " Under the permissive-port strategy plaintext requests are Prometheus' scrapes on the metrics-port exception (the STRICT mesh admits no other) and are left out, so the share of requests reads 100% wherever there is traffic: the PeerAuthentications, not this panel, keep plaintext out."
}

// mtlsShares are the shares of what the destinations received over
// mutual TLS, by, each with its legend (prefixed by legend). In ambient
// it is the share of the connections the destinations' ztunnels took in:
// a waypoint takes HBONE only and reports every request as mutual_tls
// whatever the client sent (Istio's own ambient test expects "mutual_tls"
// on reporter="waypoint" series: istio/istio
// tests/integration/ambient/baseline_test.go, buildQuery), while plaintext
// to an enrolled pod reaches its ztunnel, which reports it with
// connection_security_policy="unknown" (istio/ztunnel
// src/proxy/inbound_passthrough.rs), counted when opened, before its
// authorization decides.
//
// With sidecars they are two shares, never added together: of the
// requests, and of the TCP connections open now. A sidecar records
// istio_requests_total on the chains it parses as HTTP and istio_tcp_*
// only on the others (istio/istio pilot/pkg/networking/core/
// networkfilter.go; listener_inbound.go adds no TCP stats to HTTP
// chains), so a plaintext TCP client of a PERMISSIVE workload (a database
// client without a sidecar) shows only in the connections; and a pool of
// long-lived connections opens none in a rate window, so the connections
// open are counted (opened minus closed, which reset together with their
// proxy; a series with no close yet is all open).
func (pq queries) mtlsShares(by, legend string) []query {
	if pq.ambient {
		rate := func(ms ...string) string {
			return fmt.Sprintf("sum%s(rate(istio_tcp_connections_opened_total{%s}[%s]))", byClause(by), pq.tcpInbound(ms...), rateInterval)
		}
		return []query{q(shareOf(rate(`connection_security_policy="mutual_tls"`), rate()), legend+"connections")}
	}
	requests := func(ms ...string) string {
		return fmt.Sprintf("sum%s(rate(istio_requests_total{%s}[%s]))", byClause(by), pq.inbound(ms...), rateInterval)
	}
	open := func(ms ...string) string {
		sel := pq.tcpInbound(ms...)
		return fmt.Sprintf("sum%s((istio_tcp_connections_opened_total{%[2]s} - istio_tcp_connections_closed_total{%[2]s}) or istio_tcp_connections_opened_total{%[2]s})",
			byClause(by), sel)
	}
	mtls := `connection_security_policy="mutual_tls"`
	return []query{
		q(shareOf(requests(mtls), requests()), legend+"requests"),
		q(shareOf(open(mtls), open()), legend+"TCP connections"),
	}
}

// mtlsWhat says what the mTLS panels count.
func (pq queries) mtlsWhat() string {
	if pq.ambient {
		return `Share of the connections to enrolled pods that used mutual TLS (connection_security_policy="mutual_tls"), as their nodes' ztunnels report them; a plaintext attempt counts when opened, also one ztunnel then denies.`
	}
	return `Share of the HTTP and gRPC requests, and apart of the TCP connections open now (which a sidecar counts only for traffic it does not parse as HTTP), that arrived over mutual TLS (connection_security_policy="mutual_tls"), as the destinations' sidecars report them.`
}
