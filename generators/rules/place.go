package rules

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/strutil"

	"obsgen.dev/obsgen/internal/plan"
)

// Where a rule is right.
//
// A rule that reads single series (one pod's restarts, one Prometheus'
// reloads, one istiod's push errors) gives the same answer on any server
// that holds those series, and with hashmod sharding exactly one shard
// holds each target's series: such rules are Local. Every other rule
// needs every series of the cluster (absent(), a sum over a service's
// pods, a ratio of targets, an objective): on a shard it sees part of
// them and pages wrongly or records partial values, so it runs where
// every series is (plan.Rules.Global). The Watchdog runs on every
// evaluator, so each one's silence is noticed. An alert on a server's own
// link to Alertmanager (Rule.OwnLink) runs on the ruler when there is one:
// the server cannot send it while the link is broken.

// Placement are the rule files each evaluator loads.
type Placement struct {
	// Server holds what every Prometheus server (every shard) evaluates;
	// empty for an agent.
	Server []File
	// Ruler holds what the ruler evaluates (plan.Rules.Ruler()), scoped
	// to the cluster when the ruler reads a shared store.
	Ruler []File
}

// Place splits files between the Prometheus servers and the ruler.
func Place(p *plan.Plan, files []File) Placement {
	r := p.Rules
	var out Placement
	if !r.Ruler() {
		if r.Local {
			out.Server = files
		}
		return out
	}
	if r.Local {
		out.Server = keep(files, func(x Rule) bool { return (x.Local && !x.OwnLink) || x.Heartbeat })
	}
	out.Ruler = keep(files, func(x Rule) bool { return !x.Local || x.Heartbeat || x.OwnLink || !r.Local })
	if w := p.Alerting.Watchdog; w.RulerReceiver != "" {
		out.Ruler = markHeartbeat(out.Ruler, w.Ruler)
	}
	if r.ClusterScoped {
		out.Ruler = clusterScoped(out.Ruler, p.Cluster.Name)
	}
	return out
}

// markHeartbeat gives the ruler's Watchdog the evaluator label, so
// Alertmanager routes it to a heartbeat of its own
// (plan.Watchdog.RulerReceiver): grouped with the servers' Watchdog, one
// evaluator's would keep the heartbeat going while the other's alerts are
// lost. The other rules are shared, not copied.
func markHeartbeat(files []File, evaluator string) []File {
	out := make([]File, len(files))
	for i, f := range files {
		out[i] = File{Name: f.Name, Groups: f.Groups}
		cloned := false
		for gi, g := range f.Groups {
			if !slices.ContainsFunc(g.Rules, func(r Rule) bool { return r.Heartbeat }) {
				continue
			}
			if !cloned {
				out[i].Groups, cloned = slices.Clone(f.Groups), true
			}
			rules := slices.Clone(g.Rules)
			for ri, r := range rules {
				if r.Heartbeat {
					r.Labels = maps.Clone(r.Labels)
					r.Labels[plan.WatchdogEvaluatorLabel] = evaluator
					rules[ri] = r
				}
			}
			out[i].Groups[gi] = Group{Name: g.Name, Rules: rules}
		}
	}
	return out
}

// keep returns the files with the rules in, dropping empty groups and
// files.
func keep(files []File, in func(Rule) bool) []File {
	var out []File
	for _, f := range files {
		var groups []Group
		for _, g := range f.Groups {
			var rules []Rule
			for _, r := range g.Rules {
				if in(r) {
					rules = append(rules, r)
				}
			}
			if len(rules) > 0 {
				groups = append(groups, Group{Name: g.Name, Rules: rules})
			}
		}
		if len(groups) > 0 {
			out = append(out, File{Name: f.Name, Groups: groups})
		}
	}
	return out
}

// ClusterLabel names the cluster on every series a store receives.
const ClusterLabel = plan.ClusterLabel

// clusterScoped rewrites the rules for a ruler over a store other
// clusters may write to: every selector reads only this cluster's series
// (cluster="<name>"), every aggregation keeps `cluster`, so two clusters'
// recordings never merge and each cluster's ruler records only its own.
// Their tests get the label on every input series and, where the result
// keeps it, on every expected alert.
func clusterScoped(files []File, cluster string) []File {
	sc := newScoper(cluster)
	out := make([]File, len(files))
	for i, f := range files {
		out[i] = File{Name: f.Name, Groups: make([]Group, len(f.Groups))}
		for gi, g := range f.Groups {
			rules := make([]Rule, len(g.Rules))
			for ri, r := range g.Rules {
				rules[ri] = sc.rule(r)
			}
			out[i].Groups[gi] = Group{Name: g.Name, Rules: rules}
		}
	}
	return out
}

