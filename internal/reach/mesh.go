package reach

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	securityv1beta1 "istio.io/api/security/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// Mesh is the mesh layer of the proof: on top of a network model it
// decides whether Istio lets a connection through, from the generated
// PeerAuthentications and AuthorizationPolicies and what the cluster's pods
// are in the mesh:
//
//   - injection: a team namespace (and the monitoring namespace when in the
//     mesh) runs sidecars; the Prometheus pods follow their
//     sidecar.istio.io/inject label, which the injector's webhook selects
//     (manifests/charts/istio-control/istio-discovery/templates/
//     mutatingwebhook.yaml); in ambient, enrolled pods go through ztunnel;
//   - what a sidecar intercepts: every inbound port but 15020, 15021 and
//     15090 (files/injection-template.yaml excludes them) and, under
//     secure-port, the secure merged listener obsgen excludes, nothing when
//     traffic.sidecar.istio.io/includeInboundPorts is empty; outbound is
//     bypassed with includeOutboundIPRanges "";
//   - what a client speaks: a sidecar (or ztunnel) speaks mTLS to a mesh
//     destination (auto mTLS), Prometheus presents Istio certificates on
//     the istio-certs jobs, everyone else speaks plaintext;
//   - PeerAuthentication: the narrowest of workload (port-level first),
//     namespace and mesh-wide (root namespace) applies (istio.io
//     docs/concepts/security, "Peer authentication"); STRICT refuses
//     plaintext, DISABLE refuses mTLS, PERMISSIVE takes both;
//   - AuthorizationPolicy under deny-by-default: an allow-nothing policy
//     exists, so an intercepted request passes only when an ALLOW policy
//     selecting the workload has a rule whose ports and principals match;
//     a principal needs an mTLS identity (istio.io
//     docs/reference/config/security/authorization-policy);
//   - ambient: traffic between enrolled pods travels over HBONE, so the
//     network sees port 15008, not the application's port
//     (docs/ambient/usage/networkpolicy).
//
// A required connection is proven only when both layers let it through.
type Mesh struct {
	net      Model
	c        *Cluster
	defaults bool
	// The Istio objects, placed by where they apply (mesh_index.go), and
	// what the layer derives from each pod, derived once.
	meshIndex
	pods map[*Pod]*meshPod
}

// NewMesh layers the generated Istio objects over a network model. When
// obsgen does not write the `default` PeerAuthentications the platform's
// are taken to carry mesh.mtls.
func NewMesh(c *Cluster, network Model, pas []*securityv1.PeerAuthentication, aps []*securityv1.AuthorizationPolicy) *Mesh {
	m := &Mesh{net: network, c: c, defaults: c.Plan.Mesh.DefaultPeerAuthentications,
		meshIndex: newMeshIndex(c.Plan, pas, aps), pods: make(map[*Pod]*meshPod, len(c.Pods))}
	principals := map[string]principal{} // a namespace's pods share theirs
	for _, pod := range c.Pods {
		m.pods[pod] = m.derive(pod, principals)
	}
	return m
}

// Name describes the two layers.
func (m *Mesh) Name() string { return m.net.Name() + " and Istio's mTLS and authorization" }

// Network is the model of the network layer alone.
func (m *Mesh) Network() Model { return m.net }

// mode is how a pod takes part in the mesh.
type mode int

const (
	outside mode = iota
	sidecar
	enrolled
)

