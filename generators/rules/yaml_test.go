package rules

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/yamlwriter"
	"obsgen.dev/obsgen/profiles"
)

// The writer's files are compared with the reference: the same shapes
// marshalled by yaml.v3 (a group or 16 tests at a time, indented under
// their key, as obsgen wrote them before), with every annotation expanded
// by Prometheus' template engine. They must be the same bytes, and decode
// (yaml.v3, rulefmt) to the model the generator built.

func refRuleFile(rf File) ruleFile {
	out := ruleFile{Groups: []groupYAML{}}
	for _, g := range rf.Groups {
		gy := groupYAML{Name: g.Name}
		for _, r := range g.Rules {
			gy.Rules = append(gy.Rules, ruleYAML{Record: r.Record, Alert: r.Alert, Expr: r.Expr, For: r.For, Labels: r.Labels, Annotations: r.Annotations})
		}
		out.Groups = append(out.Groups, gy)
	}
	return out
}

func refRuleFileYAML(t *testing.T, rf File) []byte {
	var buf bytes.Buffer
	buf.WriteString(output.Header + "groups:\n")
	for _, g := range refRuleFile(rf).Groups {
		data, err := render.YAML([]groupYAML{g})
		require.NoError(t, err)
		buf.WriteString(render.IndentLines(2, string(data)) + "\n")
	}
	return buf.Bytes()
}

// refTestFile builds a test file's tests with Prometheus' template engine
// for every annotation; ok is false when the rule file has no alert.
func refTestFile(t *testing.T, p *plan.Plan, rf File, ruleFiles []string) (tf testFile, ok bool) {
	tf = testFile{RuleFiles: ruleFiles, EvaluationInterval: EvaluationInterval}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			name := r.Alert
			if sev := r.Labels["severity"]; sev != "" {
				name += " (" + sev + ")"
			}
			if svc := r.Labels["service"]; svc != "" {
				name += " " + r.Labels["team"] + "/" + svc + " " + r.Labels["slo"]
			}
			fire := alertTestYAML{EvalTime: r.Test.Fire.At, AlertName: r.Alert}
			for _, exp := range r.Test.Fire.Expect {
				// Prometheus expands the rule's labels and annotations
				// with the series' labels as $labels (rules/alerting.go).
				labels := maps.Clone(exp)
				if labels == nil {
					labels = map[string]string{}
				}
				for k, text := range r.Labels {
					v, err := expand(p, r.Alert+"/label "+k, text, exp)
					require.NoError(t, err)
					labels[k] = v
				}
				anns := map[string]string{}
				for k, text := range r.Annotations {
					v, err := expand(p, r.Alert+"/"+k, text, exp)
					require.NoError(t, err)
					anns[k] = v
				}
				fire.ExpAlerts = append(fire.ExpAlerts, expAlertYAML{ExpLabels: labels, ExpAnnotations: anns})
			}
			tf.Tests = append(tf.Tests,
				testGroupYAML{Name: name + " fires", Interval: "1m", InputSeries: r.Test.Fire.Series, AlertTests: []alertTestYAML{fire}})
			if r.Test.AlwaysFires {
				continue
			}
			tf.Tests = append(tf.Tests,
				testGroupYAML{Name: name + " stays quiet", Interval: "1m", InputSeries: r.Test.Quiet.Series,
					AlertTests: []alertTestYAML{{EvalTime: r.Test.Quiet.At, AlertName: r.Alert, ExpAlerts: []expAlertYAML{}}}},
			)
			for i, c := range r.Test.AlsoQuiet {
				tf.Tests = append(tf.Tests,
					testGroupYAML{Name: fmt.Sprintf("%s stays quiet (%d)", name, i+2), Interval: "1m", InputSeries: c.Series,
						AlertTests: []alertTestYAML{{EvalTime: c.At, AlertName: r.Alert, ExpAlerts: []expAlertYAML{}}}})
			}
		}
	}
	return tf, len(tf.Tests) > 0
}

