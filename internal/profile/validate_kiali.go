package profile

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// kialiTracing checks the kiali and tracing sections.
func (v *validator) kialiTracing() {
	istio := v.p.Mesh.Provider == v1alpha1.MeshIstio
	deny := v.p.Network.Stance != v1alpha1.StanceOpen
	k := v.p.Kiali
	if k.Enabled {
		if !istio {
			v.at("kiali.enabled", "set mesh.provider: istio, or turn Kiali off", "Kiali reads Istio's metrics and configuration; the profile has no Istio")
		}
		v.dnsLabel("kiali.namespace", k.Namespace)
		v.labels("kiali.podLabels", k.PodLabels)
		v.port("kiali.port", k.Port)
		for i, e := range k.Ingress {
			v.ingressPeer(fmt.Sprintf("kiali.ingress[%d]", i), e, "Kiali", "kiali.port")
		}
		v.kialiPrometheus()
		if k.GrafanaInternalURL != "" {
			v.absoluteURL("kiali.grafanaInternalURL", k.GrafanaInternalURL)
			if k.GrafanaURL == "" {
				v.warnAt("kiali.grafanaInternalURL", "set kiali.grafanaURL too", "Kiali links to no dashboard without Grafana's external URL, so the internal one is not used")
			}
		}
		if k.GrafanaURL != "" {
			v.absoluteURL("kiali.grafanaURL", k.GrafanaURL)
		} else if v.dashboardsWanted() {
			v.warnAt("kiali.enabled", "set kiali.grafanaURL to Grafana's address as browsers open it",
				"Kiali builds its links to the dashboards from Grafana's external URL and, on Kubernetes, shows none without it (kiali/kiali grafana/grafana.go)")
		}
		if tok := k.GrafanaToken; tok != nil {
			v.dnsLabel("kiali.grafanaToken.secret", tok.Secret)
			if tok.Key == "" {
				v.at("kiali.grafanaToken.key", "the Secret's key holding the token, such as token", "missing")
			}
		}
		if k.Install == v1alpha1.KialiOperator {
			v.dnsLabel("kiali.operator.namespace", k.Operator.Namespace)
			v.labels("kiali.operator.podLabels", k.Operator.PodLabels)
		}
	}
	t := v.p.Tracing
	if !t.Enabled {
		return
	}
	if !istio {
		v.at("tracing.enabled", "set mesh.provider: istio, or turn tracing off", "obsgen configures Istio's proxies to send spans; the profile has no Istio")
		return
	}
	// telemetry.istio.io/v1 is served from Istio 1.22 on.
	if minor, ok := plan.IstioMinor(v.p.Mesh.Version); ok && minor < 22 {
		v.at("tracing.enabled", "upgrade Istio, or configure tracing by hand", "obsgen writes a telemetry.istio.io/v1 Telemetry, which Istio serves from 1.22 (mesh.version is %s)", v.p.Mesh.Version)
	}
	if p := *t.SamplingPercentage; p < 0 || p > 100 {
		v.at("tracing.samplingPercentage", "a percentage such as 1 or 0.1", "must be 0..100 (got %v)", p)
	}
	if v.p.Mesh.DataPlane == v1alpha1.DataPlaneAmbient && len(v.p.Mesh.Waypoints) == 0 {
		v.warnAt("tracing.enabled", "declare the waypoints that serve the namespaces (mesh.waypoints)",
			"in ambient only waypoints and gateways report spans (ztunnel emits none), and the profile declares no waypoint")
	}
	c := t.Collector
	v.component("tracing.collector", c, v.l.Profile.Tracing.Collector.Port)
	for i, b := range t.Backends {
		v.egressPeer(fmt.Sprintf("tracing.backends[%d]", i), b, "list the store's ingest ports, such as [4317]")
	}
	if q := t.Query; q != nil {
		v.absoluteURL("tracing.query.url", q.URL)
		v.cidrs("tracing.query.cidrs", q.CIDRs)
		v.labels("tracing.query.podLabels", q.PodLabels)
		if q.ExternalURL != "" {
			v.absoluteURL("tracing.query.externalURL", q.ExternalURL)
		}
		v.headers("tracing.query.headers", q.Headers)
		if e := plan.ResolveURL(q.URL, q.CIDRs, k.Namespace); deny && k.Enabled && !e.Known() {
			v.at("tracing.query.cidrs", "add the query service's address ranges, or use its in-cluster Service URL",
				"under network.stance %s Kiali's policy must name the query service, and %q is neither a Service nor an address", v.p.Network.Stance, q.URL)
		}
	}
}

// kialiPrometheus checks that Kiali's Prometheus sees every series: it
// queries the dashboards' data source, which must be a store when the
// Prometheus server cannot answer for the whole mesh.
func (v *validator) kialiPrometheus() {
	pr := v.p.Monitoring.Prometheus
	if raw := v.l.Profile.Dashboards.Datasource.URL; raw != "" {
		// A host of one label resolves in the caller's namespace (the
		// pods' DNS search path): Grafana and Kiali would query
		// different Services, and obsgen would judge the URL by Grafana's.
		g, k := v.p.Monitoring.Grafana.Namespace, v.p.Kiali.Namespace
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" && !strings.Contains(u.Hostname(), ".") && net.ParseIP(u.Hostname()) == nil && g != k {
			v.warnAt("dashboards.datasource.url", fmt.Sprintf("write the Service with its namespace, such as %s.<namespace>", u.Hostname()),
				"%q resolves in each caller's namespace: Grafana (%s) and Kiali (%s) would query different Services", u.Hostname(), g, k)
		}
		return
	}
	hint := "set dashboards.datasource.url to the store Prometheus remote-writes to (Thanos Query, Mimir's Prometheus API); Kiali queries it too"
	switch {
	case pr.Mode == v1alpha1.ModeAgent:
		v.at("kiali.enabled", hint, "Kiali would query an agent, which serves no queries: its graph would stay empty")
	case pr.Shards > 1:
		v.at("kiali.enabled", hint, "Kiali would query one of %d shards, which holds part of the series: its graph would show part of the mesh", pr.Shards)
	}
}

func (v *validator) absoluteURL(path, raw string) {
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.at(path, "give an absolute http or https URL", "not a URL (got %q)", raw)
	}
}
