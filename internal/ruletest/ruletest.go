// Package ruletest runs promtool's rule unit tests in process with the
// Prometheus libraries obsgen links against (promqltest's lazy loader and
// the rules manager), as cmd/promtool's unittest.go does: input series are
// loaded step by step, every rule group is evaluated at every evaluation
// step, and at each eval_time the firing alerts (labels and expanded
// annotations) must be exactly the expected ones. It serves obsgen's tests
// next to the real promtool binary; it imports promqltest and so testing.
package ruletest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	yaml "go.yaml.in/yaml/v3"
)

// File is a promtool test file (the subset obsgen writes).
type File struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	Tests              []Group        `yaml:"tests"`
}

// Group is one test group.
type Group struct {
	Name        string          `yaml:"name"`
	Interval    model.Duration  `yaml:"interval"`
	InputSeries []Series        `yaml:"input_series"`
	AlertTests  []AlertTestCase `yaml:"alert_rule_test"`
}

// Series is an input series.
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTestCase expects the firing alerts of a name at a time.
type AlertTestCase struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	} `yaml:"exp_alerts"`
}

// RunFile runs every test group of a test file and returns the names of
// the groups that passed and the failures.
func RunFile(path string) (passed []string, failures []error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{err}
	}
	var f File
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, []error{fmt.Errorf("%s: %w", path, err)}
	}
	if f.EvaluationInterval == 0 {
		f.EvaluationInterval = model.Duration(time.Minute)
	}
	var ruleFiles []string
	for _, rf := range f.RuleFiles {
		ruleFiles = append(ruleFiles, filepath.Join(filepath.Dir(path), rf))
	}
	for _, g := range f.Tests {
		if errs := runGroup(g, time.Duration(f.EvaluationInterval), ruleFiles); len(errs) > 0 {
			for _, e := range errs {
				failures = append(failures, fmt.Errorf("%s: %s: %w", filepath.Base(path), g.Name, e))
			}
			continue
		}
		passed = append(passed, g.Name)
	}
	return passed, failures
}

func runGroup(g Group, evalInterval time.Duration, ruleFiles []string) []error {
	interval := time.Duration(g.Interval)
	if interval == 0 {
		interval = evalInterval
	}
	var load strings.Builder
	fmt.Fprintf(&load, "load %s\n", model.Duration(interval))
	for _, s := range g.InputSeries {
		fmt.Fprintf(&load, "  %s %s\n", s.Series, s.Values)
	}
	suite, err := promqltest.NewLazyLoader(load.String(), promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true})
	if err != nil {
		return []error{err}
	}
	defer suite.Close()
	suite.SubqueryInterval = evalInterval
	groupMap, errs := loadGroups(suite, evalInterval, ruleFiles)
	if len(errs) > 0 {
		return errs
	}
	// Groups in file and name order, as promtool without group_eval_order.
	var groups []*rules.Group
	for _, k := range slices.Sorted(maps.Keys(groupMap)) {
		groups = append(groups, groupMap[k])
	}
	restored(groups)
	var maxEval time.Duration
	for _, at := range g.AlertTests {
		maxEval = max(maxEval, time.Duration(at.EvalTime))
	}
	mint := time.Unix(0, 0).UTC()
	var out []error
	for ts := mint; !ts.After(mint.Add(maxEval)); ts = ts.Add(evalInterval) {
		var evalErr error
		suite.WithSamplesTill(ts, func(err error) {
			if err != nil {
				evalErr = err
				return
			}
			for _, grp := range groups {
				grp.Eval(suite.Context(), ts)
				for _, r := range grp.Rules() {
					if r.LastError() != nil && evalErr == nil {
						evalErr = fmt.Errorf("rule %s at %s: %w", r.Name(), ts.Sub(mint), r.LastError())
					}
				}
			}
		})
		if evalErr != nil {
			return append(out, evalErr)
		}
		for _, at := range g.AlertTests {
			t := time.Duration(at.EvalTime)
			if t < ts.Sub(mint) || t >= ts.Add(evalInterval).Sub(mint) {
				continue
			}
			if err := compare(at, firing(groups, at.Alertname)); err != nil {
				out = append(out, fmt.Errorf("%s at %s: %w", at.Alertname, at.EvalTime, err))
			}
		}
	}
	return out
}

