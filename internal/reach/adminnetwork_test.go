package reach

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"

	"obsgen.dev/obsgen/internal/plan"
)

// The hand-worked cluster: namespaces shop, bank, mon and outside, one or
// two pods each, the nodes in 10.9.0.0/16 and an outside service at
// 198.51.100.7.
type handWorld struct {
	c                              *Cluster
	web, db, ledger, prom, outside Endpoint
	node, external                 Endpoint
}

func newHandWorld() handWorld {
	p := &plan.Plan{}
	p.Cluster.NodeCIDRs = []string{"10.9.0.0/16"}
	c := &Cluster{Plan: p, Namespaces: []string{"bank", "mon", "outside", "shop"}}
	pod := func(ns, app string, ip string) Endpoint {
		pd := &Pod{Name: ns + "/" + app, Namespace: ns, Labels: plan.Labels{{Name: "app", Value: app}}, IP: netip.MustParseAddr(ip), Role: app}
		c.Pods = append(c.Pods, pd)
		return Endpoint{Pod: pd}
	}
	return handWorld{c: c,
		web: pod("shop", "web", "100.64.0.2"), db: pod("shop", "db", "100.64.0.3"), ledger: pod("bank", "ledger", "100.64.0.4"),
		prom: pod("mon", "prom", "100.64.0.5"), outside: pod("outside", "x", "100.64.0.6"),
		node: Endpoint{Addr: netip.MustParseAddr("10.9.0.1")}, external: Endpoint{Addr: netip.MustParseAddr("198.51.100.7")}}
}

func nsSel(names ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: plan.NamespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: names}}}
}

func podsIn(ns, app string) *anpv1alpha1.NamespacedPod {
	return &anpv1alpha1.NamespacedPod{NamespaceSelector: *nsSel(ns), PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}
}

func tcp(ports ...int32) *[]anpv1alpha1.AdminNetworkPolicyPort {
	out := make([]anpv1alpha1.AdminNetworkPolicyPort, len(ports))
	for i, p := range ports {
		out[i] = anpv1alpha1.AdminNetworkPolicyPort{PortNumber: &anpv1alpha1.Port{Protocol: corev1.ProtocolTCP, Port: p}}
	}
	return &out
}

// handPolicies are the policies of the hand-worked cases:
//
//   - bank-guard (priority 10) on bank: Allow Prometheus on 9102, Pass
//     shop, Deny everyone else;
//   - bank-open (priority 20) on bank: Allow everyone (always shadowed by
//     bank-guard's Deny);
//   - shop-web-egress (priority 30) on shop's web: Allow the nodes' 10250,
//     Pass the outside service's range;
//   - the NetworkPolicy ledger-from-web: bank's ledger takes shop's web on
//     8080;
//   - the baseline on shop and bank: ingress Deny from every pod; egress
//     Allow to bank, Allow the outside service's range on 443, Deny every
//     IPv4 address (pods included).
func handPolicies() ([]*anpv1alpha1.AdminNetworkPolicy, *anpv1alpha1.BaselineAdminNetworkPolicy, []*networkingv1.NetworkPolicy) {
	all := &metav1.LabelSelector{}
	guard := &anpv1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "bank-guard"}, Spec: anpv1alpha1.AdminNetworkPolicySpec{
		Priority: 10, Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: nsSel("bank")},
		Ingress: []anpv1alpha1.AdminNetworkPolicyIngressRule{
			{Name: "allow-prom", Action: anpv1alpha1.AdminNetworkPolicyRuleActionAllow, From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Pods: podsIn("mon", "prom")}}, Ports: tcp(9102)},
			{Name: "pass-shop", Action: anpv1alpha1.AdminNetworkPolicyRuleActionPass, From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("shop")}}},
			{Name: "deny-all", Action: anpv1alpha1.AdminNetworkPolicyRuleActionDeny, From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: all}}},
		}}}
	open := &anpv1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "bank-open"}, Spec: anpv1alpha1.AdminNetworkPolicySpec{
		Priority: 20, Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: nsSel("bank")},
		Ingress: []anpv1alpha1.AdminNetworkPolicyIngressRule{
			{Name: "allow-all", Action: anpv1alpha1.AdminNetworkPolicyRuleActionAllow, From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: all}}},
		}}}
	web := &anpv1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "shop-web-egress"}, Spec: anpv1alpha1.AdminNetworkPolicySpec{
		Priority: 30, Subject: anpv1alpha1.AdminNetworkPolicySubject{Pods: podsIn("shop", "web")},
		Egress: []anpv1alpha1.AdminNetworkPolicyEgressRule{
			{Name: "kubelet", Action: anpv1alpha1.AdminNetworkPolicyRuleActionAllow, To: []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Nodes: all}}, Ports: tcp(10250)},
			{Name: "pass-external", Action: anpv1alpha1.AdminNetworkPolicyRuleActionPass, To: []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Networks: []anpv1alpha1.CIDR{"198.51.100.0/24"}}}},
		}}}
	banp := &anpv1alpha1.BaselineAdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: anpv1alpha1.BaselineAdminNetworkPolicySpec{
		Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: nsSel("shop", "bank")},
		Ingress: []anpv1alpha1.BaselineAdminNetworkPolicyIngressRule{
			{Name: "deny-all", Action: anpv1alpha1.BaselineAdminNetworkPolicyRuleActionDeny, From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: all}}}},
		Egress: []anpv1alpha1.BaselineAdminNetworkPolicyEgressRule{
			{Name: "to-bank", Action: anpv1alpha1.BaselineAdminNetworkPolicyRuleActionAllow, To: []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Namespaces: nsSel("bank")}}},
			{Name: "external-https", Action: anpv1alpha1.BaselineAdminNetworkPolicyRuleActionAllow, To: []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Networks: []anpv1alpha1.CIDR{"198.51.100.0/24"}}}, Ports: tcp(443)},
			{Name: "deny-ipv4", Action: anpv1alpha1.BaselineAdminNetworkPolicyRuleActionDeny, To: []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Networks: []anpv1alpha1.CIDR{"0.0.0.0/0"}}}},
		}}}
	port := intstr.FromInt32(8080)
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "ledger-from-web", Namespace: "bank"}, Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "ledger"}},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: nsSel("shop"), PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
			Ports: []networkingv1.NetworkPolicyPort{{Port: &port}}}}}}
	// Listed out of priority order: the evaluator sorts them.
	return []*anpv1alpha1.AdminNetworkPolicy{web, open, guard}, banp, []*networkingv1.NetworkPolicy{np}
}

