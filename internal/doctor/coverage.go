package doctor

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"obsgen.dev/obsgen/internal/clusterstate"
)

// platformNamespaces are where the platform runs its own components: the
// profile's monitoring and mesh namespaces, the gateways', and Kubernetes'.
func (d *doctor) platformNamespaces() []string {
	m := d.p.Monitoring
	out := []string{"kube-system", "kube-public", "kube-node-lease", m.Namespace, m.Alertmanager.Namespace, m.Grafana.Namespace,
		m.KubeStateMetrics.Namespace, m.NodeExporter.Namespace, d.p.Mesh.IstioNamespace, d.p.Network.DNS.Namespace}
	for _, g := range d.p.Mesh.Gateways {
		out = append(out, g.Namespace)
	}
	if k := d.p.Kiali; k != nil {
		out = append(out, k.Namespace)
		if k.Operator != nil {
			out = append(out, k.Operator.Namespace)
		}
	}
	if t := d.p.Tracing; t != nil {
		out = append(out, t.Collector.Namespace)
	}
	return out
}

// checkCoverage reports what exists and the profile does not describe:
// namespaces with meshed pods that no team owns, and Services with a
// metrics port no declared service scrapes.
func (d *doctor) checkCoverage() {
	teamNS := d.p.TeamNamespaces()
	platform := d.platformNamespaces()
	for _, ns := range slices.Sorted(maps.Keys(d.pods)) {
		if slices.Contains(teamNS, ns) || slices.Contains(platform, ns) {
			continue
		}
		var meshed []string
		for _, pod := range d.pods[ns] {
			if running(pod) && !isGateway(pod) && (hasSidecar(pod) || d.p.Mesh.Ambient && enrolled(d.ns[ns], pod)) {
				meshed = append(meshed, pod.Name)
			}
		}
		if len(meshed) == 0 {
			continue
		}
		d.add(Finding{Severity: Info, Cause: CauseUncoveredNamespace, Subject: "namespace " + ns,
			Summary:  fmt.Sprintf("%d meshed pod(s) run in a namespace no team owns: their alerts reach no team and obsgen's policies do not cover them", len(meshed)),
			Evidence: []string{"pods: " + strings.Join(first(meshed, 5), ", ")},
			Fix:      fmt.Sprintf("`obsgen team add <team> --namespace %s --service <name>=<port>` (or add %s to a team's namespaces)", ns, ns),
			Ref:      "profile: teams[].namespaces"})
	}
	for _, svc := range d.st.Services {
		if slices.Contains(platform, svc.Namespace) || len(svc.Spec.Selector) == 0 {
			continue
		}
		port, why := clusterstate.MetricsPort(svc)
		if port == 0 || d.declared(svc) {
			continue
		}
		owner := "no team owns the namespace"
		for _, t := range d.p.Teams {
			if slices.Contains(t.Namespaces, svc.Namespace) {
				owner = "team " + t.Name + " owns the namespace"
			}
		}
		d.add(Finding{Severity: Info, Cause: CauseUndeclaredMetrics, Subject: fmt.Sprintf("Service %s/%s", svc.Namespace, svc.Name),
			Summary:  fmt.Sprintf("the Service exposes metrics (%s) that no team service of the profile scrapes; %s", why, owner),
			Evidence: []string{fmt.Sprintf("selector %v, metrics port %d", svc.Spec.Selector, port)},
			Fix:      fmt.Sprintf("add {name: %s, namespace: %s, port: %d, selector: %s} to the owning team's services", svc.Name, svc.Namespace, port, inlineMap(svc.Spec.Selector)),
			Ref:      "profile: teams[].services"})
	}
}

// declared tells whether a team service scrapes the Service's pods.
func (d *doctor) declared(svc *corev1.Service) bool {
	pods := d.matching(svc.Namespace, svc.Spec.Selector)
	for _, s := range d.p.ServiceTargets {
		if s.Namespace != svc.Namespace {
			continue
		}
		if len(pods) == 0 && labelsInclude(s.Selector.Map(), svc.Spec.Selector) {
			return true
		}
		for _, pod := range pods {
			if selectsPod(s.Selector.Map(), pod) {
				return true
			}
		}
	}
	return false
}

func first(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(slices.Clone(list[:n]), fmt.Sprintf("and %d more", len(list)-n))
}

func inlineMap(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+": "+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// isGateway tells a gateway's or waypoint's proxy from a workload: Gateway
// API deployments carry gateway.networking.k8s.io/gateway-name (istio.io
// docs/tasks/traffic-management/ingress/gateway-api), injected gateways the
// gateway injection template (manifests/charts/gateway).
func isGateway(pod *corev1.Pod) bool {
	return pod.Labels["gateway.networking.k8s.io/gateway-name"] != "" || pod.Annotations["inject.istio.io/templates"] == "gateway"
}
