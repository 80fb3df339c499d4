package grafana

import (
	"fmt"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/plan"
)

// rateInterval is Grafana's rate window: at least four scrape intervals.
const rateInterval = "$__rate_interval"

// queries writes the PromQL of the dashboards. Where Prometheus evaluates
// obsgen's recording rules (rules.Evaluated) it reads them: cheaper, and
// the same numbers the alerts see. Elsewhere (an agent, the operator
// flavour alone) it computes the same from the raw series.
type queries struct {
	// recorded tells that the recording rules exist.
	recorded bool
	// proxyTeam tells that the Istio metrics carry the team label: the
	// sidecar jobs derive it from the pod's namespace; ztunnel runs in
	// Istio's namespace and reports for every team.
	proxyTeam bool
}

func newQueries(p *plan.Plan) queries {
	return queries{recorded: rules.Evaluated(p), proxyTeam: p.Mesh.Sidecar}
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

// team is the team matcher of Istio metrics, when they carry the label.
func (pq queries) team(team string) string {
	if !pq.proxyTeam || team == "" {
		return ""
	}
	return eq("team", team)
}

// destination selects the requests a destination's proxy reported.
func destination(ms ...string) string {
	return matchers(append([]string{`reporter="destination"`}, ms...)...)
}

// requests is the request rate of the selected destinations, summed by.
func (pq queries) requests(by, sel string) string {
	if pq.recorded {
		return fmt.Sprintf("sum%s(service:istio_requests:rate5m{%s})", byClause(by), sel)
	}
	return fmt.Sprintf("sum%s(rate(istio_requests_total{%s}[%s]))", byClause(by), destination(sel), rateInterval)
}

// errors5xx is the 5xx rate, or 0 where there are requests but no errors.
func (pq queries) errors5xx(by, sel string) string {
	var errs string
	if pq.recorded {
		errs = fmt.Sprintf("sum%s(service:istio_requests_errors:rate5m{%s})", byClause(by), sel)
	} else {
		errs = fmt.Sprintf("sum%s(rate(istio_requests_total{%s}[%s]))", byClause(by), destination(sel, `response_code=~"5.."`), rateInterval)
	}
	return fmt.Sprintf("(%s or %s * 0)", errs, pq.requests(by, sel))
}

// errorRatio is the share of requests answered with 5xx.
func (pq queries) errorRatio(by, sel string) string {
	return fmt.Sprintf("%s / %s", pq.errors5xx(by, sel), pq.requests(by, sel))
}

// serviceErrorRatio is one service's 5xx share (the recording keeps 0 when
// there are no errors).
func (pq queries) serviceErrorRatio(sel string) string {
	if pq.recorded {
		return fmt.Sprintf("service:istio_requests_errors:ratio_rate5m{%s}", sel)
	}
	return pq.errorRatio("", sel)
}

// quantile is a request-duration quantile (p50, p90, p99) in ms, by.
func (pq queries) quantile(name, value, by, sel string) string {
	if pq.recorded && by == "" {
		return fmt.Sprintf("service:istio_request_duration_milliseconds:%s_rate5m{%s}", name, sel)
	}
	return fmt.Sprintf("histogram_quantile(%s, %s)", value, pq.buckets(joinBy(by, "le"), sel))
}

// buckets is the duration histogram's bucket rates, summed by.
func (pq queries) buckets(by, sel string) string {
	if pq.recorded {
		return fmt.Sprintf("sum%s(service:istio_request_duration_milliseconds_bucket:rate5m{%s})", byClause(by), sel)
	}
	return fmt.Sprintf("sum%s(rate(istio_request_duration_milliseconds_bucket{%s}[%s]))", byClause(by), destination(sel), rateInterval)
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
		return fmt.Sprintf("slo:sli_error:ratio_rate%s{%s}", window, sloSelector(team, s, o))
	}
	sel := pq.serviceSelector(team, s)
	if o.name == "availability" {
		return fmt.Sprintf(`(sum(rate(istio_requests_total{%[1]s}[%[3]s])) or vector(0)) / sum(rate(istio_requests_total{%[2]s}[%[3]s]))`,
			destination(sel, `response_code=~"5.."`), destination(sel), window)
	}
	// Prometheus 3 writes classic bucket bounds as floats (le="250.0").
	return fmt.Sprintf(`1 - sum(rate(istio_request_duration_milliseconds_bucket{%[1]s}[%[3]s])) / sum(rate(istio_request_duration_milliseconds_bucket{%[2]s}[%[3]s]))`,
		destination(sel, re("le", o.threshold+`(\.0)?`)), destination(sel, `le="+Inf"`), window)
}

// budgetRemaining is the share of an objective's 30-day budget left.
func (pq queries) budgetRemaining(team string, s serviceView, o objective) string {
	if pq.recorded {
		return fmt.Sprintf("slo:error_budget_remaining:ratio{%s}", sloSelector(team, s, o))
	}
	return fmt.Sprintf("1 - (%s) / %s", pq.sliError(team, s, o, "30d"), o.budget)
}

func sloSelector(team string, s serviceView, o objective) string {
	return matchers(eq("team", team), eq("service", s.name), eq("slo", o.name))
}
