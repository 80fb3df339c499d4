package grafana

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	obsrules "obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/dashvars"
	"obsgen.dev/obsgen/internal/plan"
)

// newParser is Prometheus 3.15's parser with its default options: no
// experimental functions, as a Prometheus server runs by default.
func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// expanded is a dashboard query with Grafana's variables substituted.
func expanded(t *testing.T, p *plan.Plan, d Rendered, q promQuery) string {
	t.Helper()
	expr, unknown := dashvars.Expand(q.expr, variables(p, d.Meta))
	assert.Empty(t, unknown, "%s: unknown variables", q)
	return expr
}

// TestEveryQueryParses parses every panel, variable and annotation query of
// every example's dashboards with Prometheus' parser, after Grafana's
// variables are substituted.
func TestEveryQueryParses(t *testing.T) {
	n := 0
	for _, ex := range examples(t) {
		for _, d := range ex.dashboards {
			for _, q := range queriesOf(t, decode(t, d.JSON)) {
				_, err := newParser().ParseExpr(expanded(t, ex.plan, d, q))
				assert.NoError(t, err, "%s: %s", ex.name, q)
				n++
			}
		}
	}
	assert.Greater(t, n, 150)
	t.Logf("%d queries parsed", n)
}

// produced lists the metrics a plan's Prometheus holds: what its jobs
// scrape (rules.MetricsByJob), what its recording rules record, and ALERTS
// where alerting rules run.
func produced(p *plan.Plan) map[string]bool {
	if !obsrules.Evaluated(p) {
		return obsrules.Produced(p, nil)
	}
	out := obsrules.Produced(p, obsrules.Files(p))
	out["ALERTS"] = true
	return out
}

// selectors lists the vector selectors of an expression.
func selectors(expr parser.Expr) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// TestNoQueryReadsAnOrphanMetric: every metric a dashboard reads is scraped
// by a job the plan generates or recorded by one of its rules.
func TestNoQueryReadsAnOrphanMetric(t *testing.T) {
	for _, ex := range examples(t) {
		have := produced(ex.plan)
		read := 0
		for _, d := range ex.dashboards {
			for _, q := range queriesOf(t, decode(t, d.JSON)) {
				expr, err := newParser().ParseExpr(expanded(t, ex.plan, d, q))
				require.NoError(t, err, q)
				for _, vs := range selectors(expr) {
					read++
					assert.True(t, have[vs.Name], "%s: %s reads %s, which no generated job or rule produces", ex.name, q, vs.Name)
				}
			}
		}
		assert.Greater(t, read, 40, ex.name)
	}
}

func TestProducedKnowsTheRecordingsOnlyWhereRulesRun(t *testing.T) {
	for _, ex := range examples(t) {
		have := produced(ex.plan)
		assert.Equal(t, obsrules.Evaluated(ex.plan), have["service:istio_requests:rate5m"], ex.name)
		assert.True(t, have["container_cpu_usage_seconds_total"], ex.name)
	}
}

// loadedStorage holds a plan's synthetic series and, where Prometheus
// evaluates obsgen's rules, what they recorded over the same three hours.
func loadedStorage(t *testing.T, p *plan.Plan) storage.Storage {
	t.Helper()
	st := promqltest.LoadedStorage(t, syntheticLoad(p))
	t.Cleanup(func() { st.Close() })
	if !obsrules.Evaluated(p) {
		return st
	}
	files, err := obsrules.Generate(p, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	var ruleFiles []string
	for _, f := range files {
		if !strings.HasPrefix(f.Path, obsrules.RulesDir) {
			continue
		}
		path := filepath.Join(dir, filepath.Base(f.Path))
		require.NoError(t, os.WriteFile(path, f.Data, 0o600))
		ruleFiles = append(ruleFiles, path)
	}
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc: rules.EngineQueryFunc(queryEngine(t), st), Appendable: st, Context: context.Background(),
		NotifyFunc: func(context.Context, string, ...*rules.Alert) {}, Logger: promslog.NewNopLogger(), Parser: newParser(),
	})
	groups, errs := m.LoadGroups(time.Minute, labels.EmptyLabels(), "", nil, false, ruleFiles...)
	require.Empty(t, errs)
	// Every 10 minutes is enough: recordings read raw series, except the
	// 30-day SLI, which averages the 5-minute one over what there is.
	for ts := time.Unix(0, 0).UTC(); !ts.After(endTime()); ts = ts.Add(10 * time.Minute) {
		for _, k := range slices.Sorted(maps.Keys(groups)) {
			groups[k].Eval(context.Background(), ts)
			for _, r := range groups[k].Rules() {
				require.NoError(t, r.LastError(), "rule %s at %s", r.Name(), ts)
			}
		}
	}
	return st
}