type handCase struct {
	name     string
	from, to Endpoint
	port     int
	want     bool
}

// handCases are worked out by hand from the API reference
// (sigs.k8s.io/network-policy-api apis/v1alpha1, see AdminNetwork).
func handCases(w handWorld) []handCase {
	return []handCase{
		// bank-guard's first rule: Allow is final, whatever the
		// NetworkPolicy (which takes only web) says.
		{"Prometheus scrapes the ledger", w.prom, w.ledger, 9102, true},
		// bank-guard's Deny (priority 10) comes before bank-open's Allow
		// (priority 20).
		{"Prometheus on another port", w.prom, w.ledger, 9090, false},
		{"an outsider to the ledger", w.outside, w.ledger, 8080, false},
		// web's egress: shop-web-egress captures nothing, the baseline
		// allows bank; the ledger's ingress: Pass, then the NetworkPolicy
		// isolates the ledger and takes web on 8080.
		{"web to the ledger through Pass and the NetworkPolicy", w.web, w.ledger, 8080, true},
		{"web to the ledger on a port the NetworkPolicy does not open", w.web, w.ledger, 9090, false},
		{"db to the ledger: passed, and the NetworkPolicy takes web only", w.db, w.ledger, 8080, false},
		// The baseline's Deny to 0.0.0.0/0 covers pod addresses.
		{"db to web: the baseline denies both sides", w.db, w.web, 8080, false},
		{"web to a pod of an unguarded namespace: networks match pods", w.web, w.prom, 9090, false},
		{"db to a pod of an unguarded namespace", w.db, w.outside, 8080, false},
		// Pass on egress, then the baseline: 443 is allowed, 80 denied.
		{"web to the outside service on 443", w.web, w.external, 443, true},
		{"web to the outside service on 80", w.web, w.external, 80, false},
		{"db to the outside service on 443 (the baseline alone)", w.db, w.external, 443, true},
		// nodes: {} selects the node addresses.
		{"web to a kubelet", w.web, w.node, 10250, true},
		{"db to a kubelet", w.db, w.node, 10250, false},
		// An ingress peer is a pod: addresses reach the baseline's
		// namespaces.
		{"the outside service to web", w.external, w.web, 8080, true},
		{"an outsider to web", w.outside, w.web, 8080, false},
		// Nothing selects mon or outside.
		{"Prometheus to an outsider", w.prom, w.outside, 8080, true},
	}
}

func newHandEvaluator(t *testing.T, w handWorld) *AdminNetwork {
	t.Helper()
	anps, banp, nps := handPolicies()
	a, err := NewAdminNetwork(w.c, anps, banp, nps)
	require.NoError(t, err)
	return a
}

