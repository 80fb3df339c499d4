package grafana

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// loadedStorage holds a plan's synthetic series (on a shared store,
// another cluster's too) and, where obsgen's recording rules run, what
// they recorded over the same three hours.
func loadedStorage(t *testing.T, p *plan.Plan) storage.Storage { return storageOf(t, p, true) }

// storageOf is loadedStorage, with or without the other cluster's series.
func storageOf(t *testing.T, p *plan.Plan, others bool) storage.Storage {
	t.Helper()
	return storageWith(t, p, others, contractRules(p))
}

// loadedStorageOf is loadedStorage with other recording rules.
func loadedStorageOf(t *testing.T, p *plan.Plan, recordings string) storage.Storage {
	t.Helper()
	return storageWith(t, p, true, recordings)
}

func storageWith(t *testing.T, p *plan.Plan, others bool, contract string) storage.Storage {
	t.Helper()
	return storageLoaded(t, p, syntheticLoad(p, others), contract)
}

// storageWithExtra is the plan's synthetic series and extra series lines
// (of the load command), with the recordings of the dashboards' contract.
func storageWithExtra(t *testing.T, p *plan.Plan, extra string) storage.Storage {
	t.Helper()
	return storageLoaded(t, p, syntheticLoad(p, false)+extra, contractRules(p))
}

func storageLoaded(t *testing.T, p *plan.Plan, load, contract string) storage.Storage {
	t.Helper()
	st := promqltest.LoadedStorage(t, load)
	t.Cleanup(func() { st.Close() })
	if contract == "" {
		return st
	}
	path := filepath.Join(t.TempDir(), "recordings.yaml")
	require.NoError(t, os.WriteFile(path, []byte(contract), 0o600))
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc: rules.EngineQueryFunc(queryEngine(t), st), Appendable: st, Context: context.Background(),
		NotifyFunc: func(context.Context, string, ...*rules.Alert) {}, Logger: promslog.NewNopLogger(), Parser: newParser(),
	})
	groups, errs := m.LoadGroups(time.Minute, labels.EmptyLabels(), "", nil, false, path)
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

// result evaluates an expression at the end of the synthetic series and
// writes what it returned, one sorted line per series.
func result(t *testing.T, ng *promql.Engine, st storage.Storage, expr string) string {
	t.Helper()
	qr, err := ng.NewInstantQuery(context.Background(), st, nil, expr, endTime())
	require.NoError(t, err, expr)
	defer qr.Close()
	res := qr.Exec(context.Background())
	require.NoError(t, res.Err, expr)
	var lines []string
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			lines = append(lines, fmt.Sprintf("%s %v", s.Metric, s.F))
		}
	case promql.Scalar:
		lines = append(lines, fmt.Sprint(v.V))
	default:
		t.Fatalf("%s: unexpected result %T", expr, res.Value)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// shown are the queries a dashboard shows data of: its panels' and its
// variables', but not the cluster variable's, which lists every cluster on
// purpose.
func shown(t *testing.T, p *plan.Plan, d Rendered) []promQuery {
	var out []promQuery
	for _, q := range queriesOf(t, decode(t, d.JSON)) {
		if q.panel && q.where != "variable "+clusterVar {
			out = append(out, promQuery{dashboard: q.dashboard, where: q.where, expr: expanded(t, p, d, q), panel: true})
		}
	}
	return out
}

// clusterLeaks evaluates each (expanded) query on the store with this
// cluster's series alone and with another cluster's next to them: a query
// that selects its cluster returns the same either way. It lists those
// that do not.
func clusterLeaks(t *testing.T, queries []promQuery, alone, shared storage.Storage) []string {
	ng := queryEngine(t)
	var out []string
	for _, q := range queries {
		if result(t, ng, alone, q.expr) != result(t, ng, shared, q.expr) {
			out = append(out, q.String())
		}
	}
	return out
}

// sharedExamples are the examples whose dashboards query a shared store.
func sharedExamples(t *testing.T) []example {
	var out []example
	for _, ex := range examples(t) {
		if ex.plan.Dashboards.Datasource.Shared {
			out = append(out, ex)
		}
	}
	require.GreaterOrEqual(t, len(out), 3, "the agent, the shards and the ambient-mixed examples query a store")
	return out
}

// TestNoPanelShowsAnotherCluster puts a second cluster's series (and its
// recordings) into the store of every shared-store example, with other
// values, and evaluates every panel and variable query with and without
// them: none may change, so no panel adds in or lists another cluster.
func TestNoPanelShowsAnotherCluster(t *testing.T) {
	for _, ex := range sharedExamples(t) {
		alone, shared := storageOf(t, ex.plan, false), storageOf(t, ex.plan, true)
		var queries []promQuery
		for _, d := range ex.dashboards {
			queries = append(queries, shown(t, ex.plan, d)...)
		}
		assert.Empty(t, clusterLeaks(t, queries, alone, shared), ex.name)
		t.Logf("%s: %d queries, none shows %s", ex.name, len(queries), otherCluster)
	}
}