func refTestFileYAML(t *testing.T, tf testFile) []byte {
	tests := tf.Tests
	tf.Tests = nil
	head, err := render.YAML(tf)
	require.NoError(t, err)
	var buf bytes.Buffer
	buf.WriteString(output.Header)
	buf.Write(bytes.Replace(head, []byte("tests: []\n"), []byte("tests:\n"), 1))
	for chunk := range slices.Chunk(tests, 16) {
		data, err := render.YAML(chunk)
		require.NoError(t, err)
		buf.WriteString(render.IndentLines(2, string(data)) + "\n")
	}
	return buf.Bytes()
}

// normalize makes empty and missing collections alike: YAML writes both
// the same way.
func normalizeRules(f ruleFile) ruleFile {
	for gi := range f.Groups {
		g := &f.Groups[gi]
		if len(g.Rules) == 0 {
			g.Rules = nil
		}
		for ri := range g.Rules {
			r := &g.Rules[ri]
			if len(r.Labels) == 0 {
				r.Labels = nil
			}
			if len(r.Annotations) == 0 {
				r.Annotations = nil
			}
		}
	}
	return f
}

func normalizeTests(f testFile) testFile {
	if len(f.RuleFiles) == 0 {
		f.RuleFiles = nil
	}
	for ti := range f.Tests {
		tg := &f.Tests[ti]
		if len(tg.InputSeries) == 0 {
			tg.InputSeries = nil
		}
		for ai := range tg.AlertTests {
			at := &tg.AlertTests[ai]
			if len(at.ExpAlerts) == 0 {
				at.ExpAlerts = nil
			}
			for ei := range at.ExpAlerts {
				e := &at.ExpAlerts[ei]
				if len(e.ExpLabels) == 0 {
					e.ExpLabels = nil
				}
				if len(e.ExpAnnotations) == 0 {
					e.ExpAnnotations = nil
				}
			}
		}
	}
	return f
}

// checkRuleFile decodes a written rule file with yaml.v3 (and rulefmt
// when its rules are valid Prometheus rules) and compares it with the
// model.
func checkRuleFile(t *testing.T, rf File, data []byte, valid bool) {
	t.Helper()
	require.True(t, bytes.HasPrefix(data, []byte(output.Header)), rf.Name)
	var got ruleFile
	require.NoError(t, yaml.Unmarshal(data, &got), "%s:\n%s", rf.Name, data)
	require.Equal(t, normalizeRules(refRuleFile(rf)), normalizeRules(got), rf.Name)
	if !valid {
		return
	}
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
	require.Empty(t, errs, "%s:\n%s", rf.Name, data)
	require.Len(t, groups.Groups, len(rf.Groups), rf.Name)
	for gi, g := range rf.Groups {
		pg := groups.Groups[gi]
		require.Equal(t, g.Name, pg.Name)
		require.Len(t, pg.Rules, len(g.Rules), g.Name)
		for ri, r := range g.Rules {
			pr := pg.Rules[ri]
			assert.Equal(t, r.Record, pr.Record)
			assert.Equal(t, r.Alert, pr.Alert)
			assert.Equal(t, r.Expr, pr.Expr)
			var want model.Duration
			if r.For != "" {
				var err error
				want, err = model.ParseDuration(r.For)
				require.NoError(t, err)
			}
			assert.Equal(t, want, pr.For, "%s%s", r.Record, r.Alert)
			assert.Equal(t, emptyAsNil(r.Labels), emptyAsNil(pr.Labels), "%s%s", r.Record, r.Alert)
			assert.Equal(t, emptyAsNil(r.Annotations), emptyAsNil(pr.Annotations), "%s%s", r.Record, r.Alert)
		}
	}
}

func emptyAsNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// checkTestFile decodes a written test file with yaml.v3 and compares it
// with the tests built from the model with Prometheus' template engine.
func checkTestFile(t *testing.T, p *plan.Plan, rf File, ruleFiles []string, data []byte) {
	t.Helper()
	want, ok := refTestFile(t, p, rf, ruleFiles)
	if !ok {
		require.Nil(t, data, rf.Name)
		return
	}
	require.True(t, bytes.HasPrefix(data, []byte(output.Header)), rf.Name)
	var got testFile
	require.NoError(t, yaml.Unmarshal(data, &got), "%s:\n%s", rf.Name, data)
	require.Equal(t, normalizeTests(want), normalizeTests(got), rf.Name)
}

