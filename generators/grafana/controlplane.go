package grafana

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"obsgen.dev/obsgen/internal/plan"
)

// istiod selects istiod's own series (the istiod scrape job).
const istiod = `job="istiod"`

// controlPlane shows istiod: configuration pushes and their errors,
// connected proxies, push latency, certificate signing, and sidecar
// injection or ztunnel.
func controlPlane(p *plan.Plan, m Meta) (dashboard.Dashboard, error) {
	b := newBoard(p, m, "istiod's xDS pushes, errors, connected proxies, push latency and certificate signing (istiod's monitoring port, job istiod).", tagPlatform)
	pq := newQueries(p)
	if p.Rules.Recorded() {
		b.Annotation(alertsAnnotation(pq.sel(`alertname=~"Istiod.*|IstioSidecarInjectionFailures"`)))
	}
	rate := func(metric, sel string) string {
		return fmt.Sprintf("rate(%s{%s}[%s])", metric, pq.sel(istiod, sel), rateInterval)
	}
	b.WithRow(row("istiod")).
		WithPanel(singleStat("istiod up", "istiod instances Prometheus scrapes successfully.", "short", 6, atLeastOne,
			q(fmt.Sprintf("sum(up{%s}) or vector(0)", pq.sel(istiod)), "up"))).
		WithPanel(singleStat("Connected proxies", "xDS connections istiod serves (pilot_xds).", "short", 6, neutral,
			q(fmt.Sprintf("sum(pilot_xds{%s})", pq.sel(istiod)), "proxies"))).
		WithPanel(singleStat("Push errors (1h)", "xDS pushes istiod failed to send in the last hour.", "short", 6, badAboveZero,
			q(fmt.Sprintf(`sum(increase(pilot_xds_pushes{%s}[1h])) or vector(0)`, pq.sel(istiod, `type=~".+_senderr"`)), "errors"))).
		WithPanel(singleStat("Rejected configs (1h)", "Configurations proxies rejected in the last hour.", "short", 6, badAboveZero,
			q(fmt.Sprintf(`sum(increase(pilot_total_xds_rejects{%s}[1h])) or vector(0)`, pq.sel(istiod)), "rejects"))).
		WithPanel(graph("xDS pushes", "Pushes per second, by xDS type.", "ops", 12,
			q("sum by (type) ("+rate("pilot_xds_pushes", `type!~".+_senderr"`)+")", "{{type}}"))).
		WithPanel(graph("Push errors", "Failed sends and proxy rejections per second, by xDS type.", "ops", 12,
			q("sum by (type) ("+rate("pilot_xds_pushes", `type=~".+_senderr"`)+")", "{{type}}"),
			q("sum by (type) ("+rate("pilot_total_xds_rejects", "")+")", "rejected {{type}}"))).
		WithPanel(graph("Push latency", "Time from a configuration change until a proxy has all of it (pilot_proxy_convergence_time).", "s", 12,
			q("histogram_quantile(0.5, sum by (le) ("+rate("pilot_proxy_convergence_time_bucket", "")+"))", "p50"),
			q("histogram_quantile(0.99, sum by (le) ("+rate("pilot_proxy_convergence_time_bucket", "")+"))", "p99")))
	if p.Mesh.IstiodCA() {
		// Without istiod's CA the panel would show nothing, its errors a
		// reassuring 0.
		b.WithPanel(graph("Certificate signing", "Workload certificate requests istiod received, signed and failed to sign, per second.", "ops", 12,
			q("sum("+rate("citadel_server_csr_count", "")+")", "requests"),
			q("sum("+rate("citadel_server_success_cert_issuance_count", "")+")", "issued"),
			q("sum("+rate("citadel_server_csr_sign_err_count", "")+") or vector(0)", "errors")))
	}
	dataPlane(b, p, pq, rate)
	return build(b)
}

// dataPlane adds sidecar injection (sidecars) or ztunnel (ambient), and
// istiod's resources.
func dataPlane(b *dashboard.DashboardBuilder, p *plan.Plan, pq queries, rate func(metric, sel string) string) {
	b.WithRow(row("Data plane and resources"))
	if p.Mesh.Sidecar {
		b.WithPanel(graph("Sidecar injection", "Injections per second that succeeded and failed.", "ops", 8,
			q("sum("+rate("sidecar_injection_success_total", "")+")", "injected"),
			q("sum("+rate("sidecar_injection_failure_total", "")+") or vector(0)", "failed")))
	} else {
		b.WithPanel(graph("ztunnel targets up", "ztunnel instances Prometheus scrapes successfully.", "short", 8,
			q(fmt.Sprintf("sum(up{%s}) or vector(0)", pq.sel(eq("job", string(plan.JobZtunnel)))), "up")))
	}
	pods := pq.sel(eq("namespace", p.Mesh.IstioNamespace), `pod=~"istiod-.*"`, `container!=""`)
	b.WithPanel(graph("istiod CPU", "CPU cores istiod uses, by pod (cAdvisor).", "short", 8,
		q(fmt.Sprintf("sum by (pod) (rate(container_cpu_usage_seconds_total{%s}[%s]))", pods, rateInterval), "{{pod}}"))).
		WithPanel(graph("istiod memory", "istiod's working set, by pod (cAdvisor).", "bytes", 8,
			q(fmt.Sprintf("sum by (pod) (container_memory_working_set_bytes{%s})", pods), "{{pod}}")))
}
