package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/generators/kiali"
	"obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/ruletest"
)

// Kiali's graph and health read these metrics and group by these labels
// (kiali/kiali graph/telemetry/istio/istio.go: the HTTP/gRPC query of
// istio_requests_total and the TCP ones of istio_tcp_sent_bytes_total and
// istio_tcp_received_bytes_total, grouped by the same labels plus app;
// graph/telemetry/istio/appender/response_time.go over
// istio_request_duration_milliseconds_bucket; prometheus/metrics.go, the
// health rate of istio_requests_total with every label kept).
var (
	kialiMetrics = []string{"istio_requests_total", "istio_request_duration_milliseconds_bucket",
		"istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total"}
	kialiGroupBy = []string{"source_cluster", "source_workload_namespace", "source_workload", "source_canonical_service",
		"source_canonical_revision", "destination_cluster", "destination_service_namespace", "destination_service",
		"destination_service_name", "destination_workload_namespace", "destination_workload", "destination_canonical_service",
		"destination_canonical_revision", "request_protocol", "response_code", "grpc_response_status", "response_flags"}
)

// kialiQueries are Kiali's queries for a namespace, as its query templates
// build them: reporter "destination", or in ambient =~"waypoint|destination"
// (graph/telemetry/istio/util/util.go), with the configuration's
// query_scope added to every selector (prometheus/client.go), over the
// graph's default duration of 10 minutes.
func kialiQueries(reporter, ns string, scope map[string]string) map[string]string {
	sel := fmt.Sprintf(`reporter%s,destination_workload_namespace="%s"`, reporter, ns)
	for k, v := range scope {
		sel += fmt.Sprintf(`,%s="%s"`, k, v)
	}
	by := strings.Join(kialiGroupBy, ",")
	return map[string]string{
		"graph requests": fmt.Sprintf(`sum(rate(istio_requests_total{%s} [600s])) by (%s) > 0`, sel, by),
		"response time": fmt.Sprintf(`histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket{%s} [600s])) by (le,%s)) > 0`,
			sel, by),
		"health": fmt.Sprintf(`rate(istio_requests_total{%s}[600s]) > 0`, sel),
	}
}

// istioSeriesLabels are the labels a proxy puts on a request metric of a
// service (istio.io docs/reference/config/metrics), before scraping.
func istioSeriesLabels(p *plan.Plan, s plan.Service, reporter string) map[string]string {
	l := map[string]string{"reporter": reporter, "app": s.CanonicalService()}
	for _, name := range kialiGroupBy {
		l[name] = "x"
	}
	l["destination_workload_namespace"], l["destination_service_namespace"] = s.Namespace, s.Namespace
	l["destination_canonical_service"], l["destination_workload"] = s.CanonicalService(), s.Name
	l["source_cluster"], l["destination_cluster"] = "Kubernetes", "Kubernetes"
	l["response_code"], l["response_flags"], l["request_protocol"] = "200", "-", "http"
	return l
}

// TestKialiFindsItsMetrics shows, for every example with Kiali, that what
// Kiali's graph and health read exists where Kiali is told to read it:
// the metrics are scraped by a generated job, that job's metric
// relabeling keeps every label Kiali groups by, and Kiali's own queries,
// with the query scope obsgen configures, return data over those series as
// they reach the Prometheus or shared store (external labels included) of
// Kiali's configuration.
func TestKialiFindsItsMetrics(t *testing.T) {
	checked := 0
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if p.Kiali == nil {
			continue
		}
		checked++
		have := rules.Produced(p, rules.Files(p))
		for _, m := range kialiMetrics {
			assert.True(t, have[m], "%s: Kiali reads %s, which no generated job scrapes", p.Name, m)
		}

		cfg, err := config.Load(configOf(t, ex.result, 0), promslog.NewNopLogger())
		require.NoError(t, err)
		reporter, readBy := "destination", `="destination"`
		if p.Mesh.Ambient {
			reporter, readBy = "waypoint", `=~"waypoint|destination"`
		}
		var proxyJobs []string
		for _, j := range p.Jobs {
			switch j.Kind {
			case plan.JobEnvoyStats, plan.JobIstioMerged, plan.JobWaypoints, plan.JobGateways:
				proxyJobs = append(proxyJobs, j.Name)
			}
		}
		require.NotEmpty(t, proxyJobs, "%s: no job scrapes the proxies' request metrics", p.Name)
		kc := kiali.Configuration(p)
		var series []ruletest.Series
		for _, s := range p.ServiceTargets {
			base := istioSeriesLabels(p, s, reporter)
			for _, sc := range cfg.ScrapeConfigs {
				if !slices.Contains(proxyJobs, sc.JobName) {
					continue
				}
				for _, m := range kialiMetrics {
					les := []string{""}
					if strings.HasSuffix(m, "_bucket") {
						les = []string{"50", "+Inf"}
					}
					for _, le := range les {
						in := map[string]string{"__name__": m}
						for k, v := range base {
							in[k] = v
						}
						values := "0+60x40"
						if le != "" {
							in["le"] = le
							if le == "50" {
								values = "0+30x40"
							}
						}
						lb := labels.NewBuilder(labels.FromMap(in))
						keep := relabel.ProcessBuilder(lb, sc.MetricRelabelConfigs...)
						out := lb.Labels()
						if !assert.True(t, keep, "%s: job %s drops %s", p.Name, sc.JobName, m) {
							continue
						}
						for _, l := range kialiGroupBy {
							assert.True(t, out.Has(l), "%s: job %s drops label %s of %s, which Kiali groups by", p.Name, sc.JobName, l, m)
						}
						got := out.Map()
						got["job"], got["namespace"] = sc.JobName, s.Namespace
						if kc.ExternalServices.Prometheus.QueryScope != nil {
							// Remote write adds the external labels, cluster among them.
							for _, l := range p.ExternalLabels {
								got[l.Name] = l.Value
							}
						}
						series = append(series, ruletest.Series{Series: selector(m, withoutName(got)), Values: values})
					}
				}
			}
		}
		require.NotEmpty(t, series, p.Name)
		err = ruletest.Evaluate(nil, series, time.Minute, 40*time.Minute, func(query ruletest.Query) {
			// The check can fail: another cluster's scope finds nothing.
			other := map[string]string{"cluster": "another-cluster"}
			for what, expr := range kialiQueries(readBy, p.ServiceTargets[0].Namespace, other) {
				v, err := query(expr)
				require.NoError(t, err)
				assert.Empty(t, v, "%s: %s with another cluster's scope", p.Name, what)
			}
			for _, s := range p.ServiceTargets {
				for what, expr := range kialiQueries(readBy, s.Namespace, kc.ExternalServices.Prometheus.QueryScope) {
					v, err := query(expr)
					if assert.NoError(t, err, "%s: %s", p.Name, expr) {
						assert.NotEmpty(t, v, "%s: Kiali's %s query for %s finds nothing: %s", p.Name, what, s.Job, expr)
					}
				}
			}
		})
		require.NoError(t, err, p.Name)
	}
	assert.Positive(t, checked, "an example enables Kiali")
}

func withoutName(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != "__name__" {
			out[k] = v
		}
	}
	return out
}
