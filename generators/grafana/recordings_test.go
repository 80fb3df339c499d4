package grafana

import (
	"fmt"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// The recording rules the dashboards read, written here from the contract
// the rules generator keeps (names, grouping and reporter), not taken from
// it: generators do not import each other, and the dashboards' proof stays
// independent of the rules it reads. internal/e2e checks that the rules
// generator records every name the dashboards read.
//
// The contract: per destination service and window, the request rate, the
// 5xx rate and ratio, the duration histogram's rate and its p50/p90/p99,
// from the requests the plan's request reporter reports
// (plan.Mesh.RequestReporter), grouped by cluster, team,
// destination_workload_namespace and destination_canonical_service; per
// objective of a service, the SLI error ratio per window and the 30-day
// budget left, labelled team, service and slo. On a shared store every
// cluster's ruler (or Prometheus, whose results remote write labels)
// records its own cluster's: grouping by cluster records them all at once.

// contractBy are the labels of the per-service recordings.
const contractBy = "cluster, team, destination_workload_namespace, destination_canonical_service"

// contractWindows are the windows the dashboards read: the 5-minute rates
// and the page alerts' long windows.
var contractWindows = append([]string{"5m"}, burnWindows...)

// contractRules is a rule file of the recordings a plan's dashboards
// read, "" where no recording rule runs.
func contractRules(p *plan.Plan) string {
	if !p.Rules.Recorded() || !p.Mesh.Istio {
		return ""
	}
	var b strings.Builder
	b.WriteString("groups:\n  - name: services\n    rules:\n")
	reporter := eq("reporter", p.Mesh.RequestReporter)
	for _, w := range contractWindows {
		record(&b, "service:istio_requests:rate"+w, fmt.Sprintf("sum by (%s) (rate(istio_requests_total{%s}[%s]))", contractBy, reporter, w), nil)
		record(&b, "service:istio_requests_errors:rate"+w,
			plan.FailedRequestRate(contractBy, reporter, w), nil)
		record(&b, "service:istio_requests_errors:ratio_rate"+w,
			fmt.Sprintf("(service:istio_requests_errors:rate%[1]s or service:istio_requests:rate%[1]s * 0) / service:istio_requests:rate%[1]s", w), nil)
		record(&b, "service:istio_request_duration_milliseconds_bucket:rate"+w,
			fmt.Sprintf("sum by (%s, le) (rate(istio_request_duration_milliseconds_bucket{%s}[%s]))", contractBy, reporter, w), nil)
		for _, qt := range []struct{ name, value string }{{"p50", "0.5"}, {"p90", "0.9"}, {"p99", "0.99"}} {
			record(&b, fmt.Sprintf("service:istio_request_duration_milliseconds:%s_rate%s", qt.name, w),
				fmt.Sprintf("histogram_quantile(%s, service:istio_request_duration_milliseconds_bucket:rate%s)", qt.value, w), nil)
		}
	}
	for _, s := range p.ServiceTargets {
		for _, o := range objectives(s) {
			objectiveRecordings(&b, s, o)
		}
	}
	return b.String()
}

// objectiveRecordings are one objective's SLI error ratios and budget.
func objectiveRecordings(b *strings.Builder, s plan.Service, o objective) {
	labels := map[string]string{"team": s.Team, "service": s.Name, "slo": o.name}
	svc := matchers(eq("destination_workload_namespace", s.Namespace), eq("destination_canonical_service", s.CanonicalService()))
	for _, w := range contractWindows {
		sli := fmt.Sprintf("service:istio_requests_errors:ratio_rate%s{%s}", w, svc)
		if o.name == "latency" {
			sli = fmt.Sprintf(`1 - (sum without (le) (service:istio_request_duration_milliseconds_bucket:rate%[1]s{%[2]s, le=~"%[3]s(\\.0)?"})`+
				` / sum without (le) (service:istio_request_duration_milliseconds_bucket:rate%[1]s{%[2]s, le="+Inf"}))`, w, svc, o.threshold)
		}
		record(b, "slo:sli_error:ratio_rate"+w, sli, labels)
	}
	sel := matchers(eq("service", s.Name), eq("slo", o.name))
	record(b, "slo:sli_error:ratio_rate30d", fmt.Sprintf("avg_over_time(slo:sli_error:ratio_rate5m{%s}[30d])", sel), labels)
	record(b, "slo:error_budget_remaining:ratio", fmt.Sprintf("1 - slo:sli_error:ratio_rate30d{%s} / %s", sel, o.budget), labels)
}

// record writes one recording rule of the file.
func record(b *strings.Builder, name, expr string, labels map[string]string) {
	fmt.Fprintf(b, "      - record: %s\n        expr: %s\n", name, strconv.Quote(expr))
	if len(labels) == 0 {
		return
	}
	b.WriteString("        labels:\n")
	for _, k := range []string{"service", "slo", "team"} {
		if v, ok := labels[k]; ok && v != "" {
			fmt.Fprintf(b, "          %s: %s\n", k, strconv.Quote(v))
		}
	}
}
