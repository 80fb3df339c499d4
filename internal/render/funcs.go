package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// nonRepeatable are sprig functions HermeticTxtFuncMap still keeps although
// their result depends on the clock, randomness or the crypto generator.
var nonRepeatable = []string{
	"ago", "duration", "durationRound", "toDate", "mustToDate", "unixEpoch",
	"randInt", "shuffle",
	"bcrypt", "htpasswd", "genPrivateKey", "derivePassword",
	"genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
	"genSignedCert", "genSignedCertWithKey", "encryptAES", "decryptAES",
}

// FuncMap is sprig's hermetic function map without the non-repeatable
// functions, with sorted keys/values, and obsgen's own helpers.
func FuncMap() template.FuncMap {
	f := sprig.HermeticTxtFuncMap()
	for _, name := range nonRepeatable {
		delete(f, name)
	}
	f["keys"] = sortedKeys
	f["values"] = sortedValues
	f["yq"] = yamlQuote
	f["yqs"] = yamlSingleQuote
	f["metaLabel"] = metaLabel
	f["regexAlt"] = regexAlt
	f["regexJoin"] = regexJoin
	f["regexEscape"] = regexp.QuoteMeta
	f["indentLines"] = IndentLines
	f["printf"] = deterministicPrintf
	f["print"] = deterministicPrint(fmt.Sprint)
	f["println"] = deterministicPrint(fmt.Sprintln)
	// cat and toString print their arguments with fmt too.
	f["cat"] = deterministicPrint(f["cat"].(func(...any) string))
	f["toString"] = deterministicToString(f["toString"].(func(any) string))
	return f
}

func sortedKeys(dicts ...map[string]any) []string {
	var keys []string
	for _, d := range dicts {
		keys = append(keys, slices.Collect(maps.Keys(d))...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func sortedValues(dict map[string]any) []any {
	out := make([]any, 0, len(dict))
	for _, k := range slices.Sorted(maps.Keys(dict)) {
		out = append(out, dict[k])
	}
	return out
}

// yamlQuote renders any string as a double-quoted YAML scalar (JSON string
// syntax without HTML escaping), safe in any YAML context.
func yamlQuote(v any) (string, error) {
	if s, ok := v.(string); ok && plainSafe(s) {
		return `"` + s + `"`, nil // the common case: names, paths, regexes of names
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fmt.Sprint(v)); err != nil {
		return "", err
	}
	// JSON leaves DEL and the C1 controls literal; YAML forbids them.
	var b strings.Builder
	for _, r := range strings.TrimSuffix(buf.String(), "\n") {
		if r >= 0x7f && r <= 0x9f {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// plainSafe tells whether s needs no escaping inside double quotes: ASCII
// printable characters other than the quote and the backslash.
func plainSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

var nonLabelChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// metaLabel turns a Kubernetes label key into the suffix of Prometheus'
// __meta_kubernetes_pod_label_<name>: every other character becomes '_'.
func metaLabel(key string) string {
	return nonLabelChar.ReplaceAllString(key, "_")
}

// regexAlt builds an alternation of literal values (Prometheus anchors
// relabeling regexes, so it matches exactly one of them).
func regexAlt(values []string) string { return regexJoin("|", values) }

// regexJoin joins literal values, regex-escaped, with sep; relabeling
// matches it against source labels joined by ';'.
func regexJoin(sep string, values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(quoted, sep)
}

// IndentLines prefixes every non-empty line of s with n spaces (sprig's indent does the
// same but also indents an empty trailing line).
func IndentLines(n int, s string) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}

// yamlSingleQuote writes s as a YAML single-quoted scalar (quotes doubled),
// which reads better than double quotes for values full of double quotes,
// such as Alertmanager matchers.
func yamlSingleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
