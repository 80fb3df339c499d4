// Package rules generates obsgen's alerting and recording rules and, for
// every alert, a unit test in promtool's format: a case where the alert
// fires with its expected labels and annotations, and a case where it stays
// quiet, on synthetic series that carry the metric and label names the
// generated scrape jobs produce.
//
// Files: prometheus/rules/obsgen-<group>.yaml and
// prometheus/tests/obsgen-<group>_test.yaml (raw flavour, not in agent
// mode, where Prometheus evaluates no rules).
package rules

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/yamlwriter"
)

// Folders of the rule and test files.
const (
	RulesDir = "prometheus/rules/"
	TestsDir = "prometheus/tests/"
)

// EvaluationInterval of the unit tests; input series are 1m apart.
const EvaluationInterval = "1m"

// Files returns the rule files of the plan and their groups, in order,
// with the profile's knobs applied (see knobs.go).
func Files(p *plan.Plan) []File {
	files, _ := filesAndNames(p)
	return files
}

// filesAndNames is Files, and the names of the alerts, rule groups and
// rule files the plan's catalogue holds before the knobs apply: what
// alerting.disable and the overrides can name to some effect.
func filesAndNames(p *plan.Plan) ([]File, map[string]bool) {
	files := catalogue(p, baseFixture(p, nil))
	names := map[string]bool{}
	for _, f := range files {
		names[f.Name] = true
		for _, g := range f.Groups {
			names[g.Name] = true
			for _, r := range g.Rules {
				if r.Alert != "" {
					names[r.Alert] = true
				}
			}
		}
	}
	files = applyKnobs(p, files)
	files = splitGroups(files, MaxGroupRules)
	for _, f := range files {
		addRunbooks(p, f.Groups)
	}
	return files, names
}

// catalogue builds every rule file on the fixture f.
func catalogue(p *plan.Plan, f fixture) []File {
	files := fixtureFiles(p, f)
	if p.Mesh.Istio {
		if slos := sloGroups(p); len(slos) > 0 {
			files = append(files, File{Name: "obsgen-slos", Groups: slos})
		}
	}
	return files
}

// fixtureFiles are the rule files whose rules and tests depend on the
// fixture: all but the per-service objectives.
func fixtureFiles(p *plan.Plan, f fixture) []File {
	files := []File{
		{Name: "obsgen-watchdog", Groups: []Group{{Name: "obsgen-watchdog", Rules: []Rule{watchdog(p)}}}},
		{Name: "obsgen-kubernetes-workloads", Groups: []Group{{Name: "obsgen-kubernetes-workloads", Rules: workloadAlerts(f)}}},
		{Name: "obsgen-monitoring", Groups: []Group{{Name: "obsgen-monitoring", Rules: monitoringAlerts(p, f)}}},
	}
	if p.Mesh.Istio {
		files = append(files,
			File{Name: "obsgen-istio-services", Groups: []Group{{Name: "obsgen-istio-services", Rules: append(serviceRecordings(p), trafficAlerts(p, f)...)}}},
			File{Name: "obsgen-istio-control-plane", Groups: []Group{{Name: "obsgen-istio-control-plane", Rules: controlPlaneAlerts(p)}}},
		)
		if len(p.Mesh.Gateways) > 0 {
			files = append(files, File{Name: "obsgen-istio-gateways", Groups: []Group{{Name: "obsgen-istio-gateways", Rules: gatewayAlerts(p, f)}}})
		}
	}
	return files
}

// MaxGroupRules is the most rules a group holds: the Mimir ruler refuses
// larger groups by default (-ruler.max-rules-per-rule-group, 20;
// grafana/mimir pkg/util/validation/limits.go).
const MaxGroupRules = 20

// splitGroups cuts groups longer than max into consecutive groups named
// <name>, <name>-2, ... A rule reading a recording of an earlier part
// sees it one evaluation late, as any rule reading another group does.
func splitGroups(files []File, max int) []File {
	for fi, f := range files {
		var groups []Group
		for _, g := range f.Groups {
			for part, lo := 1, 0; lo < len(g.Rules); part, lo = part+1, lo+max {
				name := g.Name
				if part > 1 {
					name += "-" + strconv.Itoa(part)
				}
				groups = append(groups, Group{Name: name, Rules: g.Rules[lo:min(lo+max, len(g.Rules))]})
			}
		}
		files[fi].Groups = groups
	}
	return files
}