// meshMode says how pod takes part in the mesh, and whether its sidecar
// intercepts inbound and outbound traffic.
func (m *Mesh) meshMode(pod *Pod) (md mode, inbound, outbound bool) {
	p := m.c.Plan
	if pod == nil || !p.Mesh.Istio {
		return outside, false, false
	}
	mon := p.Monitoring
	if isPrometheus(pod) {
		if v, ok := mon.Prometheus.MeshPodLabels.Get("istio.io/dataplane-mode"); ok && v == "ambient" {
			return enrolled, true, true
		}
		if v, ok := mon.Prometheus.MeshPodLabels.Get(plan.SidecarInjectLabel); ok {
			if v != "true" {
				return outside, false, false
			}
		} else if !mon.InMesh || p.Mesh.Ambient {
			return outside, false, false
		}
		ann := mon.Prometheus.PodAnnotations
		in, inSet := ann.Get("traffic.sidecar.istio.io/includeInboundPorts")
		out, outSet := ann.Get("traffic.sidecar.istio.io/includeOutboundIPRanges")
		return sidecar, !(inSet && in == ""), !(outSet && out == "")
	}
	// The monitoring namespace's other pods: with sidecars the namespace
	// is labelled for injection; in ambient obsgen enrolls only the
	// Prometheus pods (by label), so the others are taken as outside.
	meshed := m.c.teamNamespace[pod.Namespace] || pod.Namespace == UnownedNamespace ||
		mon.InMesh && pod.Namespace == mon.Namespace && p.Mesh.Sidecar
	switch {
	case !meshed || m.c.isWaypoint(pod):
		return outside, false, false
	case p.Mesh.Ambient:
		return enrolled, true, true
	}
	return sidecar, true, true
}

// notIntercepted are the sidecar ports outside inbound capture.
var notIntercepted = []int{plan.PortMergedMetrics, plan.PortGatewayStatus, plan.PortEnvoyMetrics}

// autoMTLS tells whether the client's sidecar upgrades the connection to
// Istio mTLS: a meshed client with outbound capture, to a pod the injector
// labelled security.istio.io/tlsMode: istio (its default, unless the pod
// sets the label; files/injection-template.yaml; pilot/pkg/networking/core/
// cluster_tls.go), unless mTLS is disabled.
func (m *Mesh) autoMTLS(src Endpoint, srcPod *meshPod, dst Endpoint) bool {
	p := m.c.Plan
	if src.Pod == nil || srcPod.mode == outside || !srcPod.outbound || dst.Pod == nil || p.Mesh.MTLS == v1alpha1.MTLSDisable {
		return false
	}
	// Auto mTLS applies to the endpoints of a Service the client calls,
	// not to a pod address (that goes through the passthrough cluster in
	// plaintext): the case that matters is Prometheus' web port, which
	// Grafana and federation reach through the Prometheus Service.
	if !isPrometheus(dst.Pod) {
		return false
	}
	mode, ok := p.Monitoring.Prometheus.MeshPodLabels.Get(plan.TLSModeLabel)
	return !ok || mode == "istio"
}

// secureListener tells whether port is a proxy's secure merged-metrics
// listener: under secure-port, on a sidecar pod or a gateway.
func (m *Mesh) secureListener(dst Endpoint, dstPod *meshPod, port int) bool {
	return m.c.Plan.Scrape.Strategy == v1alpha1.StrategySecurePort && port == plan.PortSecureMergedMetrics &&
		dst.Pod != nil && (dstPod.mode == sidecar || m.c.gateways[dst.Pod] != nil)
}

// intercepted tells whether a sidecar's inbound capture takes port: under
// secure-port obsgen's istiod settings add the secure merged listener to
// global.proxy.excludeInboundPorts (generators/istio SecureMetricsValues).
func (m *Mesh) intercepted(port int) bool {
	if m.c.Plan.Scrape.Strategy == v1alpha1.StrategySecurePort && port == plan.PortSecureMergedMetrics {
		return false
	}
	return !slices.Contains(notIntercepted, port)
}

// Allowed asks the network about the connection as it travels on the wire,
// then Istio.
func (m *Mesh) Allowed(src, dst Endpoint, proto string, port int) (bool, error) {
	ok, _, err := m.explain(src, dst, proto, port)
	return ok, err
}

// Explain says which layer refused a connection, or "".
func (m *Mesh) Explain(src, dst Endpoint, proto string, port int) (string, error) {
	_, why, err := m.explain(src, dst, proto, port)
	return why, err
}

