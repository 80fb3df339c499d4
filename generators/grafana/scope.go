package grafana

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"obsgen.dev/obsgen/internal/dashvars"
)

// withMatcher adds m to every vector selector of a dashboard query that
// has no matcher on m's label yet (a selector that names the label chose
// it on purpose), by rewriting the query's syntax tree with Prometheus'
// parser and printing it back.
//
// The query holds Grafana variables. Inside string literals they are text
// the parser keeps. Elsewhere they stand for durations ([$__rate_interval],
// offset $__range): each is swapped for a sentinel duration, which the
// printer writes back in a form known in advance, and restored.
func withMatcher(query string, m *labels.Matcher) (string, error) {
	masked, sentinels := maskVariables(query)
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(masked)
	if err != nil {
		return "", err
	}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		for _, have := range vs.LabelMatchers {
			if have.Name == m.Name {
				return nil
			}
		}
		vs.LabelMatchers = append(vs.LabelMatchers, m)
		return nil
	})
	out := expr.String()
	for printed, variable := range sentinels {
		if !strings.Contains(out, printed) {
			return "", fmt.Errorf("variable %s is not in a duration's place", variable)
		}
		out = strings.ReplaceAll(out, printed, variable)
	}
	return out, nil
}

// sentinelBase is far from any duration a query names: 82d9h27m54s321ms.
const sentinelBase = 7_118_874_321 * time.Millisecond

// maskVariables replaces the variables outside string literals with
// sentinel durations, and maps each sentinel as Prometheus prints it to
// the variable it replaced.
func maskVariables(query string) (string, map[string]string) {
	sentinels := map[string]string{}
	var b strings.Builder
	last := 0
	for _, loc := range dashvars.Locate(query) {
		if inString(query, loc[0]) {
			continue
		}
		d := model.Duration(sentinelBase + time.Duration(len(sentinels))*time.Millisecond).String()
		sentinels[d] = query[loc[0]:loc[1]]
		b.WriteString(query[last:loc[0]])
		b.WriteString(d)
		last = loc[1]
	}
	b.WriteString(query[last:])
	return b.String(), sentinels
}

// inString tells whether position i of a PromQL query is inside a string
// literal ("...", '...' with backslash escapes, or `...`).
func inString(query string, i int) bool {
	var quote byte
	for j := 0; j < i; j++ {
		c := query[j]
		switch {
		case quote == 0 && (c == '"' || c == '\'' || c == '`'):
			quote = c
		case quote != 0 && quote != '`' && c == '\\':
			j++
		case c == quote:
			quote = 0
		}
	}
	return quote != 0
}
