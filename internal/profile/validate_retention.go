package profile

import (
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// retention checks that Prometheus keeps the history its rules read
// (plan.RuleLookback), and warns when the operator flavour keeps more than
// a day of it on an emptyDir.
func (v *validator) retention() {
	const path = "monitoring.prometheus"
	m := v.p.Monitoring
	pr := m.Prometheus
	agent := pr.Mode == v1alpha1.ModeAgent
	lookback := plan.RuleLookback(v.p)
	keeps := lookback
	if pr.Retention != "" {
		switch d := v.duration(path+".retention", pr.Retention); {
		case d == 0:
		case agent:
			v.at(path+".retention", "remove it: an agent sends its samples on and keeps only its write-ahead log",
				"an agent keeps no samples to retain")
		case time.Duration(d) < lookback:
			v.at(path+".retention", "set it to "+model.Duration(lookback).String()+" or more, or remove it and obsgen sets that",
				"Prometheus would keep %s, less than the %s of history the rules it evaluates read (%s): those rules would quietly answer from the data left",
				pr.Retention, model.Duration(lookback), plan.LookbackReason(lookback))
		default:
			keeps = time.Duration(d)
		}
	}
	if s := pr.Storage; s != nil {
		if s.Size == "" {
			v.at(path+".storage.size", "set what each Prometheus pod claims, such as 50Gi", "missing")
		} else if q, err := resource.ParseQuantity(s.Size); err != nil || q.Sign() <= 0 {
			v.at(path+".storage.size", "use a Kubernetes quantity such as 50Gi", "invalid size %q", s.Size)
		}
		if s.StorageClassName != "" {
			if errs := validation.IsDNS1123Subdomain(s.StorageClassName); len(errs) > 0 {
				v.at(path+".storage.storageClassName", "", "invalid StorageClass name %q: %s", s.StorageClassName, errs[0])
			}
		}
		return
	}
	if !agent && slices.Contains(m.Flavours, v1alpha1.FlavourOperator) && keeps > plan.OperatorDefaultRetention {
		why := plan.LookbackReason(lookback)
		if pr.Retention != "" {
			why = "monitoring.prometheus.retention"
		}
		v.warnAt(path+".storage", "give Prometheus a persistent volume: storage: {size: 50Gi}",
			"the operator flavour's Prometheus keeps %s of samples (%s) on an emptyDir: every new Prometheus pod (a rollout, an eviction, a node drain) starts empty",
			model.Duration(keeps), why)
	}
}
