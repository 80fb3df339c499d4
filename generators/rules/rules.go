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
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"
	yaml "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/generators/operator"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
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
	files := catalogue(p, baseFixture(p, nil))
	files = applyKnobs(p, files)
	for fi := range files {
		for gi := range files[fi].Groups {
			addRunbooks(p, &files[fi].Groups[gi])
		}
	}
	return files
}

// catalogue builds every rule file on the fixture f.
func catalogue(p *plan.Plan, f fixture) []File {
	files := []File{
		{Name: "obsgen-kubernetes-workloads", Groups: []Group{{Name: "obsgen-kubernetes-workloads", Rules: workloadAlerts(f)}}},
		{Name: "obsgen-monitoring", Groups: []Group{{Name: "obsgen-monitoring", Rules: monitoringAlerts(p, f)}}},
	}
	if p.Mesh.Istio {
		files = append(files,
			File{Name: "obsgen-istio-services", Groups: []Group{{Name: "obsgen-istio-services", Rules: append(serviceRecordings(), trafficAlerts(p, f)...)}}},
			File{Name: "obsgen-istio-control-plane", Groups: []Group{{Name: "obsgen-istio-control-plane", Rules: controlPlaneAlerts(p)}}},
		)
		if slos := sloGroups(p); len(slos) > 0 {
			files = append(files, File{Name: "obsgen-slos", Groups: slos})
		}
	}
	return files
}

// addRunbooks points every alert's runbook_url at the profile's base.
func addRunbooks(p *plan.Plan, g *Group) {
	for ri := range g.Rules {
		r := &g.Rules[ri]
		if r.Alert != "" {
			r.Annotations = maps.Clone(r.Annotations)
			r.Annotations["runbook_url"] = p.Monitoring.RunbookBaseURL + strings.ToLower(r.Alert)
		}
	}
}

// Evaluated tells whether Prometheus evaluates obsgen's rules: on a server
// (an agent evaluates none), from the raw rule files or the operator
// flavour's PrometheusRules. Dashboards read the recordings only then.
func Evaluated(p *plan.Plan) bool {
	m := p.Monitoring
	return !m.Prometheus.Agent && (m.RawFlavour || m.OperatorFlavour)
}

// Generate writes the rule files and their tests (raw flavour), and a
// PrometheusRule per rule file (operator flavour).
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	m := p.Monitoring
	if !Evaluated(p) {
		return nil, nil
	}
	ruleFiles := Files(p)
	var files []output.File
	var paths []string
	for _, rf := range ruleFiles {
		data, err := ruleFileYAML(rf)
		if err != nil {
			return nil, err
		}
		if m.RawFlavour {
			files = append(files, output.YAML(RulesDir+rf.Name+".yaml", data))
			paths = append(paths, "../rules/"+rf.Name+".yaml")
		}
		if m.OperatorFlavour {
			f, err := prometheusRule(p, rf.Name, data)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	if !m.RawFlavour {
		return files, nil
	}
	for _, rf := range ruleFiles {
		data, err := testFileYAML(p, rf, paths)
		if err != nil {
			return nil, err
		}
		if data != nil {
			files = append(files, output.YAML(TestsDir+rf.Name+"_test.yaml", data))
		}
	}
	return files, nil
}

// PrometheusRulePath is where the operator flavour's PrometheusRule of a
// rule file goes.
func PrometheusRulePath(name string) string { return "operator/prometheusrule-" + name + ".yaml" }

// prometheusRule wraps a rule file's groups (groups: ...) in a
// PrometheusRule the Prometheus resource selects by the profile label: the
// spec is the rule file, indented.
func prometheusRule(p *plan.Plan, name string, ruleFile []byte) (output.File, error) {
	pr := &monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: operator.Meta(p, name),
	}
	f, err := operator.Manifest(PrometheusRulePath(name), pr)
	if err != nil {
		return f, err
	}
	f.Data = append(f.Data, "spec:\n"+render.IndentLines(2, strings.TrimSuffix(string(ruleFile), "\n"))+"\n"...)
	return f, nil
}

