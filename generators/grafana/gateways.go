package grafana

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"obsgen.dev/obsgen/internal/plan"
)

// gatewayVar selects one declared gateway.
const gatewayVar = "gateway"

// gatewayQueries selects one gateway's request metrics. The istio-gateways
// job scrapes the declared gateways' proxies and labels each target with
// its declared name (plan.JobGateways, plan.GatewayTargetLabel). A gateway
// reports its requests as the client of the backend: its listeners are of
// the gateway class, whose metrics are the client's
// (reporter="source"; istio/istio pilot/pkg/model/telemetry.go,
// MetricsForClass and workloadMode), and Istio's own dashboards read
// ingress traffic so (istio_requests_total{source_workload=
// "istio-ingressgateway", reporter="source"},
// manifests/addons/dashboards/istio-performance-dashboard.json).
type gatewayQueries struct {
	queries
}

// sel selects the chosen gateway's requests, and ms.
func (gq gatewayQueries) sel(ms ...string) string {
	return gq.queries.sel(append([]string{eq("job", string(plan.JobGateways)), eq("reporter", reporterSource),
		eq(plan.GatewayTargetLabel, "$"+gatewayVar)}, ms...)...)
}

// requests is the gateway's request rate, summed by.
func (gq gatewayQueries) requests(by string, ms ...string) string {
	return fmt.Sprintf("sum%s(rate(istio_requests_total{%s}[%s]))", byClause(by), gq.sel(ms...), rateInterval)
}

// errorRatio is the share of the gateway's requests answered with 5xx, by;
// 0 where there are requests but no errors, none where there are no
// requests (0/0 would read NaN).
func (gq gatewayQueries) errorRatio(by string) string {
	all := gq.requests(by)
	return shareOf(plan.FailedRequestRate(by, gq.sel(), rateInterval), all)
}

// quantile is a request-duration quantile of the gateway in ms, by.
func (gq gatewayQueries) quantile(value, by string) string {
	return noNaN(fmt.Sprintf("histogram_quantile(%s, sum by (%s) (rate(istio_request_duration_milliseconds_bucket{%s}[%s])))",
		value, joinBy(by, "le"), gq.sel(), rateInterval))
}

// gatewayValuesQuery lists the gateways whose proxies are scraped: their
// up series carry the gateway label from the first scrape. Their
// istio_requests_total would list only those that routed HTTP in the
// time range: a gateway's TCP and TLS passthrough chains record istio_tcp_*
// only (istio/istio pilot/pkg/networking/core/networkfilter.go), and one
// just restarted or idle has no request series yet.
func gatewayValuesQuery(pq queries) string {
	return fmt.Sprintf("label_values(up{%s}, %s)", pq.sel(eq("job", string(plan.JobGateways))), plan.GatewayTargetLabel)
}

// gatewayVariable selects a gateway; it defaults to the first declared.
func gatewayVariable(pq queries, first string) *dashboard.QueryVariableBuilder {
	qr := gatewayValuesQuery(pq)
	return dashboard.NewQueryVariableBuilder(gatewayVar).Label("Gateway").Datasource(promDS()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(qr)}).Definition(qr).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(first)},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(first)},
		})
}

// byDestination groups a gateway's requests by the service they went to.
const byDestination = "destination_service"

// gatewayDashboard is the RED view of one declared gateway at a time:
// request rate, 5xx ratio and latency quantiles, by response code and by
// destination service.
func gatewayDashboard(p *plan.Plan, m Meta) (dashboard.Dashboard, error) {
	gq := gatewayQueries{newQueries(p)}
	b := newBoard(p, m, "Requests, errors and duration of the declared Istio gateways, as each gateway's proxy reports them (reporter=\"source\", job "+
		string(plan.JobGateways)+").", tagPlatform).
		WithVariable(gatewayVariable(gq.queries, p.Mesh.Gateways[0].Name))
	b.WithRow(row("Gateway $" + gatewayVar)).
		WithPanel(singleStat("Requests", "Requests per second the gateway forwarded.", "reqps", 8, neutral, q(gq.requests(""), "requests"))).
		WithPanel(singleStat("5xx ratio", "Share of the gateway's requests that failed with an HTTP 5xx or a gRPC server status, from the backend or the gateway itself.", "percentunit", 8,
			errorRatio, q(gq.errorRatio(""), "5xx"))).
		WithPanel(singleStat("p99", "The gateway's p99 request duration, backend included.", "ms", 8, latencyMs, q(gq.quantile("0.99", ""), "p99"))).
		WithPanel(graph("Requests by response code", "Requests per second, by response code.", "reqps", 12,
			q(gq.requests("response_code"), "{{response_code}}"))).
		WithPanel(graph("Duration", "Request duration quantiles, backend included.", "ms", 12,
			q(gq.quantile("0.5", ""), "p50"), q(gq.quantile("0.9", ""), "p90"), q(gq.quantile("0.99", ""), "p99")))
	b.WithRow(row("By destination service")).
		WithPanel(graph("Requests by destination", "Requests per second, by the service they went to.", "reqps", 8,
			q(gq.requests(byDestination), "{{"+byDestination+"}}"))).
		WithPanel(graph("5xx ratio by destination", "Share of each destination's requests that failed with an HTTP 5xx or a gRPC server status.", "percentunit", 8,
			q(gq.errorRatio(byDestination), "{{"+byDestination+"}}"))).
		WithPanel(graph("p99 by destination", "p99 request duration, by destination.", "ms", 8,
			q(gq.quantile("0.99", byDestination), "{{"+byDestination+"}}")))
	// A gateway's TCP routes and TLS passthrough servers record istio_tcp_*
	// only, no request metrics (istio/istio pilot/pkg/networking/core/
	// networkfilter.go, the TCP proxy chain's stats filter), as the
	// client of the backend (reporter="source", like its requests).
	// Prometheus' identity is left out as from every TCP query; a
	// gateway's outbound connections never carry it, so it drops nothing.
	tcp := func(metric string) string {
		return fmt.Sprintf("sum by (%s) (rate(%s{%s}[%s]))", byDestination, metric, gq.sel(gq.notScrapes), rateInterval)
	}
	b.WithRow(row("TCP and TLS passthrough")).
		// Sent and received are the downstream connection's (istio/proxy
		// istio_stats: the downstream bytes meter; istio.io standard
		// metrics: sent "during response", received "during request").
		WithPanel(graph("TCP sent by destination", "Bytes per second the gateway sent back to its clients over TCP routes and TLS passthrough (which record no requests), by the destination they came from. Counted as they flow once the connection's peer is known, else when it closes.", "Bps", 12,
			q(tcp("istio_tcp_sent_bytes_total"), "{{"+byDestination+"}}"))).
		WithPanel(graph("TCP received by destination", "Bytes per second the gateway received from its clients over TCP routes and TLS passthrough, by the destination it forwarded them to.", "Bps", 12,
			q(tcp("istio_tcp_received_bytes_total"), "{{"+byDestination+"}}")))
	return build(b)
}