// addRunbooks points every alert's runbook_url at the profile's base.
func addRunbooks(p *plan.Plan, groups []Group) {
	urls := map[string]string{}
	for gi := range groups {
		for ri := range groups[gi].Rules {
			r := &groups[gi].Rules[ri]
			if r.Alert == "" {
				continue
			}
			url, ok := urls[r.Alert]
			if !ok {
				url = p.Monitoring.RunbookBaseURL + strings.ToLower(r.Alert)
				urls[r.Alert] = url
			}
			anns := make(map[string]string, len(r.Annotations)+1)
			maps.Copy(anns, r.Annotations)
			anns["runbook_url"] = url
			r.Annotations = anns
		}
	}
}

// Evaluated tells whether obsgen's recording rules run anywhere (a
// Prometheus server or a ruler), so dashboards can read them.
func Evaluated(p *plan.Plan) bool {
	return p.Rules.Recorded()
}

// Folders of the ruler's rule files and tests, and the Mimir ruler's
// namespace file.
const (
	RulerRulesDir = "ruler/rules/"
	RulerTestsDir = "ruler/tests/"
	MimirDir      = "ruler/mimir/"
)

// EvaluatorLabel tells which evaluator a PrometheusRule is for.
const EvaluatorLabel = plan.EvaluatorLabel

// layout is where one evaluator's files go.
type layout struct {
	rulesDir, testsDir string
	raw                bool
	// prometheusRule is the path of a rule file's PrometheusRule, "" for
	// none; evaluator is its EvaluatorLabel.
	prometheusRule func(name string) string
	evaluator      string
}

// ship is how the cluster's kustomization ships the layout's files: a
// Prometheus server's rule files in its rules ConfigMap and its
// PrometheusRules as resources; a central ruler's not at all, they are
// applied where the ruler runs.
func (l layout) ship(f output.File) output.File {
	switch {
	case l.evaluator != plan.EvaluatorPrometheus:
		f.Ship.As = output.ShipNot
	case !f.Manifest:
		f.Ship.As = output.ShipPrometheusRules
	}
	return f
}

// Generate writes, for each evaluator, its rule files and their unit tests
// and, in the operator flavour, a PrometheusRule per rule file: the
// Prometheus servers' (prometheus/, operator/) and the ruler's (ruler/,
// with a Mimir namespace file for mimirtool rules sync).
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	return Write(p, &built.Objects{})
}

// Write writes the rule files and tells objs which alerts read each scrape
// job (Alertmanager's TargetDown inhibitions).
func Write(p *plan.Plan, objs *built.Objects) ([]output.File, error) {
	if !p.Rules.Recorded() {
		return nil, nil
	}
	catalogue, names := filesAndNames(p)
	deps, err := JobDependents(p, catalogue)
	if err != nil {
		return nil, err
	}
	objs.JobDependents = deps
	objs.Catalogued = names
	m := p.Monitoring
	placed := Place(p, catalogue)
	server := layout{rulesDir: RulesDir, testsDir: TestsDir, raw: m.RawFlavour, evaluator: plan.EvaluatorPrometheus}
	if m.OperatorFlavour {
		server.prometheusRule = PrometheusRulePath
	}
	files, _, err := evaluatorFiles(p, placed.Server, server)
	if err != nil {
		return nil, err
	}
	if !p.Rules.Ruler() {
		return files, nil
	}
	// The ruler's rule files are written in every flavour: its tests read
	// them, and `thanos rule --rule-file` or a Cortex ruler loads them.
	ruler := layout{rulesDir: RulerRulesDir, testsDir: RulerTestsDir, raw: true, evaluator: p.Rules.Global}
	if m.OperatorFlavour && p.Rules.Global == plan.EvaluatorThanosRuler {
		ruler.prometheusRule = RulerPrometheusRulePath
	}
	more, bodies, err := evaluatorFiles(p, placed.Ruler, ruler)
	if err != nil {
		return nil, err
	}
	files = append(files, more...)
	if p.Rules.Global == plan.EvaluatorMimirRuler && len(placed.Ruler) > 0 {
		mimir, err := mimirNamespaceFile(p.Rules.MimirNamespace, bodies)
		if err != nil {
			return nil, err
		}
		files = append(files, mimir)
	}
	return files, nil
}

// MimirNamespacePath is where the Mimir ruler's namespace file goes.
func MimirNamespacePath(namespace string) string { return MimirDir + namespace + ".yaml" }