func TestAdminNetworkHandWorkedCases(t *testing.T) {
	w := newHandWorld()
	a := newHandEvaluator(t, w)
	for _, tc := range handCases(w) {
		got, err := a.Allowed(tc.from, tc.to, "TCP", tc.port)
		require.NoError(t, err, tc.name)
		egress, ingress, _ := a.Decide(tc.from, tc.to, "TCP", tc.port)
		assert.Equal(t, tc.want, got, "%s: egress %s; ingress %s", tc.name, egress, ingress)
	}
}

// TestAdminNetworkVerdictsNameTheDecidingRule: the trace says which layer,
// policy, rule and peer decided.
func TestAdminNetworkVerdictsNameTheDecidingRule(t *testing.T) {
	w := newHandWorld()
	a := newHandEvaluator(t, w)
	egress, ingress, err := a.Decide(w.web, w.ledger, "TCP", 8080)
	require.NoError(t, err)
	assert.Equal(t, Verdict{Allowed: true, Layer: LayerBaseline, Policy: "default", Rule: "to-bank", Peer: "namespaces"}, egress)
	assert.Equal(t, Verdict{Allowed: true, Layer: LayerNetwork, Policy: "bank/ledger-from-web"}, ingress)
	egress, _, err = a.Decide(w.web, w.prom, "TCP", 9090)
	require.NoError(t, err)
	assert.Equal(t, "denied by BaselineAdminNetworkPolicy default rule \"deny-ipv4\" (networks peer)", egress.String())
	_, ingress, err = a.Decide(w.prom, w.outside, "TCP", 8080)
	require.NoError(t, err)
	assert.Equal(t, Verdict{Allowed: true, Layer: LayerDefault}, ingress)
}

// TestBrokenAdminNetworkSemanticsFailTheHandWorkedCases is the companion
// of the hand-worked cases: each mutation breaks one rule of the API in
// the compiled evaluator, and some hand-worked case must then fail.
func TestBrokenAdminNetworkSemanticsFailTheHandWorkedCases(t *testing.T) {
	mutations := map[string]func(a *AdminNetwork){
		"priority ignored (highest value first)": func(a *AdminNetwork) { slices.Reverse(a.anps) },
		"Pass ignored (the next policy decides)": func(a *AdminNetwork) {
			for i := range a.anps {
				a.anps[i].ingress = slices.DeleteFunc(a.anps[i].ingress, func(r compiledANPRule) bool { return r.action == ActionPass })
				a.anps[i].egress = slices.DeleteFunc(a.anps[i].egress, func(r compiledANPRule) bool { return r.action == ActionPass })
			}
		},
		"Pass skips the NetworkPolicies": func(a *AdminNetwork) { a.netpol = nil },
		"Pass allows": func(a *AdminNetwork) {
			for i := range a.anps {
				for j := range a.anps[i].ingress {
					if a.anps[i].ingress[j].action == ActionPass {
						a.anps[i].ingress[j].action = ActionAllow
					}
				}
			}
		},
		"the baseline ignored":    func(a *AdminNetwork) { a.banp = nil },
		"the last rule decides":   func(a *AdminNetwork) { slices.Reverse(a.anps[0].ingress) },
		"nodes select nothing":    func(a *AdminNetwork) { a.nodes = nil },
		"ingress rules ignored":   func(a *AdminNetwork) { a.anps[0].ingress = nil },
		"baseline egress missing": func(a *AdminNetwork) { a.banp.egress = nil },
	}
	w := newHandWorld()
	for name, mutate := range mutations {
		a := newHandEvaluator(t, w)
		mutate(a)
		var failed []string
		for _, tc := range handCases(w) {
			got, err := a.Allowed(tc.from, tc.to, "TCP", tc.port)
			if err != nil || got != tc.want {
				failed = append(failed, tc.name)
			}
		}
		assert.NotEmpty(t, failed, "%s: every hand-worked case still passes", name)
		t.Logf("%s: %d case(s) fail: %v", name, len(failed), failed)
	}
}

