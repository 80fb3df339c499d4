// Package importer drafts a profile from a cluster's state (obsgen import):
// teams from a namespace label, services from the Services and pods that
// expose metrics, the mesh from Istio's pods, namespace labels and
// PeerAuthentications, and the network stance from the policies present.
// What it cannot decide it says in a comment of the draft.
package importer

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	securityv1beta1 "istio.io/api/security/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/calico"
	"obsgen.dev/obsgen/internal/clusterstate"
	"obsgen.dev/obsgen/internal/plan"
)

// Options steer the draft.
type Options struct {
	Name      string
	TeamLabel string
}

// Draft is the data of the profile template (templates/import).
type Draft struct {
	Name    string
	Sources []string
	// Cluster.
	APIServerCIDRs []string
	APIServerPort  int
	// Mesh.
	Istio, Ambient       bool
	IstioNamespace, MTLS string
	MTLSWhy, MeshWhy     string
	DenyByDefault        bool
	Monitoring           string
	MonitoringWhy        string
	MonitoringInMesh     bool
	PrometheusLabels     [][2]string
	// Components are the monitoring components found where the profile's
	// defaults would not select them.
	Components             []Component
	Stance, Engine, NetWhy string
	Teams                  []Team
	Unowned                []string
	Undecided              []string
	TeamLabel              string
}

// Component is a monitoring component of the draft (monitoring.<Field>).
type Component struct {
	Field, Namespace, Why string
	Labels                [][2]string
}

// components are the monitoring components the profile locates by pod
// labels, with the profile's default label and the others common installs
// use: kube-prometheus-stack's prometheus-node-exporter chart labels
// node-exporter with the chart's name (charts/prometheus-node-exporter/
// templates/_helpers.tpl, selectorLabels), kube-prometheus with
// node-exporter; both label kube-state-metrics and the operator's
// Alertmanager pods with their own names.
var components = []struct {
	field, name string
	// of is the component in a profile, whose defaults give the label
	// (plan.WithDefaults); also are other installs' values of it.
	of   func(*v1alpha1.Monitoring) v1alpha1.Component
	also []string
}{
	{"kubeStateMetrics", "kube-state-metrics", func(m *v1alpha1.Monitoring) v1alpha1.Component { return m.KubeStateMetrics }, nil},
	{"nodeExporter", "node-exporter", func(m *v1alpha1.Monitoring) v1alpha1.Component { return m.NodeExporter }, []string{"node-exporter"}},
	{"alertmanager", "alertmanager", func(m *v1alpha1.Monitoring) v1alpha1.Component { return m.Alertmanager }, nil},
}

// Team is a drafted team.
type Team struct {
	Name       string
	Namespaces []string
	Services   []Service
}

// Service is a drafted team service.
type Service struct {
	Name, Namespace, Path, Why string
	Port                       int
	Selector                   [][2]string
}

// platform namespaces never become teams.
var platform = []string{"kube-system", "kube-public", "kube-node-lease", "default", "local-path-storage", "calico-system", "tigera-operator", "cert-manager"}

// Make drafts a profile from st.
func Make(st *clusterstate.State, o Options) *Draft {
	d := &Draft{Name: cmp.Or(o.Name, "imported"), Sources: st.Sources, TeamLabel: cmp.Or(o.TeamLabel, "team"), IstioNamespace: "istio-system"}
	d.mesh(st)
	d.monitoring(st)
	d.network(st)
	d.apiServer(st)
	d.teams(st)
	return d
}

