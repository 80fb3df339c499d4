package istio

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	securityv1beta1 "istio.io/api/security/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// effectiveMode applies Istio's precedence to the PeerAuthentications: the
// mesh-wide policy, then the namespace's, then a workload policy whose
// selector matches, then its port-level setting; UNSET inherits, and
// PERMISSIVE is Istio's default.
func effectiveMode(pas []*securityv1.PeerAuthentication, root, ns string, labels map[string]string, port int) string {
	mode := "PERMISSIVE"
	apply := func(m *securityv1beta1.PeerAuthentication_MutualTLS) {
		if m != nil && m.Mode != securityv1beta1.PeerAuthentication_MutualTLS_UNSET {
			mode = m.Mode.String()
		}
	}
	for _, scope := range []func(*securityv1.PeerAuthentication) bool{
		func(pa *securityv1.PeerAuthentication) bool { return pa.Namespace == root && pa.Spec.Selector == nil },
		func(pa *securityv1.PeerAuthentication) bool {
			return pa.Namespace == ns && ns != root && pa.Spec.Selector == nil
		},
	} {
		for _, pa := range pas {
			if scope(pa) {
				apply(pa.Spec.Mtls)
			}
		}
	}
	for _, pa := range pas {
		if pa.Namespace == ns && pa.Spec.Selector != nil && matches(pa.Spec.Selector.MatchLabels, labels) {
			apply(pa.Spec.Mtls)
			apply(pa.Spec.PortLevelMtls[uint32(port)])
		}
	}
	return mode
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestNoPlaintextScrapeOfAStrictPort: for every mTLS mode × strategy ×
// metrics merging × data plane × monitoring in or out of the mesh that
// validates, each service's scraped port is plaintext-exempt (15020, 15090),
// the secure merged listener with Istio certificates (secure-port),
// PERMISSIVE for exactly that port and workload, or scraped with Istio
// certificates under STRICT; never a plaintext scrape of a STRICT port
// (ambient with Prometheus enrolled excepted: ztunnel carries the scrape
// over mTLS).
func TestNoPlaintextScrapeOfAStrictPort(t *testing.T) {
	combos := 0
	for _, plane := range v1alpha1.DataPlane("").Values() {
		for _, mode := range v1alpha1.MTLSMode("").Values() {
			for _, strategy := range v1alpha1.ScrapeStrategy("").Values() {
				for _, merging := range []bool{true, false} {
					for _, inMesh := range []bool{true, false} {
						in := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "m"},
							Mesh: v1alpha1.Mesh{DataPlane: v1alpha1.DataPlane(plane), MTLS: v1alpha1.MTLSMode(mode),
								ScrapeStrategy: v1alpha1.ScrapeStrategy(strategy), MetricsMerging: &merging,
								Authorization: v1alpha1.AuthorizationDenyByDefault},
							Monitoring: v1alpha1.Monitoring{InMesh: inMesh},
							Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"}, Services: []v1alpha1.Service{
								{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}},
								{Name: "api", Namespace: "shop", Port: 9090, Selector: map[string]string{"app": "api"}},
							}}}}
						d := plan.WithDefaults(in)
						chosen, _ := plan.ChooseStrategy(d)
						if problem, _ := plan.StrategyProblem(d, chosen); problem != "" {
							continue
						}
						combos++
						name := fmt.Sprintf("%s/%s/%s/merging=%v/inMesh=%v", plane, mode, strategy, merging, inMesh)
						p := plan.Resolve(in)
						checkScrapes(t, name, p)
						checkAuthorization(t, name, p)
					}
				}
			}
		}
	}
	assert.Greater(t, combos, 20, "combinations that validate")
}

// stackTarget is a port of the monitoring stack's own workloads that
// receives plaintext (Prometheus' outbound bypasses its sidecar; users,
// the API server and non-enrolled pods speak plaintext) when the stack is
// in the mesh.
type stackTarget struct {
	labels map[string]string
	port   int
	// mtlsOnly marks a port only sidecars talk to (Alertmanager's gossip):
	// it needs an ALLOW under deny-by-default, no plaintext exception.
	mtlsOnly bool
}

