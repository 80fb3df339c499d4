package doctor

import (
	"fmt"
	"slices"
	"strings"

	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/clusterstate"
	"obsgen.dev/obsgen/internal/plan"
)

// Causes obsgen doctor recognises, most specific first (the order of a
// report within one severity).
const (
	CauseNoSidecar          = "no-sidecar"
	CauseNotEnrolled        = "not-in-ambient"
	CauseStrictPlaintext    = "strict-mtls-plaintext"
	CauseForeignPeerAuth    = "foreign-peer-authentication"
	CauseNotCaptured        = "port-not-captured"
	CauseMTLSDisabled       = "mtls-disabled"
	CauseNetworkPolicy      = "network-policy"
	CauseAuthorization      = "authorization-policy"
	CauseLocalhostOnly      = "metrics-localhost-only"
	CauseWrongPath          = "wrong-path"
	CauseWrongPort          = "nothing-listens"
	CauseProtocol           = "service-port-protocol"
	CauseCertificates       = "istio-certificates"
	CauseDropped            = "dropped-by-relabeling"
	CauseNotDiscovered      = "not-discovered"
	CauseScrapeError        = "scrape-error"
	CauseFlowBlocked        = "flow-blocked"
	CauseAPIServerEndpoints = "api-server-endpoints"
	CausePrometheusNotFound = "prometheus-not-found"
	CauseNoPods             = "no-pods"
	CauseDriftMissing       = "drift-missing"
	CauseDriftEdited        = "drift-edited"
	CauseUncoveredNamespace = "uncovered-namespace"
	CauseUndeclaredMetrics  = "undeclared-metrics"
	CauseShortRetention     = "retention-too-short"
	CauseCiliumNodeCIDRs    = "cilium-node-cidrs"
)

var causeOrder = []string{CauseNoSidecar, CauseNotEnrolled, CauseForeignPeerAuth, CauseStrictPlaintext, CauseNotCaptured, CauseMTLSDisabled,
	CauseNetworkPolicy, CauseAuthorization, CauseLocalhostOnly, CauseWrongPath, CauseWrongPort, CauseProtocol, CauseCertificates,
	CauseDropped, CauseNotDiscovered, CauseScrapeError, CauseAPIServerEndpoints, CauseCiliumNodeCIDRs, CauseFlowBlocked, CausePrometheusNotFound, CauseNoPods, CauseDriftMissing,
	CauseDriftEdited, CauseShortRetention, CauseUncoveredNamespace, CauseUndeclaredMetrics}

func causeRank(c string) int {
	if i := slices.Index(causeOrder, c); i >= 0 {
		return i
	}
	return len(causeOrder)
}

// symptom is what a scrape error says, in Prometheus' and Go's words
// (scrape/scrape.go, net/http, crypto/tls).
type symptom string

const (
	symNone       symptom = ""
	symHTTPSPlain symptom = "https-to-plaintext"
	symReset      symptom = "reset"
	symTimeout    symptom = "timeout"
	symRefused    symptom = "refused"
	sym401        symptom = "401"
	sym403        symptom = "403"
	sym404        symptom = "404"
	sym5xx        symptom = "5xx"
	symTLS        symptom = "tls"
	symOther      symptom = "other"
	// symDropped is a pod the relabeling drops.
	symDropped symptom = "dropped"
)

func classify(lastError string) symptom {
	e := strings.ToLower(lastError)
	switch {
	case e == "":
		return symNone
	case strings.Contains(e, "server gave http response to https client"):
		return symHTTPSPlain
	case strings.Contains(e, "malformed http response"):
		// Plaintext sent to a server that answers TLS ("\x15\x03") or
		// HTTP/2 only: the application's own protocol, not Istio's.
		return symOther
	case strings.Contains(e, "connection reset by peer"), strings.HasSuffix(e, ": eof"), strings.Contains(e, "unexpected eof"),
		strings.Contains(e, "server closed idle connection"):
		return symReset
	case strings.Contains(e, "context deadline exceeded"), strings.Contains(e, "i/o timeout"), strings.Contains(e, "client.timeout"):
		return symTimeout
	case strings.Contains(e, "connection refused"), strings.Contains(e, "no route to host"):
		return symRefused
	case strings.Contains(e, "http status 401"):
		return sym401
	case strings.Contains(e, "http status 403"):
		return sym403
	case strings.Contains(e, "http status 404"):
		return sym404
	case strings.Contains(e, "http status 5"):
		return sym5xx
	case strings.Contains(e, "tls:"), strings.Contains(e, "x509"), strings.Contains(e, "certificate"):
		return symTLS
	}
	return symOther
}

