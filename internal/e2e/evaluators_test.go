package e2e

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	sigsyaml "sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// Where rules are evaluated, judged from the generated files alone.
//
// A Prometheus shard holds the series of the targets its hashmod keeps,
// every series of a target on one shard; an agent holds nothing it can
// evaluate. So a rule is right on a shard only when it reads the series
// of single targets: no absent() (the absent series may live on another
// shard), no aggregation that merges targets (a `by` without the pod,
// instance or node that tells targets apart), one job per rule (two jobs'
// targets hash to different shards), and no recording (a shard's partial
// sums would reach the store as if complete).

// shardProblems lists why expr would be wrong on a shard, or nothing.
func shardProblems(expr string) []string {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	jobs := map[string]bool{}
	selectors := 0
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if _, ok := n.(*parser.VectorSelector); ok {
			selectors++
		}
		return nil
	})
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.Call:
			if n.Func.Name == "absent" || n.Func.Name == "absent_over_time" {
				problems = append(problems, "absent() cannot know about another shard's series")
			}
		case *parser.AggregateExpr:
			keeps := slices.ContainsFunc(n.Grouping, func(l string) bool { return l == "pod" || l == "instance" || l == "node" })
			if n.Without == keeps {
				problems = append(problems, fmt.Sprintf("%s merges the series of several targets", n.Op))
			}
		case *parser.VectorSelector:
			job := ""
			for _, m := range n.LabelMatchers {
				if m.Name == "job" && m.Type == labels.MatchEqual {
					job = m.Value
				}
			}
			// One selector alone, whose aggregations keep the target
			// (checked above), reads each target's series by itself,
			// whichever job scrapes it: every target lives on one shard.
			if job == "" && selectors > 1 {
				problems = append(problems, n.String()+" may read several jobs")
			}
			jobs[job] = true
		}
		return nil
	})
	if len(jobs) > 1 {
		problems = append(problems, "reads several jobs, whose targets live on different shards")
	}
	return problems
}

func TestShardCheckCatchesWhatNeedsEverySeries(t *testing.T) {
	for expr, wrong := range map[string]bool{
		`absent(up{job="istiod"} == 1)`: true,
		`label_replace(100 * (count by (job, namespace, team) (up == 0) / count by (job, namespace, team) (up)) > 10, "team", "platform", "team", "")`: true,
		`sum by (team, destination_workload_namespace, destination_canonical_service) (rate(istio_requests_total{job="envoy-stats"}[5m]))`:             true,
		`kube_job_failed{job="kube-state-metrics"} > 0 and on (namespace) up{job="kubelet"}`:                                                           true,
		`max_over_time(kube_pod_container_status_waiting_reason{job="kube-state-metrics", reason="CrashLoopBackOff"}[5m]) >= 1`:                        false,
		`sum by (namespace, pod) (rate(pilot_xds_pushes{job="istiod", type=~".+_senderr"}[5m])) > 0`:                                                   false,
		`vector(1)`: false,
		`min by (namespace, pod) (istio_agent_cert_expiry_seconds{resource_name="default"}) < 3600`: false,
		`min by (namespace) (istio_agent_cert_expiry_seconds{resource_name="default"}) < 3600`:      true,
		`kube_job_failed > 0 and on (namespace, pod) kube_pod_info`:                                 true,
	} {
		assert.Equal(t, wrong, len(shardProblems(expr)) > 0, expr)
	}
}

// evaluatorVariants are the examples plus, for each, a sharded server
// writing to Mimir, an agent and a sharded server writing to Thanos
// Receive (the evaluator left to auto).
func evaluatorVariants(t *testing.T) []example {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	out := examples(t)
	for _, ex := range examples(t) {
		for _, v := range []struct {
			name string
			mode v1alpha1.PrometheusMode
			url  string
		}{
			{"shards-mimir", v1alpha1.ModeServer, "https://mimir.example/api/v1/push"},
			{"agent-thanos", v1alpha1.ModeAgent, "http://thanos-receive.thanos.svc:19291/api/v1/receive"},
			{"shards-thanos", v1alpha1.ModeServer, "http://thanos-receive.thanos.svc:19291/api/v1/receive"},
		} {
			p := *ex.result.Loaded.Profile
			p.Metadata.Name = ex.result.Plan.Name + "-" + v.name
			p.Monitoring.Prometheus.Mode, p.Monitoring.Prometheus.Shards, p.Monitoring.Prometheus.Federation = v.mode, 2, nil
			if v.mode == v1alpha1.ModeAgent {
				p.Monitoring.Prometheus.Shards = 1
				if _, set := p.Monitoring.Prometheus.PodLabels["app.kubernetes.io/name"]; set {
					p.Monitoring.Prometheus.PodLabels = map[string]string{"app.kubernetes.io/name": "prometheus-agent"}
				}
			}
			p.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "store", URL: v.url, CIDRs: []string{"203.0.113.40/32"}}}
			p.Monitoring.Rules = v1alpha1.Rules{}
			p.Dashboards.Datasource.URL, p.Dashboards.Datasource.CIDRs = "https://query.example/prometheus", []string{"203.0.113.41/32"}
			out = append(out, profileVariant(t, engine, ex.file, &p))
		}
	}
	return out
}

