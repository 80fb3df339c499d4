package doctor

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	securityv1beta1 "istio.io/api/security/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Istio's pod and namespace markers. Sources:
//   - injection: manifests/charts/istio-control/istio-discovery/templates/
//     mutatingwebhook.yaml (namespaceSelector istio-injection=enabled or
//     istio.io/rev; objectSelector sidecar.istio.io/inject != false);
//   - the injected proxy: pkg/kube/inject (container istio-proxy, a native
//     sidecar init container from 1.27 on, and the sidecar.istio.io/status
//     annotation);
//   - ambient: istio.io docs/ambient/usage/add-workloads
//     (istio.io/dataplane-mode=ambient on the namespace or the pod, "none"
//     on a pod opts it out);
//   - inbound capture: tools/istio-iptables and the injector's annotations
//     traffic.sidecar.istio.io/includeInboundPorts and
//     excludeInboundPorts; the proxy's own 15020, 15021 and 15090 are
//     never captured (files/injection-template.yaml).
const (
	labelInjection   = "istio-injection"
	labelRevision    = "istio.io/rev"
	labelInject      = "sidecar.istio.io/inject"
	annotationStatus = "sidecar.istio.io/status"
	labelDataplane   = "istio.io/dataplane-mode"
	annIncludeIn     = "traffic.sidecar.istio.io/includeInboundPorts"
	annExcludeIn     = "traffic.sidecar.istio.io/excludeInboundPorts"
	containerProxy   = "istio-proxy"
)

// hasSidecar tells whether the pod runs Istio's proxy.
func hasSidecar(pod *corev1.Pod) bool {
	if pod.Annotations[annotationStatus] != "" {
		return true
	}
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		if slices.ContainsFunc(list, func(c corev1.Container) bool { return c.Name == containerProxy }) {
			return true
		}
	}
	return false
}

// injectionOff explains why the injector skips a pod, or "" when it
// would inject it.
// The pod label wins over the legacy annotation (pkg/kube/inject/inject.go
// injectRequired); host-network pods are never injected; a pod label
// istio.io/rev injects in an unlabelled namespace (mutatingwebhook.yaml
// rev.object); an istio-injection value other than enabled matches no
// webhook.
func injectionOff(ns *corev1.Namespace, pod *corev1.Pod) string {
	if pod.Spec.HostNetwork {
		return "the pod uses the host network, which Istio never injects"
	}
	if v, ok := pod.Labels[labelInject]; ok && v == "false" {
		return fmt.Sprintf("the pod has the label %s=false", labelInject)
	} else if !ok && pod.Annotations[labelInject] == "false" {
		return fmt.Sprintf("the pod has the annotation %s: \"false\"", labelInject)
	}
	if pod.Labels[labelRevision] != "" && (ns == nil || ns.Labels[labelInjection] == "") {
		return ""
	}
	if ns == nil {
		return fmt.Sprintf("the namespace %s is not in the cluster state", pod.Namespace)
	}
	if v, ok := ns.Labels[labelInjection]; ok && v != "enabled" {
		return fmt.Sprintf("the namespace %s has %s=%s", ns.Name, labelInjection, v)
	}
	if ns.Labels[labelInjection] != "enabled" && ns.Labels[labelRevision] == "" && pod.Labels[labelInject] != "true" {
		return fmt.Sprintf("the namespace %s has neither %s=enabled nor %s", ns.Name, labelInjection, labelRevision)
	}
	return ""
}

// enrolled tells whether ambient captures the pod's traffic.
// Pods with a sidecar and host-network pods are never enrolled
// (cni/pkg/util/enablement_selector.go Matches); a pod label "none" opts
// a pod of an ambient namespace out.
func enrolled(ns *corev1.Namespace, pod *corev1.Pod) bool {
	if hasSidecar(pod) || pod.Spec.HostNetwork {
		return false
	}
	if pod.Labels[labelDataplane] == "ambient" {
		return true
	}
	return ns != nil && ns.Labels[labelDataplane] == "ambient" && pod.Labels[labelDataplane] != "none"
}

