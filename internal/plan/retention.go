package plan

import (
	"time"

	"github.com/prometheus/common/model"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// How much history obsgen's rules read, and so how long Prometheus must
// keep its samples.
//
// A range selector reads the samples of its range back from the
// evaluation time (plus any offset); Prometheus deletes a block once all
// of it is older than the retention (prometheus.io docs/prometheus/latest/
// storage, "Operational aspects"; tsdb/db.go BeyondTimeRetention). A
// Prometheus that keeps less than a rule's range answers that rule from
// the data it still has, without an error: an objective over 30 days
// computed from one day of samples.

// SLOWindowRange is the objectives' window as the rules write it in a
// range selector: the error budget is counted over it (Google SRE
// workbook, "Alerting on SLOs": a 30-day window); SLOWindow is it as a
// duration.
const SLOWindowRange = "30d"

var SLOWindow = windowOf(SLOWindowRange)

// ServiceWindows are the windows of the per-service recording rules:
// what dashboards and the multi-window, multi-burn-rate objective alerts
// read, the longest the long window of the slowest burn rate (Google SRE
// workbook, "Alerting on SLOs": 3 days).
var ServiceWindows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// ServiceWindowsLookback is the longest of ServiceWindows, which the
// service recordings average over: avg_over_time(service:...:rate5m[3d]).
// A test parses every rule each evaluator loads and holds RuleLookback to
// the longest history they read (promql.FindMinMaxTime).
var ServiceWindowsLookback = windowOf(ServiceWindows[len(ServiceWindows)-1])

// CatalogueLookback is the longest range of the other rules:
// predict_linear(kubelet_volume_stats_available_bytes[6h], ...), the
// kubernetes-mixin KubePersistentVolumeFillingUp prediction.
const CatalogueLookback = 6 * time.Hour

func windowOf(w string) time.Duration {
	d, err := model.ParseDuration(w)
	if err != nil {
		panic("plan: invalid window " + w) // a constant above
	}
	return time.Duration(d)
}

// Retention defaults of the engines that keep the samples when nothing
// sets the retention.
const (
	// PrometheusDefaultRetention is Prometheus' own default
	// (--storage.tsdb.retention.time, cmd/prometheus/main.go
	// defaultRetentionDuration).
	PrometheusDefaultRetention = 15 * 24 * time.Hour
	// OperatorDefaultRetention is what the Prometheus Operator runs a
	// Prometheus resource with when it sets neither retention nor
	// retentionSize (pkg/prometheus/common.go DefaultRetention "24h";
	// the Prometheus CRD's spec.retention documentation).
	OperatorDefaultRetention = 24 * time.Hour
)

// RuleLookback is the longest history the rules a Prometheus server
// evaluates read. The objectives and the mesh's service recordings need
// every series, so a server evaluates them only when no ruler does
// (plan.Rules); an agent evaluates nothing: 0.
func RuleLookback(p *v1alpha1.Profile) time.Duration {
	if p.Monitoring.Prometheus.Mode == v1alpha1.ModeAgent {
		return 0
	}
	if resolveRules(p).Global != EvaluatorPrometheus || p.Mesh.Provider != v1alpha1.MeshIstio {
		return CatalogueLookback
	}
	if hasObjectives(p) {
		return SLOWindow
	}
	return ServiceWindowsLookback
}

func hasObjectives(p *v1alpha1.Profile) bool {
	for _, t := range p.Teams {
		for _, s := range t.Services {
			if s.SLOs != nil && (s.SLOs.Availability != nil || s.SLOs.Latency != nil) {
				return true
			}
		}
	}
	return false
}

// retention is the retention to set where the engine's default keeps
// defaultRetention: the profile's, else the rules' lookback when the
// default keeps less, else "" (the default).
func retention(p *v1alpha1.Profile, lookback, defaultRetention time.Duration) string {
	if r := p.Monitoring.Prometheus.Retention; r != "" {
		return r
	}
	if lookback > defaultRetention {
		return model.Duration(lookback).String()
	}
	return ""
}

// Storage is the persistent volume claim of each Prometheus pod.
type Storage struct {
	// Size is the claim's request, a Kubernetes quantity such as 50Gi.
	Size string
	// StorageClassName is the claim's class; "" takes the cluster's
	// default class.
	StorageClassName string
}

func resolveStorage(s *v1alpha1.PrometheusStorage) *Storage {
	if s == nil {
		return nil
	}
	return &Storage{Size: s.Size, StorageClassName: s.StorageClassName}
}

// LookbackReason names the rules that read RuleLookback.
func (p Prometheus) LookbackReason() string {
	return LookbackReason(p.RuleLookback)
}

// LookbackReason names the rules that read a lookback RuleLookback
// returned.
func LookbackReason(lookback time.Duration) string {
	switch lookback {
	case SLOWindow:
		return "the objectives' error budget over " + SLOWindowRange
	case ServiceWindowsLookback:
		return "the mesh's service recordings over up to " + model.Duration(lookback).String()
	}
	return "the catalogue's alerts over up to " + model.Duration(lookback).String()
}

// RawRetentionNote says why the raw flavour's Prometheus needs
// RawRetention; "" when it does not.
func (p Prometheus) RawRetentionNote() string {
	if p.RawRetention == "" {
		return ""
	}
	return "Run Prometheus with --storage.tsdb.retention.time=" + p.RawRetention + " or longer, on a persistent volume" +
		" (from Prometheus 3.11 storage.tsdb.retention.time in this file may set it instead, and wins): the rules read up to " +
		model.Duration(p.RuleLookback).String() + " of history (" + p.LookbackReason() +
		"); Prometheus keeps 15d by default and answers a longer range from what it still has, without an error."
}