// profileVariant generates p, a changed copy of the example profile in file.
func profileVariant(t *testing.T, engine *render.Engine, file string, p *v1alpha1.Profile) example {
	t.Helper()
	data, err := yaml.Marshal(p)
	require.NoError(t, err)
	res, err := pipeline.Run(file, data, engine)
	var diags diag.List
	if errors.As(err, &diags) {
		t.Fatalf("%s: %v", p.Metadata.Name, diags)
	}
	require.NoError(t, err)
	return example{file: file, result: res}
}

// ruleFiles are the generated rule files under dir (prometheus or ruler).
func ruleFiles(t *testing.T, ex example, dir string) map[string]rulefmt.RuleGroups {
	t.Helper()
	out := map[string]rulefmt.RuleGroups{}
	for _, f := range ex.result.Files {
		if strings.HasPrefix(f.Path, dir+"/rules/") {
			groups, errs := rulefmt.Parse(f.Data, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
			require.Empty(t, errs, f.Path)
			out[filepath.Base(f.Path)] = *groups
		}
	}
	return out
}

func TestShardsAndAgentsEvaluateOnlySingleSeriesRules(t *testing.T) {
	sharded := 0
	for _, ex := range evaluatorVariants(t) {
		p := ex.result.Plan
		if p.Monitoring.Prometheus.Agent {
			assert.Empty(t, ruleFiles(t, ex, "prometheus"), "%s: an agent evaluates no rules", p.Name)
			continue
		}
		if p.Scrape.Shards <= 1 {
			continue
		}
		sharded++
		for name, rf := range ruleFiles(t, ex, "prometheus") {
			for _, g := range rf.Groups {
				for _, r := range g.Rules {
					assert.Empty(t, r.Record, "%s: %s records %s on every shard", p.Name, name, r.Record)
					for _, problem := range shardProblems(r.Expr) {
						t.Errorf("%s: %s: %s on every shard: %s", p.Name, name, r.Alert, problem)
					}
				}
			}
		}
	}
	assert.GreaterOrEqual(t, sharded, 5, "sharded variants")
}

// TestEveryRuleIsEvaluatedSomewhere: each objective's burn-rate alerts
// and every alert of the catalogue are in the rules of the server or of
// the ruler, and each evaluator has its Watchdog.
func TestEveryRuleIsEvaluatedSomewhere(t *testing.T) {
	for _, ex := range evaluatorVariants(t) {
		p := ex.result.Plan
		alerts := map[string]bool{}
		burns := map[string]int{}
		for _, dir := range []string{"prometheus", "ruler"} {
			watchdog := false
			files := ruleFiles(t, ex, dir)
			for _, rf := range files {
				for _, g := range rf.Groups {
					for _, r := range g.Rules {
						alerts[r.Alert] = true
						watchdog = watchdog || r.Alert == "Watchdog"
						if r.Alert == "ErrorBudgetBurn" {
							burns[r.Labels["team"]+"/"+r.Labels["service"]+"/"+r.Labels["slo"]]++
						}
					}
				}
			}
			assert.Equal(t, len(files) > 0, watchdog, "%s: %s has its Watchdog", p.Name, dir)
		}
		for _, s := range p.ServiceTargets {
			if s.SLOs.Availability != nil {
				assert.Equal(t, 2, burns[s.Job+"/availability"], "%s: %s availability page and ticket", p.Name, s.Job)
			}
			if s.SLOs.Latency != nil {
				assert.Equal(t, 2, burns[s.Job+"/latency"], "%s: %s latency page and ticket", p.Name, s.Job)
			}
		}
		for _, a := range []string{"TargetDown", "KubePodCrashLooping", "IstiodDown", "IstioHighErrorRate"} {
			if p.Mesh.Istio || !strings.HasPrefix(a, "Istio") {
				assert.True(t, alerts[a], "%s: %s is evaluated nowhere", p.Name, a)
			}
		}
	}
}

// TestRulerRulesStayInTheirCluster: a ruler reads a store other clusters
// may write to: each selector reads this cluster's series and each
// aggregation keeps the cluster apart.
func TestRulerRulesStayInTheirCluster(t *testing.T) {
	checked := 0
	for _, ex := range evaluatorVariants(t) {
		p := ex.result.Plan
		for name, rf := range ruleFiles(t, ex, "ruler") {
			for _, g := range rf.Groups {
				// Mimir's default -ruler.max-rules-per-rule-group.
				assert.LessOrEqual(t, len(g.Rules), 20, "%s: %s: group %s", p.Name, name, g.Name)
				for _, r := range g.Rules {
					e, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
					require.NoError(t, err)
					parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
						switch n := n.(type) {
						case *parser.VectorSelector:
							checked++
							assert.True(t, slices.ContainsFunc(n.LabelMatchers, func(m *labels.Matcher) bool {
								return m.Name == "cluster" && m.Type == labels.MatchEqual && m.Value == p.Cluster.Name
							}), "%s: %s: %s reads other clusters", p.Name, name, n)
						case *parser.AggregateExpr:
							assert.True(t, n.Without || slices.Contains(n.Grouping, "cluster"), "%s: %s: %s merges clusters", p.Name, name, r.Expr)
						}
						return nil
					})
				}
			}
		}
	}
	assert.Greater(t, checked, 100)
}

