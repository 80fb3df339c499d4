package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/generators/grafana"
	"obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/dashvars"
)

// dashboardExprs lists the PromQL of a dashboard's panels, variables and
// annotations, with Grafana's variables given sample values.
func dashboardExprs(t *testing.T, data []byte) []string {
	t.Helper()
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Annotations struct {
			List []struct {
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
	}
	require.NoError(t, json.Unmarshal(data, &d))
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		q, ok := v.Query.(string)
		if v.Type != "query" || !ok {
			continue
		}
		q = strings.TrimPrefix(strings.TrimPrefix(q, "query_result("), "label_values(")
		if i := strings.LastIndex(q, ","); strings.HasPrefix(v.Query.(string), "label_values(") && i > 0 {
			q = q[:i]
		} else {
			q = strings.TrimSuffix(q, ")")
		}
		out = append(out, q)
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			out = append(out, a.Expr)
		}
	}
	samples := map[string]string{"team": "t", "namespace": "ns", "workload": ".*", "datasource": "ds", "cluster": "c", "gateway": "g"}
	for i, e := range out {
		out[i], _ = dashvars.Expand(e, samples)
	}
	return out
}

// TestNoDashboardReadsAnOrphanMetric: every metric a dashboard reads is
// scraped by a job the plan generates (rules.MetricsByJob, which cites
// where each name comes from) or recorded by one of obsgen's rules, and
// ALERTS only where the rules run. The dashboards read recordings by name
// from the contract of the rules generator; this holds the two together.
func TestNoDashboardReadsAnOrphanMetric(t *testing.T) {
	for _, ex := range examples(t) {
		p := ex.result.Plan
		have := rules.Produced(p, rules.Files(p))
		have["ALERTS"] = p.Rules.Recorded()
		read := 0
		for _, f := range ex.result.Files {
			if !strings.HasPrefix(f.Path, grafana.DashboardsDir) {
				continue
			}
			for _, e := range dashboardExprs(t, f.Data) {
				expr, err := parser.NewParser(parser.Options{}).ParseExpr(e)
				require.NoError(t, err, e)
				parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
					if vs, ok := n.(*parser.VectorSelector); ok {
						read++
						assert.True(t, have[vs.Name], "%s: %s reads %s, which no generated job or rule produces", p.Name, f.Path, vs.Name)
					}
					return nil
				})
			}
		}
		assert.Greater(t, read, 40, p.Name)
	}
}