// firing lists the firing alerts of a name as sorted label and annotation
// strings.
func firing(groups []*rules.Group, name string) []string {
	var out []string
	for _, grp := range groups {
		for _, r := range grp.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok || ar.Name() != name {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					out = append(out, a.Labels.String()+" "+a.Annotations.String())
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func compare(at AlertTestCase, got []string) error {
	var want []string
	for _, e := range at.ExpAlerts {
		l := maps.Clone(e.ExpLabels)
		if l == nil {
			l = map[string]string{}
		}
		l["alertname"] = at.Alertname
		want = append(want, labels.FromMap(l).String()+" "+labels.FromMap(e.ExpAnnotations).String())
	}
	slices.Sort(want)
	if !slices.Equal(want, got) {
		return fmt.Errorf("\n  want %q\n  got  %q", want, got)
	}
	return nil
}

// Query evaluates an instant query at the end of an evaluation.
type Query func(expr string) (promql.Vector, error)

// Evaluate loads the input series (1m apart), evaluates every group of the
// rule files every evalInterval up to until, as Prometheus would, and then
// calls check with a query function at until: what a dashboard reading
// the evaluator's store would see, ALERTS among it.
func Evaluate(ruleFiles []string, series []Series, evalInterval, until time.Duration, check func(Query)) error {
	var load strings.Builder
	load.WriteString("load 1m\n")
	for _, s := range series {
		fmt.Fprintf(&load, "  %s %s\n", s.Series, s.Values)
	}
	suite, err := promqltest.NewLazyLoader(load.String(), promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true})
	if err != nil {
		return err
	}
	defer suite.Close()
	groupMap, errs := loadGroups(suite, evalInterval, ruleFiles)
	if len(errs) > 0 {
		return errs[0]
	}
	var groups []*rules.Group
	for _, k := range slices.Sorted(maps.Keys(groupMap)) {
		groups = append(groups, groupMap[k])
	}
	restored(groups)
	mint := time.Unix(0, 0).UTC()
	var evalErr error
	for ts := mint; !ts.After(mint.Add(until)) && evalErr == nil; ts = ts.Add(evalInterval) {
		suite.WithSamplesTill(ts, func(err error) {
			if err != nil {
				evalErr = err
				return
			}
			for _, grp := range groups {
				grp.Eval(suite.Context(), ts)
			}
			if ts.Add(evalInterval).After(mint.Add(until)) {
				check(func(expr string) (promql.Vector, error) {
					q, err := suite.QueryEngine().NewInstantQuery(suite.Context(), suite.Storage(), nil, expr, ts)
					if err != nil {
						return nil, err
					}
					defer q.Close()
					res := q.Exec(suite.Context())
					if res.Err != nil {
						return nil, res.Err
					}
					v, err := res.Vector()
					if err != nil { // a scalar: one sample
						s, serr := res.Scalar()
						if serr != nil {
							return nil, err
						}
						return promql.Vector{{F: s.V}}, nil
					}
					return v, nil
				})
			}
		})
	}
	return evalErr
}

// restored marks every alerting rule as restored from the state of a
// previous run, as promtool does: until then a rule writes no ALERTS
// series.
func restored(groups []*rules.Group) {
	for _, grp := range groups {
		for _, r := range grp.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				ar.SetRestored(true)
			}
		}
	}
}

// loadGroups loads the rule files into a rules manager that evaluates on
// the suite's storage, as promtool's unit tests do.
func loadGroups(suite *promqltest.LazyLoader, evalInterval time.Duration, ruleFiles []string) (map[string]*rules.Group, []error) {
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:  rules.EngineQueryFunc(suite.QueryEngine(), suite.Storage()),
		Appendable: suite.Storage(),
		Context:    context.Background(),
		NotifyFunc: func(context.Context, string, ...*rules.Alert) {},
		Logger:     promslog.NewNopLogger(),
		Parser:     parser.NewParser(parser.Options{}),
	})
	return m.LoadGroups(evalInterval, labels.EmptyLabels(), "", nil, false, ruleFiles...)
}