func writeFiles(t *testing.T, p *plan.Plan, files []File) (rules, tests [][]byte, paths [][]string) {
	t.Helper()
	for _, rf := range files {
		rules = append(rules, ruleFileYAML(rf).b)
	}
	paths = neededFiles(files)
	e := newExpander(p)
	for i, rf := range files {
		w, err := testFileYAML(e, rf, paths[i])
		require.NoError(t, err, rf.Name)
		if w == nil {
			tests = append(tests, nil)
		} else {
			tests = append(tests, w.b)
		}
	}
	return rules, tests, paths
}

// checkPlan checks every rule and test file of a plan: the same bytes as
// the reference, and the model back when decoded.
func checkPlan(t *testing.T, name string, p *plan.Plan) {
	files := Files(p)
	rules, tests, paths := writeFiles(t, p, files)
	for i, rf := range files {
		require.Equal(t, string(refRuleFileYAML(t, rf)), string(rules[i]), "%s: %s", name, rf.Name)
		checkRuleFile(t, rf, rules[i], true)
		if tf, ok := refTestFile(t, p, rf, paths[i]); ok {
			require.Equal(t, string(refTestFileYAML(t, tf)), string(tests[i]), "%s: %s", name, rf.Name)
		}
		checkTestFile(t, p, rf, paths[i], tests[i])
	}
}

func TestWriterOnExampleProfiles(t *testing.T) {
	names, err := fs.Glob(profiles.FS, "*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		data, err := fs.ReadFile(profiles.FS, name)
		require.NoError(t, err)
		l, err := profile.Load(name, data)
		require.NoError(t, err, name)
		p := plan.Resolve(l.Profile)
		checkPlan(t, name, p)

		// Generate writes the same files, under their paths.
		if out, err := Generate(p, nil); err == nil && out != nil {
			server := Place(p, Files(p)).Server
			rules, tests, _ := writeFiles(t, p, server)
			var want []output.File
			for i, rf := range server {
				want = append(want, output.YAML(RulesDir+rf.Name+".yaml", bytes.TrimPrefix(rules[i], []byte(output.Header))).Shipped(output.Ship{As: output.ShipPrometheusRules}))
			}
			for i, rf := range server {
				if tests[i] != nil {
					want = append(want, output.YAML(TestsDir+rf.Name+"_test.yaml", bytes.TrimPrefix(tests[i], []byte(output.Header))))
				}
			}
			var raw []output.File // the operator flavour's PrometheusRules aside
			for _, f := range out {
				if strings.HasPrefix(f.Path, RulesDir) || strings.HasPrefix(f.Path, TestsDir) {
					raw = append(raw, f)
				}
			}
			assert.Equal(t, want, raw, name)
		}
	}
}

// syntheticProfile has n teams with 3 namespaces and 2 services each (the
// shape of the pipeline's benchmark), with varied objectives.
func syntheticProfile(n int) *v1alpha1.Profile {
	off := false
	p := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind,
		Metadata:   v1alpha1.Metadata{Name: "bench"},
		Cluster:    v1alpha1.Cluster{APIServerCIDRs: []string{"10.0.0.1/32"}, NodeCIDRs: []string{"10.1.0.0/16"}},
		Mesh:       v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
		Monitoring: v1alpha1.Monitoring{Flavours: []v1alpha1.Flavour{v1alpha1.FlavourPrometheus, v1alpha1.FlavourOperator}},
		Network:    v1alpha1.Network{Stance: v1alpha1.StanceDefaultDeny},
	}
	targets := []float64{99.9, 99.95, 99.5, 95, 90, 99.999, 12.345678, 50}
	for i := range n {
		team := fmt.Sprintf("team-%04d", i)
		t := v1alpha1.Team{Name: team}
		for j := range 3 {
			t.Namespaces = append(t.Namespaces, fmt.Sprintf("%s-ns%d", team, j))
		}
		for j := range 2 {
			slos := &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: targets[(i+j)%len(targets)]},
				Latency: &v1alpha1.LatencySLO{ThresholdMs: 100 + 37*i, Target: targets[(i+j+3)%len(targets)]}}
			if i%5 == 1 {
				slos.Latency = nil
			}
			if i%7 == 2 {
				slos.Availability = nil
			}
			t.Services = append(t.Services, v1alpha1.Service{
				Name: fmt.Sprintf("svc-%d", j), Namespace: t.Namespaces[j], Port: 8080 + j,
				Selector: map[string]string{"app": fmt.Sprintf("svc-%d", j)}, SLOs: slos,
			})
		}
		p.Teams = append(p.Teams, t)
	}
	return p
}

