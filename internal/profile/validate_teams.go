package profile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/prometheus/common/model"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// istioPorts are the ports Istio's sidecar and ztunnel reserve
// (istio.io, application requirements); an application cannot serve
// metrics on them.
var istioPorts = []int{15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090}

// reservedAlertLabels are set by obsgen itself on every alert.
var reservedAlertLabels = []string{"team", "severity", "namespace", "service", "cluster"}

var severities = []string{"critical", "warning", "info"}

// teams checks names, ownership and services. Ownership is global: a
// namespace belongs to one team, and a service lives in its own team's
// namespace.
func (v *validator) teams() {
	teamAt := map[string]int{}
	owner := map[string]string{} // namespace -> path of its first owner
	ownerTeam := map[string]int{}
	for i, t := range v.p.Teams {
		path := fmt.Sprintf("teams[%d]", i)
		v.dnsLabel(path+".name", t.Name)
		if j, dup := teamAt[t.Name]; dup && t.Name != "" {
			v.at(path+".name", fmt.Sprintf("merge it with teams[%d] or rename it", j), "duplicate team %q", t.Name)
		} else {
			teamAt[t.Name] = i
		}
		v.teamNamespaces(i, t, owner, ownerTeam)
		v.alerting(path+".alerting", t.Alerting)
	}
	for i, t := range v.p.Teams {
		v.services(i, t, ownerTeam)
	}
	v.overlappingServices()
}

// overlappingServices rejects two services that select the same pods: the
// team-services job tags each pod with one service only.
func (v *validator) overlappingServices() {
	first := map[string]string{} // namespace + selector -> path
	for i, t := range v.p.Teams {
		for j, s := range t.Services {
			key := s.Namespace + "\x00" + fmt.Sprint(plan.SortedLabels(s.Selector))
			path := fmt.Sprintf("teams[%d].services[%d]", i, j)
			if other, dup := first[key]; dup {
				v.at(path+".selector", "give each service a selector of its own, such as {app: "+s.Name+"}",
					"selects the same pods as %s", other)
				continue
			}
			first[key] = path
		}
	}
}

func (v *validator) teamNamespaces(i int, t v1alpha1.Team, owner map[string]string, ownerTeam map[string]int) {
	path := fmt.Sprintf("teams[%d].namespaces", i)
	if len(t.Namespaces) == 0 {
		v.at(path, "list at least one namespace the team owns", "missing")
	}
	for j, ns := range t.Namespaces {
		p := fmt.Sprintf("%s[%d]", path, j)
		v.dnsLabel(p, ns)
		if first, dup := owner[ns]; dup {
			if f := v.l.FileOf(first); f != v.l.FileOf(p) {
				first += " (" + f + ")" // a team of another file
			}
			hint := fmt.Sprintf("a namespace belongs to one team; remove it here or at %s", first)
			if ownerTeam[ns] == i {
				hint = "remove the repeated entry"
			}
			v.at(p, hint, "namespace %q is already owned at %s", ns, first)
			continue
		}
		owner[ns], ownerTeam[ns] = p, i
		v.platformNamespace(p, ns)
	}
}

// platformNamespace rejects team namespaces that are the monitoring or
// Istio namespace when obsgen emits policies for team namespaces.
func (v *validator) platformNamespace(path, ns string) {
	if v.p.Network.Stance == v1alpha1.StanceOpen {
		return
	}
	switch ns {
	case v.p.Monitoring.Namespace:
		v.at(path, "run team workloads in a namespace of their own", "%q is the monitoring namespace; under %s its policies would apply to the team's pods", ns, v.p.Network.Stance)
	case v.p.Mesh.IstioNamespace:
		v.at(path, "run team workloads in a namespace of their own", "%q is Istio's namespace; under %s its policies would apply to the team's pods", ns, v.p.Network.Stance)
	}
}

func (v *validator) alerting(path string, a v1alpha1.Alerting) {
	if v.written(path+".receiver") && a.Receiver == "" {
		v.at(path+".receiver", "name an Alertmanager receiver, or leave the field out for the team's name", "empty receiver")
	}
	v.severityReceivers(path, a.SeverityReceivers)
	v.alertLabels(path, a.Labels)
	v.teamKnobs(path, a)
}

// alertLabels checks labels added to alerts.
func (v *validator) alertLabels(path string, l map[string]string) {
	for _, k := range slices.Sorted(mapKeys(l)) {
		lp := fmt.Sprintf("%s.labels[%q]", path, k)
		switch {
		case slices.Contains(reservedAlertLabels, k):
			v.atKey(lp, "obsgen sets it on every alert; pick another name", "label %q is reserved", k)
		case !model.LabelName(k).IsValidLegacy():
			v.atKey(lp, "use letters, digits and _; do not start with a digit", "invalid Prometheus label name %q", k)
		}
	}
}

