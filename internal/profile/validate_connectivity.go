package profile

import (
	"fmt"
	"slices"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// connectivity checks what the network policies need to know beyond the
// stack's own pods: the addresses behind the URLs the profile names, who
// federates, the declared gateways, and which PeerAuthentications obsgen
// may own. A network policy names pods and address ranges, never a host,
// so under a deny stance an external host without cidrs would be a flow
// silently denied.
func (v *validator) connectivity() {
	v.operatorPodLabels()
	v.gateways()
	v.peerAuthentication()
	pr := v.p.Monitoring.Prometheus
	for i, rw := range pr.RemoteWrite {
		v.endpointCIDRs(fmt.Sprintf("monitoring.prometheus.remoteWrite[%d]", i), rw.URL, rw.CIDRs, v.p.Monitoring.Namespace)
	}
	ds := v.p.Dashboards.Datasource
	if v.l.Profile.Dashboards.Datasource.URL != "" {
		v.endpointCIDRs("dashboards.datasource", ds.URL, ds.CIDRs, v.p.Monitoring.Grafana.Namespace)
	}
	if f := pr.Federation; f != nil {
		for i, s := range f.Sources {
			v.networkPeer(fmt.Sprintf("monitoring.prometheus.federation.sources[%d]", i), s)
		}
		if f.Enabled && len(f.Sources) == 0 && v.denies() {
			v.at("monitoring.prometheus.federation.sources", "add sources: [{namespace: global-monitoring, podLabels: {app.kubernetes.io/name: prometheus}}] or the global Prometheus' cidrs",
				"required when network.stance is %s: nothing reaches Prometheus' port to scrape /federate unless it is allowed", v.p.Network.Stance)
		}
	}
}

func (v *validator) denies() bool { return v.p.Network.Stance != v1alpha1.StanceOpen }

// endpointCIDRs checks a URL's cidrs, and requires them under a deny
// stance when the host is neither an address nor a Service name.
func (v *validator) endpointCIDRs(path, url string, cidrs []string, callerNS string) {
	v.cidrs(path+".cidrs", cidrs)
	if !v.denies() || url == "" {
		return
	}
	if e := plan.ResolveURL(url, cidrs, callerNS); e.Port != 0 && !e.Known() {
		v.at(path+".url", fmt.Sprintf("add %s.cidrs with the host's address ranges, such as [203.0.113.0/24]; or use an in-cluster Service URL (<service>.<namespace>.svc)", path),
			"under network.stance %s the policies must allow the host of %q, and a network policy cannot name a host", v.p.Network.Stance, url)
	}
}

// gateways checks the declared gateways: unique names, a namespace, pod
// labels, ports and their peers.
func (v *validator) gateways() {
	names := map[string]int{}
	for i, g := range v.p.Mesh.Gateways {
		path := fmt.Sprintf("mesh.gateways[%d]", i)
		v.dnsLabel(path+".name", g.Name)
		if j, dup := names[g.Name]; dup && g.Name != "" {
			v.at(path+".name", fmt.Sprintf("rename it; mesh.gateways[%d] has that name", j), "duplicate gateway name %q", g.Name)
		}
		names[g.Name] = i
		v.dnsLabel(path+".namespace", g.Namespace)
		if len(g.PodLabels) == 0 {
			v.at(path+".podLabels", "add the gateway pods' labels, such as {istio: ingressgateway}", "missing: a gateway is selected by its pod labels")
		}
		v.labels(path+".podLabels", g.PodLabels)
		if len(g.Ports) == 0 {
			v.at(path+".ports", "list the container ports it serves traffic on, such as [8080, 8443]", "missing")
		}
		for j, port := range g.Ports {
			v.port(fmt.Sprintf("%s.ports[%d]", path, j), port)
		}
		for j, s := range g.Sources {
			v.networkPeer(fmt.Sprintf("%s.sources[%d]", path, j), s)
		}
		for j, d := range g.Destinations {
			dp := fmt.Sprintf("%s.destinations[%d]", path, j)
			v.networkPeer(dp, d)
			if len(d.Ports) == 0 {
				v.at(dp+".ports", "list the destination's ports, such as [443]", "missing")
			}
		}
	}
	if len(v.p.Mesh.Gateways) > 0 && v.p.Mesh.Provider != v1alpha1.MeshIstio {
		v.at("mesh.gateways", "remove them, or set mesh.provider: istio", "gateways need mesh.provider istio")
	}
}

// peerAuthentication refuses `none` when the plan needs workload
// exceptions: without them Prometheus' plaintext scrapes hit STRICT ports.
func (v *validator) peerAuthentication() {
	if v.p.Mesh.PeerAuthentication != v1alpha1.PeerAuthenticationNone || v.p.Mesh.Provider != v1alpha1.MeshIstio {
		return
	}
	strategy, _ := plan.ChooseStrategy(v.p)
	if strategy == v1alpha1.StrategyPermissivePort {
		v.at("mesh.peerAuthentication", "use workloads-only: obsgen then writes only the port exceptions",
			"the permissive-port strategy needs obsgen's workload PeerAuthentications, which open exactly the metrics ports")
	}
	m := v.p.Monitoring
	if v.p.Mesh.DataPlane == v1alpha1.DataPlaneSidecar && m.InMesh && v.p.Mesh.MTLS == v1alpha1.MTLSStrict {
		v.at("mesh.peerAuthentication", "use workloads-only: obsgen then writes only the port exceptions",
			"with the monitoring stack in a STRICT sidecar mesh, Grafana and Prometheus reach Prometheus and Alertmanager in plaintext, which needs obsgen's workload exceptions")
	}
}

// operatorPodLabels: the Prometheus Operator sets app.kubernetes.io/name on
// the pods it runs, over the pod metadata obsgen gives it, so every policy
// that selects Prometheus by another value would miss the pods.
func (v *validator) operatorPodLabels() {
	m := v.p.Monitoring
	if !slices.Contains(m.Flavours, v1alpha1.FlavourOperator) {
		return
	}
	want := plan.OperatorPodName(v.p)
	if got, ok := m.Prometheus.PodLabels["app.kubernetes.io/name"]; ok && got != want {
		v.at(`monitoring.prometheus.podLabels["app.kubernetes.io/name"]`, fmt.Sprintf("set it to %q, or select the pods by another label", want),
			"the Prometheus Operator labels its pods app.kubernetes.io/name=%s, whatever the pod metadata says: policies selecting %q would miss them", want, got)
	}
}
