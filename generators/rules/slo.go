package rules

import (
	"fmt"
	"maps"
	"strconv"

	"obsgen.dev/obsgen/internal/plan"
)

// BurnRates are the multi-window, multi-burn-rate alerts of a 30-day SLO
// (Google SRE workbook; kubernetes-mixin's KubeAPIErrorBudgetBurn): a page
// when 2% of the budget burns in an hour or 5% in six, a ticket when 10%
// burns in a day or in three, each confirmed by a short window.
var BurnRates = []struct {
	Severity    string
	For         string
	Long, Short string
	Factor      float64
}{
	{"critical", "2m", "1h", "5m", 14.4},
	{"critical", "2m", "6h", "30m", 6},
	{"warning", "1h", "1d", "2h", 3},
	{"warning", "1h", "3d", "6h", 1},
}

// CanonicalService is the Istio canonical service of a team service: what
// destination_canonical_service holds for its pods. Istio takes it from
// the pod's service.istio.io/canonical-name, app.kubernetes.io/name or app
// label; obsgen reads those from the service's selector and falls back to
// the service name.
func CanonicalService(s plan.Service) string {
	for _, key := range []string{"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"} {
		for _, l := range s.Selector {
			if l.Name == key {
				return l.Value
			}
		}
	}
	return s.Name
}

// sloGroups are, for each service with objectives, one group (Prometheus
// evaluates groups concurrently) holding per objective the SLI error ratio
// per window (slo:sli_error:ratio_rate<window>), the 30-day error budget
// remaining, and the page and ticket burn-rate alerts.
func sloGroups(p *plan.Plan) []Group {
	var out []Group
	for _, s := range p.ServiceTargets {
		if rules := sloRules(s); len(rules) > 0 {
			out = append(out, Group{Name: "obsgen-slo-" + s.Team + "-" + s.Name, Rules: rules})
		}
	}
	return out
}

func sloRules(s plan.Service) []Rule {
	var out []Rule
	if a := s.SLOs.Availability; a != nil {
		out = append(out, objective(s, "availability", a.Target, func(w string) string {
			return fmt.Sprintf(`service:istio_requests_errors:ratio_rate%s{%s}`, w, serviceMatcher(s))
		})...)
	}
	if l := s.SLOs.Latency; l != nil {
		// Prometheus 3 normalises classic histogram bounds (le="250"
		// becomes le="250.0"), so both spellings are matched.
		le := fmt.Sprintf(`le=~"%d(\\.0)?"`, l.ThresholdMs)
		out = append(out, objective(s, "latency", l.Target, func(w string) string {
			return fmt.Sprintf(`1 - (sum without (le) (service:istio_request_duration_milliseconds_bucket:rate%[1]s{%[2]s, %[3]s})`+
				` / sum without (le) (service:istio_request_duration_milliseconds_bucket:rate%[1]s{%[2]s, le="+Inf"}))`, w, serviceMatcher(s), le)
		})...)
	}
	return out
}

func serviceMatcher(s plan.Service) string {
	return fmt.Sprintf(`destination_workload_namespace=%q, destination_canonical_service=%q`, s.Namespace, CanonicalService(s))
}