// cause is a problem the cluster state shows for one target, with the
// symptoms it explains.
type cause struct {
	severity Severity
	code     string
	summary  string
	evidence []string
	fix      string
	ref      string
	explains []symptom
	// standing causes are reported even when the target is up, or when no
	// targets are given; the others only explain a failure.
	standing bool
}

func (c cause) finding(subject, note string) Finding {
	f := Finding{Severity: c.severity, Cause: c.code, Subject: subject, Summary: c.summary, Evidence: c.evidence, Fix: c.fix, Ref: c.ref}
	if note != "" {
		f.Evidence = append(f.Evidence, note)
	}
	return f
}

// causes reads, from the cluster state alone, what stands between
// Prometheus and pod's target. Critical causes break the scrape whatever
// the targets say; warnings are risks.
func (d *doctor) causes(e expectation, pod *corev1.Pod) []cause {
	var out []cause
	port := e.port(pod)
	ns := d.ns[pod.Namespace]
	m := d.p.Mesh
	proxyPort := port == plan.PortMergedMetrics || port == plan.PortEnvoyMetrics || port == plan.PortSecureMergedMetrics
	sidecar := hasSidecar(pod)
	if m.Sidecar && !sidecar && e.Service != nil {
		why := injectionOff(ns, pod)
		if why == "" {
			why = "the namespace is labelled for injection, so the pod predates the label or the injector's webhook failed open"
		}
		sev := Warning
		if proxyPort || e.Endpoint.IstioTLS {
			sev = Critical
		}
		out = append(out, cause{severity: sev, code: CauseNoSidecar,
			summary: fmt.Sprintf("the pod runs without Istio's sidecar (%s), so nothing answers the proxy's ports and nothing terminates Istio mTLS", why),
			evidence: []string{fmt.Sprintf("containers %s, no %s annotation", containerNames(pod), annotationStatus),
				fmt.Sprintf("namespace %s labels %v", pod.Namespace, labelsOf(ns))},
			fix: fmt.Sprintf("`kubectl label namespace %s %s=enabled` (or %s=<revision> for a revisioned control plane), remove any %s=false from the workload's pod template, then `kubectl rollout restart deployment -n %s`",
				pod.Namespace, labelInjection, labelRevision, labelInject, pod.Namespace),
			ref:      "istio.io docs/setup/additional-setup/sidecar-injection; manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml",
			explains: []symptom{symRefused, symHTTPSPlain, symDropped, symReset, symTLS}, standing: true})
	}
	if m.Ambient && !enrolled(ns, pod) && pod.Namespace != d.p.Monitoring.Namespace && e.Service != nil {
		out = append(out, cause{severity: Warning, code: CauseNotEnrolled,
			summary:  "the pod is not in the ambient mesh: ztunnel does not carry its traffic, so it has no Istio metrics and no mTLS",
			evidence: []string{fmt.Sprintf("namespace %s labels %v, pod %s=%q", pod.Namespace, labelsOf(ns), labelDataplane, pod.Labels[labelDataplane])},
			fix:      fmt.Sprintf("`kubectl label namespace %s %s=ambient`", pod.Namespace, labelDataplane),
			ref:      "istio.io docs/ambient/usage/add-workloads", standing: true})
	}
	captured := false
	if sidecar && !proxyPort {
		var why string
		captured, why = intercepted(pod, port)
		if !captured && e.Endpoint.IstioTLS {
			out = append(out, cause{severity: Critical, code: CauseNotCaptured,
				summary:  fmt.Sprintf("Prometheus speaks Istio mTLS to port %d, but the sidecar does not capture it (%s): the application answers in plaintext", port, why),
				evidence: []string{fmt.Sprintf("pod annotations %v", captureAnnotations(pod))},
				fix:      fmt.Sprintf("remove port %d from the pod's %s annotation, or scrape it in plaintext with mesh.scrapeStrategy: direct", port, annExcludeIn),
				ref:      "istio.io docs/reference/config/annotations (traffic.sidecar.istio.io/excludeInboundPorts)",
				explains: []symptom{symHTTPSPlain}})
		}
	}
	if captured {
		out = append(out, d.mtlsCauses(e, pod, port)...)
		out = append(out, d.authzCauses(e, pod, port)...)
	}
	if c, ok := d.networkCause(e, pod, port); ok {
		out = append(out, c)
	}
	if port == plan.PortMergedMetrics && sidecar {
		out = append(out, cause{severity: Warning, code: CauseLocalhostOnly,
			summary:  "the merged metrics port :15020 answers 403 when the mesh runs with METRICS_LOCALHOST_ACCESS_ONLY (Istio's hardening for metrics): Prometheus must scrape the secure merged port instead",
			fix:      "from Istio 1.31 on, set mesh.scrapeStrategy: secure-port (or leave it auto with mesh.version \"1.31\") and apply the istiod settings obsgen writes (istio/secure-metrics-values.yaml)",
			ref:      "pilot/cmd/pilot-agent/status/server.go (\"Only requests from localhost are allowed\"); istio.io docs/ops/integrations/prometheus",
			explains: []symptom{sym403}})
	}
	if e.Service != nil && port == e.AppPort {
		if ann := clusterstate.AppAnnotations(pod)["path"]; ann != "" && ann != e.AppPath {
			out = append(out, cause{severity: Warning, code: CauseWrongPath,
				summary:  fmt.Sprintf("the profile scrapes %s but the pod's prometheus.io/path annotation says %s", e.AppPath, ann),
				fix:      fmt.Sprintf("set %s: %s", d.serviceField(e.Service, "path"), ann),
				ref:      "prometheus.io docs (metrics_path)",
				explains: []symptom{sym404}})
		}
		if declared := containerPorts(pod); len(declared) > 0 && !slices.Contains(declared, port) {
			out = append(out, cause{severity: Warning, code: CauseWrongPort,
				summary:  fmt.Sprintf("no container of the pod declares port %d", port),
				evidence: []string{fmt.Sprintf("declared container ports %v (declaring is optional: this is a hint, not proof)", declared)},
				fix:      fmt.Sprintf("set %s to the port the application serves metrics on", d.serviceField(e.Service, "port")),
				ref:      "kubernetes.io docs/reference/kubernetes-api/workload-resources/pod-v1 (containers[].ports); through a sidecar a closed port answers 503 or EOF (istio/istio#20475)",
				explains: []symptom{symRefused, sym5xx}})
		}
	}
	if sidecar && !proxyPort {
		out = append(out, d.protocolCauses(pod, port)...)
	}
	if e.Endpoint.IstioTLS {
		out = append(out, cause{severity: Info, code: CauseCertificates,
			summary:  "Prometheus presents Istio certificates that the proxy refuses, or has none: " + d.certSource(),
			fix:      "check that the certificate files exist in the Prometheus pod and are issued by the mesh's CA for " + d.p.PrometheusPrincipal(),
			ref:      "istio.io docs/ops/integrations/prometheus (TLS settings)",
			explains: []symptom{symTLS, symReset}})
	}
	slices.SortStableFunc(out, func(a, b cause) int { return int(a.severity) - int(b.severity) })
	return out
}