// intercepted tells whether the pod's sidecar captures inbound port.
// The proxy's own ports are never captured (pilot/cmd/pilot-agent/status
// server.go istioReservedPorts; tools/istio-iptables excludes 15008), nor
// the status port an annotation moves; exclusions apply when every port
// is included ("*", the default).
func intercepted(pod *corev1.Pod, port int) (bool, string) {
	p := strconv.Itoa(port)
	if slices.Contains([]int{15000, 15001, 15004, 15006, 15008, 15020, 15021, 15053, 15090}, port) || pod.Annotations["status.sidecar.istio.io/port"] == p {
		return false, fmt.Sprintf("port %d is the proxy's own and never captured", port)
	}
	inc, ok := pod.Annotations[annIncludeIn]
	if ok && strings.TrimSpace(inc) != "*" {
		if !slices.Contains(splitList(inc), p) {
			return false, fmt.Sprintf("%s %q leaves %d out", annIncludeIn, inc, port)
		}
		return true, ""
	}
	if slices.Contains(splitList(pod.Annotations[annExcludeIn]), p) {
		return false, fmt.Sprintf("%s %q excludes it", annExcludeIn, pod.Annotations[annExcludeIn])
	}
	return true, ""
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// mtlsDecision is the effective PeerAuthentication mode of a pod's port and
// the policy that set it.
type mtlsDecision struct {
	Mode   string
	Policy string // "namespace/name", or "" for Istio's default
	Level  string // mesh-wide, namespace, workload, port
	// Overlap names the workload policies that also select the pod and
	// that Istio ignores.
	Overlap []string
}

// effectiveMTLS resolves the PeerAuthentication of pod's port as Istio
// composes it (istio.io docs/concepts/security, "Peer authentication";
// pilot/pkg/security/authn ComposePeerAuthentication): the narrowest scope
// wins, workload over namespace over the mesh-wide policy of the root
// namespace; inside one scope the oldest policy wins; UNSET inherits, the
// port-level mode from the workload's, the workload's from the namespace's;
// PERMISSIVE when none applies. Workload policies in the root namespace are
// ignored (security/v1beta1/peer_authentication.proto).
func effectiveMTLS(pas []*securityv1.PeerAuthentication, root string, pod *corev1.Pod, port int) mtlsDecision {
	d := mtlsDecision{Mode: "PERMISSIVE", Level: "Istio's default"}
	set := func(pa *securityv1.PeerAuthentication, m *securityv1beta1.PeerAuthentication_MutualTLS, level string) {
		if m != nil && m.Mode != securityv1beta1.PeerAuthentication_MutualTLS_UNSET {
			d.Mode, d.Policy, d.Level = m.Mode.String(), pa.Namespace+"/"+pa.Name, level
		}
	}
	wide := func(pa *securityv1.PeerAuthentication) bool {
		return pa.Spec.Selector == nil || len(pa.Spec.Selector.MatchLabels) == 0
	}
	if pa := oldest(pas, func(pa *securityv1.PeerAuthentication) bool { return pa.Namespace == root && wide(pa) }); pa != nil {
		set(pa, pa.Spec.Mtls, "mesh-wide")
	}
	if pod.Namespace != root {
		if pa := oldest(pas, func(pa *securityv1.PeerAuthentication) bool {
			return pa.Namespace == pod.Namespace && wide(pa)
		}); pa != nil {
			set(pa, pa.Spec.Mtls, "namespace")
		}
	}
	workload := func(pa *securityv1.PeerAuthentication) bool {
		return pod.Namespace != root && pa.Namespace == pod.Namespace && !wide(pa) && selectsPod(pa.Spec.Selector.MatchLabels, pod)
	}
	if pa := oldest(pas, workload); pa != nil {
		set(pa, pa.Spec.Mtls, "workload")
		set(pa, pa.Spec.PortLevelMtls[uint32(port)], fmt.Sprintf("port %d", port))
		for _, other := range pas {
			if other != pa && workload(other) {
				d.Overlap = append(d.Overlap, other.Namespace+"/"+other.Name)
			}
		}
	}
	return d
}

// oldest is the policy keep selects that was created first (then by name).
func oldest(pas []*securityv1.PeerAuthentication, keep func(*securityv1.PeerAuthentication) bool) *securityv1.PeerAuthentication {
	var out *securityv1.PeerAuthentication
	for _, pa := range pas {
		if !keep(pa) {
			continue
		}
		if out == nil || pa.CreationTimestamp.Before(&out.CreationTimestamp) ||
			pa.CreationTimestamp.Equal(&out.CreationTimestamp) && pa.Name < out.Name {
			out = pa
		}
	}
	return out
}

func selectsPod(match map[string]string, pod *corev1.Pod) bool {
	return labels.SelectorFromSet(match).Matches(labels.Set(pod.Labels))
}

// authzDecision is what the AuthorizationPolicies do to one request.
type authzDecision struct {
	Allowed bool
	// Policies are the policies that apply to the workload; Decider the one
	// that decided ("" when no ALLOW policy applies, or none matched).
	Policies []string
	Decider  string
	// Unsure lists conditions obsgen cannot evaluate (when, ipBlocks,
	// request principals, hosts); such rules are taken not to match.
	Unsure []string
	// deny is set while DENY rules are evaluated.
	deny bool
}

// request is a scrape as the destination's proxy sees it.
type request struct {
	principal string // "" for plaintext (no peer identity)
	namespace string // the principal's namespace
	port      int
	path      string
	// tcp is set when Istio handles the port as TCP: HTTP-only fields
	// (paths, methods, hosts) make an ALLOW rule match nothing and are
	// dropped from a DENY rule (pilot/pkg/security/authz/model/model.go
	// checkError; generator.go "is HTTP only").
	tcp bool
}

// authorize applies Istio's AuthorizationPolicy precedence (istio.io
// docs/concepts/security, "Authorization policy precedence"): a matching
// DENY denies; with no ALLOW policy for the workload the request is
// allowed; otherwise one ALLOW rule must match. Policies of the root
// namespace apply to every namespace. CUSTOM policies are left out:
// their decision belongs to an external service.
func authorize(aps []*securityv1.AuthorizationPolicy, root string, pod *corev1.Pod, req request) authzDecision {
	var d authzDecision
	var allows []*securityv1.AuthorizationPolicy
	for _, ap := range aps {
		if ap.Namespace != pod.Namespace && ap.Namespace != root {
			continue
		}
		if len(ap.Spec.TargetRefs) > 0 || ap.Spec.TargetRef != nil {
			continue // waypoints and gateways, not the workload's proxy
		}
		if ap.Spec.Selector != nil && !selectsPod(ap.Spec.Selector.MatchLabels, pod) {
			continue
		}
		name := ap.Namespace + "/" + ap.Name
		if ap.Annotations["istio.io/dry-run"] == "true" {
			continue // logged, never enforced (authz/builder/builder.go isDryRun)
		}
		switch ap.Spec.Action {
		case securityv1beta1.AuthorizationPolicy_CUSTOM:
			d.Policies = append(d.Policies, name+" (CUSTOM)")
			d.Unsure = append(d.Unsure, "CUSTOM policy "+name+" (its external authorizer decides first)")
		case securityv1beta1.AuthorizationPolicy_DENY:
			d.Policies = append(d.Policies, name+" (DENY)")
			d.deny = true
			for _, r := range ap.Spec.Rules {
				if ruleMatches(r, req, &d) {
					d.Decider = name
					d.deny = false
					return d
				}
			}
			d.deny = false
		case securityv1beta1.AuthorizationPolicy_ALLOW:
			d.Policies = append(d.Policies, name+" (ALLOW)")
			allows = append(allows, ap)
		}
	}
	if len(allows) == 0 {
		d.Allowed = true
		return d
	}
	for _, ap := range allows {
		for _, r := range ap.Spec.Rules {
			if ruleMatches(r, req, &d) {
				d.Allowed, d.Decider = true, ap.Namespace+"/"+ap.Name
				return d
			}
		}
	}
	return d
}

// ruleMatches evaluates a rule for a scrape (GET of req.path) following the
// field reference (istio.io docs/reference/config/security/
// authorization-policy): every from and every to must match; inside one
// list, any entry.
func ruleMatches(r *securityv1beta1.Rule, req request, d *authzDecision) bool {
	if len(r.When) > 0 {
		d.Unsure = append(d.Unsure, "a rule with `when` conditions")
		return false
	}
	from := len(r.From) == 0
	for _, f := range r.From {
		if f.Source != nil && sourceMatches(f.Source, req, d) {
			from = true
		}
	}
	to := len(r.To) == 0
	for _, t := range r.To {
		if t.Operation != nil && operationMatches(t.Operation, req, d) {
			to = true
		}
	}
	return from && to
}

func sourceMatches(s *securityv1beta1.Source, req request, d *authzDecision) bool {
	if len(s.IpBlocks)+len(s.RemoteIpBlocks)+len(s.NotIpBlocks)+len(s.NotRemoteIpBlocks)+len(s.RequestPrincipals)+len(s.NotRequestPrincipals) > 0 {
		d.Unsure = append(d.Unsure, "a source by address or request principal")
		return false
	}
	// Principals and namespaces need a peer identity: plaintext has none.
	if len(s.Principals) > 0 && (req.principal == "" || !matchAny(s.Principals, req.principal)) {
		return false
	}
	// notPrincipals and notNamespaces are not(authenticated and
	// matching): without a peer identity they always match
	// (pilot/pkg/security/authz/model/model.go; ISTIO-SECURITY-2021-004).
	if len(s.NotPrincipals) > 0 && req.principal != "" && matchAny(s.NotPrincipals, req.principal) {
		return false
	}
	if len(s.Namespaces) > 0 && (req.namespace == "" || !matchAny(s.Namespaces, req.namespace)) {
		return false
	}
	if len(s.NotNamespaces) > 0 && req.namespace != "" && matchAny(s.NotNamespaces, req.namespace) {
		return false
	}
	return true
}

func operationMatches(o *securityv1beta1.Operation, req request, d *authzDecision) bool {
	port := strconv.Itoa(req.port)
	httpOnly := len(o.Hosts)+len(o.NotHosts)+len(o.Methods)+len(o.NotMethods)+len(o.Paths)+len(o.NotPaths) > 0
	if req.tcp && httpOnly {
		if !d.deny {
			return false
		}
		o = &securityv1beta1.Operation{Ports: o.Ports, NotPorts: o.NotPorts}
	}
	if len(o.Hosts)+len(o.NotHosts) > 0 {
		d.Unsure = append(d.Unsure, "an operation by host")
		return false
	}
	if len(o.Ports) > 0 && !slices.Contains(o.Ports, port) || slices.Contains(o.NotPorts, port) {
		return false
	}
	if len(o.Methods) > 0 && !matchAny(o.Methods, "GET") || matchAny(o.NotMethods, "GET") {
		return false
	}
	if len(o.Paths) > 0 && !matchAny(o.Paths, req.path) || matchAny(o.NotPaths, req.path) {
		return false
	}
	return true
}

// matchAny applies Istio's string matching: exact, prefix ("abc*"),
// suffix ("*abc") or presence ("*").
func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		switch {
		case p == "*":
			return true
		case strings.HasSuffix(p, "*") && strings.HasPrefix(s, strings.TrimSuffix(p, "*")):
			return true
		case strings.HasPrefix(p, "*") && strings.HasSuffix(s, strings.TrimPrefix(p, "*")):
			return true
		case p == s:
			return true
		}
	}
	return false
}