// objective writes one SLO's rules; sli returns the error ratio of a window.
func objective(s plan.Service, slo string, target float64, sli func(w string) string) []Rule {
	labels := map[string]string{"service": s.Name, "slo": slo}
	if s.Team != "" {
		labels["team"] = s.Team
	}
	budget := strconv.FormatFloat(1-target/100, 'g', 6, 64)
	sel := fmt.Sprintf(`{service=%q, slo=%q}`, s.Name, slo)
	var out []Rule
	for _, w := range Windows {
		out = append(out, Rule{Record: "slo:sli_error:ratio_rate" + w, Expr: sli(w), Labels: labels})
	}
	out = append(out,
		Rule{Record: "slo:sli_error:ratio_rate30d", Expr: fmt.Sprintf(`avg_over_time(slo:sli_error:ratio_rate5m%s[30d])`, sel), Labels: labels},
		Rule{Record: "slo:error_budget_remaining:ratio", Expr: fmt.Sprintf(`1 - slo:sli_error:ratio_rate30d%s / %s`, sel, budget), Labels: labels},
	)
	for i := 0; i < len(BurnRates); i += 2 {
		a, b := BurnRates[i], BurnRates[i+1]
		cond := func(r struct {
			Severity    string
			For         string
			Long, Short string
			Factor      float64
		}) string {
			return fmt.Sprintf(`(slo:sli_error:ratio_rate%[1]s%[3]s > %[4]g * %[5]s and slo:sli_error:ratio_rate%[2]s%[3]s > %[4]g * %[5]s)`,
				r.Long, r.Short, sel, r.Factor, budget)
		}
		kind := "page"
		if a.Severity == "warning" {
			kind = "ticket"
		}
		ruleLabels := maps.Clone(labels)
		ruleLabels["severity"] = a.Severity
		out = append(out, Rule{
			Alert: "ErrorBudgetBurn", Expr: cond(a) + " or " + cond(b), For: a.For, Labels: ruleLabels,
			Annotations: ann(fmt.Sprintf("%s is burning its %s error budget too fast (%s).", s.Job, slo, kind),
				fmt.Sprintf("At this rate %s exhausts the error budget of its %s objective (%g%% over 30 days) within %s; the %s and %s windows both confirm it.",
					s.Job, slo, target, exhaustion(a.Factor), a.Long+"/"+a.Short, b.Long+"/"+b.Short)),
			Test: burnTest(s, slo, target, kind, labels),
		})
	}
	return out
}

// exhaustion is how long a 30-day budget lasts at the faster burn rate.
func exhaustion(factor float64) string {
	return fmt.Sprintf("%.1f days", 30/factor)
}

// burnTest builds the firing and quiet cases of a burn-rate alert: a page
// at ten times the budget's hourly share after 30 minutes (the slow ticket
// windows cannot have fired yet: they wait an hour), a ticket at 5x after
// 2h30 (fast enough for 3x, too slow for 6x), and no alert at half the
// budget.
func burnTest(s plan.Service, slo string, target float64, kind string, labels map[string]string) *Test {
	budget := 1 - target/100
	at, errRatio := "30m", 20*budget
	if kind == "ticket" {
		at, errRatio = "150m", 4.5*budget
	}
	if errRatio > 1 {
		errRatio = 1
	}
	expected := maps.Clone(labels)
	expected["destination_workload_namespace"] = s.Namespace
	expected["destination_canonical_service"] = CanonicalService(s)
	quietRatio := budget / 2
	return &Test{
		Fire:  Case{Series: sliSeries(s, slo, errRatio, 200), At: at, Expect: []map[string]string{expected}},
		Quiet: Case{Series: sliSeries(s, slo, quietRatio, 200), At: at},
	}
}

// sliSeries are a service's request counters with errRatio of the requests
// bad: 5xx responses for availability, slower than the threshold for
// latency, 1000 requests a minute.
func sliSeries(s plan.Service, slo string, errRatio float64, minutes int) []Series {
	base := map[string]string{"job": "envoy-stats", "namespace": s.Namespace, "pod": CanonicalService(s) + "-0", "reporter": "destination",
		"destination_workload_namespace": s.Namespace, "destination_canonical_service": CanonicalService(s)}
	if s.Team != "" {
		base["team"] = s.Team
	}
	good := 1000 * (1 - errRatio)
	bad := 1000 * errRatio
	ramp := func(per float64) string { return fmt.Sprintf("0+%sx%d", strconv.FormatFloat(per, 'g', 6, 64), minutes) }
	if slo == "availability" {
		return []Series{
			{series("istio_requests_total", expect(base, nil, map[string]string{"response_code": "200"})), ramp(good)},
			{series("istio_requests_total", expect(base, nil, map[string]string{"response_code": "500"})), ramp(bad)},
		}
	}
	le := strconv.Itoa(s.SLOs.Latency.ThresholdMs)
	return []Series{
		{series("istio_request_duration_milliseconds_bucket", expect(base, nil, map[string]string{"le": le})), ramp(good)},
		{series("istio_request_duration_milliseconds_bucket", expect(base, nil, map[string]string{"le": "+Inf"})), ramp(1000)},
	}
}
