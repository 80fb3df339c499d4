package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"obsgen.dev/obsgen/internal/plan"
)

// The profile's alert knobs:
//
//   - alerting.disable drops alerts by name, or every alert of a rule group
//     (its recording rules stay: dashboards and objectives read them);
//   - alerting.overrides change an alert's threshold or `for` everywhere;
//   - alerting.labels are added to every alert;
//   - teams[].alerting.disable and .overrides scope an alert per team: the
//     shared rule gets team!~"<those teams>", and each team with an
//     override gets its own copy of the rule with team="<team>", its
//     threshold and `for`, and a unit test of its own.
//
// Every rule keeps a unit test that fires and one that stays quiet: tests
// are rebuilt for a new threshold, and moved and lengthened for a longer
// `for`.

// baseFixture is the fixture of the shared rules: the first team that does
// not scope alert (any team when alert is ""), else a namespace without a
// team, whose series the shared rule's team!~ matcher keeps.
func baseFixture(p *plan.Plan, scoped []string) fixture {
	thresholds := map[string]float64{}
	for name, o := range p.Alerting.Overrides {
		if o.Threshold != nil {
			thresholds[name] = *o.Threshold
		}
	}
	reporter, job := p.Mesh.RequestReporter, string(plan.JobEnvoyStats)
	if p.Mesh.Ambient {
		job = string(plan.JobWaypoints)
	}
	for _, t := range p.Teams {
		if !slices.Contains(scoped, t.Name) {
			return fixture{ns: t.Namespaces[0], team: t.Name, thresholds: thresholds, reporter: reporter, proxyJob: job}
		}
	}
	return fixture{ns: "default", thresholds: thresholds, reporter: reporter, proxyJob: job}
}

// teamFixture is a team's fixture with its thresholds over the global ones.
func teamFixture(p *plan.Plan, t plan.Team) fixture {
	f := baseFixture(p, nil)
	f.ns, f.team, f.teamCopy = t.Namespaces[0], t.Name, true
	for name, o := range t.Overrides {
		if o.Threshold != nil {
			f.thresholds[name] = *o.Threshold
		}
	}
	return f
}

func applyKnobs(p *plan.Plan, files []File) []File {
	a := p.Alerting
	if !hasKnobs(p) {
		return files
	}
	scoped := map[string][]string{} // alert → teams that disable or override it
	for _, t := range p.Teams {
		for _, name := range t.DisabledAlerts {
			scoped[name] = append(scoped[name], t.Name)
		}
		for _, name := range slices.Sorted(maps.Keys(t.Overrides)) {
			if !slices.Contains(t.DisabledAlerts, name) {
				scoped[name] = append(scoped[name], t.Name)
			}
		}
	}
	teamCatalogues := map[string][]File{}
	teamRule := func(t plan.Team, alert string) []Rule {
		c, ok := teamCatalogues[t.Name]
		if !ok {
			c = fixtureFiles(p, teamFixture(p, t))
			teamCatalogues[t.Name] = c
		}
		return find(c, alert)
	}
	var out []File
	for _, f := range files {
		var groups []Group
		for _, g := range f.Groups {
			groupOff := slices.Contains(a.Disabled, g.Name) || slices.Contains(a.Disabled, f.Name)
			var rules []Rule
			for _, r := range g.Rules {
				if r.Alert == "" {
					rules = append(rules, r)
					continue
				}
				if groupOff || slices.Contains(a.Disabled, r.Alert) {
					continue
				}
				if r.Alert == "ErrorBudgetBurn" {
					// One group per service: a team's own groups.
					if t := teamOf(p, r.Labels["team"]); t != nil && slices.Contains(t.DisabledAlerts, r.Alert) {
						continue
					}
					rules = append(rules, global(p, r))
					continue
				}
				teams := scoped[r.Alert]
				if len(teams) == 0 {
					rules = append(rules, global(p, r))
					continue
				}
				// The shared rule, tested on a team it still covers.
				for _, br := range find(fixtureFiles(p, baseFixture(p, teams)), r.Alert) {
					if br.Expr == r.Expr { // the one of this name (KubePersistentVolumeFillingUp has two)
						rules = append(rules, global(p, scope(br, "team", labels.MatchNotRegexp, alternation(teams))))
					}
				}
				for _, name := range teams {
					t := teamOf(p, name)
					if slices.Contains(t.DisabledAlerts, r.Alert) {
						continue
					}
					for _, tr := range teamRule(*t, r.Alert) {
						tr = global(p, scope(tr, "team", labels.MatchEqual, name))
						if o, ok := t.Overrides[r.Alert]; ok && o.For != "" {
							tr = withFor(tr, o.For)
						}
						rules = append(rules, tr)
					}
				}
			}
			if len(rules) > 0 {
				if len(scoped) > 0 {
					rules = dedupe(rules)
				}
				groups = append(groups, Group{Name: g.Name, Rules: rules})
			}
		}
		if len(groups) > 0 {
			out = append(out, File{Name: f.Name, Groups: groups})
		}
	}
	return out
}

