// Package istio generates the Istio security objects of the mTLS mode: the
// mesh-wide and per-namespace PeerAuthentication, and for the
// permissive-port strategy a workload-selected PeerAuthentication that opens
// exactly each service's metrics port to plaintext (portLevelMtls applies
// only with a selector, to the workload's port, istio.io).
package istio

import (
	"fmt"
	"slices"
	"strings"

	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Files of the Istio objects.
const (
	PeerAuthenticationsPath   = "istio/peerauthentications.yaml"
	AuthorizationPoliciesPath = "istio/authorizationpolicies.yaml"
)

// Generate writes the PeerAuthentications when the mesh is Istio, and the
// AuthorizationPolicies under a deny-by-default authorization stance.
func Generate(p *plan.Plan, _ *render.Engine) ([]output.File, error) {
	return Write(p, &built.Policies{})
}

// Write builds the objects into pol, for the proof, and writes them.
func Write(p *plan.Plan, pol *built.Policies) ([]output.File, error) {
	if !p.Mesh.Istio {
		return nil, nil
	}
	pol.PeerAuthentications, pol.AuthorizationPolicies = PeerAuthentications(p), AuthorizationPolicies(p)
	var files []output.File
	if len(pol.PeerAuthentications) > 0 {
		f, err := manifest.Documents(PeerAuthenticationsPath, pol.PeerAuthentications)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(pol.AuthorizationPolicies) > 0 {
		f, err := manifest.Documents(AuthorizationPoliciesPath, pol.AuthorizationPolicies)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	settings, err := secureMetricsFiles(p)
	if err != nil {
		return nil, err
	}
	files = append(files, settings...)
	tracing, err := tracingFiles(p)
	if err != nil {
		return nil, err
	}
	files = append(files, tracing...)
	if c := PrometheusCertificate(p); c != nil {
		f, err := manifest.File(PrometheusCertificatePath, c)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// AuthorizationPolicies are, under a deny-by-default authorization stance,
// one ALLOW policy per service whose metrics port Prometheus reaches
// through the workload's proxy (sidecar or ztunnel): the service's
// workloads, that port only, and when the scrape carries an identity (Istio
// certificates, or Prometheus enrolled in ambient) the Prometheus service
// account only. A plaintext scrape has no identity Istio could check
// (source principals and namespaces require mTLS, istio.io
// AuthorizationPolicy reference), so its policy names the port alone and
// the network policies restrict who reaches it. Ports 15020 and 15090 are
// not intercepted by the proxy's inbound listener and need no policy
// (injection-template.yaml excludes them from capture; istio/istio#19975).
// With the monitoring stack in the mesh, the stack's own ports get the
// same port-only ALLOWs (MonitoringPorts): an allow-nothing policy denies
// them too, and no alert would reach Alertmanager.
func AuthorizationPolicies(p *plan.Plan) []*securityv1.AuthorizationPolicy {
	if !p.Mesh.DenyByDefault {
		return nil
	}
	var out []*securityv1.AuthorizationPolicy
	for _, s := range p.ServiceTargets {
		if !ThroughProxy(s.Endpoint) {
			continue
		}
		rule := &securityv1beta1.Rule{To: []*securityv1beta1.Rule_To{{Operation: &securityv1beta1.Operation{Ports: []string{fmt.Sprint(s.Endpoint.Port)}}}}}
		why := fmt.Sprintf("Prometheus scrapes %s on %d in plaintext: no identity to check, the network policies restrict the source", s.Job, s.Endpoint.Port)
		if id := ScrapeIdentity(p, s.Endpoint); id != "" {
			rule.From = []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{Principals: []string{id}}}}
			why = fmt.Sprintf("Prometheus (%s) scrapes %s on %d", id, s.Job, s.Endpoint.Port)
		}
		out = append(out, allow(p, "obsgen-metrics-"+s.Name, s.Namespace, s.Selector, why, rule))
	}
	for _, mp := range MonitoringPorts(p) {
		var ports []string
		for _, port := range mp.Ports {
			ports = append(ports, fmt.Sprint(port))
		}
		to := []*securityv1beta1.Rule_To{{Operation: &securityv1beta1.Operation{Ports: ports}}}
		if !p.Mesh.Ambient {
			rule := &securityv1beta1.Rule{To: to}
			out = append(out, allow(p, mp.Name, mp.Namespace, mp.Selector, mp.Why+"; the network policies restrict the sources", rule))
			continue
		}
		out = append(out, allow(p, mp.Name, mp.Namespace, mp.Selector, mp.Why+"; mesh callers from "+strings.Join(meshCallers(p), ", ")+
			" only (the network policies see HBONE's 15008, not the port), plaintext callers as the network policies allow", ambientRules(p, to)...))
	}
	return out
}

// ambientRules allow the stack's ports, in ambient, to mesh identities of
// the namespaces that call them and to plaintext callers: HBONE hides the
// port from the network policies, so identities must be narrowed here.
// notPrincipals ["*"] matches a request without a principal, i.e.
// plaintext (istio.io ISTIO-SECURITY-2021-004: mTLS-only fields compare
// against an empty value for plaintext).
func ambientRules(p *plan.Plan, to []*securityv1beta1.Rule_To) []*securityv1beta1.Rule {
	return []*securityv1beta1.Rule{
		{From: []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{Namespaces: meshCallers(p)}}}, To: to},
		{From: []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{NotPrincipals: []string{"*"}}}}, To: to},
	}
}

