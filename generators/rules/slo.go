package rules

import (
	"maps"
	"slices"
	"strconv"
	"strings"

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

// sloGroups are, for each service with objectives, one group (Prometheus
// evaluates groups concurrently) holding per objective the SLI error ratio
// per window (slo:sli_error:ratio_rate<window>), the 30-day error budget
// remaining, and the page and ticket burn-rate alerts, in the services'
// order.
func sloGroups(p *plan.Plan) []Group {
	f := baseFixture(p, nil)
	var out []Group
	for _, s := range p.ServiceTargets {
		if rules := sloRules(f, s); len(rules) > 0 {
			out = append(out, Group{Name: "obsgen-slo-" + s.Team + "-" + s.Name, Rules: rules})
		}
	}
	return out
}

func sloRules(f fixture, s plan.Service) []Rule {
	n := 0
	if s.SLOs.Availability != nil {
		n++
	}
	if s.SLOs.Latency != nil {
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]Rule, 0, n*(len(Windows)+2+len(BurnRates)/2))
	matcher := serviceMatcher(s)
	if a := s.SLOs.Availability; a != nil {
		out = objective(out, f, s, "availability", a.Target, func(w string) string {
			return "service:istio_requests_errors:ratio_rate" + w + "{" + matcher + "}"
		}, func() string {
			failed := "sum_over_time(service:istio_requests_errors:rate5m{" + matcher + "}[" + plan.SLOWindowRange + "])"
			all := "sum_over_time(service:istio_requests:rate5m{" + matcher + "}[" + plan.SLOWindowRange + "])"
			return failed + " / (" + all + " > 0) or " + all + " * 0"
		})
	}
	if l := s.SLOs.Latency; l != nil {
		// Prometheus 3 normalises classic histogram bounds (le="250"
		// becomes le="250.0"), so both spellings are matched.
		le := `le=~"` + strconv.Itoa(l.ThresholdMs) + `(\\.0)?"`
		bucket := func(w, le string) string {
			return "sum without (le) (service:istio_request_duration_milliseconds_bucket:rate" + w + "{" + matcher + ", " + le + "})"
		}
		slow := func(fast, all string) string { return "1 - (" + fast + " / (" + all + " > 0))" }
		out = objective(out, f, s, "latency", l.Target, func(w string) string {
			return slow(bucket(w, le), bucket(w, `le="+Inf"`))
		}, func() string {
			sum30d := func(le string) string {
				return "sum without (le) (sum_over_time(service:istio_request_duration_milliseconds_bucket:rate5m{" + matcher + ", " + le + "}[" + plan.SLOWindowRange + "]))"
			}
			all := sum30d(`le="+Inf"`)
			return slow(sum30d(le), all) + " or " + all + " * 0"
		})
	}
	return out
}

func serviceMatcher(s plan.Service) string {
	return "destination_workload_namespace=" + strconv.Quote(s.Namespace) + ", destination_canonical_service=" + strconv.Quote(s.CanonicalService())
}

// sliRecords are the names of the SLI error ratios, by window.
var sliRecords = func() []string {
	out := make([]string, len(Windows))
	for i, w := range Windows {
		out[i] = "slo:sli_error:ratio_rate" + w
	}
	return out
}()

// objective appends one SLO's rules to out; sli returns the error ratio
// of a window, sli30d the error ratio of the 30-day budget window.
//
// The 30-day ratio divides the sums of the 5m recordings of failed and
// all requests (a ratio of counter increases, sampled every evaluation)
// rather than averaging the 5m ratio: an idle 5 minutes has a ratio of
// 0/0, and avg_over_time over a window holding one NaN is NaN for 30
// days. A service without a single request in 30 days has spent none of
// its budget: the ratio is 0 (`or all * 0`).
func objective(out []Rule, f fixture, s plan.Service, slo string, target float64, sli func(w string) string, sli30d func() string) []Rule {
	labels := map[string]string{"service": s.Name, "slo": slo}
	if s.Team != "" {
		labels["team"] = s.Team
	}
	budget := strconv.FormatFloat(1-target/100, 'g', 6, 64)
	sel := "{service=" + strconv.Quote(s.Name) + ", slo=" + strconv.Quote(slo) + "}"
	for i, w := range Windows {
		out = append(out, Rule{Record: sliRecords[i], Expr: sli(w), Labels: labels})
	}
	out = append(out,
		Rule{Record: "slo:sli_error:ratio_rate30d", Expr: sli30d(), Labels: labels},
		Rule{Record: "slo:error_budget_remaining:ratio", Expr: "1 - slo:sli_error:ratio_rate30d" + sel + " / " + budget, Labels: labels},
	)
	cond := func(long, short string, factor float64) string {
		f := strconv.FormatFloat(factor, 'g', -1, 64)
		return "(slo:sli_error:ratio_rate" + long + sel + " > " + f + " * " + budget +
			" and slo:sli_error:ratio_rate" + short + sel + " > " + f + " * " + budget + ")"
	}
	selectors := sliSelectors(f, s, slo)
	objectiveText := " objective (" + strconv.FormatFloat(target, 'g', -1, 64) + "% over 30 days) within "
	for i := 0; i < len(BurnRates); i += 2 {
		a, b := BurnRates[i], BurnRates[i+1]
		kind := "page"
		if a.Severity == "warning" {
			kind = "ticket"
		}
		ruleLabels := maps.Clone(labels)
		ruleLabels["severity"] = a.Severity
		// The service's namespace, as the service alerts carry it
		// (inNamespace): TargetDown of its proxies mutes the ticket in
		// that namespace only.
		ruleLabels["namespace"] = s.Namespace
		out = append(out, Rule{
			Alert: "ErrorBudgetBurn", Expr: cond(a.Long, a.Short, a.Factor) + " or " + cond(b.Long, b.Short, b.Factor), For: a.For, Labels: ruleLabels,
			Annotations: ann(s.Job+" is burning its "+slo+" error budget too fast ("+kind+").",
				"At this rate "+s.Job+" exhausts the error budget of its "+slo+objectiveText+exhaustion(a.Factor)+
					"; the "+a.Long+"/"+a.Short+" and "+b.Long+"/"+b.Short+" windows both confirm it."),
			Test: burnTest(s, slo, selectors, target, kind, labels),
		})
	}
	return out
}