// withoutCluster drops the cluster matchers of an expression.
func withoutCluster(t *testing.T, expr string) string {
	parsed, err := newParser().ParseExpr(expr)
	require.NoError(t, err)
	for _, vs := range selectors(parsed) {
		vs.LabelMatchers = slices.DeleteFunc(vs.LabelMatchers, func(m *labels.Matcher) bool { return m.Name == clusterLabel })
	}
	return parsed.String()
}

// TestNoPanelShowsAnotherClusterCatchesAMissingMatcher: a query that lost
// its cluster matcher shows the other cluster, whichever it is: a sum, a
// ratio, a quantile, a variable's values.
func TestNoPanelShowsAnotherClusterCatchesAMissingMatcher(t *testing.T) {
	for _, ex := range sharedExamples(t) {
		alone, shared := storageOf(t, ex.plan, false), storageOf(t, ex.plan, true)
		var unnoticed []string
		for _, d := range ex.dashboards {
			for _, q := range shown(t, ex.plan, d) {
				q.expr = withoutCluster(t, q.expr)
				if len(clusterLeaks(t, []promQuery{q}, alone, shared)) == 0 {
					unnoticed = append(unnoticed, q.String())
				}
			}
		}
		assert.Empty(t, unnoticed, "%s: without its matcher every query shows the other cluster", ex.name)
	}
}

// TestEverySelectorSelectsItsCluster: on a shared store every selector of
// every panel, variable and annotation query selects cluster="$cluster"
// (the cluster variable's own query aside); on this cluster's Prometheus,
// whose series carry no external label, none names the cluster.
func TestEverySelectorSelectsItsCluster(t *testing.T) {
	for _, ex := range examples(t) {
		shared := ex.plan.Dashboards.Datasource.Shared
		for _, d := range ex.dashboards {
			for _, q := range queriesOf(t, decode(t, d.JSON)) {
				if q.where == "variable "+clusterVar {
					continue
				}
				parsed, err := newParser().ParseExpr(expanded(t, ex.plan, d, q))
				require.NoError(t, err, q)
				for _, vs := range selectors(parsed) {
					assert.Equal(t, shared, selectsCluster(vs, ex.plan.Cluster.Name), "%s: %s: %s", ex.name, q, vs)
				}
			}
		}
	}
}

// selectsCluster tells whether a selector holds cluster="<name>".
func selectsCluster(vs *parser.VectorSelector, name string) bool {
	for _, m := range vs.LabelMatchers {
		if m.Name == clusterLabel {
			return m.Type == labels.MatchEqual && m.Value == name
		}
	}
	return false
}

// TestTheClusterVariableListsTheStoresClusters: it defaults to the
// profile's cluster, and on the store it lists both clusters.
func TestTheClusterVariableListsTheStoresClusters(t *testing.T) {
	ex := sharedExamples(t)[0]
	d := decode(t, ex.dashboards[0].JSON)
	v := d.Templating.List[1]
	require.Equal(t, clusterVar, v.Name, "the cluster variable follows the data source's")
	assert.Equal(t, ex.plan.Cluster.Name, *v.Current.Value.String)
	expr, ok := variableExpr(*v.Query.String)
	require.True(t, ok)
	got := result(t, queryEngine(t), loadedStorage(t, ex.plan), fmt.Sprintf("count by (%s) (%s)", clusterLabel, expr))
	assert.Contains(t, got, otherCluster)
	assert.Contains(t, got, ex.plan.Cluster.Name)
}

// ambientExample is the proofs' ambient cluster: a waypoint for one
// namespace, none for the others.
func ambientExample(t *testing.T) example {
	for _, ex := range examples(t) {
		if ex.name == "ambient-mixed" {
			return ex
		}
	}
	t.Fatal("no ambient-mixed example")
	return example{}
}