// scoper scopes rules to one cluster. Rules of many teams differ only in
// their strings (namespaces, services, label values), so each distinct
// shape (the expression with its strings replaced by placeholders, see
// shapeOf) is parsed and rewritten once, and every rule of that shape gets
// the result with its own strings put back: at a thousand teams the
// parsing was most of the rules generator's time.
type scoper struct {
	cluster string
	exprs   map[string]scopedExpr
	series  map[string]string
	regexps map[string]bool // regular expressions checked, and whether they compile
}

type scopedExpr struct {
	expr    string // the scoped shape
	keeps   bool   // keepsLabel(expr, cluster)
	ok      bool   // the shape stands for every expression of its shape
	regexps []int  // the values that are regular-expression matchers
}

func newScoper(cluster string) *scoper {
	return &scoper{cluster: cluster, exprs: map[string]scopedExpr{}, series: map[string]string{}, regexps: map[string]bool{}}
}

func (sc *scoper) rule(r Rule) Rule {
	expr, keeps := sc.expr(r.Expr)
	r.Expr = expr
	if r.Alert != "" && !keeps {
		// An alert whose expression drops the label (absent(), vector())
		// still says which cluster it is about: Alertmanager may serve
		// several, and its grouping and inhibitions compare cluster.
		r.Labels = maps.Clone(r.Labels)
		if r.Labels == nil {
			r.Labels = map[string]string{}
		}
		r.Labels[ClusterLabel] = sc.cluster
	}
	if r.Test != nil {
		t := *r.Test
		t.Fire = sc.withClusterLabel(t.Fire, keeps)
		t.Quiet = sc.withClusterLabel(t.Quiet, keeps)
		t.AlsoQuiet = slices.Clone(t.AlsoQuiet)
		for i := range t.AlsoQuiet {
			t.AlsoQuiet[i] = sc.withClusterLabel(t.AlsoQuiet[i], keeps)
		}
		r.Test = &t
	}
	return r
}

// expr scopes one expression, through its shape when it has one and the
// shape stands for it (see shapeScope).
func (sc *scoper) expr(e string) (string, bool) {
	shape, values, ok := shapeOf(e)
	if !ok {
		return scopeExpr(e, sc.cluster)
	}
	done, seen := sc.exprs[shape]
	if !seen {
		done = shapeScope(shape, sc.cluster)
		sc.exprs[shape] = done
	}
	if done.ok && sc.validRegexps(done.regexps, values) {
		if out, ok := fillShape(done.expr, values); ok {
			return out, done.keeps
		}
	}
	return scopeExpr(e, sc.cluster) // which fails as parsing e fails
}

// validRegexps tells whether the values at the given places compile as
// the parser compiles a regular-expression matcher, each distinct value
// once.
func (sc *scoper) validRegexps(places []int, values []string) bool {
	for _, i := range places {
		valid, seen := sc.regexps[values[i]]
		if !seen {
			_, err := labels.NewMatcher(labels.MatchRegexp, "x", values[i])
			valid = err == nil
			sc.regexps[values[i]] = valid
		}
		if !valid {
			return false
		}
	}
	return true
}

// shapeScope scopes a shape, when the result stands for every expression
// of that shape once its strings are put back:
//   - the printer sorts a selector's matchers as whole `name="value"`
//     texts, so two matchers of one name and type (the added cluster
//     matcher among them) would come out in an order the placeholders
//     decide, not the values: no shape;
//   - a selector without a metric name must have a matcher that does not
//     match the empty string, which depends on the values: no shape;
//   - a regular-expression matcher must compile: the places of those
//     values are kept, for validRegexps to check each expression's.
func shapeScope(shape, cluster string) scopedExpr {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(shape)
	if err != nil {
		return scopedExpr{}
	}
	ok := true
	var regexps []int
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, isSelector := n.(*parser.VectorSelector)
		if !isSelector {
			return nil
		}
		if vs.Name == "" {
			ok = false
		}
		seen := map[string]bool{ClusterLabel + labels.MatchEqual.String(): true}
		for _, m := range vs.LabelMatchers {
			key := m.Name + m.Type.String()
			if seen[key] {
				ok = false
			}
			seen[key] = true
			if m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp {
				i, isPlaceholder := placeholderIndex(m.Value)
				switch {
				case isPlaceholder:
					regexps = append(regexps, i)
				case m.Name != labels.MetricName:
					ok = false // a literal regex is not in the shape: not expected
				}
			}
		}
		return nil
	})
	if !ok {
		return scopedExpr{}
	}
	out, keeps := scopeParsed(expr, cluster)
	return scopedExpr{expr: out, keeps: keeps, ok: true, regexps: regexps}
}

// placeholderIndex reads i from the placeholder "obsgenph<i>".
func placeholderIndex(s string) (int, bool) {
	digits, ok := strings.CutPrefix(s, placeholder)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(digits)
	return i, err == nil && i >= 0 && strconv.Itoa(i) == digits
}

