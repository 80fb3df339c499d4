package doctor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/clusterstate"
	"obsgen.dev/obsgen/internal/plan"
)

func pod(ns string, labels, ann map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p", Labels: labels, Annotations: ann}}
}

func ap(ns, name string, action securityv1beta1.AuthorizationPolicy_Action, rules ...*securityv1beta1.Rule) *securityv1.AuthorizationPolicy {
	return &securityv1.AuthorizationPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: securityv1beta1.AuthorizationPolicy{Action: action, Rules: rules}}
}

// Istio's AuthorizationPolicy semantics (istio.io docs/concepts/security,
// "Authorization policy precedence"; pilot/pkg/security/authz/model).
func TestAuthorize(t *testing.T) {
	p := pod("shop", map[string]string{"app": "web"}, nil)
	plain := request{port: 8080, path: "/metrics"}
	mtls := request{port: 8080, path: "/metrics", principal: "cluster.local/ns/monitoring/sa/prometheus", namespace: "monitoring"}
	allowProm := &securityv1beta1.Rule{From: []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{Principals: []string{"cluster.local/ns/monitoring/sa/prometheus"}}}}}
	cases := map[string]struct {
		aps  []*securityv1.AuthorizationPolicy
		req  request
		want bool
	}{
		"no policy allows":                         {nil, plain, true},
		"an allow-nothing policy denies":           {[]*securityv1.AuthorizationPolicy{ap("shop", "none", securityv1beta1.AuthorizationPolicy_ALLOW)}, mtls, false},
		"an ALLOW for Prometheus' principal":       {[]*securityv1.AuthorizationPolicy{ap("shop", "a", securityv1beta1.AuthorizationPolicy_ALLOW, allowProm)}, mtls, true},
		"a principal never matches plaintext":      {[]*securityv1.AuthorizationPolicy{ap("shop", "a", securityv1beta1.AuthorizationPolicy_ALLOW, allowProm)}, plain, false},
		"root namespace policies apply everywhere": {[]*securityv1.AuthorizationPolicy{ap("istio-system", "none", securityv1beta1.AuthorizationPolicy_ALLOW)}, mtls, false},
		"notPrincipals matches plaintext whatever it lists": {[]*securityv1.AuthorizationPolicy{ap("shop", "d", securityv1beta1.AuthorizationPolicy_DENY,
			&securityv1beta1.Rule{From: []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{NotPrincipals: []string{"cluster.local/ns/x/sa/y"}}}}})}, plain, false},
		"a dry-run DENY is not enforced": {[]*securityv1.AuthorizationPolicy{func() *securityv1.AuthorizationPolicy {
			a := ap("shop", "d", securityv1beta1.AuthorizationPolicy_DENY, &securityv1beta1.Rule{})
			a.Annotations = map[string]string{"istio.io/dry-run": "true"}
			return a
		}()}, plain, true},
		"on a TCP port an ALLOW by path matches nothing": {[]*securityv1.AuthorizationPolicy{ap("shop", "a", securityv1beta1.AuthorizationPolicy_ALLOW,
			&securityv1beta1.Rule{To: []*securityv1beta1.Rule_To{{Operation: &securityv1beta1.Operation{Paths: []string{"/metrics"}}}}})},
			request{port: 8080, path: "/metrics", tcp: true}, false},
		"on a TCP port a DENY by path denies every connection": {[]*securityv1.AuthorizationPolicy{ap("shop", "d", securityv1beta1.AuthorizationPolicy_DENY,
			&securityv1beta1.Rule{To: []*securityv1beta1.Rule_To{{Operation: &securityv1beta1.Operation{Paths: []string{"/admin"}}}}})},
			request{port: 8080, path: "/metrics", tcp: true}, false},
		"on an HTTP port a DENY of another path lets the scrape through": {[]*securityv1.AuthorizationPolicy{ap("shop", "d", securityv1beta1.AuthorizationPolicy_DENY,
			&securityv1beta1.Rule{To: []*securityv1beta1.Rule_To{{Operation: &securityv1beta1.Operation{Paths: []string{"/admin"}}}}})}, plain, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, authorize(tc.aps, "istio-system", p, tc.req).Allowed)
		})
	}
}