// global applies the profile-wide `for` override and extra labels.
func global(p *plan.Plan, r Rule) Rule {
	if o, ok := p.Alerting.Overrides[r.Alert]; ok && o.For != "" {
		r = withFor(r, o.For)
	}
	if len(p.Alerting.Labels) > 0 {
		r.Labels = maps.Clone(r.Labels)
		for _, l := range p.Alerting.Labels {
			r.Labels[l.Name] = l.Value
		}
	}
	return r
}

// dedupe drops repeated rules: an alert with two rules of one name
// (KubePersistentVolumeFillingUp) comes back twice from find.
func dedupe(rules []Rule) []Rule {
	var out []Rule
	seen := map[string]bool{}
	for _, r := range rules {
		k := r.Record + "|" + r.Alert + "|" + r.Expr + "|" + r.Labels["severity"] + "|" + r.Labels["team"]
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

func teamOf(p *plan.Plan, name string) *plan.Team {
	for i := range p.Teams {
		if p.Teams[i].Name == name {
			return &p.Teams[i]
		}
	}
	return nil
}

// find returns the rules of an alert.
func find(files []File, alert string) []Rule {
	var out []Rule
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert == alert {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

func alternation(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return strings.Join(quoted, "|")
}

// scope adds a matcher on name to every selector of the rule's expression.
func scope(r Rule, name string, typ labels.MatchType, value string) Rule {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
	if err != nil {
		panic(fmt.Sprintf("rule %s: %v", r.Alert, err)) // the catalogue's expressions parse (tested)
	}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			vs.LabelMatchers = append(vs.LabelMatchers, labels.MustNewMatcher(typ, name, value))
		}
		return nil
	})
	r.Expr = expr.String()
	return r
}

// withFor sets the rule's `for`. A longer one moves the firing case's
// evaluation later by the difference and lengthens every input series
// (their last segment, which holds the condition) to match; a shorter one
// fires at the same time, the condition having held longer than needed.
func withFor(r Rule, d string) Rule {
	old, _ := model.ParseDuration(r.For)
	nu, _ := model.ParseDuration(d)
	r.For = d
	if r.Test == nil {
		return r
	}
	r.Annotations = maps.Clone(r.Annotations)
	for k, v := range r.Annotations {
		r.Annotations[k] = strings.ReplaceAll(v, "for "+spelled(old), "for "+spelled(nu))
	}
	delta := time.Duration(nu - old)
	if nu <= old {
		return r
	}
	t := *r.Test
	t.Fire = lengthen(t.Fire, delta)
	t.Quiet = lengthen(t.Quiet, delta)
	t.AlsoQuiet = slices.Clone(t.AlsoQuiet)
	for i := range t.AlsoQuiet {
		t.AlsoQuiet[i] = lengthen(t.AlsoQuiet[i], delta)
	}
	r.Test = &t
	return r
}

func lengthen(c Case, delta time.Duration) Case {
	at, _ := model.ParseDuration(c.At)
	c.At = model.Duration(time.Duration(at) + delta).String()
	minutes := int(delta / time.Minute)
	series := make([]Series, len(c.Series))
	for i, s := range c.Series {
		segments := strings.Fields(s.Values)
		last := segments[len(segments)-1]
		if x := strings.LastIndexByte(last, 'x'); x > 0 {
			n, _ := strconv.Atoi(last[x+1:])
			segments[len(segments)-1] = last[:x+1] + strconv.Itoa(n+minutes)
		}
		series[i] = Series{Series: s.Series, Values: strings.Join(segments, " ")}
	}
	c.Series = series
	return c
}

// spelled writes a duration as the annotations do: "10 minutes", "1 hour".
func spelled(d model.Duration) string {
	n, unit := int(time.Duration(d)/time.Minute), "minute"
	if n%60 == 0 && n >= 60 {
		n, unit = n/60, "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// hasKnobs tells whether the profile changes any alert.
func hasKnobs(p *plan.Plan) bool {
	a := p.Alerting
	if len(a.Disabled) > 0 || len(a.Overrides) > 0 || len(a.Labels) > 0 {
		return true
	}
	for _, t := range p.Teams {
		if len(t.DisabledAlerts) > 0 || len(t.Overrides) > 0 {
			return true
		}
	}
	return false
}