func (d *Draft) mesh(st *clusterstate.State) {
	for _, pod := range st.Pods {
		if pod.Labels["app"] == "istiod" {
			d.Istio, d.IstioNamespace = true, pod.Namespace
			d.MeshWhy = fmt.Sprintf("istiod runs in %s (pod %s)", pod.Namespace, pod.Name)
			break
		}
	}
	for _, ns := range st.Namespaces {
		if ns.Labels["istio.io/dataplane-mode"] == "ambient" {
			d.Ambient, d.Istio = true, true
			d.MeshWhy = cmp.Or(d.MeshWhy, "namespaces are labelled for ambient")
		}
	}
	if !d.Istio && len(st.PeerAuthentications) > 0 {
		d.Istio, d.MeshWhy = true, "the cluster has PeerAuthentications"
	}
	d.MTLS, d.MTLSWhy = "PERMISSIVE", "no mesh-wide PeerAuthentication: Istio's default is PERMISSIVE"
	// The oldest mesh-wide policy applies (Istio ignores the newer ones).
	var meshWide *securityv1.PeerAuthentication
	for _, pa := range st.PeerAuthentications {
		if pa.Namespace == d.IstioNamespace && (pa.Spec.Selector == nil || len(pa.Spec.Selector.MatchLabels) == 0) &&
			(meshWide == nil || pa.CreationTimestamp.Before(&meshWide.CreationTimestamp)) {
			meshWide = pa
		}
	}
	if pa := meshWide; pa != nil && pa.Spec.Mtls != nil && pa.Spec.Mtls.Mode != securityv1beta1.PeerAuthentication_MutualTLS_UNSET {
		d.MTLS = pa.Spec.Mtls.Mode.String()
		d.MTLSWhy = fmt.Sprintf("from the mesh-wide PeerAuthentication %s/%s", pa.Namespace, pa.Name)
	}
	var strictNS []string
	for _, pa := range st.PeerAuthentications {
		if pa.Namespace != d.IstioNamespace && pa.Spec.Selector == nil && pa.Spec.Mtls != nil && pa.Spec.Mtls.Mode == securityv1beta1.PeerAuthentication_MutualTLS_STRICT {
			strictNS = append(strictNS, pa.Namespace)
		}
	}
	if d.MTLS != "STRICT" && len(strictNS) > 0 {
		d.Undecided = append(d.Undecided, fmt.Sprintf("namespaces %s are STRICT while the mesh is %s: obsgen has one mode; mesh.mtls STRICT is the safe choice", strings.Join(strictNS, ", "), d.MTLS))
	}
	for _, ap := range st.AuthorizationPolicies {
		if ap.Namespace == d.IstioNamespace && ap.Spec.Selector == nil && len(ap.Spec.Rules) == 0 &&
			ap.Spec.Action == securityv1beta1.AuthorizationPolicy_ALLOW {
			d.DenyByDefault = true
		}
	}
}

func (d *Draft) monitoring(st *clusterstate.State) {
	d.Monitoring, d.MonitoringWhy = "monitoring", "no Prometheus pod found: set the namespace Prometheus runs in"
	d.PrometheusLabels = [][2]string{{"app.kubernetes.io/name", "prometheus"}}
	for _, pod := range st.Pods {
		for _, key := range []string{"app.kubernetes.io/name", "app"} {
			if pod.Labels[key] == "prometheus" {
				d.Monitoring = pod.Namespace
				d.MonitoringWhy = fmt.Sprintf("Prometheus runs there (pod %s)", pod.Name)
				d.PrometheusLabels = [][2]string{{key, "prometheus"}}
				d.MonitoringInMesh = pod.Annotations["sidecar.istio.io/status"] != ""
				d.components(st)
				return
			}
		}
	}
	d.Undecided = append(d.Undecided, "no pod labelled app.kubernetes.io/name=prometheus or app=prometheus: monitoring.namespace is a guess")
	d.components(st)
}

// components drafts the monitoring components whose pods the defaults
// (the monitoring namespace, app.kubernetes.io/name=<name>) would miss: in
// another namespace, or under another install's label.
func (d *Draft) components(st *clusterstate.State) {
	const key = "app.kubernetes.io/name"
	defaults := &plan.WithDefaults(&v1alpha1.Profile{}).Monitoring
	for _, c := range components {
		label := c.of(defaults).PodLabels[key]
		var found *corev1.Pod
		for _, pod := range st.Pods {
			if v := pod.Labels[key]; v == label || slices.Contains(c.also, v) {
				if found == nil || pod.Namespace == d.Monitoring && found.Namespace != d.Monitoring {
					found = pod
				}
			}
		}
		if found == nil {
			continue
		}
		v := found.Labels[key]
		if found.Namespace == d.Monitoring && v == label {
			continue // the defaults select it
		}
		d.Components = append(d.Components, Component{Field: c.field, Namespace: found.Namespace,
			Why: fmt.Sprintf("%s runs there as pod %s, labelled %s=%s", c.name, found.Name, key, v), Labels: [][2]string{{key, v}}})
	}
}