// ruleFileYAML writes a rule file, one group at a time: yaml.v3's
// emitter slows down on very large documents. The files load in Prometheus
// (the tests check every example with rulefmt and promtool check rules).
func ruleFileYAML(rf File) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("groups:\n")
	for _, g := range rf.Groups {
		gy := groupYAML{Name: g.Name}
		for _, r := range g.Rules {
			gy.Rules = append(gy.Rules, ruleYAML{Record: r.Record, Alert: r.Alert, Expr: r.Expr, For: r.For, Labels: r.Labels, Annotations: r.Annotations})
		}
		data, err := marshal([]groupYAML{gy})
		if err != nil {
			return nil, fmt.Errorf("rule group %s: %w", g.Name, err)
		}
		buf.WriteString(render.IndentLines(2, string(data)) + "\n")
	}
	return buf.Bytes(), nil
}

// testFileYAML writes the unit tests of a rule file's alerts.
func testFileYAML(p *plan.Plan, rf File, ruleFiles []string) ([]byte, error) {
	tf := testFile{RuleFiles: ruleFiles, EvaluationInterval: EvaluationInterval}
	var rules []Rule
	for _, g := range rf.Groups {
		rules = append(rules, g.Rules...)
	}
	for _, r := range rules {
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
		fire, err := alertTest(p, r, r.Test.Fire)
		if err != nil {
			return nil, err
		}
		tf.Tests = append(tf.Tests,
			testGroupYAML{Name: name + " fires", Interval: "1m", InputSeries: r.Test.Fire.Series, AlertTests: []alertTestYAML{fire}},
			testGroupYAML{Name: name + " stays quiet", Interval: "1m", InputSeries: r.Test.Quiet.Series,
				AlertTests: []alertTestYAML{{EvalTime: r.Test.Quiet.At, AlertName: r.Alert, ExpAlerts: []expAlertYAML{}}}},
		)
	}
	if len(tf.Tests) == 0 {
		return nil, nil
	}
	// The head, then the tests a few at a time (see ruleFileYAML).
	tests := tf.Tests
	tf.Tests = nil
	head, err := marshal(tf)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Write(bytes.Replace(head, []byte("tests: []\n"), []byte("tests:\n"), 1))
	for chunk := range slices.Chunk(tests, 16) {
		data, err := marshal(chunk)
		if err != nil {
			return nil, err
		}
		buf.WriteString(render.IndentLines(2, string(data)) + "\n")
	}
	return buf.Bytes(), nil
}

// alertTest expects the case's alerts with the rule's labels and the
// annotations Prometheus' template engine expands for them.
func alertTest(p *plan.Plan, r Rule, c Case) (alertTestYAML, error) {
	t := alertTestYAML{EvalTime: c.At, AlertName: r.Alert}
	for _, exp := range c.Expect {
		labels := maps.Clone(exp)
		maps.Copy(labels, r.Labels)
		anns := map[string]string{}
		for k, text := range r.Annotations {
			v, err := expand(p, r.Alert+"/"+k, text, labels)
			if err != nil {
				return t, err
			}
			anns[k] = v
		}
		t.ExpAlerts = append(t.ExpAlerts, expAlertYAML{ExpLabels: labels, ExpAnnotations: anns})
	}
	return t, nil
}

// expand renders an annotation template as the rule manager does
// (rules.AlertingRule: the same definitions and template data).
func expand(p *plan.Plan, name, text string, labels map[string]string) (string, error) {
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	data := template.AlertTemplateData(labels, p.ExternalLabels.Map(), "", promql.Sample{})
	te := template.NewTemplateExpander(context.Background(), defs+text, "__alert_"+name, data, 0, nil, &url.URL{}, nil)
	out, err := te.Expand()
	if err != nil {
		return "", fmt.Errorf("annotation %s: %w", name, err)
	}
	return out, nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// labelString writes {k="v", ...} sorted by name.
func labelString(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
