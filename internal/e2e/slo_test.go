package e2e

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/testtools"
)

// The objectives' arithmetic, judged by the real promtool on each
// example's generated rules where they are evaluated (a Prometheus server
// or the ruler), with traffic that real services have: idle stretches, no
// traffic at all, and Prometheus' own scrapes passing the proxy.
//
// The expected values come from the profile's targets, not from the
// generator: a service failing a quarter of its budget's share of
// requests has 0.75 of its budget left, before, during and after an idle
// gap; one without a request in the window has all of it; scrapes, failed
// or not, change nothing.

type (
	exprTestFile struct {
		RuleFiles          []string        `yaml:"rule_files"`
		EvaluationInterval string          `yaml:"evaluation_interval"`
		Tests              []exprTestGroup `yaml:"tests"`
	}
	exprTestGroup struct {
		Name        string       `yaml:"name"`
		Interval    string       `yaml:"interval"`
		InputSeries []inputSerie `yaml:"input_series"`
		ExprTests   []exprCase   `yaml:"promql_expr_test"`
	}
	inputSerie struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	exprCase struct {
		Expr       string      `yaml:"expr"`
		EvalTime   string      `yaml:"eval_time"`
		ExpSamples []expSample `yaml:"exp_samples"`
	}
	expSample struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	}
)

// sloWorld builds the input series of one service as its reporter's proxy
// exposes them, with the labels the scrape jobs and the store add.
type sloWorld struct {
	p   *plan.Plan
	svc plan.Service
}

func (w sloWorld) base() map[string]string {
	l := map[string]string{
		"job": "envoy-stats", "namespace": w.svc.Namespace, "pod": w.svc.Name + "-0", "team": w.svc.Team,
		// Istio's standard labels (istio.io docs/reference/config/metrics).
		"reporter": "destination", "destination_workload_namespace": w.svc.Namespace,
		"destination_canonical_service": w.svc.CanonicalService(), "source_principal": "spiffe://cluster.local/ns/shop/sa/web",
		"connection_security_policy": "mutual_tls",
	}
	if w.p.Mesh.Ambient { // only waypoints report requests in ambient
		l["job"], l["reporter"] = "istio-waypoints", "waypoint"
	}
	if w.p.Rules.ClusterScoped { // the store sees the cluster external label
		l["cluster"] = w.p.Cluster.Name
	}
	return l
}

// scrape are the labels of Prometheus' own requests to the service: with
// its Istio identity (spiffe://<trust domain>/ns/<namespace>/sa/<service
// account>) when mutual TLS, else plaintext.
func (w sloWorld) scrape() map[string]string {
	l := w.base()
	l["source_principal"] = fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", w.p.Mesh.TrustDomain, w.p.Monitoring.Namespace, w.p.Monitoring.Prometheus.ServiceAccount)
	if w.p.Scrape.Strategy == "permissive-port" {
		l["source_principal"], l["connection_security_policy"] = "unknown", "none"
	}
	return l
}

func selector(name string, l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+strconv.Quote(l[k]))
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}