func (d *doctor) certSource() string {
	pr := d.p.Monitoring.Prometheus
	if pr.CertsSecret != "" {
		return fmt.Sprintf("the cert-manager Certificate writes Secret %s/%s; check `kubectl -n %s get certificate` is Ready and its issuer signs with the mesh CA", d.p.Monitoring.Namespace, pr.CertsSecret, d.p.Monitoring.Namespace)
	}
	return "the istio-proxy container in the Prometheus pod writes them to /etc/prom-certs (OUTPUT_CERTS); check it runs and the volume is mounted"
}

// mtlsCauses reads the PeerAuthentication that decides the port.
func (d *doctor) mtlsCauses(e expectation, pod *corev1.Pod, port int) []cause {
	dec := effectiveMTLS(d.st.PeerAuthentications, d.p.Mesh.IstioNamespace, pod, port)
	evidence := []string{fmt.Sprintf("port %d is %s, set by %s", port, dec.Mode, describePA(dec))}
	if len(dec.Overlap) > 0 {
		evidence = append(evidence, fmt.Sprintf("%s also select(s) the pod; Istio applies only the oldest workload policy", strings.Join(dec.Overlap, ", ")))
	}
	tls := e.Endpoint.Scheme == "https" && e.Endpoint.IstioTLS
	switch {
	case dec.Mode == "STRICT" && !tls:
		if dec.Policy != "" && !d.generated("PeerAuthentication", dec.Policy) && dec.Level != "mesh-wide" && dec.Level != "namespace" {
			return []cause{{severity: Critical, code: CauseForeignPeerAuth,
				summary:  fmt.Sprintf("the PeerAuthentication %s (not obsgen's) makes port %d STRICT for this workload and overrides obsgen's exception: the plaintext scrape is reset", dec.Policy, port),
				evidence: evidence,
				fix:      fmt.Sprintf("add portLevelMtls {%d: {mode: PERMISSIVE}} to %s, or delete it; or let Prometheus present Istio certificates (mesh.scrapeStrategy: istio-certs)", port, dec.Policy),
				ref:      "istio.io docs/concepts/security (\"Peer authentication\": the narrowest policy wins)",
				explains: []symptom{symReset, symTimeout}}}
		}
		fix := "set mesh.mtls: STRICT in the profile so obsgen picks a strategy that works under STRICT (istio-certs, merged or secure-port), regenerate and apply"
		if d.p.Mesh.MTLS == v1alpha1.MTLSStrict {
			fix = fmt.Sprintf("apply obsgen's PeerAuthentications (`kubectl apply -k %s`), which open port %d to plaintext scrapes", d.outDir(), port)
			if missing := d.missingWorkloadPAs(pod); len(missing) > 0 {
				evidence = append(evidence, "obsgen's "+strings.Join(missing, ", ")+" is not in the cluster")
			}
		} else {
			evidence = append(evidence, fmt.Sprintf("the profile says mesh.mtls: %s", d.p.Mesh.MTLS))
		}
		return []cause{{severity: Critical, code: CauseStrictPlaintext,
			summary:  fmt.Sprintf("Prometheus scrapes port %d in plaintext, but the sidecar enforces STRICT mTLS there: Envoy resets the connection", port),
			evidence: evidence, fix: fix,
			ref:      "istio.io docs/concepts/security (\"Peer authentication\"); pilot/pkg/networking/core/filterchain_options.go (STRICT inbound chains match TLS only)",
			explains: []symptom{symReset}}}
	case dec.Mode == "DISABLE" && tls:
		return []cause{{severity: Critical, code: CauseMTLSDisabled,
			summary:  fmt.Sprintf("Prometheus speaks Istio mTLS to port %d, but mTLS is DISABLED there: the sidecar passes plaintext only", port),
			evidence: evidence,
			fix:      fmt.Sprintf("remove the DISABLE from %s, or set mesh.mtls to match the cluster and regenerate", describePA(dec)),
			ref:      "istio.io docs/reference/config/security/peer_authentication",
			explains: []symptom{symHTTPSPlain, symReset, symTLS}}}
	}
	return nil
}

