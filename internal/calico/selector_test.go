package calico

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labels is shorthand for a label set.
type labels = map[string]string

func TestSelectorMatches(t *testing.T) {
	type match struct {
		labels labels
		want   bool
	}
	tests := []struct {
		sel     string
		why     string
		matches []match
	}{
		{"", "the empty selector is all(): it matches anything, even no labels", []match{
			{labels{}, true}, {labels{"a": "b"}, true},
		}},
		{"all()", "all() matches anything", []match{{labels{}, true}}},
		{"global()", "Matches treats global() as Calico's label evaluation does: true", []match{{labels{}, true}}},
		{"app == 'web'", "== needs the label present with that value", []match{
			{labels{"app": "web"}, true}, {labels{"app": "db"}, false}, {labels{}, false},
		}},
		{`app == "web"`, "double quotes are strings too", []match{{labels{"app": "web"}, true}}},
		{"app != 'web'", "!= is also true when the label is absent", []match{
			{labels{"app": "web"}, false}, {labels{"app": "db"}, true}, {labels{}, true},
		}},
		{"has(app)", "has() tests presence, whatever the value", []match{
			{labels{"app": ""}, true}, {labels{"other": "x"}, false},
		}},
		{"!has(app)", "negated presence", []match{{labels{"app": "x"}, false}, {labels{}, true}}},
		{"tier in {'a', 'b'}", "in needs the label present with a listed value", []match{
			{labels{"tier": "b"}, true}, {labels{"tier": "c"}, false}, {labels{}, false},
		}},
		{"tier not in {'a','b'}", "not in is true when absent or unlisted", []match{
			{labels{"tier": "a"}, false}, {labels{"tier": "c"}, true}, {labels{}, true},
		}},
		{"a in {}", "an empty set contains nothing", []match{{labels{"a": ""}, false}}},
		{"a not in {}", "so not in an empty set is always true", []match{{labels{}, true}}},
		{"a in {'x',}", "Calico accepts a trailing comma", []match{{labels{"a": "x"}, true}}},
		{"a == '1' || b == '1' && c == '1'", "&& binds tighter: this is a || (b && c), so a alone is enough", []match{
			{labels{"a": "1"}, true},
			{labels{"b": "1"}, false},
			{labels{"b": "1", "c": "1"}, true},
		}},
		{"a == '1' && b == '1' || c == '1'", "(a && b) || c: c alone is enough", []match{
			{labels{"c": "1"}, true}, {labels{"a": "1"}, false},
		}},
		{"(a == '1' || b == '1') && c == '1'", "parentheses override: a alone is not enough", []match{
			{labels{"a": "1"}, false}, {labels{"a": "1", "c": "1"}, true},
		}},
		{"!a == '1' && b == '1'", "! applies to the comparison only: (!(a == '1')) && b == '1'; with no labels the b part is false", []match{
			{labels{}, false}, {labels{"b": "1"}, true}, {labels{"a": "1", "b": "1"}, false},
		}},
		{"!!has(a)", "double negation cancels", []match{{labels{"a": ""}, true}, {labels{}, false}}},
		{"!(has(a) || has(b))", "negated group", []match{{labels{}, true}, {labels{"b": ""}, false}}},
		{"app.kubernetes.io/name == 'x' && k8s-app == 'kube-dns' && my_label == 'y'", "keys may contain / . - _", []match{
			{labels{"app.kubernetes.io/name": "x", "k8s-app": "kube-dns", "my_label": "y"}, true},
			{labels{"app.kubernetes.io/name": "x", "k8s-app": "kube-dns"}, false},
		}},
		{"name contains 'ob' && name starts with 'j' && name ends with 's'", "string operators", []match{
			{labels{"name": "jobs"}, true}, {labels{"name": "robs"}, false},
		}},
		{"a notin {'x'} && b startswith 'y'", "Calico also reads the two-word operators run together", []match{
			{labels{"b": "yes"}, true}, {labels{"a": "x", "b": "yes"}, false},
		}},
		{"\t has( a )&&a=='b'  ", "spaces and tabs are allowed anywhere between tokens", []match{
			{labels{"a": "b"}, true}, {labels{"a": "c"}, false},
		}},
		{`v == "it's"`, "a double-quoted string may hold a single quote", []match{{labels{"v": "it's"}, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			sel, err := ParseSelector(tt.sel)
			require.NoError(t, err)
			for _, m := range tt.matches {
				assert.Equal(t, m.want, sel.Matches(m.labels), "%s\non %v (%s)", tt.sel, m.labels, tt.why)
			}
			// The normalised form means the same and is a fixed point.
			norm, err := ParseSelector(sel.String())
			require.NoError(t, err, "normalised %q", sel.String())
			assert.Equal(t, sel.String(), norm.String())
			for _, m := range tt.matches {
				assert.Equal(t, m.want, norm.Matches(m.labels), "normalised %q on %v", sel.String(), m.labels)
			}
		})
	}
}

func TestSelectorErrors(t *testing.T) {
	tests := []struct {
		sel    string
		column int
		msg    string
	}{
		// Column 8 is where "web" starts: a value must be quoted.
		{"app == web", 8, `expected a quoted string after '==', found label "web"`},
		// Calico strings have no escapes, so a missing quote runs to the end.
		{"app == 'web", 8, "unterminated string"},
		{"app = 'web'", 5, "'=' is not an operator: use '=='"},
		{"a & b", 3, "'&' is not an operator: use '&&'"},
		{"a | b", 3, "'|' is not an operator: use '||'"},
		// Nothing after &&: the error points just past the end.
		{"a == 'x' && ", 13, "found end of selector"},
		{"(a == 'x'", 10, "expected ')' to close the '(' at column 1"},
		// Two expressions with no operator between them.
		{"a == 'x' b == 'y'", 10, `unexpected label "b" after a complete expression`},
		{"a in ('x')", 6, "expected '{' after 'in'"},
		{"a in {'x' 'y'}", 11, "expected a quoted string, ',' or '}'"},
		{"has()", 5, "has() needs a label name"},
		{"has(a", 6, "expected ')' to close has("},
		{"all(x)", 5, "expected ')' to close all("},
		{"a ~= 'x'", 3, `expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a"`},
		{"a not within {'x'}", 7, `expected "in" after "not"`},
		{"a starts 'x'", 10, `expected "with" after "starts"`},
		{")", 1, "expected a label, has(), all(), global(), '!' or '(', found ')'"},
		{"a ==", 5, "found end of selector"},
		// Columns count characters, not bytes: é is two bytes.
		{"a == 'é' && ~", 13, "unexpected character '~'"},
		// Only spaces and tabs separate tokens, as in Calico.
		{"a == 'x'\n&& b == 'y'", 9, `unexpected character '\n'`},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			_, err := ParseSelector(tt.sel)
			require.Error(t, err)
			var se *SelectorError
			require.True(t, errors.As(err, &se), "%T", err)
			assert.Equal(t, tt.column, se.Column, "column of: %v", err)
			assert.Contains(t, se.Msg, tt.msg)
			assert.Contains(t, err.Error(), "column")
		})
	}
}