// stackTargets lists them from the components' places: every component
// in the monitoring namespace, with sidecars or enrolled in ambient.
func stackTargets(p *plan.Plan) []stackTarget {
	m := p.Monitoring
	if !m.InMesh || !p.Mesh.Istio {
		return nil
	}
	out := []stackTarget{{labels: m.Prometheus.PodLabels.Map(), port: plan.PortPrometheus}}
	if !m.Prometheus.Agent && m.Alertmanager.Namespace == m.Namespace {
		out = append(out, stackTarget{labels: m.Alertmanager.PodLabels.Map(), port: m.Alertmanager.Port},
			stackTarget{labels: m.Alertmanager.PodLabels.Map(), port: plan.PortAlertmanagerGossip, mtlsOnly: true})
	}
	if m.KubeStateMetrics.Namespace == m.Namespace {
		out = append(out, stackTarget{labels: m.KubeStateMetrics.PodLabels.Map(), port: m.KubeStateMetrics.Port})
	}
	if m.Grafana.Namespace == m.Namespace && p.Dashboards.Any() {
		out = append(out, stackTarget{labels: m.Grafana.PodLabels.Map(), port: m.Grafana.Port})
	}
	if m.OperatorFlavour && m.PrometheusOperator.Namespace == m.Namespace {
		out = append(out, stackTarget{labels: m.PrometheusOperator.PodLabels.Map(), port: m.PrometheusOperator.Port})
	}
	return out
}

func checkScrapes(t *testing.T, name string, p *plan.Plan) {
	t.Helper()
	pas := PeerAuthentications(p)
	m := p.Monitoring
	strict := p.Mesh.MTLS == "STRICT"
	exceptions := 0
	for _, c := range stackTargets(p) {
		if c.mtlsOnly {
			continue
		}
		// The cert-writing sidecar of istio-certs intercepts no inbound
		// port: Prometheus' own port is not behind it.
		intercepted := strict && !(c.port == plan.PortPrometheus && m.Prometheus.CertWriter())
		got := effectiveMode(pas, p.Mesh.IstioNamespace, m.Namespace, c.labels, c.port)
		if intercepted {
			exceptions++
			assert.Equal(t, "PERMISSIVE", got, "%s: plaintext to %v:%d under STRICT", name, c.labels, c.port)
			assert.Equal(t, "STRICT", effectiveMode(pas, p.Mesh.IstioNamespace, m.Namespace, c.labels, 1234), "%s: only port %d is opened", name, c.port)
		}
	}
	if exceptions == 0 {
		for _, pa := range pas {
			assert.NotEqual(t, m.Namespace, pa.Namespace, "%s: the monitoring stack needs no exception", name)
		}
	}
	for _, s := range p.ServiceTargets {
		e := s.Endpoint
		labels := s.Selector.Map()
		got := effectiveMode(pas, p.Mesh.IstioNamespace, s.Namespace, labels, e.Port)
		switch {
		case e.Port == plan.PortMergedMetrics || e.Port == plan.PortEnvoyMetrics:
			assert.False(t, e.IstioTLS, "%s %s: exempt ports are plaintext", name, s.Job)
		case e.Port == plan.PortSecureMergedMetrics:
			// Outside capture (obsgen's istiod settings), the listener
			// itself requires a mesh client certificate whatever the mode.
			assert.True(t, e.IstioTLS, "%s %s: the secure listener takes mTLS only", name, s.Job)
			assert.Equal(t, v1alpha1.StrategySecurePort, p.Scrape.Strategy, name)
		case e.IstioTLS:
			assert.Equal(t, "STRICT", got, "%s %s: Istio certificates only work against STRICT (istio/istio#38720)", name, s.Job)
		case got == "STRICT":
			assert.True(t, p.Mesh.Ambient && p.Monitoring.InMesh, "%s %s: plaintext scrape of a STRICT port %d", name, s.Job, e.Port)
		}
		if p.Scrape.Strategy == "permissive-port" {
			assert.Equal(t, "PERMISSIVE", got, "%s %s: the metrics port is opened", name, s.Job)
			assert.Equal(t, "STRICT", effectiveMode(pas, p.Mesh.IstioNamespace, s.Namespace, labels, 1234),
				"%s %s: only the metrics port is opened", name, s.Job)
			other := map[string]string{"app": "other"}
			assert.Equal(t, "STRICT", effectiveMode(pas, p.Mesh.IstioNamespace, s.Namespace, other, e.Port),
				"%s %s: only this workload's port is opened", name, s.Job)
		}
	}
}