// exhaustion is how long a 30-day budget lasts at the faster burn rate.
func exhaustion(factor float64) string {
	return strconv.FormatFloat(30/factor, 'f', 1, 64) + " days"
}

// burnTest builds the firing and quiet cases of a burn-rate alert: a page
// at ten times the budget's hourly share after 30 minutes (the slow ticket
// windows cannot have fired yet: they wait an hour), a ticket at 5x after
// 2h30 (fast enough for 3x, too slow for 6x), and no alert at half the
// budget.
func burnTest(s plan.Service, slo string, selectors [2]string, target float64, kind string, labels map[string]string) *Test {
	budget := 1 - target/100
	at, errRatio := "30m", 20*budget
	if kind == "ticket" {
		at, errRatio = "150m", 4.5*budget
	}
	if errRatio > 1 {
		errRatio = 1
	}
	expected := make(map[string]string, len(labels)+2)
	maps.Copy(expected, labels)
	expected["destination_workload_namespace"] = s.Namespace
	expected["destination_canonical_service"] = s.CanonicalService()
	expected["namespace"] = s.Namespace
	quietRatio := budget / 2
	return &Test{
		Fire:  Case{Series: sliSeries(selectors, slo, errRatio, 200), At: at, Expect: []map[string]string{expected}},
		Quiet: Case{Series: sliSeries(selectors, slo, quietRatio, 200), At: at},
	}
}

// sliSelectors are the two series of a service's SLI, as the envoy-stats
// job scrapes them from its proxy: for availability its requests answered
// 200 and 500, for latency the duration bucket of its threshold and +Inf.
func sliSelectors(f fixture, s plan.Service, slo string) [2]string {
	canonical := s.CanonicalService()
	labels := make(plan.Labels, 0, 8)
	labels = append(labels,
		plan.Label{Name: "job", Value: f.proxyJob}, plan.Label{Name: "namespace", Value: s.Namespace},
		plan.Label{Name: "pod", Value: canonical + "-0"}, plan.Label{Name: "reporter", Value: f.reporter},
		plan.Label{Name: "destination_workload_namespace", Value: s.Namespace}, plan.Label{Name: "destination_canonical_service", Value: canonical})
	if s.Team != "" {
		labels = append(labels, plan.Label{Name: "team", Value: s.Team})
	}
	name, key, values := "istio_requests_total", "response_code", [2]string{"200", "500"}
	if slo != "availability" {
		name, key, values = "istio_request_duration_milliseconds_bucket", "le", [2]string{strconv.Itoa(s.SLOs.Latency.ThresholdMs), "+Inf"}
	}
	labels = append(labels, plan.Label{Name: key})
	slices.SortFunc(labels, func(a, b plan.Label) int { return strings.Compare(a.Name, b.Name) })
	i := slices.IndexFunc(labels, func(l plan.Label) bool { return l.Name == key })
	var out [2]string
	for j, v := range values {
		labels[i].Value = v
		out[j] = name + labelList(labels)
	}
	return out
}

// sliSeries are a service's request counters (its SLI's selectors) with
// errRatio of the requests bad: 5xx responses for availability, slower
// than the threshold for latency, 1000 requests a minute.
func sliSeries(selectors [2]string, slo string, errRatio float64, minutes int) []Series {
	good := 1000 * (1 - errRatio)
	bad := 1000 * errRatio
	ramp := func(per float64) string {
		return "0+" + strconv.FormatFloat(per, 'g', 6, 64) + "x" + strconv.Itoa(minutes)
	}
	if slo == "availability" {
		return []Series{{selectors[0], ramp(good)}, {selectors[1], ramp(bad)}}
	}
	return []Series{{selectors[0], ramp(good)}, {selectors[1], ramp(1000)}}
}