// Istio's PeerAuthentication composition (ComposePeerAuthentication).
func TestEffectiveMTLS(t *testing.T) {
	p := pod("shop", map[string]string{"app": "web"}, nil)
	old, young := metav1.Unix(1000, 0), metav1.Unix(2000, 0)
	pa := func(ns, name string, created metav1.Time, sel map[string]string, mode securityv1beta1.PeerAuthentication_MutualTLS_Mode, ports map[uint32]securityv1beta1.PeerAuthentication_MutualTLS_Mode) *securityv1.PeerAuthentication {
		out := &securityv1.PeerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: created},
			Spec: securityv1beta1.PeerAuthentication{Mtls: &securityv1beta1.PeerAuthentication_MutualTLS{Mode: mode}}}
		if sel != nil {
			out.Spec.Selector = &typev1beta1.WorkloadSelector{MatchLabels: sel}
		}
		for port, m := range ports {
			if out.Spec.PortLevelMtls == nil {
				out.Spec.PortLevelMtls = map[uint32]*securityv1beta1.PeerAuthentication_MutualTLS{}
			}
			out.Spec.PortLevelMtls[port] = &securityv1beta1.PeerAuthentication_MutualTLS{Mode: m}
		}
		return out
	}
	const (
		strict = securityv1beta1.PeerAuthentication_MutualTLS_STRICT
		perm   = securityv1beta1.PeerAuthentication_MutualTLS_PERMISSIVE
		unset  = securityv1beta1.PeerAuthentication_MutualTLS_UNSET
	)
	cases := map[string]struct {
		pas  []*securityv1.PeerAuthentication
		want string
	}{
		"none: PERMISSIVE":                                   {nil, "PERMISSIVE"},
		"mesh-wide STRICT":                                   {[]*securityv1.PeerAuthentication{pa("istio-system", "default", old, nil, strict, nil)}, "STRICT"},
		"empty matchLabels is namespace-wide":                {[]*securityv1.PeerAuthentication{pa("istio-system", "default", old, nil, strict, nil), pa("shop", "ns", old, map[string]string{}, perm, nil)}, "PERMISSIVE"},
		"a workload policy in the root namespace is ignored": {[]*securityv1.PeerAuthentication{pa("istio-system", "w", old, map[string]string{"app": "web"}, strict, nil)}, "PERMISSIVE"},
		"port level wins, UNSET inherits": {[]*securityv1.PeerAuthentication{pa("istio-system", "default", old, nil, strict, nil),
			pa("shop", "w", old, map[string]string{"app": "web"}, unset, map[uint32]securityv1beta1.PeerAuthentication_MutualTLS_Mode{8080: perm})}, "PERMISSIVE"},
		"the oldest of two workload policies wins": {[]*securityv1.PeerAuthentication{pa("shop", "a-young", young, map[string]string{"app": "web"}, perm, nil),
			pa("shop", "z-old", old, map[string]string{"app": "web"}, strict, nil)}, "STRICT"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, effectiveMTLS(tc.pas, "istio-system", p, 8080).Mode)
		})
	}
}

func TestEnrollmentCaptureAndInjection(t *testing.T) {
	ambientNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"istio.io/dataplane-mode": "ambient"}}}
	assert.True(t, enrolled(ambientNS, pod("shop", nil, nil)))
	assert.False(t, enrolled(ambientNS, pod("shop", map[string]string{"istio.io/dataplane-mode": "none"}, nil)), "none opts out")
	assert.False(t, enrolled(ambientNS, pod("shop", nil, map[string]string{"sidecar.istio.io/status": "{}"})), "sidecars are never enrolled")

	ok, _ := intercepted(pod("shop", nil, nil), 8080)
	assert.True(t, ok)
	for _, port := range []int{15008, 15020, 15021, 15090} {
		ok, _ = intercepted(pod("shop", nil, nil), port)
		assert.False(t, ok, "%d is the proxy's own", port)
	}
	ok, _ = intercepted(pod("shop", nil, map[string]string{annExcludeIn: "8080"}), 8080)
	assert.False(t, ok)
	ok, _ = intercepted(pod("shop", nil, map[string]string{annIncludeIn: "9090", annExcludeIn: "9090"}), 9090)
	assert.True(t, ok, "exclusions apply under include \"*\" only")

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"istio-injection": "enabled"}}}
	assert.Empty(t, injectionOff(ns, pod("shop", nil, nil)))
	assert.NotEmpty(t, injectionOff(ns, pod("shop", map[string]string{"sidecar.istio.io/inject": "false"}, nil)))
	assert.Empty(t, injectionOff(ns, pod("shop", map[string]string{"sidecar.istio.io/inject": "true"}, map[string]string{"sidecar.istio.io/inject": "false"})), "the label wins over the annotation")
	bare := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	assert.Empty(t, injectionOff(bare, pod("shop", map[string]string{"istio.io/rev": "canary"}, nil)), "a pod revision label injects")
	assert.NotEmpty(t, injectionOff(bare, pod("shop", nil, nil)))
}

