package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/dashvars"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/ruletest"
)

// TestDashboardsReadWhatTheEvaluatorRecords evaluates each example's real
// recording rules where they run (the Prometheus server, or the ruler
// reading the store, with the cluster label every series gets on remote
// write) over 40 minutes of the requests a service's reporter counts, then
// runs every dashboard query that reads a recording (service:..., slo:...)
// with the dashboard's variables set for the team: none may come back
// empty. The grafana package proves the panels against the recordings'
// contract; this proves the generated rules keep it, on a ruler too.
func TestDashboardsReadWhatTheEvaluatorRecords(t *testing.T) {
	checked := 0
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if !p.Mesh.Istio || !p.Rules.Recorded() || !p.Dashboards.Any() {
			continue
		}
		dir := t.TempDir()
		evaluator := ""
		for _, f := range ex.result.Files {
			if strings.HasSuffix(f.Path, "/rules/obsgen-istio-services.yaml") && isRuleFile(f.Path) {
				evaluator = strings.TrimSuffix(f.Path, "/rules/obsgen-istio-services.yaml")
			}
		}
		require.NotEmpty(t, evaluator, "%s: no evaluator records the service metrics", p.Name)
		var files []string
		for _, f := range ex.result.Files {
			if strings.HasPrefix(f.Path, evaluator+"/rules/") {
				path := filepath.Join(dir, filepath.Base(f.Path))
				require.NoError(t, os.WriteFile(path, f.Data, 0o644))
				files = append(files, path)
			}
		}
		var series []ruletest.Series
		for _, s := range p.ServiceTargets {
			w := sloWorld{p, s}
			series = append(series,
				ruletest.Series{Series: selector("istio_requests_total", with(w.base(), "response_code", "200")), Values: "0+600x40"},
				ruletest.Series{Series: selector("istio_requests_total", with(w.base(), "response_code", "503")), Values: "0+6x40"})
			for _, le := range plan.IstioDurationBucketsMs {
				v := 300
				if le >= 100 {
					v = 606
				}
				series = append(series, ruletest.Series{Series: selector("istio_request_duration_milliseconds_bucket", with(w.base(), "le", strconv.Itoa(le))),
					Values: "0+" + strconv.Itoa(v) + "x40"})
			}
			series = append(series, ruletest.Series{Series: selector("istio_request_duration_milliseconds_bucket", with(w.base(), "le", "+Inf")), Values: "0+606x40"})
		}
		queries := recordingQueries(t, ex)
		require.NotEmpty(t, queries, p.Name)
		err := ruletest.Evaluate(files, series, time.Minute, 40*time.Minute, func(query ruletest.Query) {
			for _, q := range queries {
				v, err := query(q.expr)
				if assert.NoError(t, err, "%s: %s", p.Name, q.expr) {
					assert.NotEmpty(t, v, "%s: %s: %s is empty", p.Name, q.where, q.expr)
				}
				checked++
			}
		})
		require.NoError(t, err, p.Name)
	}
	assert.Greater(t, checked, 50)
}

type dashQuery struct{ where, expr string }

// recordingQueries are the dashboard queries of an example that read
// recordings, with their variables expanded for the dashboard's team
// (platform dashboards: every namespace).
func recordingQueries(t *testing.T, ex example) []dashQuery {
	p := ex.result.Plan
	var out []dashQuery
	for _, f := range ex.result.Files {
		if !strings.HasPrefix(f.Path, "grafana/dashboards/") || !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		values := map[string]string{"cluster": p.Cluster.Name, "namespace": ".*", "team": ".*", "workload": ".*"}
		folder := filepath.Base(filepath.Dir(f.Path))
		for _, team := range p.Teams {
			if team.Name == folder {
				values["team"], values["namespace"] = team.Name, "("+strings.Join(team.Namespaces, "|")+")"
			}
		}
		var doc any
		require.NoError(t, json.Unmarshal(f.Data, &doc), f.Path)
		for _, expr := range exprs(doc) {
			e, unknown := dashvars.Expand(expr, values)
			if len(unknown) > 0 || !readsRecording(e) {
				continue
			}
			out = append(out, dashQuery{f.Path, e})
		}
	}
	return out
}

func exprs(x any) []string {
	var out []string
	switch v := x.(type) {
	case map[string]any:
		if e, ok := v["expr"].(string); ok && e != "" {
			out = append(out, e)
		}
		for _, c := range v {
			out = append(out, exprs(c)...)
		}
	case []any:
		for _, c := range v {
			out = append(out, exprs(c)...)
		}
	}
	return out
}

func readsRecording(expr string) bool {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return false
	}
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && (strings.HasPrefix(vs.Name, "service:") || strings.HasPrefix(vs.Name, "slo:")) {
			found = true
		}
		return nil
	})
	return found
}
