package plan

import (
	"maps"
	"slices"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// DefaultGroupBy are the labels Alertmanager groups by unless the profile
// says otherwise: one notification per alert, team and namespace.
var DefaultGroupBy = []string{"alertname", "team", "namespace"}

// Alerting is the resolved alerting section.
type Alerting struct {
	// PlatformTeam owns the cluster-wide alerts.
	PlatformTeam      string
	Receiver          string
	SeverityReceivers Labels
	GroupBy           []string
	GroupWait         string
	GroupInterval     string
	RepeatInterval    string
	// Labels are added to every alert.
	Labels Labels
	// Disabled holds the names of disabled alerts and rule groups.
	Disabled []string
	// Overrides change an alert (by name) for every team.
	Overrides map[string]Override
}

// Override changes an alert's threshold (nil keeps it) or `for` ("" keeps
// it).
type Override struct {
	Threshold *float64
	For       string
}

func resolveAlerting(a v1alpha1.Alerts) Alerting {
	out := Alerting{
		PlatformTeam: a.PlatformTeam, Receiver: a.Receiver, SeverityReceivers: SortedLabels(a.SeverityReceivers),
		GroupBy: slices.Clone(a.GroupBy), GroupWait: a.GroupWait, GroupInterval: a.GroupInterval, RepeatInterval: a.RepeatInterval,
		Labels: SortedLabels(a.Labels), Disabled: sortedCopy(a.Disable), Overrides: overrides(a.Overrides),
	}
	if out.Receiver == "" {
		out.Receiver = out.PlatformTeam
	}
	if len(out.GroupBy) == 0 {
		out.GroupBy = slices.Clone(DefaultGroupBy)
	}
	return out
}

func overrides(in map[string]v1alpha1.AlertOverride) map[string]Override {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]Override, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) {
		o := in[name]
		out[name] = Override{Threshold: o.Threshold, For: o.For}
	}
	return out
}