// meshCallers are the namespaces whose workloads call the monitoring
// stack: its own, and the namespaces of the profile's Grafana users,
// federating Prometheus and grafana-operator.
func meshCallers(p *plan.Plan) []string {
	out := []string{p.Monitoring.Namespace}
	for _, e := range p.Network.GrafanaIngress {
		out = append(out, e.Namespace)
	}
	if f := p.Federation; f != nil {
		for _, s := range f.Sources {
			out = append(out, s.Namespace)
		}
	}
	if op := p.Dashboards.Operator; op != nil {
		out = append(out, op.Namespace)
	}
	out = slices.DeleteFunc(out, func(ns string) bool { return ns == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

func allow(p *plan.Plan, name, ns string, selector plan.Labels, why string, rules ...*securityv1beta1.Rule) *securityv1.AuthorizationPolicy {
	return &securityv1.AuthorizationPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "security.istio.io/v1", Kind: "AuthorizationPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels: manifest.Meta(p, "").Labels, Annotations: map[string]string{manifest.WhyAnnotation: why}},
		Spec: securityv1beta1.AuthorizationPolicy{
			Selector: workloadSelector(selector),
			Action:   securityv1beta1.AuthorizationPolicy_ALLOW,
			Rules:    rules,
		},
	}
}

// ThroughProxy tells whether a scrape of e passes the workload proxy's
// inbound authorization: every port but the proxy's own metrics ports.
// 15090, 15020 (and 15021) are outside inbound capture by default
// (injection-template.yaml, istio-iptables -d "15090,15021,<statusPort>");
// the secure merged listener is a static bootstrap listener that obsgen's
// istiod settings exclude from capture (global.proxy.excludeInboundPorts),
// so it terminates its own mTLS and no inbound filter chain applies.
func ThroughProxy(e plan.Endpoint) bool {
	return e.Port != plan.PortMergedMetrics && e.Port != plan.PortEnvoyMetrics && e.Port != plan.PortSecureMergedMetrics
}

// ScrapeIdentity is the SPIFFE principal (without spiffe://) Istio sees on
// a scrape of e, or "" for a plaintext scrape.
func ScrapeIdentity(p *plan.Plan, e plan.Endpoint) string {
	m := p.Monitoring
	if !e.IstioTLS && !(p.Mesh.Ambient && m.InMesh && p.Mesh.MTLS != v1alpha1.MTLSDisable) {
		return ""
	}
	return fmt.Sprintf("%s/ns/%s/sa/%s", p.Mesh.TrustDomain, m.Namespace, m.Prometheus.ServiceAccount)
}

func workloadSelector(l plan.Labels) *typev1beta1.WorkloadSelector {
	if len(l) == 0 {
		return nil
	}
	return &typev1beta1.WorkloadSelector{MatchLabels: l.Map()}
}

// PeerAuthentications are the mesh-wide policy (named default in Istio's
// namespace) and one namespace-wide policy per team namespace, unless the
// platform owns them (mesh.peerAuthentication), then the workload port
// exceptions: under permissive-port one per service, and the monitoring
// stack's plaintext ports.
func PeerAuthentications(p *plan.Plan) []*securityv1.PeerAuthentication {
	mode := securityv1beta1.PeerAuthentication_MutualTLS_Mode_value[string(p.Mesh.MTLS)]
	var out []*securityv1.PeerAuthentication
	if p.Mesh.DefaultPeerAuthentications {
		out = append(out, peerAuthentication(p, p.Mesh.IstioNamespace, "default", mode))
		for _, t := range p.Teams {
			for _, ns := range t.Namespaces {
				out = append(out, peerAuthentication(p, ns, "default", mode))
			}
		}
	}
	if !p.Mesh.WorkloadPeerAuthentications {
		return out
	}
	out = append(out, monitoringPeerAuthentications(p)...)
	if p.Scrape.Strategy != v1alpha1.StrategyPermissivePort {
		return out
	}
	for _, s := range p.ServiceTargets {
		pa := peerAuthentication(p, s.Namespace, "obsgen-metrics-"+s.Name, int32(securityv1beta1.PeerAuthentication_MutualTLS_STRICT))
		pa.Annotations = map[string]string{manifest.WhyAnnotation: fmt.Sprintf(
			"Prometheus scrapes %s in plaintext on %d; every other port of the workload stays STRICT", s.Job, s.AppPort)}
		pa.Spec.Selector = &typev1beta1.WorkloadSelector{MatchLabels: s.Selector.Map()}
		pa.Spec.PortLevelMtls = map[uint32]*securityv1beta1.PeerAuthentication_MutualTLS{
			uint32(s.AppPort): {Mode: securityv1beta1.PeerAuthentication_MutualTLS_PERMISSIVE},
		}
		out = append(out, pa)
	}
	return out
}

// MonitoringPorts are the ports of the monitoring stack's own workloads
// that an in-mesh stack must keep open, by workload, with why:
// Prometheus' web port (Grafana's queries, the self-scrape, federation),
// Alertmanager's (alerts, its scrape) and cluster port (gossip),
// kube-state-metrics' (its scrape), Grafana's (users, grafana-operator)
// and the Prometheus Operator's webhook port (the API server). Only
// workloads in the monitoring namespace are in the mesh (in ambient the
// namespace may be enrolled as a whole).
func MonitoringPorts(p *plan.Plan) []PlaintextPort {
	m := p.Monitoring
	if !m.InMesh || !p.Mesh.Sidecar && !p.Mesh.Ambient {
		return nil
	}
	why := "Grafana queries Prometheus and Prometheus scrapes itself (its outbound traffic bypasses its sidecar)"
	if p.Mesh.Ambient {
		why = "Grafana and the global Prometheus query Prometheus, from outside the mesh too"
	}
	out := []PlaintextPort{{Name: "obsgen-prometheus", Namespace: m.Namespace, Selector: m.Prometheus.PodLabels, Ports: []int{plan.PortPrometheus}, Why: why}}
	inNS := func(c plan.Component) bool { return c.Namespace == m.Namespace }
	if !m.Prometheus.Agent && inNS(m.Alertmanager) {
		out = append(out, PlaintextPort{Name: "obsgen-alertmanager", Namespace: m.Namespace, Selector: m.Alertmanager.PodLabels,
			Ports: []int{m.Alertmanager.Port, plan.PortAlertmanagerGossip},
			Why:   "Prometheus sends alerts to Alertmanager and scrapes it in plaintext (its outbound traffic bypasses its sidecar), and the replicas gossip"})
	}
	if inNS(m.KubeStateMetrics) {
		out = append(out, PlaintextPort{Name: "obsgen-kube-state-metrics", Namespace: m.Namespace, Selector: m.KubeStateMetrics.PodLabels,
			Ports: []int{m.KubeStateMetrics.Port}, Why: "Prometheus scrapes kube-state-metrics in plaintext (its outbound traffic bypasses its sidecar)"})
	}
	if inNS(m.Grafana) && p.Dashboards.Any() {
		out = append(out, PlaintextPort{Name: "obsgen-grafana", Namespace: m.Namespace, Selector: m.Grafana.PodLabels,
			Ports: []int{m.Grafana.Port}, Why: "users (often through an ingress controller outside the mesh) and grafana-operator open Grafana"})
	}
	if k := p.Kiali; k != nil && k.Namespace == m.Namespace {
		out = append(out, PlaintextPort{Name: "obsgen-kiali", Namespace: m.Namespace, Selector: k.PodLabels,
			Ports: []int{k.Port}, Why: "users (often through an ingress controller outside the mesh) open Kiali"})
	}
	if t := p.Tracing; t != nil && t.Collector.Namespace == m.Namespace {
		// Envoy exports spans through its outbound cluster for the
		// provider's service, so auto mTLS applies to a collector with a
		// sidecar (pilot/pkg/model/telemetry_logging.go; istio/istio#42973);
		// proxies outside the mesh's mTLS (a gateway with its own
		// DestinationRule, a pod whose sidecar is bypassed) send plaintext,
		// so the port takes both.
		out = append(out, PlaintextPort{Name: "obsgen-tracing-collector", Namespace: m.Namespace, Selector: t.Collector.PodLabels,
			Ports: []int{t.Collector.Port}, Why: "every proxy exports its spans to the collector, over mTLS or in plaintext"})
	}
	if m.OperatorFlavour && inNS(m.PrometheusOperator) {
		out = append(out, PlaintextPort{Name: "obsgen-prometheus-operator", Namespace: m.Namespace, Selector: m.PrometheusOperator.PodLabels,
			Ports: []int{m.PrometheusOperator.Port}, Why: "the API server, outside the mesh, calls the Prometheus Operator's admission webhook"})
	}
	if p.Mesh.Ambient {
		// obsgen enrolls the Prometheus pods; the others only when the
		// platform enrolls the namespace, for which these stand ready.
		for i := 1; i < len(out); i++ {
			out[i].Why = "if the monitoring namespace is enrolled: " + strings.Replace(out[i].Why, " (its outbound traffic bypasses its sidecar)", "", 1)
		}
	}
	return out
}

// MonitoringPlaintextPorts are the MonitoringPorts that receive plaintext
// under STRICT, and so need a port-level PERMISSIVE exception: all but
// Alertmanager's cluster port (gossip between sidecars is mTLS; UDP is
// not intercepted), and not Prometheus' web port under istio-certs, whose
// cert-writing sidecar intercepts no inbound port.
func MonitoringPlaintextPorts(p *plan.Plan) []PlaintextPort {
	if p.Mesh.MTLS != v1alpha1.MTLSStrict {
		return nil
	}
	var out []PlaintextPort
	for _, mp := range MonitoringPorts(p) {
		mp.Ports = slices.DeleteFunc(slices.Clone(mp.Ports), func(port int) bool { return port == plan.PortAlertmanagerGossip })
		if mp.Name == "obsgen-prometheus" && p.Monitoring.Prometheus.CertWriter() {
			continue
		}
		out = append(out, mp)
	}
	return out
}

// PlaintextPort is a workload's ports opened to plaintext or allowed.
type PlaintextPort struct {
	Name, Namespace string
	Selector        plan.Labels
	Ports           []int
	Why             string
}

func monitoringPeerAuthentications(p *plan.Plan) []*securityv1.PeerAuthentication {
	var out []*securityv1.PeerAuthentication
	for _, pp := range MonitoringPlaintextPorts(p) {
		pa := peerAuthentication(p, pp.Namespace, pp.Name, int32(securityv1beta1.PeerAuthentication_MutualTLS_STRICT))
		pa.Annotations = map[string]string{manifest.WhyAnnotation: pp.Why + "; every other port stays STRICT"}
		pa.Spec.Selector = &typev1beta1.WorkloadSelector{MatchLabels: pp.Selector.Map()}
		pa.Spec.PortLevelMtls = map[uint32]*securityv1beta1.PeerAuthentication_MutualTLS{}
		for _, port := range pp.Ports {
			pa.Spec.PortLevelMtls[uint32(port)] = &securityv1beta1.PeerAuthentication_MutualTLS{Mode: securityv1beta1.PeerAuthentication_MutualTLS_PERMISSIVE}
		}
		out = append(out, pa)
	}
	return out
}

func peerAuthentication(p *plan.Plan, ns, name string, mode int32) *securityv1.PeerAuthentication {
	labels := manifest.Meta(p, "").Labels
	return &securityv1.PeerAuthentication{
		TypeMeta:   metav1.TypeMeta{APIVersion: "security.istio.io/v1", Kind: "PeerAuthentication"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: securityv1beta1.PeerAuthentication{
			Mtls: &securityv1beta1.PeerAuthentication_MutualTLS{Mode: securityv1beta1.PeerAuthentication_MutualTLS_Mode(mode)},
		},
	}
}