func describePA(d mtlsDecision) string {
	if d.Policy == "" {
		return d.Level
	}
	return fmt.Sprintf("PeerAuthentication %s (%s)", d.Policy, d.Level)
}

// missingWorkloadPAs are obsgen's workload PeerAuthentications selecting
// pod that the cluster does not run.
func (d *doctor) missingWorkloadPAs(pod *corev1.Pod) []string {
	if d.in.Policies == nil {
		return nil
	}
	var out []string
	for _, pa := range d.in.Policies.PeerAuthentications {
		if pa.Namespace != pod.Namespace || pa.Spec.Selector == nil || !selectsPod(pa.Spec.Selector.MatchLabels, pod) {
			continue
		}
		if !slices.ContainsFunc(d.st.PeerAuthentications, func(l *securityv1.PeerAuthentication) bool { return l.Namespace == pa.Namespace && l.Name == pa.Name }) {
			out = append(out, "PeerAuthentication "+pa.Namespace+"/"+pa.Name)
		}
	}
	return out
}

// authzCauses applies the cluster's AuthorizationPolicies to the scrape.
func (d *doctor) authzCauses(e expectation, pod *corev1.Pod, port int) []cause {
	req := request{port: port, path: e.Endpoint.Path, tcp: d.tcpPort(pod, port)}
	if e.Endpoint.IstioTLS || d.p.Mesh.Ambient && len(d.prom) > 0 && enrolled(d.ns[d.prom[0].Namespace], d.prom[0]) {
		req.principal = d.p.PrometheusPrincipal()
		req.namespace = principalNamespace(req.principal)
	}
	dec := authorize(d.st.AuthorizationPolicies, d.p.Mesh.IstioNamespace, pod, req)
	if dec.Allowed {
		return nil
	}
	who := "a plaintext request (no peer identity)"
	if req.principal != "" {
		who = "principal " + req.principal
	}
	evidence := []string{"policies for the workload: " + strings.Join(dec.Policies, ", ")}
	if dec.Decider != "" {
		evidence = append(evidence, "denied by "+dec.Decider)
	}
	if len(dec.Unsure) > 0 {
		slices.Sort(dec.Unsure)
		evidence = append(evidence, "not evaluated (taken not to match): "+strings.Join(slices.Compact(dec.Unsure), ", "))
	}
	return []cause{{severity: Critical, code: CauseAuthorization,
		summary:  fmt.Sprintf("the workload's AuthorizationPolicies deny %s GET %s on port %d: the sidecar answers 403 (RBAC: access denied)", who, e.Endpoint.Path, port),
		evidence: evidence,
		fix:      fmt.Sprintf("apply obsgen's AuthorizationPolicies (`kubectl apply -k %s`), or add to an ALLOW policy of the workload a rule for %s on port %d", d.outDir(), who, port),
		ref:      "istio.io docs/concepts/security (\"Authorization policy precedence\"); docs/reference/config/security/authorization-policy",
		explains: []symptom{sym403}}}
}

