package grafana

import (
	"fmt"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// rateInterval is Grafana's rate window: at least four scrape intervals.
const rateInterval = "$__rate_interval"

// clusterLabel is the external label every series carries in a shared
// store (plan.ExternalLabels); clusterVar is the variable that selects it.
const (
	clusterLabel = plan.ClusterLabel
	clusterVar   = "cluster"
)

// Reporters of Istio's standard metrics (istio.io
// docs/reference/config/metrics, "reporter"): the proxy on the
// destination's side, or on the source's (a sidecar's outbound traffic, and
// a gateway's: gateways are routers whose listeners report as clients,
// istio/istio pilot/pkg/model/telemetry.go, MetricsForClass and
// workloadMode for ListenerClassGateway).
const (
	reporterDestination = "destination"
	reporterSource      = "source"
)

// queries writes the PromQL of the dashboards. Where obsgen's recording
// rules run (plan.Rules.Recorded: Prometheus, or a ruler over the store)
// it reads them: cheaper, and the same numbers the alerts see. Elsewhere
// it computes the same from the raw series.
type queries struct {
	// recorded tells that the recording rules exist.
	recorded bool
	// proxyTeam tells that the Istio metrics carry the team label: the
	// sidecar jobs derive it from the pod's namespace; ztunnel and the
	// waypoints report for every team.
	proxyTeam bool
	// cluster selects the dashboard's cluster on a shared store, where
	// every series carries the cluster external label; "" on this
	// cluster's Prometheus, whose series do not.
	cluster string
	// reporter reports the requests a service received: its sidecar
	// ("destination"), or in ambient its waypoint ("waypoint");
	// outboundReporter those it sent: its sidecar ("source"), or in
	// ambient the destination's waypoint.
	reporter, outboundReporter string
	// ambient: ztunnel reports the connections, waypoints the requests.
	ambient bool
	// received selects the requests a service received without
	// Prometheus' own scrapes (plan.RequestMatchers), as the recordings do.
	received string
	// notScrapes leaves Prometheus' identity out of the TCP metrics, ""
	// without Istio.
	notScrapes string
}

func newQueries(p *plan.Plan) queries {
	pq := queries{recorded: p.Rules.Recorded(), proxyTeam: p.Mesh.Sidecar,
		reporter: p.Mesh.RequestReporter, outboundReporter: reporterSource, received: p.RequestMatchers()}
	if p.Mesh.Ambient {
		pq.outboundReporter = p.Mesh.RequestReporter
		pq.ambient = true
	}
	if p.Mesh.Istio {
		pq.notScrapes = `source_principal!="` + p.PrometheusPrincipal() + `"`
	}
	if p.Dashboards.Datasource.Shared {
		pq.cluster = eq(clusterLabel, "$"+clusterVar)
	}
	return pq
}

// matchers joins label matchers, dropping empty ones.
func matchers(ms ...string) string {
	out := ms[:0:0]
	for _, m := range ms {
		if m != "" {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

// eq and re write a matcher.
func eq(label, value string) string { return fmt.Sprintf("%s=%q", label, value) }
func re(label, value string) string { return fmt.Sprintf("%s=~%q", label, value) }

// sel is what every selector of a dashboard holds: the cluster matcher
// (on a shared store) and ms.
func (pq queries) sel(ms ...string) string { return matchers(append([]string{pq.cluster}, ms...)...) }

// team is the team matcher of Istio metrics, when they carry the label.
func (pq queries) team(team string) string {
	if !pq.proxyTeam || team == "" {
		return ""
	}
	return eq("team", team)
}

// inbound selects the requests the destinations' proxies (or waypoints)
// reported.
func (pq queries) inbound(ms ...string) string {
	received := pq.received
	if received == "" {
		received = eq("reporter", pq.reporter)
	}
	return pq.sel(append([]string{received}, ms...)...)
}

// tcpInbound selects the TCP traffic the destinations' proxies reported:
// the sidecar's, or in ambient the destination node's ztunnel, which
// reports inbound connections as reporter="destination" (istio/ztunnel
// src/proxy/inbound.rs).
//
// Prometheus' own scrapes of an application port pass the destination's
// ztunnel like any connection (over mTLS with Prometheus' identity as
// source_principal, istio/ztunnel src/proxy/metrics.rs), so an idle
// service would show steady bytes: they are left out, as the request
// matchers leave them out of the request metrics.
func (pq queries) tcpInbound(ms ...string) string {
	return pq.sel(append([]string{eq("reporter", reporterDestination), pq.notScrapes}, ms...)...)
}

// requests is the request rate of the selected destinations, summed by.
func (pq queries) requests(by, sel string) string {
	if pq.recorded {
		return fmt.Sprintf("sum%s(service:istio_requests:rate5m{%s})", byClause(by), pq.sel(sel))
	}
	return fmt.Sprintf("sum%s(rate(istio_requests_total{%s}[%s]))", byClause(by), pq.inbound(sel), rateInterval)
}

// errors5xx is the 5xx rate, or 0 where there are requests but no errors.
func (pq queries) errors5xx(by, sel string) string {
	var errs string
	if pq.recorded {
		errs = fmt.Sprintf("sum%s(service:istio_requests_errors:rate5m{%s})", byClause(by), pq.sel(sel))
	} else {
		errs = plan.FailedRequestRate(by, pq.inbound(sel), rateInterval)
	}
	return fmt.Sprintf("(%s or %s * 0)", errs, pq.requests(by, sel))
}

// shareOf is part's share of all: 0 where all has series but part none,
// none where all is 0 (0/0 would read NaN, which a stat or table prints).
func shareOf(part, all string) string {
	return fmt.Sprintf("(%s or %s * 0) / (%s > 0)", part, all, all)
}

// errorRatio is the share of requests answered with 5xx; none where there
// are no requests (0/0 would read NaN), as the per-service recording.
func (pq queries) errorRatio(by, sel string) string {
	return fmt.Sprintf("%s / (%s > 0)", pq.errors5xx(by, sel), pq.requests(by, sel))
}

// serviceErrorRatio is one service's 5xx share (the recording keeps 0 when
// there are no errors).
func (pq queries) serviceErrorRatio(sel string) string {
	if pq.recorded {
		return fmt.Sprintf("service:istio_requests_errors:ratio_rate5m{%s}", pq.sel(sel))
	}
	return pq.errorRatio("", sel)
}

// quantile is a request-duration quantile (p50, p90, p99) in ms, by;
// none where there were no requests (noNaN).
func (pq queries) quantile(name, value, by, sel string) string {
	if pq.recorded && by == "" {
		return noNaN(fmt.Sprintf("service:istio_request_duration_milliseconds:%s_rate5m{%s}", name, pq.sel(sel)))
	}
	return noNaN(fmt.Sprintf("histogram_quantile(%s, %s)", value, pq.buckets(joinBy(by, "le"), sel)))
}

// noNaN drops the NaN a quantile of no observations is (Prometheus'
// histogram_quantile documentation: an idle service's or gateway's
// buckets all rate 0): a stat or table would print "NaN", and max() over
// services returns it when it is all there is. A comparison is false for
// NaN, and a duration is never negative.
func noNaN(expr string) string { return expr + " >= 0" }

// buckets is the duration histogram's bucket rates, summed by.
func (pq queries) buckets(by, sel string) string {
	if pq.recorded {
		return fmt.Sprintf("sum%s(service:istio_request_duration_milliseconds_bucket:rate5m{%s})", byClause(by), pq.sel(sel))
	}
	return fmt.Sprintf("sum%s(rate(istio_request_duration_milliseconds_bucket{%s}[%s]))", byClause(by), pq.inbound(sel), rateInterval)
}

// byClause writes " by (labels) " for an aggregation, or nothing.
func byClause(by string) string {
	if by == "" {
		return ""
	}
	return " by (" + by + ") "
}

func joinBy(labels ...string) string { return matchers(labels...) }

// objective is one SLO of a service and its error budget.
type objective struct {
	name   string // availability or latency
	budget string // 1 - target, as the rules write it
	// threshold is a latency objective's threshold in ms.
	threshold string
}

// objectives lists a service's SLOs in the rules' order.
func objectives(s plan.Service) []objective {
	var out []objective
	if a := s.SLOs.Availability; a != nil {
		out = append(out, objective{name: "availability", budget: budgetOf(a.Target)})
	}
	if l := s.SLOs.Latency; l != nil {
		out = append(out, objective{name: "latency", budget: budgetOf(l.Target), threshold: thresholdOf(l.ThresholdMs)})
	}
	return out
}

// thresholdOf writes a latency threshold in ms.
func thresholdOf(ms int) string { return strconv.Itoa(ms) }

// budgetOf writes 1 - target% as the SLO rules do.
func budgetOf(target float64) string { return strconv.FormatFloat(1-target/100, 'g', 6, 64) }

// sliError is an objective's error ratio over a window.
func (pq queries) sliError(team string, s serviceView, o objective, window string) string {
	if pq.recorded {
		return fmt.Sprintf("slo:sli_error:ratio_rate%s{%s}", window, pq.sel(sloSelector(team, s, o)))
	}
	sel := pq.serviceSelector(team, s)
	if o.name == "availability" {
		return fmt.Sprintf(`(%s or vector(0)) / sum(rate(istio_requests_total{%s}[%s]))`,
			plan.FailedRequestRate("", pq.inbound(sel), window), pq.inbound(sel), window)
	}
	// Prometheus 3 writes classic bucket bounds as floats (le="250.0").
	return fmt.Sprintf(`1 - sum(rate(istio_request_duration_milliseconds_bucket{%[1]s}[%[3]s])) / sum(rate(istio_request_duration_milliseconds_bucket{%[2]s}[%[3]s]))`,
		pq.inbound(sel, re("le", o.threshold+`(\.0)?`)), pq.inbound(sel, `le="+Inf"`), window)
}

// budgetRemaining is the share of an objective's 30-day budget left.
func (pq queries) budgetRemaining(team string, s serviceView, o objective) string {
	if pq.recorded {
		return fmt.Sprintf("slo:error_budget_remaining:ratio{%s}", pq.sel(sloSelector(team, s, o)))
	}
	return fmt.Sprintf("1 - (%s) / %s", pq.sliError(team, s, o, "30d"), o.budget)
}

func sloSelector(team string, s serviceView, o objective) string {
	return matchers(eq("team", team), eq("service", s.name), eq("slo", o.name))
}