// TestSamePriorityConflictsAreErrors: the API leaves the outcome of two
// AdminNetworkPolicies of one priority undefined, so a connection they
// decide differently is an error; when they agree there is nothing to
// settle.
func TestSamePriorityConflictsAreErrors(t *testing.T) {
	w := newHandWorld()
	policy := func(name string, action anpv1alpha1.AdminNetworkPolicyRuleAction) *anpv1alpha1.AdminNetworkPolicy {
		return &anpv1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: anpv1alpha1.AdminNetworkPolicySpec{
			Priority: 5, Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: nsSel("bank")},
			Ingress: []anpv1alpha1.AdminNetworkPolicyIngressRule{{Name: "r", Action: action,
				From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("mon")}}, Ports: tcp(9102)}}}}
	}
	a, err := NewAdminNetwork(w.c, []*anpv1alpha1.AdminNetworkPolicy{policy("a", "Allow"), policy("b", "Deny")}, nil, nil)
	require.NoError(t, err)
	_, err = a.Allowed(w.prom, w.ledger, "TCP", 9102)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "same priority 5")
	ok, err := a.Allowed(w.prom, w.ledger, "TCP", 9090)
	require.NoError(t, err, "neither captures 9090")
	assert.True(t, ok)

	a, err = NewAdminNetwork(w.c, []*anpv1alpha1.AdminNetworkPolicy{policy("a", "Deny"), policy("b", "Deny")}, nil, nil)
	require.NoError(t, err)
	ok, err = a.Allowed(w.prom, w.ledger, "TCP", 9102)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestNewAdminNetworkRefuses(t *testing.T) {
	w := newHandWorld()
	named := "metrics"
	for name, tc := range map[string]struct {
		rule anpv1alpha1.AdminNetworkPolicyIngressRule
		want string
	}{
		"a named port": {anpv1alpha1.AdminNetworkPolicyIngressRule{Name: "r", Action: "Allow",
			From:  []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("mon")}},
			Ports: &[]anpv1alpha1.AdminNetworkPolicyPort{{NamedPort: &named}}}, `named port "metrics" is not supported`},
		"an unknown action": {anpv1alpha1.AdminNetworkPolicyIngressRule{Name: "r", Action: "Log",
			From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("mon")}}}, `unknown action "Log"`},
		"a rule without peers": {anpv1alpha1.AdminNetworkPolicyIngressRule{Name: "r", Action: "Allow"}, "no peer"},
		"a peer with two fields": {anpv1alpha1.AdminNetworkPolicyIngressRule{Name: "r", Action: "Allow",
			From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("mon"), Pods: podsIn("mon", "prom")}}}, "exactly one field"},
		"an empty port range": {anpv1alpha1.AdminNetworkPolicyIngressRule{Name: "r", Action: "Allow",
			From:  []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("mon")}},
			Ports: &[]anpv1alpha1.AdminNetworkPolicyPort{{PortRange: &anpv1alpha1.PortRange{Start: 9000, End: 8000}}}}, "port range 9000-8000 is empty"},
	} {
		anp := &anpv1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: anpv1alpha1.AdminNetworkPolicySpec{
			Priority: 1, Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: nsSel("bank")},
			Ingress: []anpv1alpha1.AdminNetworkPolicyIngressRule{tc.rule}}}
		_, err := NewAdminNetwork(w.c, []*anpv1alpha1.AdminNetworkPolicy{anp}, nil, nil)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
	pass := &anpv1alpha1.BaselineAdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: anpv1alpha1.BaselineAdminNetworkPolicySpec{
		Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: nsSel("bank")},
		Ingress: []anpv1alpha1.BaselineAdminNetworkPolicyIngressRule{{Name: "r", Action: "Pass",
			From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("mon")}}}}}}
	_, err := NewAdminNetwork(w.c, nil, pass, nil)
	require.Error(t, err, "the baseline has no Pass")
}

// TestPortRangesAndProtocols: a range is inclusive, the protocol defaults
// to TCP, and an unset ports list matches every port.
func TestPortRangesAndProtocols(t *testing.T) {
	w := newHandWorld()
	anp := &anpv1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Spec: anpv1alpha1.AdminNetworkPolicySpec{
		Priority: 1, Subject: anpv1alpha1.AdminNetworkPolicySubject{Namespaces: nsSel("bank")},
		Ingress: []anpv1alpha1.AdminNetworkPolicyIngressRule{
			{Name: "range", Action: "Deny", From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("mon")}},
				Ports: &[]anpv1alpha1.AdminNetworkPolicyPort{{PortRange: &anpv1alpha1.PortRange{Start: 9000, End: 9100}},
					{PortNumber: &anpv1alpha1.Port{Protocol: corev1.ProtocolUDP, Port: 53}}}},
			{Name: "shop", Action: "Deny", From: []anpv1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: nsSel("shop")}}},
		}}}
	a, err := NewAdminNetwork(w.c, []*anpv1alpha1.AdminNetworkPolicy{anp}, nil, nil)
	require.NoError(t, err)
	for _, tc := range []struct {
		from  Endpoint
		proto string
		port  int
		want  bool
	}{
		{w.prom, "TCP", 9000, false}, {w.prom, "TCP", 9100, false}, {w.prom, "TCP", 9101, true}, {w.prom, "UDP", 9050, true},
		{w.prom, "UDP", 53, false}, {w.prom, "TCP", 53, true}, {w.web, "TCP", 1, false}, {w.web, "SCTP", 65535, false},
	} {
		got, err := a.Allowed(tc.from, w.ledger, tc.proto, tc.port)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, fmt.Sprintf("%s %s/%d", tc.from, tc.proto, tc.port))
	}
}
