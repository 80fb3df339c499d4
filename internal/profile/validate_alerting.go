package profile

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/prometheus/common/model"

	"obsgen.dev/obsgen/internal/alertcatalog"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// alertNames are every alert obsgen generates, sorted; groupNames its rule
// groups.
var (
	alertNames = func() []string {
		var out []string
		for _, names := range alertcatalog.AlertGroups {
			out = append(out, names...)
		}
		slices.Sort(out)
		return out
	}()
	groupNames = slices.Sorted(maps.Keys(alertcatalog.AlertGroups))
)

// alertingSection checks the profile's alerting section.
func (v *validator) alertingSection() {
	a := v.p.Alerting
	v.dnsLabel("alerting.platformTeam", a.PlatformTeam)
	if v.written("alerting.receiver") && a.Receiver == "" {
		v.at("alerting.receiver", "name an Alertmanager receiver, or leave the field out for the platform team's name", "empty receiver")
	}
	v.severityReceivers("alerting", a.SeverityReceivers)
	for i, l := range a.GroupBy {
		if l != "..." && !model.LabelName(l).IsValidLegacy() {
			v.at(fmt.Sprintf("alerting.groupBy[%d]", i), "use label names such as alertname, team, namespace (or ... for every label)", "invalid label name %q", l)
		}
	}
	v.duration("alerting.groupWait", a.GroupWait)
	v.duration("alerting.groupInterval", a.GroupInterval)
	v.duration("alerting.repeatInterval", a.RepeatInterval)
	v.alertLabels("alerting", a.Labels)
	for i, name := range a.Disable {
		if !slices.Contains(alertNames, name) && !slices.Contains(groupNames, name) {
			v.at(fmt.Sprintf("alerting.disable[%d]", i), hintOr(suggest(name, append(slices.Clone(alertNames), groupNames...)), "see the alert catalogue in docs/alerts.md"),
				"no alert or rule group %q", name)
		}
	}
	v.overrides("alerting.overrides", a.Overrides, false)
}

// teamKnobs checks a team's disable and overrides: only team alerts (whose
// series carry the team label) can be scoped to a team.
func (v *validator) teamKnobs(path string, a v1alpha1.Alerting) {
	for i, name := range a.Disable {
		p := fmt.Sprintf("%s.disable[%d]", path, i)
		switch {
		case !slices.Contains(alertNames, name):
			v.at(p, hintOr(suggest(name, alertcatalog.TeamAlerts), "see the alert catalogue in docs/alerts.md"), "no alert %q", name)
		case !slices.Contains(alertcatalog.TeamAlerts, name):
			v.at(p, "disable it for everyone under alerting.disable", "%s is a platform alert: its series carry no team label", name)
		}
	}
	v.overrides(path+".overrides", a.Overrides, true)
}

func (v *validator) overrides(path string, overrides map[string]v1alpha1.AlertOverride, team bool) {
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		o := overrides[name]
		p := fmt.Sprintf("%s[%q]", path, name)
		switch {
		case !slices.Contains(alertNames, name):
			v.atKey(p, hintOr(suggest(name, alertNames), "see the alert catalogue in docs/alerts.md"), "no alert %q", name)
			continue
		case team && !slices.Contains(alertcatalog.TeamAlerts, name):
			v.atKey(p, "override it for everyone under alerting.overrides", "%s is a platform alert: its series carry no team label", name)
			continue
		case name == "ErrorBudgetBurn":
			v.atKey(p, "tune the service's objective (slos) instead; disable the alert if it does not fit", "the burn rates and windows of ErrorBudgetBurn follow the SRE workbook and cannot be overridden")
			continue
		}
		if o.For != "" {
			v.duration(p+".for", o.For)
		}
		if o.Threshold != nil {
			v.threshold(p+".threshold", name, *o.Threshold)
		}
		if o.For == "" && o.Threshold == nil {
			v.atKey(p, "set threshold and/or for", "the override changes nothing")
		}
	}
}

func (v *validator) threshold(path, alert string, t float64) {
	spec, ok := alertcatalog.Thresholds[alert]
	if !ok {
		v.at(path, "only the `for` of this alert can change; tunable thresholds: "+joinKeys(alertcatalog.Thresholds), "%s has no tunable threshold", alert)
		return
	}
	if spec.Buckets {
		buckets := plan.IstioDurationBucketsMs[:len(plan.IstioDurationBucketsMs)-1]
		if !slices.Contains(buckets, int(t)) || float64(int(t)) != t {
			v.at(path, "pick an Istio duration bucket boundary (ms): "+joinInts(buckets), "%s is not a bucket boundary of istio_request_duration_milliseconds", strconv.FormatFloat(t, 'f', -1, 64))
		}
		return
	}
	if t < spec.Min || t > spec.Max {
		v.at(path, fmt.Sprintf("a percentage from %v to %v", spec.Min, spec.Max), "threshold out of range (got %v)", t)
	}
}

func (v *validator) severityReceivers(path string, receivers map[string]string) {
	for _, sev := range slices.Sorted(mapKeys(receivers)) {
		p := fmt.Sprintf("%s.severityReceivers[%q]", path, sev)
		switch {
		case !slices.Contains(severities, sev):
			v.atKey(p, suggest(sev, severities), "unknown severity %q", sev)
		case receivers[sev] == "":
			v.at(p, "name an Alertmanager receiver, or remove the severity", "empty receiver")
		}
	}
}

func hintOr(hint, fallback string) string {
	if hint != "" {
		return hint
	}
	return fallback
}

func joinKeys[T any](m map[string]T) string {
	return fmt.Sprint(slices.Sorted(maps.Keys(m)))
}

func joinInts(xs []int) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += ", "
		}
		s += strconv.Itoa(x)
	}
	return s
}