// scopeExpr makes every selector of e read only cluster's series and every
// aggregation keep the label; it also tells whether the result keeps it.
func scopeExpr(e, cluster string) (string, bool) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(e)
	if err != nil {
		panic(fmt.Sprintf("expression %s: %v", e, err)) // the catalogue's expressions parse (tested)
	}
	return scopeParsed(expr, cluster)
}

func scopeParsed(expr parser.Expr, cluster string) (string, bool) {
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			n.LabelMatchers = append(n.LabelMatchers, labels.MustNewMatcher(labels.MatchEqual, ClusterLabel, cluster))
		case *parser.AggregateExpr:
			if !n.Without && !slices.Contains(n.Grouping, ClusterLabel) && aggregatesByLabel(n.Op) {
				n.Grouping = append([]string{ClusterLabel}, n.Grouping...)
			}
		case *parser.BinaryExpr:
			if m := n.VectorMatching; m != nil && m.On && !slices.Contains(m.MatchingLabels, ClusterLabel) && len(m.MatchingLabels) > 0 {
				m.MatchingLabels = append([]string{ClusterLabel}, m.MatchingLabels...)
			}
		}
		return nil
	})
	return expr.String(), keepsLabel(expr, ClusterLabel)
}

// placeholder starts the strings a shape holds instead of the real ones:
// a valid metric and label name, so the printer quotes it only where it
// quotes every string (matcher values, string arguments), and fillShape
// refuses a shape where it appears any other way.
const placeholder = "obsgenph"

// shapeOf replaces every string of a PromQL expression or series by
// "obsgenph<i>" and returns the values the parser would have read from
// them. Strings are found as the PromQL lexer finds them
// (promql/parser/lex.go: '"' and '\” start a string with escapes, '`' a
// raw one, '#' outside a string a comment to the end of the line), and
// unquoted with the parser's own strutil.Unquote. It fails when the text
// already holds the placeholder, or a string does not end or unquote.
func shapeOf(s string) (string, []string, bool) {
	if strings.Contains(s, placeholder) {
		return "", nil, false
	}
	var (
		b      strings.Builder
		values []string
		last   int
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '#':
			nl := strings.IndexByte(s[i:], '\n')
			if nl < 0 {
				i = len(s)
			} else {
				i += nl
			}
		case '"', '\'', '`':
			end := i + 1
			for end < len(s) && s[end] != c {
				if s[end] == '\\' && c != '`' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return "", nil, false
			}
			v, err := strutil.Unquote(s[i : end+1])
			if err != nil {
				return "", nil, false
			}
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(`"` + placeholder + strconv.Itoa(len(values)) + `"`)
			values = append(values, v)
			i, last = end, end+1
		}
	}
	b.WriteString(s[last:])
	return b.String(), values, true
}

// fillShape puts the values back into a rewritten shape, quoted as the
// printer quotes them. It fails unless each placeholder appears exactly
// once, as a quoted string: then the result is what rewriting the real
// text prints.
func fillShape(shape string, values []string) (string, bool) {
	if strings.Count(shape, placeholder) != len(values) {
		return "", false
	}
	seen := make([]bool, len(values))
	var b strings.Builder
	b.Grow(len(shape) + 16*len(values))
	rest := shape
	for {
		i := strings.Index(rest, `"`+placeholder)
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		rest = rest[i+1+len(placeholder):]
		end := strings.IndexByte(rest, '"')
		if end < 0 {
			return "", false
		}
		k, err := strconv.Atoi(rest[:end])
		if err != nil || k < 0 || k >= len(values) || seen[k] || strconv.Itoa(k) != rest[:end] {
			return "", false
		}
		seen[k] = true
		b.WriteString(strconv.Quote(values[k]))
		rest = rest[end+1:]
	}
	for _, ok := range seen {
		if !ok {
			return "", false
		}
	}
	return b.String(), true
}

// aggregatesByLabel tells whether an aggregation's `by` list names the
// labels of its result (not count_values', topk's, ... parameters).
func aggregatesByLabel(op parser.ItemType) bool {
	switch op {
	case parser.SUM, parser.AVG, parser.COUNT, parser.MIN, parser.MAX, parser.GROUP, parser.STDDEV, parser.STDVAR, parser.QUANTILE,
		parser.TOPK, parser.BOTTOMK, parser.COUNT_VALUES, parser.LIMITK, parser.LIMIT_RATIO:
		return true
	}
	return false
}