// protocolCauses finds Service ports that make Istio treat the metrics
// port as something other than HTTP/1.1.
func (d *doctor) protocolCauses(pod *corev1.Pod, port int) []cause {
	var out []cause
	for _, svc := range d.st.Services {
		if svc.Namespace != pod.Namespace || len(svc.Spec.Selector) == 0 || !selectsPod(svc.Spec.Selector, pod) {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if targetPort(sp, pod) != port {
				continue
			}
			if proto := nonHTTPPort(sp); proto != "" {
				explains := []symptom{sym5xx, symReset}
				if !speaksHTTP2(proto) {
					explains = nil // TCP carries the scrape; it loses HTTP authorization and metrics, not the scrape
				}
				out = append(out, cause{severity: Warning, code: CauseProtocol,
					summary:  fmt.Sprintf("Service %s/%s declares the metrics port %d as %s (port %q), so the sidecar does not handle the scrape as HTTP/1.1", svc.Namespace, svc.Name, port, proto, sp.Name),
					evidence: []string{fmt.Sprintf("Service %s/%s port name %q, appProtocol %q", svc.Namespace, svc.Name, sp.Name, deref(sp.AppProtocol))},
					fix:      fmt.Sprintf("name the port http-metrics (or set appProtocol: http) in Service %s/%s", svc.Namespace, svc.Name),
					ref:      "istio.io docs/ops/configuration/traffic-management/protocol-selection",
					explains: explains, standing: true})
			}
		}
	}
	return out
}