// TestAmbientServicesWithoutAWaypointShowTCPAndSayWhy: a service with a
// waypoint gets its request panels from it; one without gets ztunnel's
// TCP panels, whose description says why there are no request panels.
func TestAmbientServicesWithoutAWaypointShowTCPAndSayWhy(t *testing.T) {
	ex := ambientExample(t)
	rows := map[string][]dashboard.Panel{}
	for _, d := range ex.dashboards {
		if d.Kind != KindTeam {
			continue
		}
		var current string
		for _, p := range decode(t, d.JSON).Panels {
			if p.RowPanel != nil {
				current = *p.RowPanel.Title
				continue
			}
			rows[current] = append(rows[current], *p.Panel)
		}
	}
	titles := func(row string) []string {
		var out []string
		for _, p := range rows[row] {
			out = append(out, *p.Title)
		}
		return out
	}
	assert.Contains(t, titles("Service transcoder (media)"), "Requests")
	assert.Contains(t, titles("Service transcoder (media)"), "Burn rate")
	for _, row := range []string{"Service archiver (media-batch)", "Service indexer (search)"} {
		assert.Equal(t, []string{"TCP traffic", "TCP inbound by peer", "Targets up"}, titles(row))
		assert.Contains(t, *rows[row][0].Description, "No waypoint serves namespace")
		assert.Contains(t, *rows[row][0].Description, `reporter="waypoint"`)
	}
}

// TestNoEmptyPanelsCatchesRequestsFromTheWrongReporter: in ambient a query
// or a recording rule that reads reporter="destination" requests, as with
// sidecars, finds none, and the proof says so.
func TestNoEmptyPanelsCatchesRequestsFromTheWrongReporter(t *testing.T) {
	ex := ambientExample(t)
	st := loadedStorage(t, ex.plan)
	broken := slices.Clone(ex.dashboards)
	for i := range broken {
		broken[i].JSON = []byte(strings.ReplaceAll(string(broken[i].JSON), `reporter=\"waypoint\"`, `reporter=\"destination\"`))
	}
	empty, _ := emptyPanels(t, ex.plan, broken, st)
	assert.NotEmpty(t, empty, "raw request queries of the wrong reporter")

	sidecarRules := *ex.plan
	sidecarRules.Mesh.RequestReporter = reporterDestination
	empty, _ = emptyPanels(t, ex.plan, ex.dashboards, loadedStorageOf(t, ex.plan, contractRules(&sidecarRules)))
	assert.NotEmpty(t, empty, "recordings of the wrong reporter")
}

// TestNoEmptyPanelsCatchesAGatewayOfTheWrongReporter: a gateway reports
// its requests as a client (reporter="source"); read as the destination
// reports, its dashboard is empty.
func TestNoEmptyPanelsCatchesAGatewayOfTheWrongReporter(t *testing.T) {
	checked := 0
	for _, ex := range examples(t) {
		for _, d := range ex.dashboards {
			if d.Kind != KindGateways {
				continue
			}
			d.JSON = []byte(strings.ReplaceAll(string(d.JSON), `reporter=\"source\"`, `reporter=\"destination\"`))
			empty, n := emptyPanels(t, ex.plan, []Rendered{d}, loadedStorage(t, ex.plan))
			assert.NotEmpty(t, empty)
			assert.Positive(t, n)
			checked++
		}
	}
	assert.GreaterOrEqual(t, checked, 3)
}

// TestTCPPanelsLeaveOutPrometheusScrapes: Prometheus' scrapes of an
// application port pass the destination's proxy or ztunnel like any
// connection and are counted in istio_tcp_* with Prometheus' identity as
// source_principal; as the request panels leave them out, so must every
// TCP query, or an idle service shows steady bytes.
func TestTCPPanelsLeaveOutPrometheusScrapes(t *testing.T) {
	n := 0
	for _, ex := range examples(t) {
		if !ex.plan.Mesh.Istio {
			continue
		}
		// The profile's own extra panels query what the profile says.
		var own []string
		for _, r := range ex.plan.Dashboards.ExtraRows {
			for _, panel := range r.Panels {
				own = append(own, panel.Title)
			}
		}
		for _, d := range ex.dashboards {
			for _, q := range queriesOf(t, decode(t, d.JSON)) {
				expr, err := newParser().ParseExpr(expanded(t, ex.plan, d, q))
				require.NoError(t, err, q.String())
				if slices.ContainsFunc(own, func(title string) bool { return strings.HasPrefix(q.where, title) }) {
					continue
				}
				for _, vs := range selectors(expr) {
					if !strings.HasPrefix(vs.Name, "istio_tcp_") {
						continue
					}
					n++
					assert.True(t, slices.ContainsFunc(vs.LabelMatchers, func(m *labels.Matcher) bool {
						return m.Name == "source_principal" && m.Type == labels.MatchNotEqual && m.Value == ex.plan.PrometheusPrincipal()
					}), "%s: %s", ex.name, q)
				}
			}
		}
	}
	assert.Positive(t, n, "the ambient examples have TCP panels")
}