// keepsLabel tells whether the result of expr carries label, given that
// every selector matches it with equality: Prometheus' rules for which
// labels survive each operation (promql/engine.go: aggregations keep their
// `by` labels, one-to-one matching `on` keeps only the listed labels,
// absent() builds its labels from a selector's equality matchers).
func keepsLabel(e parser.Expr, label string) bool {
	switch n := e.(type) {
	case *parser.VectorSelector, *parser.MatrixSelector, *parser.SubqueryExpr:
		return true
	case *parser.ParenExpr:
		return keepsLabel(n.Expr, label)
	case *parser.StepInvariantExpr:
		return keepsLabel(n.Expr, label)
	case *parser.UnaryExpr:
		return keepsLabel(n.Expr, label)
	case *parser.AggregateExpr:
		if n.Without {
			return !slices.Contains(n.Grouping, label) && keepsLabel(n.Expr, label)
		}
		return slices.Contains(n.Grouping, label)
	case *parser.BinaryExpr:
		return binaryKeeps(n, label)
	case *parser.Call:
		switch n.Func.Name {
		case "absent", "absent_over_time":
			_, isSelector := unwrap(n.Args[0]).(*parser.VectorSelector)
			_, isRange := unwrap(n.Args[0]).(*parser.MatrixSelector)
			return isSelector || isRange
		case "vector", "time", "scalar", "pi":
			return false
		}
		for _, a := range n.Args {
			if a.Type() == parser.ValueTypeVector || a.Type() == parser.ValueTypeMatrix {
				return keepsLabel(a, label)
			}
		}
		return false
	}
	return false
}

func binaryKeeps(n *parser.BinaryExpr, label string) bool {
	lv := n.LHS.Type() == parser.ValueTypeVector
	rv := n.RHS.Type() == parser.ValueTypeVector
	switch {
	case lv && !rv:
		return keepsLabel(n.LHS, label)
	case rv && !lv:
		return keepsLabel(n.RHS, label)
	case !lv:
		return false
	}
	m := n.VectorMatching
	if n.Op == parser.LOR {
		return keepsLabel(n.LHS, label) && keepsLabel(n.RHS, label)
	}
	if n.Op == parser.LAND || n.Op == parser.LUNLESS {
		return keepsLabel(n.LHS, label)
	}
	side := n.LHS
	if m != nil && m.Card == parser.CardOneToMany {
		side = n.RHS
	}
	if m != nil && m.Card == parser.CardOneToOne && m.On {
		return slices.Contains(m.MatchingLabels, label) && keepsLabel(side, label)
	}
	if m != nil && !m.On && slices.Contains(m.MatchingLabels, label) && m.Card == parser.CardOneToOne {
		return false
	}
	return keepsLabel(side, label)
}

func unwrap(e parser.Expr) parser.Expr {
	for {
		switch n := e.(type) {
		case *parser.ParenExpr:
			e = n.Expr
		case *parser.StepInvariantExpr:
			e = n.Expr
		default:
			return e
		}
	}
}

// withClusterLabel puts cluster on every input series of a case and, when
// the alert keeps it, on every expected alert.
func (sc *scoper) withClusterLabel(c Case, keeps bool) Case {
	series := make([]Series, len(c.Series))
	for i, s := range c.Series {
		series[i] = Series{Series: sc.addCluster(s.Series), Values: s.Values}
	}
	c.Series = series
	if keeps {
		c.Expect = withCluster(c.Expect, sc.cluster)
	}
	return c
}

// withCluster copies expected alerts' labels with cluster added.
func withCluster(expect []map[string]string, cluster string) []map[string]string {
	out := make([]map[string]string, len(expect))
	for i, e := range expect {
		out[i] = maps.Clone(e)
		if out[i] == nil {
			out[i] = map[string]string{}
		}
		out[i][ClusterLabel] = cluster
	}
	return out
}

// addCluster is addLabel(series, cluster), once per shape of series.
func (sc *scoper) addCluster(series string) string {
	shape, values, ok := shapeOf(series)
	if !ok || slices.Contains(values, "") {
		// labels.Builder drops a label whose value is empty.
		return addLabel(series, ClusterLabel, sc.cluster)
	}
	done, seen := sc.series[shape]
	if !seen {
		done = addLabel(shape, ClusterLabel, sc.cluster)
		sc.series[shape] = done
	}
	if out, ok := fillShape(done, values); ok {
		return out
	}
	return addLabel(series, ClusterLabel, sc.cluster)
}

// addLabel adds name="value" to a series written as metric{labels}.
func addLabel(series, name, value string) string {
	lbls, err := parser.NewParser(parser.Options{}).ParseMetric(series)
	if err != nil {
		panic(fmt.Sprintf("series %s: %v", series, err)) // the catalogue's series parse (tested)
	}
	b := labels.NewBuilder(lbls)
	b.Set(name, value)
	var out plan.Labels
	metric := ""
	b.Labels().Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			metric = l.Value
			return
		}
		out = append(out, plan.Label{Name: l.Name, Value: l.Value})
	})
	return metric + labelList(out)
}