func (m *Mesh) explain(src, dst Endpoint, proto string, port int) (bool, string, error) {
	srcPod, dstPod := m.pod(src.Pod), m.pod(dst.Pod)
	srcMode, srcOut := srcPod.mode, srcPod.outbound
	dstMode, dstIn := dstPod.mode, dstPod.inbound
	wirePort := port
	hbone := srcMode == enrolled && srcOut && dstMode == enrolled && proto == "TCP" && port != plan.PortHBONE
	if hbone {
		wirePort = plan.PortHBONE
	}
	ok, err := m.net.Allowed(src, dst, proto, wirePort)
	if err != nil || !ok {
		return false, fmt.Sprintf("the network policies deny %s/%d on the wire", proto, wirePort), err
	}
	if m.secureListener(dst, dstPod, port) {
		// The listener terminates mTLS itself and requires a client
		// certificate of the mesh CA (envoy_bootstrap.json,
		// require_client_certificate), whatever the PeerAuthentications:
		// Prometheus has one from its cert-writing sidecar or cert-manager.
		pr := m.c.Plan.Monitoring.Prometheus
		if src.Pod == nil || !isPrometheus(src.Pod) || !(srcPod.mode == sidecar && pr.CertWriter() || pr.CertsSecret != "") {
			return false, fmt.Sprintf("no mesh client certificate for the secure metrics listener %d", port), nil
		}
		return true, "", nil
	}
	if dstMode == sidecar && (!dstIn || !m.intercepted(port)) && proto == "TCP" && port == plan.PortPrometheus && m.autoMTLS(src, srcPod, dst) {
		return false, fmt.Sprintf("a meshed client speaks Istio mTLS (auto mTLS: the destination's security.istio.io/tlsMode is istio) to port %d, which the destination's sidecar does not intercept", port), nil
	}
	if dstMode == outside || proto != "TCP" || !dstIn || dstMode == sidecar && !m.intercepted(port) ||
		port == plan.PortHBONE || kubeletProbe(src) {
		return true, "", nil
	}
	mtls, identity := m.client(src, srcPod, dstPod, port)
	switch mode := m.peerAuthentication(dstPod, port); {
	case mode == "STRICT" && !mtls:
		return false, fmt.Sprintf("plaintext into a STRICT port %d (PeerAuthentication)", port), nil
	case mode == "DISABLE" && mtls:
		return false, fmt.Sprintf("mTLS into a DISABLE port %d (PeerAuthentication)", port), nil
	}
	// A workload obsgen knows only by its namespace (a data source or a
	// remote-write receiver behind a Service URL) gets its ALLOWs from the
	// platform, which obsgen cannot see: authorization is judged for the
	// workloads obsgen describes.
	known := len(dst.Pod.Labels) > 0
	if m.c.Plan.Mesh.DenyByDefault && known && !authorized(dstPod, identity, port) {
		return false, fmt.Sprintf("no AuthorizationPolicy allows port %d from %q under deny-by-default", port, identity.name), nil
	}
	return true, "", nil
}

// kubeletProbe tells whether src is the address ambient gives kubelet
// probes, which ztunnel lets through outside mTLS and authorization
// (istio.io docs/ambient/usage/networkpolicy).
func kubeletProbe(src Endpoint) bool {
	return src.Pod == nil && src.Addr == kubeletProbeAmbient
}

var kubeletProbeAmbient = netip.MustParseAddr("169.254.7.127")

// client says whether the connection is mTLS and with which identity.
func (m *Mesh) client(src Endpoint, srcPod, dstPod *meshPod, port int) (mtls bool, identity principal) {
	p := m.c.Plan
	if src.Pod == nil {
		return false, principal{}
	}
	// The certificates exist only where the cert-writing sidecar was
	// injected, or cert-manager wrote them; without them the https scrape
	// has nothing to present. The istio-certs jobs scrape dst's istioCerts
	// ports with them.
	if isPrometheus(src.Pod) && slices.Contains(dstPod.istioCerts, port) && srcPod.mode == sidecar {
		return true, srcPod.identity
	}
	// A cert-manager Certificate gives Prometheus the same identity
	// without a sidecar.
	if isPrometheus(src.Pod) && slices.Contains(dstPod.istioCerts, port) && p.Monitoring.Prometheus.CertsSecret != "" {
		return true, m.identity(src.Pod, nil)
	}
	if srcPod.mode != outside && srcPod.outbound && dstPod.mode != outside && p.Mesh.MTLS != v1alpha1.MTLSDisable {
		return true, srcPod.identity
	}
	return false, principal{}
}