// tcpPort tells whether a Service makes Istio handle the pod's port as
// something other than HTTP.
func (d *doctor) tcpPort(pod *corev1.Pod, port int) bool {
	for _, svc := range d.st.Services {
		if svc.Namespace != pod.Namespace || len(svc.Spec.Selector) == 0 || !selectsPod(svc.Spec.Selector, pod) {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if proto := nonHTTPPort(sp); proto != "" && !speaksHTTP2(proto) && targetPort(sp, pod) == port {
				return true
			}
		}
	}
	return false
}

func targetPort(sp corev1.ServicePort, pod *corev1.Pod) int {
	switch {
	case sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal != 0:
		return int(sp.TargetPort.IntVal)
	case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
		for _, c := range pod.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == sp.TargetPort.StrVal {
					return int(p.ContainerPort)
				}
			}
		}
		return -1
	}
	return int(sp.Port)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// fromSymptom is the finding for an error no cause of the cluster state
// explains: what the error means, and where to look.
func (d *doctor) fromSymptom(sym symptom, e expectation, pod *corev1.Pod) Finding {
	f := Finding{Severity: Critical, Cause: CauseScrapeError}
	port := e.port(pod)
	switch sym {
	case symHTTPSPlain:
		f.Summary = fmt.Sprintf("Prometheus speaks TLS to port %d, which answers in plaintext", port)
		f.Fix = "check that the pod's sidecar captures the port, or scrape it in plaintext (mesh.scrapeStrategy)"
		f.Ref = "istio/istio#21402"
	case symReset:
		f.Summary = fmt.Sprintf("the connection to port %d is reset: a STRICT mTLS port refusing plaintext, or a proxy refusing the protocol", port)
		f.Fix = "include the cluster's PeerAuthentications in the cluster state so obsgen can name the policy; `istioctl x describe pod " + pod.Name + " -n " + pod.Namespace + "` shows the port's mode"
		f.Ref = "istio.io docs/concepts/security (\"Peer authentication\")"
	case symTimeout:
		f.Summary = fmt.Sprintf("the scrape of port %d times out: packets are dropped on the way (a network policy) or the pod does not answer", port)
		f.Fix = "include the cluster's NetworkPolicies (and Calico or AdminNetworkPolicy objects) in the cluster state so obsgen can name the policy that drops the flow"
		f.Ref = "kubernetes.io docs/concepts/services-networking/network-policies"
	case symRefused:
		f.Summary = fmt.Sprintf("nothing listens on port %d of the pod", port)
		f.Fix = "check the port the application serves metrics on and the profile's port"
	case sym401, sym403:
		f.Summary = "the target refuses Prometheus (" + string(sym) + "): an AuthorizationPolicy, a RequestAuthentication, or the application's own authentication"
		f.Fix = "include the cluster's AuthorizationPolicies in the cluster state so obsgen can name the policy"
	case sym404:
		f.Summary = "the target has no metrics at the scraped path"
		f.Fix = "set the service's path in the profile to the path the application serves"
		if e.Service != nil {
			f.Fix = "set " + d.serviceField(e.Service, "path") + " to the path the application serves"
		}
	case symTLS:
		f.Summary = "the TLS handshake fails: " + d.certSource()
		f.Fix = "check Prometheus' Istio certificates"
	default:
		f.Summary = "the scrape fails"
		f.Fix = "read the error above"
	}
	return f
}

func containerNames(pod *corev1.Pod) string {
	var names []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return "[" + strings.Join(names, " ") + "]"
}

func containerPorts(pod *corev1.Pod) []int {
	var out []int
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			out = append(out, int(p.ContainerPort))
		}
	}
	return out
}

func captureAnnotations(pod *corev1.Pod) map[string]string {
	out := map[string]string{}
	for _, k := range []string{annIncludeIn, annExcludeIn} {
		if v, ok := pod.Annotations[k]; ok {
			out[k] = v
		}
	}
	return out
}

func labelsOf(ns *corev1.Namespace) map[string]string {
	if ns == nil {
		return nil
	}
	return ns.Labels
}
