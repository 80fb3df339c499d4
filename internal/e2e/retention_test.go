package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// How long Prometheus keeps its samples, judged from the generated rules.
//
// A rule reads its ranges back from the evaluation time, plus any offset;
// an instant selector reads back the lookback delta (5m, Prometheus'
// --query.lookback-delta default). Prometheus keeps the samples of the
// retention (prometheus.io docs/prometheus/latest/storage); the Prometheus
// Operator runs a Prometheus resource without spec.retention for 24h
// (pkg/prometheus/common.go DefaultRetention; the CRD's documentation of
// spec.retention), Prometheus itself for 15d (cmd/prometheus/main.go
// defaultRetentionDuration). A shorter retention makes no error: the
// ranges are answered from what is left.

const (
	lookbackDelta              = 5 * time.Minute
	operatorDefaultRetention   = 24 * time.Hour
	prometheusDefaultRetention = 15 * 24 * time.Hour
)

// exprLookback is how far back from the evaluation time expr reads, as
// the engine computes the time range it selects (promql.FindMinMaxTime).
func exprLookback(t *testing.T, expr string) time.Duration {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	require.NoError(t, err, expr)
	now := time.Unix(1_000_000_000, 0)
	minT, _ := promql.FindMinMaxTime(&parser.EvalStmt{Expr: e, Start: now, End: now, LookbackDelta: lookbackDelta})
	if minT == 0 { // no selector (vector(1))
		return 0
	}
	// The engine selects left-open ranges, a millisecond short.
	return now.Sub(time.UnixMilli(minT)).Round(time.Second)
}

// serverExprs are the rule expressions the Prometheus servers of ex
// evaluate: the raw flavour's rule files and the operator flavour's
// PrometheusRules its Prometheus resource selects.
func serverExprs(t *testing.T, ex example) []string {
	t.Helper()
	var out []string
	for _, rf := range ruleFiles(t, ex, "prometheus") {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				out = append(out, r.Expr)
			}
		}
	}
	for _, f := range ex.result.Files {
		if !strings.HasPrefix(f.Path, "operator/prometheusrule-") {
			continue
		}
		var pr monitoringv1.PrometheusRule
		require.NoError(t, sigsyaml.UnmarshalStrict(f.Data, &pr), f.Path)
		if pr.Labels["obsgen.dev/evaluator"] != "prometheus" {
			continue
		}
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				out = append(out, r.Expr.String())
			}
		}
	}
	return out
}

// retentionVariants are the evaluator variants plus, for each example,
// one without a volume, one without objectives and one without a mesh.
func retentionVariants(t *testing.T) []example {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	out := evaluatorVariants(t)
	for _, ex := range examples(t) {
		for _, v := range []string{"no-storage", "no-objectives", "no-mesh"} {
			p := *ex.result.Loaded.Profile
			p.Metadata.Name = ex.result.Plan.Name + "-" + v
			p.Monitoring.Prometheus.Storage = nil
			switch v {
			case "no-mesh":
				if p.Mesh.DataPlane == v1alpha1.DataPlaneAmbient {
					continue // waypoints and ztunnel need the mesh
				}
				p.Mesh = v1alpha1.Mesh{Provider: v1alpha1.MeshNone}
				p.Kiali, p.Tracing, p.Monitoring.Prometheus.Federation = v1alpha1.Kiali{}, v1alpha1.Tracing{}, nil
				fallthrough
			case "no-objectives":
				p.Teams = withoutObjectives(p.Teams)
				p.Monitoring.Prometheus.Retention = ""
			}
			out = append(out, profileVariant(t, engine, ex.file, &p))
		}
	}
	return out
}

// withoutObjectives is a copy of teams whose services have no objectives.
func withoutObjectives(teams []v1alpha1.Team) []v1alpha1.Team {
	out := make([]v1alpha1.Team, len(teams))
	for i, team := range teams {
		team.Services = append([]v1alpha1.Service(nil), team.Services...)
		for j := range team.Services {
			team.Services[j].SLOs = nil
		}
		out[i] = team
	}
	return out
}