func TestSelectorString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "all()"},
		{"   ", "all()"},
		{`a=="x"`, "a == 'x'"},
		{`a == "it's"`, `a == "it's"`},
		{`b in {"y", 'x', "y"}`, "b in {'x', 'y'}"},
		{"b not in {}", "b not in {}"},
		{"a == '1' || b == '1' && c == '1'", "a == '1' || b == '1' && c == '1'"},
		{"(a == '1' || b == '1') && c == '1'", "(a == '1' || b == '1') && c == '1'"},
		{"((has(a)))", "has(a)"},
		{"(has(a) && has(b)) && has(c)", "has(a) && has(b) && has(c)"},
		{"has(a) || (has(b) || has(c))", "has(a) || has(b) || has(c)"},
		{"! has(a)", "!has(a)"},
		{"!(has(a) && has(b))", "!(has(a) && has(b))"},
		{"!!has(a)", "has(a)"},
		{"!(!has(a))", "has(a)"},
		{"a notin {'x'}", "a not in {'x'}"},
		{"a startswith 'x' || a endswith 'y' || a contains 'z'", "a starts with 'x' || a ends with 'y' || a contains 'z'"},
		{"global()", "global()"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := ParseSelector(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, sel.String())
		})
	}
	assert.Equal(t, "all()", Selector{}.String(), "the zero Selector is all()")
	assert.True(t, Selector{}.Matches(nil))
}

func TestSelectorBuilders(t *testing.T) {
	tests := []struct {
		name string
		expr Expr
		want string
	}{
		{"equality", Eq("app", "web"), "app == 'web'"},
		{"inequality", Ne("app", "web"), "app != 'web'"},
		{"sets are sorted and deduplicated",
			NotIn(LabelName, "kube-system", "calico-system", "kube-system"),
			"projectcalico.org/name not in {'calico-system', 'kube-system'}"},
		{"in", In("k8s-app", "kube-dns", "coredns"), "k8s-app in {'coredns', 'kube-dns'}"},
		{"and of an or needs parentheses",
			And(Or(Has("a"), Has("b")), Has("c")), "(has(a) || has(b)) && has(c)"},
		{"or of an and needs none", Or(And(Has("a"), Has("b")), Has("c")), "has(a) && has(b) || has(c)"},
		{"nested ands flatten", And(And(Has("a"), Has("b")), Has("c")), "has(a) && has(b) && has(c)"},
		{"negated group", Not(Or(Has("a"), Has("b"))), "!(has(a) || has(b))"},
		{"double negation cancels", Not(NotHas("a")), "has(a)"},
		{"not has", NotHas("a"), "!has(a)"},
		{"empty and is all()", And(), "all()"},
		{"single operand", And(Eq("a", "b")), "a == 'b'"},
		{"all and global", Or(All(), Global()), "all() || global()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.expr.Build()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			// What the builders produce parses back to itself.
			sel, err := ParseSelector(got)
			require.NoError(t, err)
			assert.Equal(t, got, sel.String())
		})
	}

	errs := []struct {
		name string
		expr Expr
		msg  string
	}{
		{"single quote in a value", Eq("app", "it's"), "contains a quote"},
		{"double quote in a value", In("app", "ok", `"x"`), "contains a quote"},
		{"key with a space", Eq("bad key", "x"), `character ' ' is not allowed`},
		{"empty key", Has(""), "empty label key"},
		{"empty set", In("k"), "at least one value"},
		{"empty or", Or(), "at least one operand"},
		{"errors propagate through and/not", Not(And(Eq("a", "x"), Ne("b", `'`))), "contains a quote"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.expr.Build()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Panics(t, func() { tt.expr.MustBuild() })
		})
	}
}