func (d *Draft) network(st *clusterstate.State) {
	d.Stance, d.Engine, d.NetWhy = "open", "kubernetes", "no policy isolates pods cluster-wide"
	for _, p := range st.Calico {
		if g, ok := p.(*calico.GlobalNetworkPolicy); ok && denyAll(g) {
			d.Stance, d.Engine = "global-deny", "calico"
			d.NetWhy = fmt.Sprintf("Calico GlobalNetworkPolicy %s denies by default", g.Name)
			return
		}
	}
	if adminDenies(st) {
		d.Stance, d.Engine = "default-deny", "admin-network-policy"
		d.NetWhy = "the cluster runs AdminNetworkPolicies or a BaselineAdminNetworkPolicy"
		return
	}
	var denied []string
	for _, np := range st.NetworkPolicies {
		// Ingress isolation: policyTypes lists Ingress, or is empty
		// (networking/v1 types.go PolicyTypes).
		ingress := len(np.Spec.PolicyTypes) == 0 || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) == 0 && ingress && len(np.Spec.Ingress) == 0 {
			denied = append(denied, np.Namespace)
		}
	}
	slices.Sort(denied)
	denied = slices.Compact(denied)
	if len(denied) > 0 {
		d.Stance, d.Engine = "default-deny", "kubernetes"
		d.NetWhy = fmt.Sprintf("default-deny NetworkPolicies in %s", strings.Join(first(denied, 6), ", "))
	}
}

// denyAll tells whether a GlobalNetworkPolicy has no allow rule for a
// direction it applies to: a global deny in Calico's documented shape
// (docs.tigera.io calico/latest/network-policy/get-started/kubernetes-default-deny).
// It must select workloads broadly (no selector, all(), or by namespace),
// apply to ingress (types default to Ingress) and allow no ingress; an
// egress allow for DNS is part of the documented shape.
func denyAll(g *calico.GlobalNetworkPolicy) bool {
	sel := strings.TrimSpace(g.Spec.Selector)
	broad := sel == "" || sel == "all()" || strings.HasPrefix(sel, "projectcalico.org/name") || strings.HasPrefix(sel, "projectcalico.org/namespace")
	ingress := len(g.Spec.Types) == 0 || slices.Contains(g.Spec.Types, calico.PolicyTypeIngress)
	return broad && ingress && len(g.Spec.Ingress) == 0
}

// adminDenies tells whether an AdminNetworkPolicy or the baseline has a
// Deny rule: Allow-only policies do not make a default-deny stance.
func adminDenies(st *clusterstate.State) bool {
	deny := anpv1alpha1.AdminNetworkPolicyRuleActionDeny
	for _, a := range st.AdminNetworkPolicies {
		for _, r := range a.Spec.Ingress {
			if r.Action == deny {
				return true
			}
		}
		for _, r := range a.Spec.Egress {
			if r.Action == deny {
				return true
			}
		}
	}
	if b := st.BaselineAdminNetworkPolicy; b != nil {
		for _, r := range b.Spec.Ingress {
			if string(r.Action) == string(deny) {
				return true
			}
		}
		for _, r := range b.Spec.Egress {
			if string(r.Action) == string(deny) {
				return true
			}
		}
	}
	return false
}

func (d *Draft) apiServer(st *clusterstate.State) {
	api := st.APIServerEndpoints()
	for _, ip := range api.Addresses {
		// One address each: /32, or /128 for IPv6 (an IPv6 EndpointSlice
		// of a dual-stack API server).
		d.APIServerCIDRs = append(d.APIServerCIDRs, netip.PrefixFrom(ip, ip.BitLen()).String())
	}
	if len(api.Ports) > 0 {
		d.APIServerPort = api.Ports[0]
	}
}

