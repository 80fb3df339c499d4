package dashvars

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	for name, tc := range map[string]struct {
		in, want string
		unknown  []string
	}{
		"every syntax of a variable": {
			in:   `rate(x{a="$ns", b="${ns}", c="${ns:regex}", d="[[ns]]"}[$__rate_interval])`,
			want: `rate(x{a="shop", b="shop", c="shop", d="shop"}[5m])`,
		},
		"unknown variables are kept and listed once": {
			in: `x{a="$nope", b="${nope}", c="$other"}`, want: `x{a="$nope", b="${nope}", c="$other"}`,
			unknown: []string{"nope", "other"},
		},
		"a longer name is not a shorter one": {in: `x{a="$nsx"}`, want: `x{a="$nsx"}`, unknown: []string{"nsx"}},
		"label_replace's references are not variables": {
			in: `label_replace(x{a="$ns"}, "w", "$1", "d", "(.+)")`, want: `label_replace(x{a="shop"}, "w", "$1", "d", "(.+)")`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, unknown := Expand(tc.in, map[string]string{"ns": "shop"})
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.unknown, unknown)
		})
	}
}

func TestRegexIsAValidMatcherThatMatchesExactlyTheValues(t *testing.T) {
	q := `up{namespace=~"` + Regex([]string{"a.b", "c"}) + `"}`
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	require.NoError(t, err, q)
	m := expr.(*parser.VectorSelector).LabelMatchers[0]
	assert.True(t, m.Matches("a.b"))
	assert.True(t, m.Matches("c"))
	assert.False(t, m.Matches("axb"), "the dot is literal")
}
