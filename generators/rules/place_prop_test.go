package rules

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A generator of random PromQL expressions for the scoping property test.

var propStrings = []string{
	"", "a", "b", "shop", "c1", "zz", "A", "0", "obsgen", "obsgenp", "obsgenph", "obsgenph0x", "x#y", "a\"b", "a'b", "a`b",
	"a\\b", "tab\there", "new\nline", "ünï", "日本", "\x7f", "\u00e9", "a.b", "my.metric", "5..", ".*", ".+", "(.*)", "$1", "${1}x",
	"le", "cluster", "__name__", "up", "+Inf", "250(\\.0)?", "a|", "[", "(", "\\", "x{y}", "\u2028", "\ufeff", "a b",
}

type gen struct{ r *rand.Rand }

func (g gen) pick(xs []string) string { return xs[g.r.Intn(len(xs))] }

func (g gen) str() string {
	v := g.pick(propStrings)
	switch g.r.Intn(6) {
	case 0:
		if !strings.ContainsAny(v, "`") {
			return "`" + v + "`"
		}
	case 1:
		// single quotes, escape ' and \
		var b strings.Builder
		b.WriteByte('\'')
		for _, r := range v {
			switch r {
			case '\'':
				b.WriteString(`\'`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('\'')
		return b.String()
	case 2:
		// unusual escapes
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range v {
			switch {
			case r == '"' || r == '\\':
				b.WriteString(`\` + string(r))
			case r < 0x80 && g.r.Intn(3) == 0:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r < 0x80 && g.r.Intn(3) == 0:
				fmt.Fprintf(&b, `\%03o`, r)
			case g.r.Intn(3) == 0:
				fmt.Fprintf(&b, `\u%04x`, r)
			case r == '\n':
				b.WriteString(`\n`)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
		return b.String()
	}
	return fmt.Sprintf("%q", v)
}

var propNames = []string{"job", "job", "namespace", "cluster", "__name__", "le", "pod", "a", "a_b", "ab"}
var propMetrics = []string{"up", "x_total", "obsgen", "cluster"}

func (g gen) lname() string {
	if g.r.Intn(8) == 0 {
		return g.str()
	}
	return g.pick(propNames)
}

func (g gen) selector() string {
	var b strings.Builder
	hasName := g.r.Intn(4) != 0
	if hasName {
		b.WriteString(g.pick(propMetrics))
	}
	n := g.r.Intn(4)
	if !hasName && n == 0 {
		n = 1
	}
	if n > 0 || g.r.Intn(3) == 0 {
		b.WriteString("{")
		first := true
		if !hasName && g.r.Intn(4) == 0 {
			b.WriteString(g.str())
			first = false
		}
		for i := 0; i < n; i++ {
			if !first {
				b.WriteString(", ")
			}
			first = false
			if g.r.Intn(10) == 0 {
				b.WriteString(" # c \"q\" 'x\n ")
			}
			b.WriteString(g.lname())
			b.WriteString(g.pick([]string{"=", "!=", "=~", "!~"}))
			b.WriteString(g.str())
		}
		b.WriteString("}")
	}
	return b.String()
}

func (g gen) mods(s string) string {
	if g.r.Intn(6) == 0 {
		s += " offset " + g.pick([]string{"5m", "1h", "-1m"})
	}
	if g.r.Intn(8) == 0 {
		s += " @ " + g.pick([]string{"100", "start()", "end()"})
	}
	return s
}

func (g gen) grouping() string {
	n := g.r.Intn(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.lname()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (g gen) vec(d int) string {
	if d <= 0 {
		return g.mods(g.selector())
	}
	switch g.r.Intn(14) {
	case 0:
		return g.mods(g.selector())
	case 1:
		return "rate(" + g.mods(g.selector()+"["+g.pick([]string{"5m", "1h"})+"]") + ")"
	case 2:
		return g.pick([]string{"sum", "max", "count", "avg", "group"}) + " " + g.pick([]string{"by", "without"}) + " " + g.grouping() + " (" + g.vec(d-1) + ")"
	case 3:
		return "label_replace(" + g.vec(d-1) + ", " + g.str() + ", " + g.str() + ", " + g.str() + ", " + g.str() + ")"
	case 4:
		return "label_join(" + g.vec(d-1) + ", " + g.str() + ", " + g.str() + ", " + g.str() + ")"
	case 5:
		return "count_values(" + g.str() + ", " + g.vec(d-1) + ")"
	case 6:
		return "quantile(0.9, " + g.vec(d-1) + ")"
	case 7:
		return g.vec(d-1) + " " + g.pick([]string{"/", "and", "or", "unless", ">", "*"}) + " " + g.pick([]string{"", "on" + g.grouping() + " ", "ignoring" + g.grouping() + " "}) + g.vec(d-1)
	case 8:
		return g.vec(d-1) + " / on" + g.grouping() + " group_left" + g.grouping() + " " + g.vec(d-1)
	case 9:
		return "absent(" + g.vec(d-1) + ")"
	case 10:
		return "(" + g.vec(d-1) + ")[" + g.pick([]string{"30m:1m", "1h:"}) + "]"
	case 11:
		return "sort_by_label(" + g.vec(d-1) + ", " + g.str() + ")"
	case 12:
		return "topk(3, " + g.vec(d-1) + ") # trailing \"c\""
	default:
		return g.vec(d-1) + " > 0"
	}
}

// panics runs f and returns what it panicked with, if it did.
func panics(f func() (string, bool)) (s string, keeps bool, p any) {
	defer func() { p = recover() }()
	s, keeps = f()
	return
}

// Scoping through shapes gives exactly what scoping each expression alone
// gives, on random expressions full of the strings shapes must get right:
// escapes, raw and single-quoted strings, comments, empty values, invalid
// regular expressions, selectors without a name, repeated matchers, the
// placeholder itself. Where parsing the expression fails, so does the
// scoper.
func TestScopingByShapeMatchesOnRandomExpressions(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	g := gen{r}
	same := 0
	for range 20000 {
		e := g.vec(r.Intn(4))
		cluster := g.pick([]string{"c1", "prod-eu", "a", "zzz", "obsgenph0"})
		want, wantKeeps, wantPanic := panics(func() (string, bool) { return scopeExpr(e, cluster) })
		got, gotKeeps, gotPanic := panics(func() (string, bool) { return newScoper(cluster).expr(e) })
		require.Equal(t, wantPanic == nil, gotPanic == nil, "%s: parsing panics %v, the scoper %v", e, wantPanic, gotPanic)
		if wantPanic == nil {
			require.Equal(t, want, got, e)
			require.Equal(t, wantKeeps, gotKeeps, e)
			same++
		}
	}
	require.Greater(t, same, 10000)
}