func TestWriterOnSyntheticProfile(t *testing.T) {
	p := plan.Resolve(syntheticProfile(40))
	require.NotEmpty(t, p.ServiceTargets)
	checkPlan(t, "synthetic", p)
}

// tricky are strings YAML must quote, or write as a block, or that look
// like something else.
var tricky = []string{
	"", " ", "a", "yes", "Yes", "NO", "on", "off", "y", "N", "true", "False", "null", "NULL", "~", "tRUE",
	"1.0", "1", "-1", "+1", "0x30", "0o17", "0b101", "1e3", ".5", ".inf", "-.Inf", ".nan", "1_000", "0+980x200", "1x30", "20m",
	"2001-12-14", "2001-12-14 21:59:43.10 -5", "2001-12-14t21:59:43.10-05:00", "12:30:00", "1:20", "190:20:30.15", "1 - x",
	"<<", "<", "-", "- a", "-a", "--- a", "...", "?", "? a", "?a", ":", ": a", ":a", "a: b", "a:b", "a:", "a ::", "a #b", "a#b", "#a", "a #",
	"'quoted'", `"double"`, "it's", `say "hi"`, `back\slash`, `C:\path\`, `\n`, `\"`,
	"{{ $labels.x }}", "{{$labels.x}}", "{a: b}", "[a, b]", "a, b", "a,b", "{", "}", "[", "]",
	"&anchor", "*alias", "!tag", "!!str", "%percent", "@at", "`tick", "|pipe", "|", "|-", ">fold", ">", "=", "(paren)", "_under",
	" leading", "trailing ", "  both  ", "tab\tinside", "\ttab", "tab\t",
	"new\nline", "new\nline\n", "new\nline\n\n", "\nleading newline", "\n", "\n\n", "  indented\nblock", "line\n  indented\n",
	"a\n\nb", "a \nb", "a\n b", "a\n\tb", "crlf\r\nx", "cr\rx", "x\r",
	"unicode é ü 日本", "émile", "emoji 🙂", "\u00a0nbsp", "sep\u2028x", "a\u2028b\nc", "nel\u0085x", "bom\ufeffx", "\ufeffbom",
	"ctrl\x01x", "del\x7f", "nul\x00byte", "esc\x1b[0m", "bad\xffutf8",
	strings.Repeat("long words ", 30), strings.Repeat("y", 300), "multi\n" + strings.Repeat("long line ", 30) + "\nend",
}

// trickyKeys are map keys of the same kind.
var trickyKeys = []string{
	"a", "b", "severity", "summary", "a10", "a9", "a09", "A", "Zeta", "_x", "x_", "a_b", "aB", "a.b", "a-b", "a b", "1", "10", "2",
	"yes", "null", "", " ", "a: b", "#", "x\ny", "é", "日本", strings.Repeat("k", 150), "-", "?", "{{ x }}",
}

// trickyFile is a rule file whose every string is tricky.
func trickyFile() File {
	n := len(tricky)
	at := func(i int) string { return tricky[i%n] }
	var rules []Rule
	for i := range n {
		r := Rule{Expr: at(i + 1), For: at(i + 2),
			Labels:      map[string]string{"k": at(i), "severity": at(i + 3), trickyKeys[i%len(trickyKeys)]: at(i + 4)},
			Annotations: map[string]string{"summary": at(i), "description": "{{ $labels.k }} and " + at(i+5), trickyKeys[(i+7)%len(trickyKeys)]: at(i + 6)},
		}
		if i%2 == 0 {
			r.Record = at(i)
			r.Annotations = nil
		} else {
			r.Alert = at(i)
			r.Test = &Test{
				Fire: Case{Series: []Series{{at(i + 7), at(i + 8)}, {at(i + 9), at(i + 10)}}, At: at(i + 11),
					Expect: []map[string]string{{at(i): at(i + 12), "k": "expected"}, {}, nil}},
				Quiet: Case{Series: []Series{{at(i + 13), at(i + 14)}}, At: at(i + 15)},
			}
			if i%3 == 0 {
				r.Test.Quiet.Series = nil
			}
			if i%5 == 0 {
				r.Labels = nil
			}
		}
		rules = append(rules, r)
	}
	// An alert with only expr, and one without labels or annotations.
	rules = append(rules, Rule{Expr: "up"}, Rule{Alert: "Bare", Expr: "up", Test: &Test{Fire: Case{At: "1m", Expect: []map[string]string{{}}}, Quiet: Case{At: "1m"}}})
	f := File{Name: "tricky"}
	for i, chunk := 0, 0; chunk < len(rules); i++ {
		end := min(chunk+1+i%4, len(rules))
		f.Groups = append(f.Groups, Group{Name: at(i * 3), Rules: rules[chunk:end]})
		chunk = end
	}
	f.Groups = append(f.Groups, Group{Name: "empty"})
	return f
}