// TestEachEvaluatorSelectsOnlyItsPrometheusRules: the Prometheus
// resource's ruleSelector selects the servers' PrometheusRules and none
// of a Thanos Ruler's, which carry the same profile label.
func TestEachEvaluatorSelectsOnlyItsPrometheusRules(t *testing.T) {
	rulers := 0
	for _, ex := range evaluatorVariants(t) {
		var sel k8slabels.Selector
		ruleLabels := map[string]map[string]string{}
		for _, f := range ex.result.Files {
			var obj struct {
				Kind     string            `json:"kind"`
				Metadata metav1.ObjectMeta `json:"metadata"`
				Spec     struct {
					RuleSelector *metav1.LabelSelector `json:"ruleSelector"`
				} `json:"spec"`
			}
			if !strings.HasSuffix(f.Path, ".yaml") || (!strings.HasPrefix(f.Path, "operator/") && !strings.HasPrefix(f.Path, "ruler/")) {
				continue
			}
			if sigsyaml.Unmarshal(f.Data, &obj) != nil {
				continue
			}
			switch obj.Kind {
			case "Prometheus":
				var err error
				sel, err = metav1.LabelSelectorAsSelector(obj.Spec.RuleSelector)
				require.NoError(t, err)
			case "PrometheusRule":
				ruleLabels[f.Path] = obj.Metadata.Labels
			}
		}
		if sel == nil {
			continue
		}
		for path, l := range ruleLabels {
			if strings.HasPrefix(path, "ruler/") {
				rulers++
			}
			assert.Equal(t, strings.HasPrefix(path, "operator/"), sel.Matches(k8slabels.Set(l)), "%s: %s", ex.result.Plan.Name, path)
		}
	}
	assert.Positive(t, rulers, "thanos-ruler PrometheusRules checked")
}

// TestMimirNamespaceFileHoldsTheRulerRules: the file mimirtool rules sync
// loads holds one namespace with exactly the ruler's groups.
func TestMimirNamespaceFileHoldsTheRulerRules(t *testing.T) {
	checked := 0
	for _, ex := range evaluatorVariants(t) {
		p := ex.result.Plan
		if p.Rules.Global != "mimir-ruler" {
			continue
		}
		var mimir output.File
		for _, f := range ex.result.Files {
			if strings.HasPrefix(f.Path, "ruler/mimir/") {
				mimir = f
			}
		}
		require.NotEmpty(t, mimir.Path, p.Name)
		var ns struct {
			Namespace string      `yaml:"namespace"`
			Groups    []yaml.Node `yaml:"groups"`
		}
		dec := yaml.NewDecoder(strings.NewReader(string(mimir.Data)))
		dec.KnownFields(true)
		require.NoError(t, dec.Decode(&ns))
		assert.Equal(t, "obsgen-"+p.Cluster.Name, ns.Namespace)
		groups, err := yaml.Marshal(map[string]any{"groups": ns.Groups})
		require.NoError(t, err)
		parsed, errs := rulefmt.Parse(groups, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
		require.Empty(t, errs, p.Name)
		var want []string
		for _, rf := range ruleFiles(t, ex, "ruler") {
			for _, g := range rf.Groups {
				want = append(want, fmt.Sprintf("%s/%d", g.Name, len(g.Rules)))
			}
		}
		var got []string
		for _, g := range parsed.Groups {
			got = append(got, fmt.Sprintf("%s/%d", g.Name, len(g.Rules)))
		}
		assert.ElementsMatch(t, want, got, p.Name)
		checked++
	}
	assert.GreaterOrEqual(t, checked, 5)
}
