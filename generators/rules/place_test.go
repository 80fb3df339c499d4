package rules

import (
	"maps"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/strutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// referenceScope scopes a rule without shapes: every expression and
// series parsed and rewritten on its own (the expected alerts' labels do
// not depend on shapes). The scoper must give exactly this.
func referenceScope(r Rule, cluster string) Rule {
	expr, keeps := scopeExpr(r.Expr, cluster)
	r.Expr = expr
	if r.Alert != "" && !keeps {
		r.Labels = maps.Clone(r.Labels)
		if r.Labels == nil {
			r.Labels = map[string]string{}
		}
		r.Labels[ClusterLabel] = cluster
	}
	if r.Test != nil {
		t := *r.Test
		t.AlsoQuiet = slices.Clone(t.AlsoQuiet)
		cases := []*Case{&t.Fire, &t.Quiet}
		for i := range t.AlsoQuiet {
			cases = append(cases, &t.AlsoQuiet[i])
		}
		for _, c := range cases {
			series := make([]Series, len(c.Series))
			for i, s := range c.Series {
				series[i] = Series{Series: addLabel(s.Series, ClusterLabel, cluster), Values: s.Values}
			}
			c.Series = series
			if keeps {
				c.Expect = withCluster(c.Expect, cluster)
			}
		}
		r.Test = &t
	}
	return r
}

// Scoping through shapes gives, rule for rule, what parsing each rule on
// its own gives, on the catalogue of several plans (mesh, ambient, none,
// objectives) and clusters whose names look like the placeholder.
func TestScopingByShapeMatchesScopingEachRule(t *testing.T) {
	plans := map[string]*plan.Plan{
		"sidecar": testPlan(nil),
		"ambient": testPlan(func(in *v1alpha1.Profile) {
			in.Mesh.DataPlane = v1alpha1.DataPlaneAmbient
			in.Mesh.Waypoints = []v1alpha1.Waypoint{{Name: "waypoint", Namespace: "shop"}}
		}),
		"no mesh": testPlan(func(in *v1alpha1.Profile) { in.Mesh.Provider = v1alpha1.MeshNone; in.Mesh.MTLS = "" }),
		"two teams": testPlan(func(in *v1alpha1.Profile) {
			team := in.Teams[0]
			team.Name, team.Namespaces = "books", []string{"books"}
			team.Services = append([]v1alpha1.Service(nil), team.Services...)
			team.Services[0].Namespace = "books"
			in.Teams = append(in.Teams, team)
		}),
	}
	for name, p := range plans {
		for _, cluster := range []string{"prod-eu", "obsgenph0", "obsgenph"} {
			files := Files(p)
			scoped := clusterScoped(files, cluster)
			n := 0
			for fi, f := range files {
				for gi, g := range f.Groups {
					for ri, r := range g.Rules {
						_, values, ok := shapeOf(r.Expr)
						require.True(t, ok, r.Expr)
						assert.Equal(t, lexedStrings(t, r.Expr), values, r.Expr)
						want := referenceScope(r, cluster)
						assert.Equal(t, want, scoped[fi].Groups[gi].Rules[ri], "%s, cluster %s: %s%s", name, cluster, r.Alert, r.Record)
						n++
					}
				}
			}
			require.Greater(t, n, 15, name)
		}
	}
}

// Shapes keep what the parser reads from every kind of string, and refuse
// what they cannot put back exactly.
func TestShapesRoundTripEveryString(t *testing.T) {
	const cluster = "c1"
	for _, expr := range []string{
		`sum by (namespace) (rate(x_total{namespace="a\"b", pod=~"p-.*"}[5m]))`,
		"rate(x_total{namespace=`raw\\n`}[5m])",
		`rate(x_total{namespace='single'}[5m])`,
		`rate(x_total{namespace="ünï\u00e9", code!~"5.."}[5m]) > 0`,
		`label_replace(up{job="a"}, "dst", "$1", "src", "(.*)")`,
		`{"my.metric", namespace="x"}`,
		`{__name__="plain_metric", namespace="x"}`,
		`up{job="holds obsgenph0"}`,
		`count(up) < 0.8 * count(up offset 1h)`,
		`absent(up{job="istiod"} == 1)`,
		`a / on (namespace, service) group_left b{x="y"}`,
		"up{job=\"a\"} # it's a \"comment\"\n  > 0",
		`up{job="a#b"}`,
		`{job!=""}`,
		`count by (job) ({job!~""})`,
		`up{job!="b", job!="a"}`,
		`up{cluster="a"}`,
		`up{cluster!="a", job=~"b", job=~"a"}`,
	} {
		if _, values, ok := shapeOf(expr); ok {
			assert.Equal(t, lexedStrings(t, expr), values, "shapeOf finds the lexer's strings in %s", expr)
		} else {
			assert.Contains(t, expr, placeholder, "only a text holding the placeholder has no shape")
		}
		want, wantKeeps := scopeExpr(expr, cluster)
		got, keeps := newScoper(cluster).expr(expr)
		assert.Equal(t, want, got, expr)
		assert.Equal(t, wantKeeps, keeps, expr)
	}
	for _, series := range []string{
		`x_total{namespace="a\"b", pod="p"}`,
		`x_total{namespace='q', pod="ünï"}`,
		`{"my.metric", pod="p"}`,
		`x_total`,
		`x{job=""}`,
		`x{job="", pod="p"}`,
	} {
		assert.Equal(t, addLabel(series, ClusterLabel, cluster), newScoper(cluster).addCluster(series), series)
	}
	// Two expressions of one shape get their own strings.
	sc := newScoper(cluster)
	a, _ := sc.expr(`up{namespace="a"}`)
	b, _ := sc.expr(`up{namespace="b"}`)
	assert.Equal(t, `up{cluster="c1",namespace="a"}`, a)
	assert.Equal(t, `up{cluster="c1",namespace="b"}`, b)
	assert.Len(t, sc.exprs, 1, "one shape, parsed once")
}

// lexedStrings are the values of the STRING tokens PromQL's lexer finds.
func lexedStrings(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var it parser.Item
	l := parser.Lex(s)
	for l.NextItem(&it); it.Typ != parser.EOF; l.NextItem(&it) {
		require.NotEqual(t, parser.ERROR, it.Typ, s)
		if it.Typ == parser.STRING {
			v, err := strutil.Unquote(it.Val)
			require.NoError(t, err)
			out = append(out, v)
		}
	}
	return out
}