// TestPrometheusKeepsWhatItsRulesRead: the history the generated rules
// read is what the plan says (so the profile's retention is checked
// against the truth), and each flavour's Prometheus keeps at least that
// much: the operator's Prometheus resource by spec.retention or the
// operator's default, the raw flavour by the retention prometheus.yml asks
// for or Prometheus' default.
func TestPrometheusKeepsWhatItsRulesRead(t *testing.T) {
	seen := map[time.Duration]bool{}
	warned := 0
	for _, ex := range retentionVariants(t) {
		p := ex.result.Plan
		var longest time.Duration
		for _, expr := range serverExprs(t, ex) {
			longest = max(longest, exprLookback(t, expr))
		}
		// Selectors without a range read the lookback delta back; the
		// plan names the longest range.
		assert.Equal(t, p.Monitoring.Prometheus.RuleLookback, longest, "%s: the history the server's rules read", p.Name)
		seen[longest] = true
		if p.Monitoring.Prometheus.Agent {
			assert.Zero(t, longest, "%s: an agent evaluates nothing", p.Name)
			continue
		}
		for _, f := range ex.result.Files {
			switch {
			case f.Path == "operator/prometheus.yaml":
				var pr monitoringv1.Prometheus
				require.NoError(t, sigsyaml.UnmarshalStrict(f.Data, &pr), f.Path)
				keeps := operatorDefaultRetention
				if pr.Spec.Retention != "" {
					d, err := model.ParseDuration(string(pr.Spec.Retention))
					require.NoError(t, err)
					keeps = time.Duration(d)
				}
				assert.GreaterOrEqual(t, keeps, longest, "%s: %s keeps less than its rules read", p.Name, f.Path)
				if pr.Spec.Retention != "" && p.Monitoring.Prometheus.Storage == nil {
					assert.True(t, slices.ContainsFunc(ex.result.Loaded.Warnings, func(d diag.Diagnostic) bool {
						return d.Path == "monitoring.prometheus.storage" && strings.Contains(d.Message, "emptyDir")
					}), "%s: %s on an emptyDir is warned about: %v", p.Name, pr.Spec.Retention, ex.result.Loaded.Warnings)
					warned++
				}
			case strings.HasPrefix(f.Path, "prometheus/") && filepath.Base(f.Path) == "prometheus.yml" || strings.HasPrefix(filepath.Base(f.Path), "prometheus-shard-"):
				keeps := prometheusDefaultRetention
				const flag = "--storage.tsdb.retention.time="
				if i := strings.Index(string(f.Data), flag); i >= 0 {
					value, _, _ := strings.Cut(string(f.Data[i+len(flag):]), " ")
					d, err := model.ParseDuration(value)
					require.NoError(t, err, "%s: %s", f.Path, value)
					keeps = time.Duration(d)
				}
				assert.GreaterOrEqual(t, keeps, longest, "%s: %s asks for less than its rules read", p.Name, f.Path)
			}
		}
	}
	// Every kind of lookback is among the variants: the objectives', the
	// mesh's service recordings', the rest of the catalogue's, an agent's.
	assert.Len(t, seen, 4, "lookbacks seen: %v", seen)
	assert.Positive(t, warned, "a variant keeps more than a day on an emptyDir")
}

func TestExprLookbackCountsRangesOffsetsAndTheLookbackDelta(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		`vector(1)`:                       0,
		`up`:                              5 * time.Minute,
		`up offset 1h`:                    65 * time.Minute,
		`rate(x[5m])`:                     5 * time.Minute,
		`sum_over_time(x[30d])`:           30 * 24 * time.Hour,
		`x[6h] offset 1h`:                 7 * time.Hour,
		`max_over_time(rate(x[5m])[1h:])`: time.Hour + 5*time.Minute,
	} {
		assert.Equal(t, want, exprLookback(t, expr), expr)
	}
}