// mimirNamespaceFile holds every group of the ruler in one namespace, in
// mimirtool's rule-file format (a `namespace` key next to `groups`;
// grafana/mimir pkg/mimirtool/rules/rwrulefmt). Load it with
// `mimirtool rules sync --rule-files=<file> --namespaces=<namespace>`,
// which leaves the tenant's other namespaces alone.
func mimirNamespaceFile(namespace string, bodies [][]byte) (output.File, error) {
	// Each body is its rule file's YAML after the header: `groups:` and
	// the groups' items, so the namespace's groups are the items of every
	// body in order, the same bytes a rendering of all groups at once
	// makes, without rendering them a second time
	// (TestMimirNamespaceFileHoldsTheRulerRules, and out/'s golden).
	const groupsKey = "groups:\n"
	size := 64 + len(namespace)
	for _, b := range bodies {
		size += len(b) - len(groupsKey)
	}
	w := newWriter(size)
	w.field(0, "namespace", namespace)
	w.b = append(w.b, groupsKey...)
	for _, b := range bodies {
		items, ok := bytes.CutPrefix(b, []byte(groupsKey))
		if !ok {
			return output.File{}, fmt.Errorf("%s: a rule file does not start with its groups", MimirNamespacePath(namespace))
		}
		w.b = append(w.b, items...)
	}
	return w.file(MimirNamespacePath(namespace)), nil
}

// evaluatorFiles writes one evaluator's rule files, PrometheusRules and
// tests, and returns with them each rule file's YAML after the header.
func evaluatorFiles(p *plan.Plan, ruleFiles []File, l layout) ([]output.File, [][]byte, error) {
	var files []output.File
	bodies := make([][]byte, len(ruleFiles))
	for i, rf := range ruleFiles {
		w := ruleFileYAML(rf)
		bodies[i] = w.b[len(output.Header):]
		if l.prometheusRule != nil {
			f, err := prometheusRule(p, rf.Name, l, bodies[i])
			if err != nil {
				return nil, nil, err
			}
			files = append(files, l.ship(f))
		}
		if l.raw {
			files = append(files, l.ship(w.file(l.rulesDir+rf.Name+".yaml")))
		}
	}
	if !l.raw {
		return files, bodies, nil
	}
	needs := neededFiles(ruleFiles)
	e := newExpander(p)
	for i, rf := range ruleFiles {
		w, err := testFileYAML(e, rf, needs[i])
		if err != nil {
			return nil, nil, err
		}
		if w != nil {
			files = append(files, w.file(l.testsDir+rf.Name+"_test.yaml"))
		}
	}
	return files, bodies, nil
}

// objectName makes a DNS-1123 subdomain of name, as Kubernetes object
// names must be: lower case, characters other than [a-z0-9.-] become '-',
// at most 253 characters, alphanumeric at both ends.
func objectName(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '-' {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b[:min(len(b), 253)]), "-.")
}

// neededFiles lists, per rule file, the paths its unit tests load: the
// file itself and the files that record what its rules read, directly or
// through other recordings. promtool evaluates every loaded rule at every
// step of a test, so loading only these keeps the tests fast.
func neededFiles(files []File) [][]string {
	recordedIn := map[string]int{}
	for i, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recordedIn[r.Record] = i
				}
			}
		}
	}
	reads := make([]map[int]bool, len(files))
	// Rules of one name share their shape (see JobDependents): the first
	// of each name tells what they all read.
	namesOf := map[string][]string{}
	for i, f := range files {
		reads[i] = map[int]bool{}
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				names, seen := namesOf[r.Record+r.Alert]
				if !seen {
					names, _ = metricNames(r.Expr) // the catalogue's expressions parse (tested)
					namesOf[r.Record+r.Alert] = names
				}
				for _, n := range names {
					n, _, _ = strings.Cut(n, "@") // metric@job
					if j, ok := recordedIn[n]; ok && j != i {
						reads[i][j] = true
					}
				}
			}
		}
	}
	out := make([][]string, len(files))
	for i := range files {
		need := map[int]bool{i: true}
		for queue := []int{i}; len(queue) > 0; queue = queue[1:] {
			for j := range reads[queue[0]] {
				if !need[j] {
					need[j] = true
					queue = append(queue, j)
				}
			}
		}
		for j, f := range files { // in the files' order
			if need[j] {
				out[i] = append(out[i], "../rules/"+f.Name+".yaml")
			}
		}
	}
	return out
}

// PrometheusRulePath is where the operator flavour's PrometheusRule of a
// rule file goes.
func PrometheusRulePath(name string) string { return "operator/prometheusrule-" + name + ".yaml" }

// RulerPrometheusRulePath is where the PrometheusRule of a Thanos Ruler's
// rule file goes.
func RulerPrometheusRulePath(name string) string { return "ruler/prometheusrule-" + name + ".yaml" }