// TestTargetsTableCountsEachWaypointApart: the monitoring dashboard's
// table groups the targets as TargetDown counts them. Two waypoints of one
// namespace may serve different namespaces; with one down, the table shows
// it at 0 and the other at 1, not the namespace at half.
func TestTargetsTableCountsEachWaypointApart(t *testing.T) {
	var ex example
	for _, e := range examples(t) {
		if slices.ContainsFunc(e.plan.Jobs, func(j plan.Job) bool { return j.Kind == plan.JobWaypoints }) {
			ex = e
			break
		}
	}
	require.NotNil(t, ex.plan, "an example scrapes waypoints")
	s := &synthetic{p: ex.plan}
	if ex.plan.Dashboards.Datasource.Shared {
		s.ext = ex.plan.ExternalLabels.Map()
	}
	for name, value := range map[string]int{"reviews-wp": 0, "ratings-wp": 1} {
		values := fmt.Sprintf("%dx%d", value, syntheticMinutes)
		s.add("up", waypointTarget(plan.Waypoint{Name: name, Namespace: "bookinfo"}), values)
	}
	st := promqltest.LoadedStorage(t, "load 1m\n"+strings.Join(s.lines, "\n")+"\n")
	t.Cleanup(func() { st.Close() })
	ng := queryEngine(t)
	found := false
	for _, d := range ex.dashboards {
		for _, q := range queriesOf(t, decode(t, d.JSON)) {
			if !strings.HasPrefix(q.where, "Targets up per") {
				continue
			}
			found = true
			assert.Contains(t, q.where, "waypoint")
			qr, err := ng.NewInstantQuery(context.Background(), st, nil, expanded(t, ex.plan, d, q), endTime())
			require.NoError(t, err)
			res := qr.Exec(context.Background())
			require.NoError(t, res.Err)
			got := map[string]float64{}
			for _, smpl := range res.Value.(promql.Vector) {
				got[smpl.Metric.Get(plan.WaypointTargetLabel)] = smpl.F
			}
			qr.Close()
			assert.Equal(t, map[string]float64{"reviews-wp": 0, "ratings-wp": 1}, got, q)
		}
	}
	assert.True(t, found, "the monitoring dashboard has the targets table")
}

// TestAmbientMTLSCoverageSeesPlaintext: in ambient a waypoint reports every
// request as mutual_tls whatever the client sent, so the coverage panels
// read the destinations' ztunnels: a plaintext connection to an enrolled
// pod (connection_security_policy="unknown", as ztunnel's inbound
// passthrough reports it) pulls the share below one.
func TestAmbientMTLSCoverageSeesPlaintext(t *testing.T) {
	ex := ambientExample(t)
	svc := ex.plan.ServiceTargets[0]
	plain := fmt.Sprintf(`  istio_tcp_connections_opened_total{cluster=%q, job=%q, instance="10.1.0.3:15020", namespace=%q, pod="ztunnel-x7k2p", reporter="destination", destination_workload_namespace=%q, destination_canonical_service=%q, source_principal="unknown", connection_security_policy="unknown"} 0+600x%d`+"\n",
		ex.plan.Cluster.Name, string(plan.JobZtunnel), ex.plan.Mesh.IstioNamespace, svc.Namespace, svc.CanonicalService(), syntheticMinutes)
	ng := queryEngine(t)
	clean := promqltest.LoadedStorage(t, syntheticLoad(ex.plan, false))
	t.Cleanup(func() { clean.Close() })
	mixed := promqltest.LoadedStorage(t, syntheticLoad(ex.plan, false)+plain)
	t.Cleanup(func() { mixed.Close() })
	var checked int
	for _, d := range ex.dashboards {
		if d.Kind != KindMesh {
			continue
		}
		for _, q := range queriesOf(t, decode(t, d.JSON)) {
			if q.where != "mTLS coverage A" {
				continue
			}
			checked++
			assertShareFalls(t, ng, clean, mixed, expanded(t, ex.plan, d, q), q)
		}
	}
	assert.Positive(t, checked, "the mesh overview has the coverage panel")
}

// assertShareFalls checks that a share reads 1 on clean data and falls
// below it, not to 0, once mixed adds plaintext.
func assertShareFalls(t *testing.T, ng *promql.Engine, clean, mixed storage.Storage, expr string, q promQuery) {
	t.Helper()
	assert.Equal(t, "1", valueOf(t, result(t, ng, clean, expr)), "%s: only mTLS", q)
	share, err := strconv.ParseFloat(valueOf(t, result(t, ng, mixed, expr)), 64)
	require.NoError(t, err)
	assert.Less(t, share, 0.99, "%s: plaintext too", q)
	assert.Greater(t, share, 0.0, "%s", q)
}

// valueOf is the value of a result of one series.
func valueOf(t *testing.T, res string) string {
	t.Helper()
	require.NotContains(t, res, "\n", "one series")
	_, v, _ := strings.Cut(res, "} ")
	if v == "" {
		return res
	}
	return v
}