func (d *Draft) teams(st *clusterstate.State) {
	byTeam := map[string][]string{}
	for _, ns := range st.Namespaces {
		if slices.Contains(platform, ns.Name) || ns.Name == d.IstioNamespace || ns.Name == d.Monitoring {
			continue
		}
		if team := ns.Labels[d.TeamLabel]; team != "" {
			byTeam[team] = append(byTeam[team], ns.Name)
		} else if hasWorkloads(st, ns.Name) {
			d.Unowned = append(d.Unowned, ns.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byTeam)) {
		t := Team{Name: dnsLabel(name), Namespaces: byTeam[name]}
		for _, ns := range t.Namespaces {
			t.Services = append(t.Services, services(st, ns)...)
		}
		d.Teams = append(d.Teams, t)
	}
	if len(d.Teams) == 0 {
		d.Undecided = append(d.Undecided, fmt.Sprintf("no namespace carries the label %q: pass --team-label with the label your namespaces use", d.TeamLabel))
	}
}

func hasWorkloads(st *clusterstate.State, ns string) bool {
	return slices.ContainsFunc(st.Pods, func(p *corev1.Pod) bool { return p.Namespace == ns })
}

// services drafts the metrics endpoints of a namespace: Services with a
// metrics port (named for metrics, or annotated prometheus.io/scrape), then
// pods annotated prometheus.io/scrape that no such Service selects.
func services(st *clusterstate.State, ns string) []Service {
	var out []Service
	var pods []*corev1.Pod
	for _, p := range st.Pods {
		if p.Namespace == ns {
			pods = append(pods, p)
		}
	}
	covered := map[*corev1.Pod]bool{}
	for _, svc := range st.Services {
		if svc.Namespace != ns || len(svc.Spec.Selector) == 0 {
			continue
		}
		port, why := clusterstate.MetricsPort(svc)
		if port == 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		path := svc.Annotations["prometheus.io/path"]
		for _, p := range pods {
			if sel.Matches(labels.Set(p.Labels)) {
				covered[p] = true
				path = cmp.Or(path, clusterstate.AppAnnotations(p)["path"])
			}
		}
		out = append(out, Service{Name: dnsLabel(svc.Name), Namespace: ns, Port: port, Path: cmp.Or(path, "/metrics"),
			Selector: pairs(svc.Spec.Selector), Why: fmt.Sprintf("Service %s: %s", svc.Name, why)})
	}
	seen := map[string]bool{}
	for _, p := range pods {
		ann := clusterstate.AppAnnotations(p) // the application's, also under metrics merging
		if covered[p] || ann["scrape"] != "true" {
			continue
		}
		port, err := strconv.Atoi(ann["port"])
		if err != nil || port == 0 {
			continue
		}
		key, value := workloadLabel(p)
		if key == "" || seen[key+"="+value] {
			continue
		}
		seen[key+"="+value] = true
		out = append(out, Service{Name: dnsLabel(value), Namespace: ns, Port: port, Path: cmp.Or(ann["path"], "/metrics"),
			Selector: [][2]string{{key, value}}, Why: fmt.Sprintf("pod %s has prometheus.io/scrape and port %d", p.Name, port)})
	}
	return out
}

func workloadLabel(p *corev1.Pod) (string, string) {
	for _, k := range []string{"app.kubernetes.io/name", "app", "k8s-app"} {
		if v := p.Labels[k]; v != "" {
			return k, v
		}
	}
	return "", ""
}

func pairs(m map[string]string) [][2]string {
	var out [][2]string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, [2]string{k, m[k]})
	}
	return out
}

func first(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(slices.Clone(list[:n]), fmt.Sprintf("and %d more", len(list)-n))
}

// dnsLabel makes a name fit a DNS-1123 label, as team and service names
// must.
func dnsLabel(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 63 {
		out = strings.Trim(out[:63], "-")
	}
	return cmp.Or(out, "unnamed")
}