// prometheusRule wraps a rule file's groups (groups: ...) in a
// PrometheusRule that the evaluator selects by the profile label and the
// evaluator label: the spec is the rule file, indented.
func prometheusRule(p *plan.Plan, name string, l layout, ruleFile []byte) (output.File, error) {
	meta := manifest.Meta(p, name)
	meta.Labels[EvaluatorLabel] = l.evaluator
	if l.evaluator != plan.EvaluatorPrometheus {
		// A central ruler loads the rules of many clusters: the name says
		// which, and the namespace is the ruler's, chosen where they are
		// applied (they are not in this cluster's kustomization).
		meta.Name, meta.Namespace = objectName("obsgen-"+p.Cluster.Name+"-"+strings.TrimPrefix(name, "obsgen-")), ""
	}
	pr := &monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: meta,
	}
	f, err := manifest.File(l.prometheusRule(name), pr)
	if err != nil {
		return f, err
	}
	f.Data = indentInto(append(f.Data, "spec:\n"...), ruleFile)
	return f, nil
}

// indentInto appends src to dst with every non-empty line indented by two
// spaces, in one allocation (rule files of large profiles run to tens of
// megabytes).
func indentInto(dst, src []byte) []byte {
	out := make([]byte, len(dst), len(dst)+len(src)+2*bytes.Count(src, []byte("\n"))+2)
	copy(out, dst)
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i+1], src[i+1:]
		} else {
			src = nil
		}
		if len(line) > 1 || line[0] != '\n' {
			out = append(out, "  "...)
		}
		out = append(out, line...)
	}
	return out
}

// ruleFileYAML writes a rule file (the shape of ruleFile). The files load
// in Prometheus (the tests check every example with rulefmt and promtool
// check rules).
func ruleFileYAML(rf File) *writer {
	total := 0
	for _, g := range rf.Groups {
		total += len(g.Rules)
	}
	w := newWriter(4096)
	w.b = append(w.b, "groups:\n"...)
	done := 0
	for _, g := range rf.Groups {
		w.reserve(done, len(g.Rules), total-done)
		done += len(g.Rules)
		w.item(2, "name")
		w.value(4, g.Name)
		w.key(4, "rules")
		if len(g.Rules) == 0 {
			w.b = append(w.b, " []\n"...)
			continue
		}
		w.b = append(w.b, '\n')
		for _, r := range g.Rules {
			w.rule(6, r)
		}
	}
	return w
}

// rule writes a rule as an item of a sequence whose dashes stand at col.
func (w *writer) rule(col int, r Rule) {
	first := true
	key := func(k string) {
		if first {
			w.item(col, k)
			first = false
		} else {
			w.key(col+2, k)
		}
	}
	if r.Record != "" {
		key("record")
		w.value(col+2, r.Record)
	}
	if r.Alert != "" {
		key("alert")
		w.value(col+2, r.Alert)
	}
	key("expr")
	w.value(col+2, r.Expr)
	if r.For != "" {
		w.field(col+2, "for", r.For)
	}
	if len(r.Labels) > 0 {
		w.key(col+2, "labels")
		w.mapping(col+4, r.Labels)
	}
	if len(r.Annotations) > 0 {
		w.key(col+2, "annotations")
		w.mapping(col+4, r.Annotations)
	}
}

// testFileYAML writes the unit tests of a rule file's alerts (the shape of
// testFile), or nil when it has no alert.
func testFileYAML(e *expander, rf File, ruleFiles []string) (*writer, error) {
	alerts, total := 0, 0
	for _, g := range rf.Groups {
		total += len(g.Rules)
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts++
			}
		}
	}
	if alerts == 0 {
		return nil, nil
	}
	w := newWriter(4096)
	w.testHead(ruleFiles)
	done := 0
	for _, g := range rf.Groups {
		w.reserve(done, len(g.Rules), total-done)
		done += len(g.Rules)
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if r.Test == nil {
				return nil, fmt.Errorf("alert %s has no unit test", r.Alert)
			}
			name := r.Alert
			if sev := r.Labels["severity"]; sev != "" {
				name += " (" + sev + ")"
			}
			if svc := r.Labels["service"]; svc != "" {
				name += " " + r.Labels["team"] + "/" + svc + " " + r.Labels["slo"]
			}
			if err := w.testGroup(e, name+" fires", r, r.Test.Fire, true); err != nil {
				return nil, err
			}
			if r.Test.AlwaysFires {
				continue
			}
			if err := w.testGroup(e, name+" stays quiet", r, r.Test.Quiet, false); err != nil {
				return nil, err
			}
			for i, c := range r.Test.AlsoQuiet {
				if err := w.testGroup(e, fmt.Sprintf("%s stays quiet (%d)", name, i+2), r, c, false); err != nil {
					return nil, err
				}
			}
		}
	}
	return w, nil
}

