// Package dashvars expands Grafana's template variables in dashboard
// queries, so the PromQL behind a panel can be parsed and evaluated outside
// Grafana: $name, ${name}, ${name:format} and [[name]], plus Grafana's
// built-in interval variables.
package dashvars

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Builtins are values for Grafana's built-in variables, as Grafana would
// compute them for a 1h range at a one-minute step.
var Builtins = map[string]string{
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__interval_ms":   "60000",
	"__range":         "1h",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

// variable matches ${name}, ${name:format}, [[name]] and $name; a name
// starts with a letter or '_', so label_replace's $1 is not one.
var variable = regexp.MustCompile(`\$\{([A-Za-z_]\w*)(?::\w+)?\}|\[\[([A-Za-z_]\w*)\]\]|\$([A-Za-z_]\w*)`)

// Expand replaces every variable of s with its value in values or
// Builtins, and returns the names it found no value for, sorted.
func Expand(s string, values map[string]string) (string, []string) {
	unknown := map[string]bool{}
	out := variable.ReplaceAllStringFunc(s, func(m string) string {
		sub := variable.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := values[name]; ok {
			return v
		}
		if v, ok := Builtins[name]; ok {
			return v
		}
		unknown[name] = true
		return m
	})
	return out, slices.Sorted(maps.Keys(unknown))
}

// Locate returns the start and end of every variable in s, in order.
func Locate(s string) [][2]int {
	var out [][2]int
	for _, m := range variable.FindAllStringIndex(s, -1) {
		out = append(out, [2]int{m[0], m[1]})
	}
	return out
}

// Regex is what Grafana's Prometheus data source substitutes for a
// multi-value variable inside a regex matcher: the values, regex-escaped,
// as an alternation in parentheses. Backslashes are doubled, as Grafana
// does, because the matcher is a PromQL string literal.
func Regex(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
	}
	return "(" + strings.Join(quoted, "|") + ")"
}