// checkAuthorization evaluates the ALLOW policies as Istio does under an
// allow-nothing default (a request is allowed when a policy selecting the
// workload has a rule whose from and to both match) and checks that
// Prometheus reaches each proxied metrics port, that no other identity,
// port or workload is allowed, and that a plaintext scrape's policy is the
// only one without a principal.
func checkAuthorization(t *testing.T, name string, p *plan.Plan) {
	t.Helper()
	aps := AuthorizationPolicies(p)
	prometheus := fmt.Sprintf("cluster.local/ns/%s/sa/%s", p.Monitoring.Namespace, p.Monitoring.Prometheus.ServiceAccount)
	allowed := func(ns string, labels map[string]string, principal string, port int) bool {
		for _, ap := range aps {
			if ap.Namespace != ns || (ap.Spec.Selector != nil && !matches(ap.Spec.Selector.MatchLabels, labels)) {
				continue
			}
			require.Equal(t, securityv1beta1.AuthorizationPolicy_ALLOW, ap.Spec.Action)
			for _, r := range ap.Spec.Rules {
				from := len(r.From) == 0
				for _, f := range r.From {
					from = from || principal != "" && slices.Contains(f.Source.Principals, principal) ||
						principal == "" && slices.Contains(f.Source.NotPrincipals, "*") ||
						principal != "" && slices.ContainsFunc(f.Source.Namespaces, func(ns string) bool { return strings.Contains(principal, "/ns/"+ns+"/") })
				}
				to := false
				for _, tt := range r.To {
					to = to || slices.Contains(tt.Operation.Ports, fmt.Sprint(port))
				}
				if from && to {
					return true
				}
			}
		}
		return false
	}
	proxied := 0
	for _, s := range p.ServiceTargets {
		labels := s.Selector.Map()
		if !ThroughProxy(s.Endpoint) {
			assert.False(t, allowed(s.Namespace, labels, prometheus, s.Endpoint.Port), "%s %s: exempt port needs no policy", name, s.Job)
			continue
		}
		proxied++
		identity := ScrapeIdentity(p, s.Endpoint)
		// The scrape carries Prometheus' identity when it presents Istio
		// certificates, or when ztunnel carries it (ambient, enrolled).
		if s.Endpoint.IstioTLS || (p.Mesh.Ambient && p.Monitoring.InMesh && p.Mesh.MTLS != "DISABLE") {
			assert.Equal(t, prometheus, identity, "%s %s", name, s.Job)
		} else {
			assert.Empty(t, identity, "%s %s: a plaintext scrape has no identity", name, s.Job)
		}
		assert.True(t, allowed(s.Namespace, labels, identity, s.Endpoint.Port), "%s %s: Prometheus must reach %d", name, s.Job, s.Endpoint.Port)
		assert.False(t, allowed(s.Namespace, labels, identity, 1234), "%s %s: another port", name, s.Job)
		assert.False(t, allowed(s.Namespace, map[string]string{"app": "other"}, identity, s.Endpoint.Port), "%s %s: another workload", name, s.Job)
		assert.False(t, allowed("elsewhere", labels, identity, s.Endpoint.Port), "%s %s: another namespace", name, s.Job)
		intruder := "cluster.local/ns/shop/sa/default"
		assert.Equal(t, identity == "", allowed(s.Namespace, labels, intruder, s.Endpoint.Port),
			"%s %s: another identity reaches the port only when the scrape is plaintext", name, s.Job)
	}
	workloads := map[string]bool{}
	for _, c := range stackTargets(p) {
		// Plaintext, or mTLS from the stack's own sidecars: port-only.
		assert.True(t, allowed(p.Monitoring.Namespace, c.labels, "", c.port), "%s: %v:%d of the monitoring stack must stay reachable", name, c.labels, c.port)
		assert.False(t, allowed(p.Monitoring.Namespace, c.labels, "", 1234), "%s: %v: another port", name, c.labels)
		// In ambient the network policies see only HBONE's 15008: mesh
		// callers are narrowed by identity. With sidecars the port is on
		// the wire and the network policies narrow them.
		stranger := "cluster.local/ns/elsewhere/sa/default"
		assert.Equal(t, !p.Mesh.Ambient, allowed(p.Monitoring.Namespace, c.labels, stranger, c.port), "%s: %v:%d from another namespace's identity", name, c.labels, c.port)
		assert.True(t, allowed(p.Monitoring.Namespace, c.labels, "cluster.local/ns/"+p.Monitoring.Namespace+"/sa/default", c.port), "%s: the stack's own identities", name)
		workloads[fmt.Sprint(c.labels)] = true
	}
	assert.Len(t, aps, proxied+len(workloads), "%s: one policy per proxied metrics port and per in-mesh stack workload", name)
}

