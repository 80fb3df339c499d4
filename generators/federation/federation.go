// Package federation prepares a cluster's Prometheus for a global one, as
// Istio recommends: recording rules that aggregate the Istio standard
// metrics to workload level (a rule file, and a PrometheusRule for the
// operator flavour), and the /federate job the global Prometheus adds.
package federation

import (
	"errors"
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/promcheck"
	"obsgen.dev/obsgen/internal/render"
)

// Paths of the federation files.
const (
	RulesPath     = "prometheus/rules/istio-federation.yaml"
	GlobalJobPath = "prometheus/federation/global-scrape-config.yml"
	RulePath      = "operator/prometheusrule-istio-federation.yaml"
)

// Generate writes the federation files when the plan enables federation.
func Generate(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	if p.Federation == nil {
		return nil, nil
	}
	rulesYAML, groups, err := rules(p, r)
	if err != nil {
		return nil, err
	}
	job, err := globalJob(p, r)
	if err != nil {
		return nil, err
	}
	files := []output.File{job}
	if p.Monitoring.RawFlavour {
		files = append(files, output.YAML(RulesPath, rulesYAML).Shipped(output.Ship{As: output.ShipPrometheusRules}))
	}
	if p.Monitoring.OperatorFlavour {
		f, err := manifest.File(RulePath, prometheusRule(p, groups))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// rules renders the recording rules and parses them as Prometheus does.
func rules(p *plan.Plan, r *render.Engine) ([]byte, *rulefmt.RuleGroups, error) {
	data, err := r.Render("prometheus/rules/istio-federation.yaml.tmpl", p)
	if err != nil {
		return nil, nil, err
	}
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("%s is not a valid rule file: %w", RulesPath, errors.Join(errs...))
	}
	return data, groups, nil
}

func globalJob(p *plan.Plan, r *render.Engine) (output.File, error) {
	data, err := r.Render("prometheus/federation/global-scrape-config.yml.tmpl", p)
	if err != nil {
		return output.File{}, err
	}
	if err := promcheck.ScrapeConfigs(data); err != nil {
		return output.File{}, fmt.Errorf("%s is not a valid list of Prometheus scrape configs: %w", GlobalJobPath, err)
	}
	return output.YAML(GlobalJobPath, data), nil
}

// prometheusRule carries the same groups for the operator flavour.
func prometheusRule(p *plan.Plan, groups *rulefmt.RuleGroups) *monitoringv1.PrometheusRule {
	spec := monitoringv1.PrometheusRuleSpec{}
	for _, g := range groups.Groups {
		rg := monitoringv1.RuleGroup{Name: g.Name}
		for _, rule := range g.Rules {
			rg.Rules = append(rg.Rules, monitoringv1.Rule{Record: rule.Record, Expr: intstr.FromString(rule.Expr)})
		}
		spec.Groups = append(spec.Groups, rg)
	}
	// The Prometheus resource evaluates these (plan.EvaluatorLabel): the
	// global Prometheus federates them from each server.
	meta := manifest.Meta(p, "istio-federation")
	meta.Labels[plan.EvaluatorLabel] = plan.EvaluatorPrometheus
	return &monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: meta,
		Spec:       spec,
	}
}