// principalNamespace reads the namespace of "<td>/ns/<ns>/sa/<sa>".
func principalNamespace(principal string) string {
	dir, _ := path.Split(principal)
	parts := strings.Split(strings.Trim(dir, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "ns" {
			return parts[i+1]
		}
	}
	return ""
}

// nonHTTPPort tells whether a Service port declares a protocol other than
// HTTP/1.1 for the metrics port, by appProtocol or name prefix (istio.io
// docs/ops/configuration/traffic-management/protocol-selection: "name:
// <protocol>[-<suffix>]" or appProtocol). The sidecar then handles the
// scrape with that protocol: gRPC and HTTP/2 speak HTTP/2 to an HTTP/1.1
// application, TCP and the database protocols see no HTTP at all (no
// HTTP-level authorization or request metrics).
func nonHTTPPort(p corev1.ServicePort) string {
	proto := strings.ToLower(p.Name)
	if p.AppProtocol != nil && *p.AppProtocol != "" {
		proto = strings.ToLower(*p.AppProtocol)
	}
	if proto == "kubernetes.io/h2c" {
		return "http2"
	}
	if proto == "grpc-web" {
		return proto
	}
	if i := strings.Index(proto, "-"); i >= 0 {
		proto = proto[:i]
	}
	switch proto {
	case "grpc", "http2", "tcp", "tls", "https", "mongo", "mysql", "redis":
		return proto
	}
	return ""
}

// speaksHTTP2 tells the protocols for which the sidecar speaks HTTP/2 to
// the application; the others carry no HTTP at all.
func speaksHTTP2(proto string) bool {
	return proto == "grpc" || proto == "grpc-web" || proto == "http2"
}