func TestClassify(t *testing.T) {
	for msg, want := range map[string]symptom{
		`Get "http://10.0.0.1:8080/metrics": read tcp 10.0.0.2:1->10.0.0.1:8080: read: connection reset by peer`:                     symReset,
		`Get "https://10.0.0.1:8080/metrics": http: server gave HTTP response to HTTPS client`:                                       symHTTPSPlain,
		`Get "http://10.0.0.1:8080/metrics": context deadline exceeded`:                                                              symTimeout,
		`Get "http://10.0.0.1:15020/stats/prometheus": dial tcp 10.0.0.1:15020: connect: connection refused`:                         symRefused,
		`server returned HTTP status 403 Forbidden`:                                                                                  sym403,
		`server returned HTTP status 404 Not Found`:                                                                                  sym404,
		`server returned HTTP status 503 Service Unavailable`:                                                                        sym5xx,
		`Get "http://10.0.0.1:8443/metrics": net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x15\x03\x01"`: symOther,
		`Get "https://10.0.0.1:8080/metrics": remote error: tls: certificate required`:                                               symTLS,
	} {
		assert.Equal(t, want, classify(msg), msg)
	}
}

func TestTargetsReadTheDroppedCounts(t *testing.T) {
	got, err := ParseTargets([]byte(`{"status":"success","data":{"activeTargets":[],"droppedTargets":[{"discoveredLabels":{},"scrapePool":"team-services"}],"droppedTargetCounts":{"team-services":3,"kubernetes-pods":0}}}`))
	assert.NoError(t, err)
	assert.Equal(t, 2, got.unlisted("team-services"), "three dropped, one listed")
	assert.Equal(t, 0, got.unlisted("kubernetes-pods"))
	_, err = ParseTargets([]byte(`{"status":"error","errorType":"bad_data","error":"nope"}`))
	assert.ErrorContains(t, err, "nope")
	_, err = ParseTargets([]byte(`{"foo":1}`))
	assert.Error(t, err)
}

// A pool that drops more targets than it lists may hold the pod among the
// unlisted: doctor says dropped-by-relabeling, not not-discovered; with
// every drop listed and the pod not among them, not-discovered.
func TestMissingTargetWithUnlistedDrops(t *testing.T) {
	p := plan.Resolve(&v1alpha1.Profile{APIVersion: "obsgen.dev/v1alpha1", Kind: "Profile", Metadata: v1alpha1.Metadata{Name: "c"},
		Mesh: v1alpha1.Mesh{Provider: v1alpha1.MeshNone},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"},
			Services: []v1alpha1.Service{{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}}}}}})
	st := &clusterstate.State{Pods: []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1", Labels: map[string]string{"app": "web"}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "prometheus-0", Labels: map[string]string{"app.kubernetes.io/name": "prometheus"}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.9"}},
	}}
	for name, tc := range map[string]struct {
		counts map[string]int
		want   string
	}{
		"two drops, none listed": {map[string]int{"team-services": 2}, CauseDropped},
		"no drops":               {map[string]int{"team-services": 0}, CauseNotDiscovered},
	} {
		t.Run(name, func(t *testing.T) {
			targets := &Targets{Dropped: []DroppedTarget{}, DroppedCounts: tc.counts,
				Active: []ActiveTarget{{ScrapePool: "team-services", Labels: map[string]string{"job": "other"}, ScrapeURL: "http://10.0.0.7:8080/metrics", Health: "up"}}}
			r := Diagnose(Input{Plan: p, State: st, Targets: targets})
			if assert.NotEmpty(t, r.Findings) {
				assert.Equal(t, tc.want, r.Findings[0].Cause, "%+v", r.Findings)
				assert.Contains(t, r.Findings[0].Subject, "web-1")
			}
		})
	}
}