// principal is a workload's mTLS identity, and the namespace Istio reads
// from it; the zero principal is plaintext's.
type principal struct {
	name, namespace string
}

// identity is pod's principal, looked up in (and added to) known, which
// may be nil.
func (m *Mesh) identity(pod *Pod, known map[string]principal) principal {
	p := m.c.Plan
	sa := "default"
	if isPrometheus(pod) {
		sa = p.Monitoring.Prometheus.ServiceAccount
	}
	name := p.Mesh.TrustDomain + "/ns/" + pod.Namespace + "/sa/" + sa
	if id, ok := known[name]; ok {
		return id
	}
	id := principal{name: name}
	var td, ns, account string
	if _, err := fmt.Sscanf(strings.ReplaceAll(name, "/", " "), "%s ns %s sa %s", &td, &ns, &account); err == nil {
		id.namespace = ns
	}
	if known != nil {
		known[name] = id
	}
	return id
}

// peerAuthentication is the effective mode for pod's port: the platform's
// mesh.mtls when obsgen leaves the defaults to it, then obsgen's mesh-wide,
// namespace and workload policies, the narrowest last.
func (m *Mesh) peerAuthentication(pod *meshPod, port int) string {
	p := m.c.Plan
	mode := "PERMISSIVE"
	if !m.defaults {
		mode = string(p.Mesh.MTLS)
	}
	apply := func(x *securityv1beta1.PeerAuthentication_MutualTLS) {
		if x != nil && x.Mode != securityv1beta1.PeerAuthentication_MutualTLS_UNSET {
			mode = x.Mode.String()
		}
	}
	for _, pa := range m.meshWide {
		apply(pa.Spec.Mtls)
	}
	for _, pa := range pod.namespacePAs {
		apply(pa.Spec.Mtls)
	}
	for _, pa := range pod.workloadPAs {
		apply(pa.Spec.Mtls)
		apply(pa.Spec.PortLevelMtls[uint32(port)])
	}
	return mode
}

// authorized tells whether an ALLOW policy lets identity (the zero
// principal for plaintext) reach port of pod.
func authorized(pod *meshPod, identity principal, port int) bool {
	portName := strconv.Itoa(port)
	for _, ap := range pod.allows {
		for _, r := range ap.Spec.Rules {
			if ruleMatches(r, identity, portName) {
				return true
			}
		}
	}
	return false
}

func ruleMatches(r *securityv1beta1.Rule, identity principal, port string) bool {
	from := len(r.From) == 0
	for _, f := range r.From {
		from = from || sourceMatches(f.Source, identity)
	}
	to := len(r.To) == 0
	for _, t := range r.To {
		to = to || slices.Contains(t.Operation.Ports, port)
	}
	return from && to
}

// sourceMatches evaluates the source fields obsgen writes: principals and
// namespaces (mTLS only: they never match plaintext) and notPrincipals
// ["*"] (a request without a principal, i.e. plaintext).
func sourceMatches(s *securityv1beta1.Source, identity principal) bool {
	if slices.Contains(s.NotPrincipals, "*") {
		return identity.name == ""
	}
	if identity.name == "" {
		return false
	}
	if slices.Contains(s.Principals, identity.name) {
		return true
	}
	return identity.namespace != "" && slices.Contains(s.Namespaces, identity.namespace)
}

func selects(selector map[string]string, labels plan.Labels) bool {
	for k, v := range selector {
		if got, ok := labels.Get(k); !ok || got != v {
			return false
		}
	}
	return true
}