func with(l map[string]string, kv ...string) map[string]string {
	out := maps.Clone(l)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// traffic: 1000 requests a minute for an hour, idle for 20 minutes, then
// 1000 a minute for 100 minutes; bad is the share that fails (5xx, or
// slower than the threshold).
func traffic(perMinute float64) string {
	v := strconv.FormatFloat(perMinute, 'f', -1, 64)
	end := strconv.FormatFloat(60*perMinute, 'f', -1, 64)
	return "0+" + v + "x60 " + end + "x20 " + end + "+" + v + "x100"
}

const (
	sloAfterIdle = "179m" // traffic resumed 100 minutes ago
	sloDuring    = "75m"  // 15 minutes into the idle gap
)

// groups are the test groups of one objective.
func (w sloWorld) groups(slo string, target float64) []exprTestGroup {
	budget := 1 - target/100
	bad := 1000 * budget / 4
	name, key, good, fail := "istio_requests_total", "response_code", "200", "503"
	if slo == "latency" {
		name, key, good, fail = "istio_request_duration_milliseconds_bucket", "le", strconv.Itoa(w.svc.SLOs.Latency.ThresholdMs), "+Inf"
	}
	series := func(l map[string]string, goodPer, failPer float64) []inputSerie {
		if slo == "latency" { // buckets are cumulative: +Inf counts every request
			return []inputSerie{{selector(name, with(l, key, good)), traffic(goodPer)}, {selector(name, with(l, key, fail)), traffic(goodPer + failPer)}}
		}
		return []inputSerie{{selector(name, with(l, key, good)), traffic(goodPer)}, {selector(name, with(l, key, fail)), traffic(failPer)}}
	}
	out := map[string]string{"destination_workload_namespace": w.svc.Namespace, "destination_canonical_service": w.svc.CanonicalService(),
		"team": w.svc.Team, "service": w.svc.Name, "slo": slo}
	if w.p.Rules.ClusterScoped {
		out["cluster"] = w.p.Cluster.Name
	}
	// Rounded to a thousandth: the sums of per-second rates are exact to
	// about 1e-13 only, and promtool compares samples exactly.
	labels := selector("", out)
	budgetExpr := fmt.Sprintf("round(1000 * slo:error_budget_remaining:ratio{service=%q, slo=%q}) / 1000", w.svc.Name, slo)
	shortExpr := fmt.Sprintf("slo:sli_error:ratio_rate5m{service=%q, slo=%q}", w.svc.Name, slo)
	// Scrapes fail and are slow: counted, they would spend the budget.
	scrapes := series(w.scrape(), 0, 60)
	return []exprTestGroup{{
		Name: w.svc.Job + " " + slo + ": a quarter of the budget spent, across an idle gap", Interval: "1m",
		InputSeries: series(w.base(), 1000-bad, bad),
		ExprTests: []exprCase{
			{Expr: budgetExpr, EvalTime: sloDuring, ExpSamples: []expSample{{labels, 0.75}}},
			{Expr: budgetExpr, EvalTime: sloAfterIdle, ExpSamples: []expSample{{labels, 0.75}}},
			// An idle 5 minutes has no error ratio at all, not NaN.
			{Expr: shortExpr, EvalTime: sloDuring, ExpSamples: []expSample{}},
		},
	}, {
		Name: w.svc.Job + " " + slo + ": Prometheus' scrapes are not the service's requests", Interval: "1m",
		InputSeries: append(series(w.base(), 1000-bad, bad), scrapes...),
		ExprTests:   []exprCase{{Expr: budgetExpr, EvalTime: sloAfterIdle, ExpSamples: []expSample{{labels, 0.75}}}},
	}, {
		Name: w.svc.Job + " " + slo + ": a service without requests keeps its whole budget", Interval: "1m",
		InputSeries: []inputSerie{{selector(name, with(w.base(), key, good)), "0x180"}, {selector(name, with(w.base(), key, fail)), "0x180"}},
		ExprTests: []exprCase{
			{Expr: budgetExpr, EvalTime: sloAfterIdle, ExpSamples: []expSample{{labels, 1}}},
			{Expr: shortExpr, EvalTime: sloAfterIdle, ExpSamples: []expSample{}},
		},
	}, {
		Name: w.svc.Job + " " + slo + ": scrapes alone are no traffic", Interval: "1m",
		InputSeries: append([]inputSerie{{selector(name, with(w.base(), key, good)), "0x180"}, {selector(name, with(w.base(), key, fail)), "0x180"}}, scrapes...),
		ExprTests:   []exprCase{{Expr: budgetExpr, EvalTime: sloAfterIdle, ExpSamples: []expSample{{labels, 1}}}},
	}}
}

// window30d are the groups of one objective over the 30-day budget
// window, on raw counters sampled every minute and rules evaluated every
// hour: days of failures that leave the window stop counting, idle days
// count for nothing, and a NaN never appears.
func (w sloWorld) window30d(slo string, target float64) []exprTestGroup {
	budget := 1 - target/100
	out := map[string]string{"destination_workload_namespace": w.svc.Namespace, "destination_canonical_service": w.svc.CanonicalService(),
		"team": w.svc.Team, "service": w.svc.Name, "slo": slo}
	if w.p.Rules.ClusterScoped {
		out["cluster"] = w.p.Cluster.Name
	}
	const day = 24 * 60 // minutes
	// counter: perMinute for the first 2 days, idle for 5, then rest
	// per minute until day 33.
	counter := func(first, rest float64) string {
		f, r := strconv.FormatFloat(first, 'f', -1, 64), strconv.FormatFloat(rest, 'f', -1, 64)
		top := strconv.FormatFloat(first*2*day, 'f', -1, 64)
		return fmt.Sprintf("0+%sx%d %sx%d %s+%sx%d", f, 2*day, top, 5*day-1, top, r, 26*day)
	}
	name, key, good, fail := "istio_requests_total", "response_code", "200", "503"
	if slo == "latency" {
		name, key, good, fail = "istio_request_duration_milliseconds_bucket", "le", strconv.Itoa(w.svc.SLOs.Latency.ThresholdMs), "+Inf"
	}
	// Failing at 8 times the budget for the first two days, then at a
	// quarter of it: once those days leave the window, 0.75 is left.
	bad1, bad2 := 600*budget*8, 600*budget/4
	var series []inputSerie
	if slo == "latency" { // cumulative buckets: +Inf counts every request
		series = []inputSerie{{selector(name, with(w.base(), key, good)), counter(600-bad1, 600-bad2)}, {selector(name, with(w.base(), key, fail)), counter(600, 600)}}
	} else {
		series = []inputSerie{{selector(name, with(w.base(), key, good)), counter(600-bad1, 600-bad2)}, {selector(name, with(w.base(), key, fail)), counter(bad1, bad2)}}
	}
	expr := fmt.Sprintf("round(1000 * slo:error_budget_remaining:ratio{service=%q, slo=%q}) / 1000", w.svc.Name, slo)
	return []exprTestGroup{{
		Name: w.svc.Job + " " + slo + ": failures older than 30 days stop counting; idle days count for nothing", Interval: "1m",
		InputSeries: series,
		ExprTests:   []exprCase{{Expr: expr, EvalTime: "32d23h", ExpSamples: []expSample{{selector("", out), 0.75}}}},
	}}
}

func TestObjectivesSurviveIdleTimeAndIgnoreScrapes(t *testing.T) {
	promtool := testtools.Find(t, "promtool")
	checked := 0
	for _, ex := range examples(t) {
		p := ex.result.Plan
		var groups []exprTestGroup
		for _, s := range p.ServiceTargets {
			if a := s.SLOs.Availability; a != nil {
				groups = append(groups, sloWorld{p, s}.groups("availability", a.Target)...)
			}
			if l := s.SLOs.Latency; l != nil {
				groups = append(groups, sloWorld{p, s}.groups("latency", l.Target)...)
			}
		}
		if len(groups) == 0 {
			continue
		}
		var month []exprTestGroup
		for _, s := range p.ServiceTargets {
			if a := s.SLOs.Availability; a != nil {
				month = append(month, sloWorld{p, s}.window30d("availability", a.Target)...)
			}
			if l := s.SLOs.Latency; l != nil {
				month = append(month, sloWorld{p, s}.window30d("latency", l.Target)...)
			}
		}
		dir := t.TempDir()
		var ruleFiles []string
		evaluator := ""
		for _, f := range ex.result.Files {
			if !isRuleFile(f.Path) || strings.Contains(f.Path, "/tests/") {
				continue
			}
			if strings.HasSuffix(f.Path, "/obsgen-slos.yaml") {
				evaluator = filepath.Dir(filepath.Dir(f.Path))
			}
		}
		require.NotEmpty(t, evaluator, "%s: the objectives are evaluated nowhere", p.Name)
		for _, f := range ex.result.Files {
			if strings.HasPrefix(f.Path, evaluator+"/rules/") {
				path := filepath.Join(dir, filepath.Base(f.Path))
				require.NoError(t, os.WriteFile(path, f.Data, 0o644))
				ruleFiles = append(ruleFiles, filepath.Base(f.Path))
			}
		}
		data, err := yaml.Marshal(exprTestFile{RuleFiles: ruleFiles, EvaluationInterval: "1m", Tests: groups})
		require.NoError(t, err)
		test := filepath.Join(dir, "slo_test.yaml")
		require.NoError(t, os.WriteFile(test, data, 0o644))
		// The month runs on hourly evaluations: every rule at every
		// minute of 31 days would take promtool far too long.
		data, err = yaml.Marshal(exprTestFile{RuleFiles: ruleFiles, EvaluationInterval: "1h", Tests: month})
		require.NoError(t, err)
		monthTest := filepath.Join(dir, "slo_month_test.yaml")
		require.NoError(t, os.WriteFile(monthTest, data, 0o644))
		cmd := exec.Command(promtool, "test", "rules", test, monthTest)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "%s (%s): promtool test rules:\n%s", p.Name, evaluator, out)
		checked++
	}
	assert.GreaterOrEqual(t, checked, 4, "examples with objectives")
}