func (v *validator) services(i int, t v1alpha1.Team, ownerTeam map[string]int) {
	seen := map[string]int{}
	strategy, _ := plan.ChooseStrategy(v.p)
	for j, s := range t.Services {
		path := fmt.Sprintf("teams[%d].services[%d]", i, j)
		v.dnsLabel(path+".name", s.Name)
		if k, dup := seen[s.Name]; dup && s.Name != "" {
			v.at(path+".name", fmt.Sprintf("rename it; teams[%d].services[%d] has that name", i, k), "duplicate service %q", s.Name)
		} else {
			seen[s.Name] = j
		}
		v.serviceNamespace(path, i, s.Namespace, ownerTeam)
		v.labels(path+".selector", s.Selector)
		if strategy == v1alpha1.StrategyPermissivePort && len(s.Selector) == 0 {
			v.at(path+".selector", "add the workload's pod labels, such as {app: checkout}",
				"required by the permissive-port strategy: a port-level PeerAuthentication applies only to selected workloads")
		}
		v.servicePort(path+".port", s.Port)
		v.metricsPath(path+".path", s.Path)
		v.slos(path+".slos", s.SLOs)
	}
}

func (v *validator) serviceNamespace(path string, team int, ns string, ownerTeam map[string]int) {
	owner, owned := ownerTeam[ns]
	switch {
	case ns == "":
		v.at(path+".namespace", "name one of the team's namespaces", "missing")
	case !owned:
		v.at(path+".namespace", fmt.Sprintf("add it to teams[%d].namespaces", team), "no team owns namespace %q", ns)
	case owner != team:
		v.at(path+".namespace", fmt.Sprintf("move the service to teams[%d], or the namespace to this team", owner),
			"namespace %q belongs to team %q", ns, v.p.Teams[owner].Name)
	}
}

func (v *validator) servicePort(path string, port int) {
	v.port(path, port)
	if v.p.Mesh.Provider == v1alpha1.MeshIstio && slices.Contains(istioPorts, port) {
		v.at(path, "give the application's own metrics port; obsgen scrapes Istio's ports by itself", "%d is reserved by Istio", port)
	}
}

func (v *validator) slos(path string, s *v1alpha1.SLOs) {
	if s == nil {
		return
	}
	if s.Availability == nil && s.Latency == nil {
		v.at(path, "add availability and/or latency, or remove slos", "empty")
	}
	if a := s.Availability; a != nil {
		v.percent(path+".availability.target", a.Target)
	}
	if l := s.Latency; l != nil {
		if l.ThresholdMs < 1 {
			v.at(path+".latency.thresholdMs", "give the threshold in milliseconds, such as 250", "must be at least 1 (got %d)", l.ThresholdMs)
		} else if !slices.Contains(plan.IstioDurationBucketsMs, l.ThresholdMs) {
			v.at(path+".latency.thresholdMs", fmt.Sprintf("use a bucket boundary, such as %d", nearestBucket(l.ThresholdMs)),
				"%d ms is not a boundary of Istio's request duration histogram, so the share of faster requests cannot be counted (boundaries: %s)",
				l.ThresholdMs, intsJoin(plan.IstioDurationBucketsMs))
		}
		v.percent(path+".latency.target", l.Target)
	}
}

func (v *validator) percent(path string, target float64) {
	switch {
	case target > 0 && target < 1:
		v.at(path, fmt.Sprintf("targets are percentages: did you mean %.12g?", target*100), "%g looks like a fraction, not a percentage", target)
	case target <= 0 || target >= 100:
		v.at(path, "", "must be a percentage between 0 and 100, exclusive (got %g)", target)
	}
}

// metricsPath checks an HTTP path: it must start with '/' and hold no
// query, fragment, space or control character.
func (v *validator) metricsPath(path, p string) {
	switch {
	case p == "" || p[0] != '/':
		v.at(path, fmt.Sprintf("did you mean %q?", "/"+p), "must start with / (got %q)", p)
	case strings.ContainsAny(p, "?# ") || strings.ContainsFunc(p, unicode.IsControl):
		v.at(path, "give the path only, such as /metrics", "must be a plain URL path (got %q)", p)
	}
}

// nearestBucket is the histogram boundary closest to ms.
func nearestBucket(ms int) int {
	best := plan.IstioDurationBucketsMs[0]
	for _, b := range plan.IstioDurationBucketsMs {
		if abs(b-ms) < abs(best-ms) {
			best = b
		}
	}
	return best
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func intsJoin(in []int) string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = strconv.Itoa(v)
	}
	return strings.Join(out, ", ")
}