func endTime() time.Time { return time.Unix(0, 0).UTC().Add(syntheticMinutes * time.Minute) }

func queryEngine(t *testing.T) *promql.Engine {
	ng := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute, Parser: newParser()})
	t.Cleanup(func() { ng.Close() })
	return ng
}

// instant evaluates an expression at the end of the synthetic series and
// says how many elements it returned.
func instant(t *testing.T, ng *promql.Engine, st storage.Storage, expr string) (int, error) {
	qr, err := ng.NewInstantQuery(context.Background(), st, nil, expr, endTime())
	if err != nil {
		return 0, err
	}
	defer qr.Close()
	res := qr.Exec(context.Background())
	if res.Err != nil {
		return 0, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return len(v), nil
	case promql.Matrix:
		return len(v), nil
	case promql.Scalar:
		return 1, nil
	}
	return 0, fmt.Errorf("unexpected result %T", res.Value)
}

// TestNoEmptyPanels loads synthetic series for each example's teams and
// services into Prometheus' test storage, runs its recording rules, and
// evaluates every panel query (and variable query): each must return data,
// and every selector in it must match series, so a wrong label name shows
// even behind `or vector(0)`. Failures name the dashboard and the panel.
func TestNoEmptyPanels(t *testing.T) {
	var report []string
	for _, ex := range examples(t) {
		st := loadedStorage(t, ex.plan)
		empty, n := emptyPanels(t, ex.plan, ex.dashboards, st)
		assert.Empty(t, empty, "%s: panels without data", ex.name)
		report = append(report, fmt.Sprintf("%-20s %d dashboards, %3d panels, %d without data", ex.name, len(ex.dashboards), n, len(empty)))
	}
	t.Log("\n" + strings.Join(report, "\n"))
}

// TestNoEmptyPanelsCatchesAWrongLabel: the check fails for a panel whose
// query names a label value no job produces.
func TestNoEmptyPanelsCatchesAWrongLabel(t *testing.T) {
	ex := examples(t)[0]
	st := loadedStorage(t, ex.plan)
	broken := slices.Clone(ex.dashboards)
	broken[0].JSON = []byte(strings.ReplaceAll(string(broken[0].JSON), `reporter=\"destination\"`, `reporter=\"dest\"`))
	empty, _ := emptyPanels(t, ex.plan, broken, st)
	assert.NotEmpty(t, empty)
	for _, e := range empty {
		assert.Contains(t, e, broken[0].Title)
	}
}

// emptyPanels evaluates every panel and variable query of the dashboards
// and lists those without data, and counts the panels.
func emptyPanels(t *testing.T, p *plan.Plan, dashboards []Rendered, st storage.Storage) ([]string, int) {
	ng := queryEngine(t)
	var empty []string
	count := 0
	for _, d := range dashboards {
		dec := decode(t, d.JSON)
		count += len(panels(dec))
		for _, q := range queriesOf(t, dec) {
			if !q.panel {
				continue
			}
			expr := expanded(t, p, d, q)
			n, err := instant(t, ng, st, expr)
			require.NoError(t, err, q)
			if n == 0 {
				empty = append(empty, q.String()+" (no data)")
			}
			parsed, err := newParser().ParseExpr(expr)
			require.NoError(t, err)
			for _, vs := range selectors(parsed) {
				if n, err := instant(t, ng, st, fmt.Sprintf("last_over_time(%s[%dm])", vs.String(), syntheticMinutes)); err != nil || n == 0 {
					empty = append(empty, fmt.Sprintf("%s (selector %s matches nothing)", q, vs))
				}
			}
		}
	}
	return empty, count
}