// testHead writes a test file's rule files and evaluation interval, and
// opens its tests.
func (w *writer) testHead(ruleFiles []string) {
	w.key(0, "rule_files")
	if len(ruleFiles) == 0 {
		w.b = append(w.b, " []\n"...)
	} else {
		w.b = append(w.b, '\n')
		for _, f := range ruleFiles {
			w.indent(2)
			w.b = append(w.b, '-')
			w.value(2, f)
		}
	}
	w.field(0, "evaluation_interval", EvaluationInterval)
	w.b = append(w.b, "tests:\n"...)
}

// testGroup writes one test of an alert: a case's input series and, for
// the firing case, its expected alerts with the rule's labels and the
// annotations Prometheus' template engine expands for them.
func (w *writer) testGroup(e *expander, name string, r Rule, c Case, fire bool) error {
	w.item(2, "name")
	w.value(4, name)
	w.field(4, "interval", "1m")
	w.key(4, "input_series")
	if len(c.Series) == 0 {
		w.b = append(w.b, " []\n"...)
	} else {
		w.b = append(w.b, '\n')
		for _, s := range c.Series {
			w.item(6, "series")
			w.value(8, s.Series)
			w.field(8, "values", s.Values)
		}
	}
	w.key(4, "alert_rule_test")
	w.b = append(w.b, '\n')
	w.item(6, "eval_time")
	w.value(8, c.At)
	w.field(8, "alertname", r.Alert)
	w.key(8, "exp_alerts")
	if !fire || len(c.Expect) == 0 {
		w.b = append(w.b, " []\n"...)
		return nil
	}
	w.b = append(w.b, '\n')
	for _, exp := range c.Expect {
		labels, err := expandLabels(e, r, exp)
		if err != nil {
			return err
		}
		w.item(10, "exp_labels")
		w.merged(14, labels, exp)
		w.key(12, "exp_annotations")
		if len(r.Annotations) == 0 {
			w.b = append(w.b, " {}\n"...)
			continue
		}
		w.b = append(w.b, '\n')
		var arr [8]string
		keys := arr[:0]
		for k := range r.Annotations {
			keys = append(keys, k)
		}
		yamlwriter.SortKeys(keys)
		for _, k := range keys {
			v, err := e.expand(r.Alert+"/"+k, r.Annotations[k], exp)
			if err != nil {
				return err
			}
			w.entry(14, k, v)
		}
	}
	return nil
}

// expandLabels are the rule's labels as an alert of series carries them:
// Prometheus expands each label's template with the series' labels as
// $labels (rules/alerting.go, Eval), the rule's own labels not among them.
func expandLabels(e *expander, r Rule, series map[string]string) (map[string]string, error) {
	var out map[string]string
	for k, v := range r.Labels {
		if !strings.Contains(v, "{{") {
			continue
		}
		if out == nil {
			out = maps.Clone(r.Labels)
		}
		x, err := e.expand(r.Alert+"/label "+k, v, series)
		if err != nil {
			return nil, err
		}
		out[k] = x
	}
	if out == nil {
		return r.Labels, nil
	}
	return out, nil
}

// merged writes at column col the labels of first and, unless first has
// them, of second, as the mapping of their union.
func (w *writer) merged(col int, first, second map[string]string) {
	var arr [16]string
	keys := arr[:0]
	for k := range first {
		keys = append(keys, k)
	}
	for k := range second {
		if _, ok := first[k]; !ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		w.b = append(w.b, " {}\n"...)
		return
	}
	w.b = append(w.b, '\n')
	yamlwriter.SortKeys(keys)
	for _, k := range keys {
		v, ok := first[k]
		if !ok {
			v = second[k]
		}
		w.entry(col, k, v)
	}
}

// labelString writes {k="v", ...} sorted by name.
func labelString(l map[string]string) string {
	var arr [16]plan.Label
	labels := arr[:0]
	for k, v := range l {
		labels = append(labels, plan.Label{Name: k, Value: v})
	}
	slices.SortFunc(labels, func(a, b plan.Label) int { return strings.Compare(a.Name, b.Name) })
	return labelList(labels)
}

// labelList writes {k="v", ...} in the labels' order.
func labelList(labels plan.Labels) string {
	n := 2
	for _, l := range labels {
		n += len(l.Name) + len(l.Value) + 5
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('{')
	var buf [64]byte
	for i, l := range labels {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.Write(strconv.AppendQuote(buf[:0], l.Value))
	}
	b.WriteByte('}')
	return b.String()
}