func TestPeerAuthenticationsDecodeAndFollowTheMode(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	in := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "m"},
		Mesh:  v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyPermissivePort},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop", "shop-jobs"}}}}
	files, err := Generate(plan.Resolve(in), engine)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.True(t, files[0].Manifest)
	docs := splitDocs(string(files[0].Data))
	require.Len(t, docs, 3, "mesh-wide and one per team namespace; no services, no port exceptions")
	for _, doc := range docs {
		var pa securityv1.PeerAuthentication
		require.NoError(t, yaml.UnmarshalStrict([]byte(doc), &pa))
		assert.Equal(t, securityv1beta1.PeerAuthentication_MutualTLS_STRICT, pa.Spec.Mtls.Mode)
	}
	in.Mesh.Provider = v1alpha1.MeshNone
	in.Mesh.ScrapeStrategy = v1alpha1.StrategyDirect
	files, err = Generate(plan.Resolve(in), engine)
	require.NoError(t, err)
	assert.Empty(t, files, "no mesh, no Istio objects")
}

func splitDocs(s string) []string {
	var out []string
	for _, d := range regexpDocs.Split(s, -1) {
		if len(d) > 0 {
			out = append(out, d)
		}
	}
	return out
}

var regexpDocs = regexp.MustCompile(`(?m)^---\n`)

// TestThePlatformMayOwnTheDefaultPeerAuthentications: with
// mesh.peerAuthentication workloads-only obsgen writes no `default`
// PeerAuthentication (a platform that manages them is not fought), but
// still the workload exceptions the scrape strategy needs; with none it
// writes nothing.
func TestThePlatformMayOwnTheDefaultPeerAuthentications(t *testing.T) {
	in := &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "m"},
		Mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyPermissivePort},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"},
			Services: []v1alpha1.Service{{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}}}}}}
	names := func(o v1alpha1.PeerAuthenticationOwnership) []string {
		in.Mesh.PeerAuthentication = o
		var out []string
		for _, pa := range PeerAuthentications(plan.Resolve(in)) {
			out = append(out, pa.Namespace+"/"+pa.Name)
		}
		return out
	}
	assert.Equal(t, []string{"istio-system/default", "shop/default", "shop/obsgen-metrics-web"}, names(""), "manage is the default")
	assert.Equal(t, []string{"shop/obsgen-metrics-web"}, names(v1alpha1.PeerAuthenticationWorkloadsOnly))
	assert.Empty(t, names(v1alpha1.PeerAuthenticationNone))
}

func TestTracingProviderPerProtocol(t *testing.T) {
	for proto, want := range map[v1alpha1.TracingProtocol]string{
		v1alpha1.TracingOTLPGRPC: `{"name":"obsgen-tracing","opentelemetry":{"port":4317,"service":"opentelemetry-collector.monitoring.svc.cluster.local"}}`,
		v1alpha1.TracingOTLPHTTP: `{"name":"obsgen-tracing","opentelemetry":{"http":{"path":"/v1/traces","timeout":"10s"},"port":4318,"service":"opentelemetry-collector.monitoring.svc.cluster.local"}}`,
		v1alpha1.TracingZipkin:   `{"name":"obsgen-tracing","zipkin":{"port":9411,"service":"opentelemetry-collector.monitoring.svc.cluster.local"}}`,
	} {
		p := plan.Resolve(&v1alpha1.Profile{APIVersion: "obsgen.dev/v1alpha1", Kind: "Profile", Metadata: v1alpha1.Metadata{Name: "c"},
			Mesh: v1alpha1.Mesh{Provider: v1alpha1.MeshIstio}, Tracing: v1alpha1.Tracing{Enabled: true, Protocol: proto}})
		got, err := json.Marshal(TracingProvider(p.Tracing))
		require.NoError(t, err)
		assert.JSONEq(t, want, string(got), proto)
		tel := TracingTelemetry(p)
		assert.Equal(t, p.Mesh.IstioNamespace, tel.Namespace, "mesh-wide: the root namespace")
		assert.Nil(t, tel.Spec.Selector, "mesh-wide: no selector")
		assert.InDelta(t, 1.0, tel.Spec.Tracing[0].RandomSamplingPercentage.GetValue(), 1e-9)
	}
}
