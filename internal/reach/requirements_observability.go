package reach

import (
	"fmt"
	"slices"

	"obsgen.dev/obsgen/internal/plan"
)

// kialiRequirements are Kiali's connections, from Kiali's own code
// (kiali/kiali): it queries its Prometheus URL (prometheus/client.go),
// reads the cluster and reaches istiod's and the proxies' admin ports by
// port-forward through the API server (kubernetes/kubernetes.go), reads
// istiod's version on its monitoring port 15014 (istio/version.go),
// searches Grafana's API for the dashboards it links to (grafana/
// grafana.go), reads traces from the tracing query service (tracing/
// client.go), and users open it on its server port (config/config.go,
// server.port).
func (c *Cluster) kialiRequirements() []requirement {
	p := c.Plan
	k := p.Kiali
	if k == nil {
		return nil
	}
	kiali := c.podEndpoint(k.Namespace, k.PodLabels)
	var out []requirement
	need := func(id string, from, to Endpoint, port int, why, source string) {
		if (from.Pod != nil || from.Addr.IsValid()) && (to.Pod != nil || to.Addr.IsValid()) && port != 0 {
			out = append(out, requirement{id: id, from: from, to: to, proto: "TCP", port: port, why: why, source: source})
		}
	}
	need("kiali-prometheus", kiali, c.urlEndpoint(k.Prometheus.Endpoint), k.Prometheus.Endpoint.Port, "Kiali queries "+k.Prometheus.URL, "kiali.enabled")
	need("kiali-apiserver", kiali, c.address(p.Cluster.APIServerCIDRs), p.Cluster.APIServerPort, "Kiali reads the cluster through the API server", "kiali.enabled")
	need("kiali-istiod", kiali, c.podEndpoint(p.Mesh.IstioNamespace, plan.IstiodLabels), plan.PortIstiodMonitoring, "Kiali reads istiod's version", "kiali.enabled")
	if k.GrafanaURL != "" {
		g := p.Monitoring.Grafana
		need("kiali-grafana", kiali, c.podEndpoint(g.Namespace, g.PodLabels), g.Port, "Kiali searches Grafana for its dashboards", "kiali.enabled")
	}
	if t := p.Tracing; t != nil && t.Query != nil {
		e := t.Query.Endpoint
		to := c.urlEndpoint(e)
		if e.InCluster && len(e.Peer.Labels) > 0 {
			to = c.peerEndpoint(e.Peer)
		}
		need("kiali-tracing", kiali, to, e.Port, "Kiali reads traces from "+t.Query.URL, "tracing.query.url")
	}
	if op := k.Operator; op != nil {
		need("kiali-operator", c.podEndpoint(op.Namespace, op.PodLabels), c.address(p.Cluster.APIServerCIDRs), p.Cluster.APIServerPort,
			"the Kiali operator watches its resources through the API server", "kiali.install")
	}
	for i, e := range k.Ingress {
		need("kiali-users", c.peerEndpoint(e.Peer), kiali, k.Port, "users open Kiali", fmt.Sprintf("kiali.ingress[%d]", i))
	}
	return out
}

// tracingRequirements: every Envoy proxy exports its spans to the
// provider's service (istio.io docs/tasks/observability/distributed-
// tracing; pilot/pkg/model/telemetry_logging.go): sidecars, gateways,
// waypoints; ztunnel emits none (its source has no span exporter). Under a
// global deny the pods the profile does not describe are left out, as
// their other traffic is: the stance denies them by definition. The
// collector exports to its stores.
func (c *Cluster) tracingRequirements() []requirement {
	p := c.Plan
	t := p.Tracing
	if t == nil {
		return nil
	}
	collector := c.podEndpoint(t.Collector.Namespace, t.Collector.PodLabels)
	var out []requirement
	for _, pod := range slices.Clone(c.proxies()) {
		undescribed := pod.Role == RoleGatewayIstioNS || pod.Role == RoleGatewayOwnNS || pod.Role == RoleUnownedWorkload || pod.Role == RoleWaypoint
		if pod.Role == RoleZtunnel || undescribed && p.GlobalDeny() && !slices.Contains(p.Network.Calico.Excluded, pod.Namespace) || pod == collector.Pod {
			continue
		}
		out = append(out, requirement{id: "tracing-spans", from: Endpoint{Pod: pod}, to: collector, proto: "TCP", port: t.Collector.Port,
			why: "a proxy exports its spans to the collector", source: "tracing.collector"})
	}
	for i, b := range t.Backends {
		for _, port := range b.Ports {
			out = append(out, requirement{id: "tracing-backend", from: collector, to: c.peerEndpoint(b.Peer), proto: "TCP", port: port,
				why: "the collector exports spans to the tracing store", source: fmt.Sprintf("tracing.backends[%d]", i)})
		}
	}
	return out
}