func TestWriterTrickyStrings(t *testing.T) {
	p := testPlan(func(in *v1alpha1.Profile) {
		in.Monitoring.Prometheus.ExternalLabels = map[string]string{"cluster": "c: 1", "region": "eu"}
	})
	rf := trickyFile()
	checkRuleFile(t, rf, ruleFileYAML(rf).b, false)
	for _, paths := range [][]string{{"../rules/tricky.yaml"}, {"../rules/a b.yaml", "- x", "yes", "x\ny"}, nil} {
		w, err := testFileYAML(newExpander(p), rf, paths)
		require.NoError(t, err)
		checkTestFile(t, p, rf, paths, w.b)
	}

	// Tricky strings where Prometheus reads them: label values, annotations
	// and strings in expressions.
	valid := File{Name: "valid"}
	for i, s := range tricky {
		if !utf8Valid(s) {
			continue
		}
		other := tricky[(i+1)%len(tricky)]
		if !utf8Valid(other) {
			other = "x"
		}
		r := Rule{Record: "tricky:record" + strconv.Itoa(i), Expr: "up{job=" + strconv.Quote(s) + "}", Labels: map[string]string{"value": s, "yes": other}}
		if i%2 == 1 {
			r = Rule{Alert: "Tricky" + strconv.Itoa(i), Expr: "sum by (job) (\n  up{job=" + strconv.Quote(s) + "}\n)\n", For: []string{"", "5m", "1h30m", "0s"}[i%4],
				Labels: map[string]string{"severity": s}, Annotations: map[string]string{"summary": s, "description": "{{ $labels.job }}: " + s}}
		}
		valid.Groups = append(valid.Groups, Group{Name: s + " " + strconv.Itoa(i), Rules: []Rule{r}})
	}
	checkRuleFile(t, valid, ruleFileYAML(valid).b, true)
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\ufffd") == s }

// TestScalarsAsYAMLv3: the writer writes every scalar, as a value, a
// sequence item and a key, in nested positions, as yaml.v3 does (except
// strings yaml.v3 would not read back the same, see scalarEntry: those are
// double-quoted), what it writes as plain yaml.v3 writes as plain too, and
// everything reads back the same.
func TestScalarsAsYAMLv3(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "b", "Z", "0", "1", "9", " ", " ", ":", "#", "-", "?", ",", "[", "{", "}", "'", `"`, `\`, "\n", "\t", "\r",
		".", "_", "(", "$", "=", "é", "\u2028", "\u0085", "\x01", "!", "&", "*", "|", ">", "%", "@", "`", "~", "<", "+", "e", "x", "o", "y", "n"}
	strs := slices.Clone(tricky)
	strs = append(strs, trickyKeys...)
	for range 5000 {
		var b strings.Builder
		for range 1 + rnd.Intn(8) {
			b.WriteString(alphabet[rnd.Intn(len(alphabet))])
		}
		strs = append(strs, b.String())
	}
	type doc struct {
		A []struct {
			B string            `yaml:"b"`
			C map[string]string `yaml:"c"`
			G string            `yaml:"g"`
		} `yaml:"a"`
		R []string          `yaml:"r"`
		M map[string]string `yaml:"m"`
	}
	for _, s := range strs {
		sameAsYAMLv3 := !strings.ContainsAny(s, "\u2028\u2029") && !(strings.Contains(s, "\n") && (s[0] == '\t' || strings.Contains(s, "\n\t")))
		w := newWriter(0)
		w.b = w.b[:0]
		w.field(0, "k", s)
		if sameAsYAMLv3 {
			require.Equal(t, yamlOf(t, map[string]string{"k": s}), string(w.b), "%q", s)
		}
		if yamlwriter.Plain(s) {
			require.Equal(t, "k: "+s+"\n", string(w.b), "%q", s)
			require.Equal(t, "k: "+s+"\n", yamlOf(t, map[string]string{"k": s}), "%q", s)
		}

		// Nested: a value in a mapping in a sequence in a mapping, a
		// sequence item, a key.
		w.b = w.b[:0]
		w.b = append(w.b, "a:\n"...)
		w.item(2, "b")
		w.value(4, "x")
		w.key(4, "c")
		c := map[string]string{"d": s, "e": "f", s: "v"}
		m := map[string]string{s: "v", "x": s}
		w.mapping(6, c)
		w.field(4, "g", s)
		w.b = append(w.b, "m:"...)
		w.mapping(2, m)
		w.b = append(w.b, "r:\n"...)
		for _, item := range []string{s, "x", s} {
			w.indent(2)
			w.b = append(w.b, '-')
			w.value(2, item)
		}
		if sameAsYAMLv3 {
			want := yamlOf(t, map[string]any{
				"a": []map[string]any{{"b": "x", "c": c, "g": s}},
				"r": []string{s, "x", s},
				"m": m,
			})
			require.Equal(t, want, string(w.b), "%q", s)
		}
		var got doc
		require.NoError(t, yaml.Unmarshal(w.b, &got), "%q:\n%s", s, w.b)
		require.Len(t, got.A, 1)
		if !utf8Valid(s) {
			continue // yaml.v3 writes it as !!binary
		}
		require.Equal(t, "x", got.A[0].B)
		require.Equal(t, c, got.A[0].C, "%q", s)
		require.Equal(t, s, got.A[0].G, "%q", s)
		require.Equal(t, []string{s, "x", s}, got.R, "%q", s)
		require.Equal(t, m, got.M, "%q", s)
	}
}

// TestExpanderAsPrometheus: annotations come out as Prometheus' template
// engine expands them, through the fast path or not.
func TestExpanderAsPrometheus(t *testing.T) {
	p := testPlan(func(in *v1alpha1.Profile) {
		in.Monitoring.Prometheus.ExternalLabels = map[string]string{"cluster": "c1"}
	})
	texts := []string{
		"", "plain text", "}} {{", "{{ $labels.x }}", "{{$labels.x}}", "{{  $labels.x  }}", "a {{ $labels.x }} b {{ $labels.y }} c",
		"{{ $labels.missing }}", "{{ $externalLabels.cluster }}", "{{ $externalLabels.none }}", "{{- $labels.x -}} x", "x {{- $labels.x }}",
		"{{ $labels.x -}} x", "{{ .Labels.x }}", "{{ $value }}", "{{ $externalURL }}", "{{ $labels.x | toUpper }}", "{{/* c */}}x",
		"{{ if $labels.x }}yes{{ end }}", "{{ \"}}\" }}", "{{ $labels.x }}}", "{{{ $labels.x }}", "{{ $labels.x_1 }}", "{{ $labels.X }}",
		"{{ $labels.x.y }}", "{{\t$labels.x }}", "{{ humanize 1234567 }}", "100% {{ $labels.y }}: done",
	}
	labelSets := []map[string]string{
		{"y": "two", "x": "shadowed", "severity": "warning"},
		{"x": "{{ $labels.y }}", "y": "é \"q\" \\ <b>", "x_1": "u", "X": "big"},
		{},
		nil,
	}
	e := newExpander(p)
	for _, text := range texts {
		for _, labels := range labelSets {
			want, wantErr := expand(p, "A/k", text, labels)
			got, err := e.expand("A/k", text, labels)
			if wantErr != nil {
				assert.Error(t, err, text)
				continue
			}
			require.NoError(t, err, text)
			assert.Equal(t, want, got, "%q with %v", text, labels)
		}
	}
}

// yamlOf is yaml.v3's rendering of v.
func yamlOf(t *testing.T, v any) string {
	t.Helper()
	data, err := yamlwriter.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
