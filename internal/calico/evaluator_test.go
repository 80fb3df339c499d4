package calico

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cluster of the evaluator tests. Namespaces carry the labels Kubernetes
// gives them; the Evaluator adds projectcalico.org/name.
var testNamespaces = []Namespace{
	{Name: "team-a", Labels: labels{"kubernetes.io/metadata.name": "team-a", "team": "a"}},
	{Name: "team-b", Labels: labels{"kubernetes.io/metadata.name": "team-b", "team": "b"}},
	{Name: "kube-system", Labels: labels{"kubernetes.io/metadata.name": "kube-system"}},
	{Name: "calico-system", Labels: labels{"kubernetes.io/metadata.name": "calico-system"}},
	{Name: "observability", Labels: labels{"kubernetes.io/metadata.name": "observability"}},
}

var (
	webA = EndpointPeer(Endpoint{Name: "web", Namespace: "team-a", Labels: labels{"app": "web"},
		ServiceAccount: "web", ServiceAccountLabels: labels{"role": "frontend"}, IPs: addrs("10.0.1.10")})
	dbA = EndpointPeer(Endpoint{Name: "db", Namespace: "team-a", Labels: labels{"app": "db"},
		ServiceAccount: "default", IPs: addrs("10.0.1.20")})
	// webB has the same labels as webA, in another namespace.
	webB = EndpointPeer(Endpoint{Name: "web", Namespace: "team-b", Labels: labels{"app": "web"},
		ServiceAccount: "web", IPs: addrs("10.0.2.10")})
	dns = EndpointPeer(Endpoint{Name: "coredns", Namespace: "kube-system", Labels: labels{"k8s-app": "kube-dns"},
		ServiceAccount: "coredns", IPs: addrs("10.0.0.10")})
	metricsServer = EndpointPeer(Endpoint{Name: "metrics-server", Namespace: "kube-system", Labels: labels{"k8s-app": "metrics-server"},
		IPs: addrs("10.0.0.20")})
	// fakeDNS carries the kube-dns label outside kube-system.
	fakeDNS = EndpointPeer(Endpoint{Name: "fake-dns", Namespace: "team-b", Labels: labels{"k8s-app": "kube-dns"},
		IPs: addrs("10.0.2.53")})
	prom = EndpointPeer(Endpoint{Name: "prometheus", Namespace: "observability", Labels: labels{"app": "prometheus"},
		ServiceAccount: "prometheus", IPs: addrs("10.0.3.10")})
	dualStack = EndpointPeer(Endpoint{Name: "dual", Namespace: "team-a", Labels: labels{"app": "dual"},
		IPs: addrs("10.0.1.30", "fd00::30")})

	apiServer = ipPeer("172.20.0.1")
	nodeIP    = ipPeer("172.21.3.4")
	internet  = ipPeer("8.8.8.8")
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func ipPeer(s string) Peer { return IPPeer(netip.MustParseAddr(s)) }

var (
	tcp = ProtocolPtr(ProtocolTCP)
	udp = ProtocolPtr(ProtocolUDP)
)

func gnp(name string, order *float64, spec GlobalNetworkPolicySpec) *GlobalNetworkPolicy {
	p := NewGlobalNetworkPolicy(name)
	spec.Order = order
	p.Spec = spec
	return p
}

func np(namespace, name string, order *float64, spec NetworkPolicySpec) *NetworkPolicy {
	p := NewNetworkPolicy(namespace, name)
	spec.Order = order
	p.Spec = spec
	return p
}

// excludeSystem is the namespaceSelector of obsgen's global deny.
var excludeSystem = NotIn(LabelName, "kube-system", "calico-system").MustBuild()

// globalDeny is a rule-less deny-all: every pod outside kube-system and
// calico-system is selected in both directions and nothing decides, so the
// end-of-tier deny drops what no other policy allows.
func globalDeny() *GlobalNetworkPolicy {
	return gnp("global-deny", Float64(2000), GlobalNetworkPolicySpec{
		NamespaceSelector: excludeSystem,
		Types:             []PolicyType{PolicyTypeIngress, PolicyTypeEgress},
	})
}

// explicitDeny denies with rules, so that policies after it never get a say.
func explicitDeny(order float64) *GlobalNetworkPolicy {
	return gnp("explicit-deny", Float64(order), GlobalNetworkPolicySpec{
		NamespaceSelector: excludeSystem,
		Types:             []PolicyType{PolicyTypeIngress, PolicyTypeEgress},
		Ingress:           []Rule{{Action: Deny}},
		Egress:            []Rule{{Action: Deny}},
	})
}

// conn is one connection to check, with the expected decision of each side
// ("" when that side is a bare IP and not checked).
type conn struct {
	why             string
	src, dst        Peer
	proto           string
	port            int
	allowed         bool
	egress, ingress Decision
}

func checkConns(t *testing.T, ev *Evaluator, conns []conn) {
	t.Helper()
	for _, c := range conns {
		got, tr := ev.Allowed(c.src, c.dst, c.proto, c.port)
		require.NoError(t, tr.Err)
		msg := c.why + "\n" + tr.String()
		assert.Equal(t, c.allowed, got, msg)
		assert.Equal(t, got, tr.Allowed, msg)
		if c.egress == "" {
			assert.Nil(t, tr.Egress, msg)
		} else if assert.NotNil(t, tr.Egress, msg) {
			assert.Equal(t, c.egress, tr.Egress.Decision, msg)
		}
		if c.ingress == "" {
			assert.Nil(t, tr.Ingress, msg)
		} else if assert.NotNil(t, tr.Ingress, msg) {
			assert.Equal(t, c.ingress, tr.Ingress.Decision, msg)
		}
	}
}

func newEvaluator(t *testing.T, policies ...Policy) *Evaluator {
	t.Helper()
	ev, err := NewEvaluator(policies, testNamespaces)
	require.NoError(t, err)
	return ev
}

func TestNoPolicyAllows(t *testing.T) {
	// No policy selects anything: every endpoint falls through to its
	// namespace profile, which allows.
	checkConns(t, newEvaluator(t), []conn{
		{"pod to pod", webA, dbA, "TCP", 5432, true, DecisionNoPolicy, DecisionNoPolicy},
		{"pod to the internet: only egress is checked", webA, internet, "UDP", 53, true, DecisionNoPolicy, ""},
		{"node to pod: only ingress is checked", nodeIP, webA, "TCP", 8080, true, "", DecisionNoPolicy},
	})
}

func TestGlobalDenyWithSystemExclusions(t *testing.T) {
	ev := newEvaluator(t, globalDeny())
	checkConns(t, ev, []conn{
		// team-a is selected (projectcalico.org/name "team-a" is not in the
		// set) and the policy has no rules: end-of-tier deny on both sides.
		{"team-a pod to team-a pod", webA, dbA, "TCP", 5432, false, DecisionEndOfTier, DecisionEndOfTier},
		// kube-system is excluded by its implicit projectcalico.org/name label,
		// so no policy applies there.
		{"kube-system pod to kube-system pod", metricsServer, dns, "UDP", 53, true, DecisionNoPolicy, DecisionNoPolicy},
		{"team-a to kube-system: the egress side denies", webA, dns, "UDP", 53, false, DecisionEndOfTier, DecisionNoPolicy},
		{"kube-system to team-a: the ingress side denies", dns, webA, "TCP", 8080, false, DecisionNoPolicy, DecisionEndOfTier},
		{"internet to kube-system: only the (unselected) ingress side", internet, dns, "UDP", 53, true, "", DecisionNoPolicy},
		{"team-a to the internet", webA, internet, "TCP", 443, false, DecisionEndOfTier, ""},
	})

	// The trace names the policy that applied.
	_, tr := ev.Allowed(webA, dbA, "TCP", 5432)
	require.NotNil(t, tr.Egress)
	assert.Equal(t, []PolicyRef{globalDeny().Ref()}, tr.Egress.Applied)
	assert.Nil(t, tr.Egress.Rule)
	assert.Contains(t, tr.String(), "end-of-tier deny")
	assert.Contains(t, tr.String(), "GlobalNetworkPolicy/global-deny")
}

func TestExclusionInTheWrongField(t *testing.T) {
	// projectcalico.org/name is a namespace label. Put in the policy's
	// (endpoint) selector, "not in" is true for every pod, as no pod has the
	// label: kube-system is not exempt.
	misplaced := gnp("global-deny", Float64(2000), GlobalNetworkPolicySpec{
		Selector: excludeSystem,
		Types:    []PolicyType{PolicyTypeIngress, PolicyTypeEgress},
	})
	// The endpoint equivalent is projectcalico.org/namespace, which Calico
	// sets on every pod.
	endpointForm := gnp("global-deny", Float64(2000), GlobalNetworkPolicySpec{
		Selector: NotIn(LabelNamespace, "kube-system", "calico-system").MustBuild(),
		Types:    []PolicyType{PolicyTypeIngress, PolicyTypeEgress},
	})
	checkConns(t, newEvaluator(t, misplaced), []conn{
		{"kube-system is denied too", metricsServer, dns, "UDP", 53, false, DecisionEndOfTier, DecisionEndOfTier},
	})
	checkConns(t, newEvaluator(t, endpointForm), []conn{
		{"kube-system is exempt", metricsServer, dns, "UDP", 53, true, DecisionNoPolicy, DecisionNoPolicy},
		{"team-a is not", webA, dbA, "TCP", 5432, false, DecisionEndOfTier, DecisionEndOfTier},
	})
}

func TestAllowBeforeDenyPermitsOnlyTheListedPort(t *testing.T) {
	// web may reach db on TCP 5432: an egress policy for web and an ingress
	// policy for db, both at order 100, before a deny with explicit Deny
	// rules at order 1000.
	allow := func(order float64) []Policy {
		return []Policy{
			np("team-a", "web-egress", Float64(order), NetworkPolicySpec{
				Selector: Eq("app", "web").MustBuild(),
				Types:    []PolicyType{PolicyTypeEgress},
				Egress: []Rule{{Action: Allow, Protocol: tcp,
					Destination: EntityRule{Selector: Eq("app", "db").MustBuild(), Ports: []Port{SinglePort(5432)}}}},
			}),
			np("team-a", "db-ingress", Float64(order), NetworkPolicySpec{
				Selector: Eq("app", "db").MustBuild(),
				Types:    []PolicyType{PolicyTypeIngress},
				Ingress: []Rule{{Action: Allow, Protocol: tcp,
					Source: EntityRule{Selector: Eq("app", "web").MustBuild()}, Destination: EntityRule{Ports: []Port{SinglePort(5432)}}}},
			}),
		}
	}
	ev := newEvaluator(t, append(allow(100), explicitDeny(1000))...)
	checkConns(t, ev, []conn{
		{"the listed port: both Allow rules match before the Deny", webA, dbA, "TCP", 5432, true, DecisionAllow, DecisionAllow},
		{"another port: the allows do not match, the Deny rules do", webA, dbA, "TCP", 5433, false, DecisionDeny, DecisionDeny},
		{"another protocol on the same port", webA, dbA, "UDP", 5432, false, DecisionDeny, DecisionDeny},
		{"the reverse direction", dbA, webA, "TCP", 5432, false, DecisionDeny, DecisionDeny},
	})
	_, tr := ev.Allowed(webA, dbA, "TCP", 5432)
	require.NotNil(t, tr.Ingress.Rule)
	assert.Equal(t, "NetworkPolicy/team-a/db-ingress ingress[0]", tr.Ingress.Rule.String())

	// Ordered after the Deny, the same allows never get a say.
	checkConns(t, newEvaluator(t, append(allow(3000), explicitDeny(1000))...), []conn{
		{"the deny comes first", webA, dbA, "TCP", 5432, false, DecisionDeny, DecisionDeny},
	})
}

func TestDNSEgress(t *testing.T) {
	dnsRule := EntityRule{
		Selector:          Eq("k8s-app", "kube-dns").MustBuild(),
		NamespaceSelector: Eq(LabelName, "kube-system").MustBuild(),
		Ports:             []Port{SinglePort(53)},
	}
	allowDNS := gnp("allow-dns", Float64(10), GlobalNetworkPolicySpec{
		NamespaceSelector: excludeSystem,
		Types:             []PolicyType{PolicyTypeEgress},
		Egress: []Rule{
			{Action: Allow, Protocol: udp, Destination: dnsRule},
			{Action: Allow, Protocol: tcp, Destination: dnsRule},
		},
	})
	checkConns(t, newEvaluator(t, allowDNS, globalDeny()), []conn{
		{"UDP 53 to kube-dns in kube-system", webA, dns, "UDP", 53, true, DecisionAllow, DecisionNoPolicy},
		{"TCP 53 matches the second rule", webA, dns, "TCP", 53, true, DecisionAllow, DecisionNoPolicy},
		{"another port", webA, dns, "UDP", 5353, false, DecisionEndOfTier, DecisionNoPolicy},
		// The namespaceSelector keeps the rule to kube-system: a kube-dns
		// label elsewhere does not count.
		{"kube-dns label in team-b", webA, fakeDNS, "UDP", 53, false, DecisionEndOfTier, DecisionEndOfTier},
		{"another kube-system pod", webA, metricsServer, "UDP", 53, false, DecisionEndOfTier, DecisionNoPolicy},
	})

	// The same rule in a namespaced NetworkPolicy: its namespaceSelector
	// takes it out of the policy's own namespace.
	nsDNS := np("team-a", "allow-dns", Float64(10), NetworkPolicySpec{
		Types:  []PolicyType{PolicyTypeEgress},
		Egress: []Rule{{Action: Allow, Protocol: udp, Destination: dnsRule}},
	})
	checkConns(t, newEvaluator(t, nsDNS, globalDeny()), []conn{
		{"from team-a", webA, dns, "UDP", 53, true, DecisionAllow, DecisionNoPolicy},
		{"the NetworkPolicy does not apply in team-b", webB, dns, "UDP", 53, false, DecisionEndOfTier, DecisionNoPolicy},
	})
}

func TestPass(t *testing.T) {
	// An ingress deny for every pod, and before it a Pass for traffic from
	// the observability namespace: Pass skips the rest of the (default,
	// last) tier, so the namespace profile allows.
	passObservability := gnp("pass-observability", Float64(1), GlobalNetworkPolicySpec{
		Types: []PolicyType{PolicyTypeIngress},
		Ingress: []Rule{{Action: Pass,
			Source: EntityRule{NamespaceSelector: Eq(LabelName, "observability").MustBuild()}}},
	})
	denyIngress := gnp("deny-ingress", Float64(1000), GlobalNetworkPolicySpec{
		Types:   []PolicyType{PolicyTypeIngress},
		Ingress: []Rule{{Action: Deny}},
	})
	ev := newEvaluator(t, passObservability, denyIngress)
	checkConns(t, ev, []conn{
		{"from observability: passed, so the Deny is skipped", prom, webA, "TCP", 8080, true, DecisionNoPolicy, DecisionPass},
		{"from elsewhere: the Pass does not match, the Deny does", webB, webA, "TCP", 8080, false, DecisionNoPolicy, DecisionDeny},
	})
	_, tr := ev.Allowed(prom, webA, "TCP", 8080)
	assert.Equal(t, []PolicyRef{passObservability.Ref()}, tr.Ingress.Applied, "evaluation stops at the Pass")
}

func TestTypesDefaulting(t *testing.T) {
	allowEgressToCluster := []Rule{{Action: Allow, Destination: EntityRule{Nets: []string{"10.0.0.0/8"}}}}
	tests := []struct {
		name   string
		policy *NetworkPolicy
		conns  []conn
	}{
		{
			// Only egress rules and no types: Calico defaults types to
			// [Egress], so ingress is not governed. (Kubernetes'
			// NetworkPolicy rule would add Ingress and deny it.)
			"egress rules only: Egress",
			np("team-a", "p", nil, NetworkPolicySpec{Egress: allowEgressToCluster}),
			[]conn{
				{"ingress is not governed", internet, webA, "TCP", 8080, true, "", DecisionNoPolicy},
				{"egress is: inside 10/8", webA, dns, "UDP", 53, true, DecisionAllow, DecisionNoPolicy},
				{"egress is: outside 10/8", webA, internet, "UDP", 53, false, DecisionEndOfTier, ""},
			},
		},
		{
			// No rules at all: [Ingress], a default deny for ingress only.
			"no rules: Ingress",
			np("team-a", "p", nil, NetworkPolicySpec{}),
			[]conn{
				{"ingress is denied", internet, webA, "TCP", 8080, false, "", DecisionEndOfTier},
				{"egress is not governed", webA, internet, "TCP", 443, true, DecisionNoPolicy, ""},
			},
		},
		{
			"ingress rules only: Ingress",
			np("team-a", "p", nil, NetworkPolicySpec{Ingress: []Rule{{Action: Allow, Source: EntityRule{Nets: []string{"172.21.0.0/16"}}}}}),
			[]conn{
				{"from the node network", nodeIP, webA, "TCP", 8080, true, "", DecisionAllow},
				{"from the internet", internet, webA, "TCP", 8080, false, "", DecisionEndOfTier},
				{"egress is not governed", webA, internet, "TCP", 443, true, DecisionNoPolicy, ""},
			},
		},
		{
			"both: both",
			np("team-a", "p", nil, NetworkPolicySpec{
				Ingress: []Rule{{Action: Allow, Source: EntityRule{Nets: []string{"172.21.0.0/16"}}}},
				Egress:  allowEgressToCluster,
			}),
			[]conn{
				{"ingress governed", internet, webA, "TCP", 8080, false, "", DecisionEndOfTier},
				{"egress governed", webA, internet, "TCP", 443, false, DecisionEndOfTier, ""},
			},
		},
		{
			// Explicit types win over the rules present: the ingress rule
			// is ignored, and ingress not governed.
			"explicit Egress with ingress rules",
			np("team-a", "p", nil, NetworkPolicySpec{
				Types:   []PolicyType{PolicyTypeEgress},
				Ingress: []Rule{{Action: Deny}},
			}),
			[]conn{
				{"the ingress Deny is not used", internet, webA, "TCP", 8080, true, "", DecisionNoPolicy},
				{"egress has no rules: denied", webA, internet, "TCP", 443, false, DecisionEndOfTier, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkConns(t, newEvaluator(t, tt.policy), tt.conns)
		})
	}
}

func TestRuleSelectorScope(t *testing.T) {
	// Ingress to db pods from app == 'web'.
	rules := []Rule{{Action: Allow, Source: EntityRule{Selector: Eq("app", "web").MustBuild()}}}
	namespaced := np("team-a", "db-from-web", nil, NetworkPolicySpec{Selector: Eq("app", "db").MustBuild(), Ingress: rules})
	global := gnp("db-from-web", nil, GlobalNetworkPolicySpec{Selector: Eq("app", "db").MustBuild(), Ingress: rules})

	checkConns(t, newEvaluator(t, namespaced), []conn{
		{"web in the policy's namespace", webA, dbA, "TCP", 5432, true, DecisionNoPolicy, DecisionAllow},
		// A NetworkPolicy rule selector without namespaceSelector only
		// selects pods of the policy's namespace.
		{"same labels, other namespace", webB, dbA, "TCP", 5432, false, DecisionNoPolicy, DecisionEndOfTier},
		{"a selector never matches a bare IP", nodeIP, dbA, "TCP", 5432, false, "", DecisionEndOfTier},
	})
	checkConns(t, newEvaluator(t, global), []conn{
		{"web in team-a", webA, dbA, "TCP", 5432, true, DecisionNoPolicy, DecisionAllow},
		// A GlobalNetworkPolicy rule selector selects pods in any namespace.
		{"web in team-b", webB, dbA, "TCP", 5432, true, DecisionNoPolicy, DecisionAllow},
		{"a selector never matches a bare IP", nodeIP, dbA, "TCP", 5432, false, "", DecisionEndOfTier},
	})

	// namespaceSelector alone: every pod of the matching namespaces.
	fromTeamB := np("team-a", "from-team-b", nil, NetworkPolicySpec{
		Ingress: []Rule{{Action: Allow, Source: EntityRule{NamespaceSelector: Eq("team", "b").MustBuild()}}}})
	checkConns(t, newEvaluator(t, fromTeamB), []conn{
		{"any pod of team-b", fakeDNS, dbA, "TCP", 5432, true, DecisionNoPolicy, DecisionAllow},
		{"not the policy's own namespace", webA, dbA, "TCP", 5432, false, DecisionNoPolicy, DecisionEndOfTier},
	})

	// all() as namespaceSelector: every namespace; global(): no pod at all.
	for _, tt := range []struct {
		nsSel    string
		fromPod  Decision
		fromNode Decision
	}{
		{"all()", DecisionAllow, DecisionEndOfTier},
		{"global()", DecisionEndOfTier, DecisionEndOfTier},
	} {
		p := np("team-a", "p", nil, NetworkPolicySpec{
			Ingress: []Rule{{Action: Allow, Source: EntityRule{NamespaceSelector: tt.nsSel}}}})
		checkConns(t, newEvaluator(t, p), []conn{
			{"pod in another namespace, namespaceSelector " + tt.nsSel, webB, dbA, "TCP", 1, tt.fromPod == DecisionAllow, DecisionNoPolicy, tt.fromPod},
			{"bare IP, namespaceSelector " + tt.nsSel, nodeIP, dbA, "TCP", 1, false, "", tt.fromNode},
		})
	}
}

func TestNotSelector(t *testing.T) {
	rules := []Rule{{Action: Allow, Source: EntityRule{NotSelector: Eq("app", "web").MustBuild()}}}
	// In a GlobalNetworkPolicy a lone notSelector excludes the matching
	// endpoints and nothing else: bare IPs and other pods match.
	checkConns(t, newEvaluator(t, gnp("not-web", nil, GlobalNetworkPolicySpec{Selector: Eq("app", "db").MustBuild(), Ingress: rules})), []conn{
		{"web is excluded", webA, dbA, "TCP", 1, false, DecisionNoPolicy, DecisionEndOfTier},
		{"web in another namespace too", webB, dbA, "TCP", 1, false, DecisionNoPolicy, DecisionEndOfTier},
		{"a bare IP is never excluded", nodeIP, dbA, "TCP", 1, true, "", DecisionAllow},
		{"another pod", prom, dbA, "TCP", 1, true, DecisionNoPolicy, DecisionAllow},
	})
	// In a NetworkPolicy a lone notSelector also limits the rule to the
	// policy's namespace (libcalico-go adds the namespace selector as soon
	// as any selector field is set), so bare IPs and other namespaces fail.
	checkConns(t, newEvaluator(t, np("team-a", "not-web", nil, NetworkPolicySpec{Selector: Eq("app", "db").MustBuild(), Ingress: rules})), []conn{
		{"web is excluded", webA, dbA, "TCP", 1, false, DecisionNoPolicy, DecisionEndOfTier},
		{"other pods of team-a match", dualStack, dbA, "TCP", 1, true, DecisionNoPolicy, DecisionAllow},
		{"not pods of other namespaces", prom, dbA, "TCP", 1, false, DecisionNoPolicy, DecisionEndOfTier},
		{"not bare IPs", nodeIP, dbA, "TCP", 1, false, "", DecisionEndOfTier},
	})
}

func TestServiceAccounts(t *testing.T) {
	byName := gnp("p", nil, GlobalNetworkPolicySpec{Selector: Eq("app", "db").MustBuild(),
		Ingress: []Rule{{Action: Allow, Source: EntityRule{ServiceAccounts: &ServiceAccountMatch{Names: []string{"web"}}}}}})
	checkConns(t, newEvaluator(t, byName), []conn{
		{"service account web, any namespace (GNP)", webB, dbA, "TCP", 1, true, DecisionNoPolicy, DecisionAllow},
		{"service account prometheus", prom, dbA, "TCP", 1, false, DecisionNoPolicy, DecisionEndOfTier},
		{"no service account at all", metricsServer, dbA, "TCP", 1, false, DecisionNoPolicy, DecisionEndOfTier},
	})
	// The selector is over the service account's labels plus
	// projectcalico.org/name.
	bySelector := gnp("p", nil, GlobalNetworkPolicySpec{Selector: Eq("app", "db").MustBuild(),
		Ingress: []Rule{{Action: Allow, Source: EntityRule{ServiceAccounts: &ServiceAccountMatch{Selector: "role == 'frontend' || projectcalico.org/name == 'prometheus'"}}}}})
	checkConns(t, newEvaluator(t, bySelector), []conn{
		{"labelled service account", webA, dbA, "TCP", 1, true, DecisionNoPolicy, DecisionAllow},
		{"by name", prom, dbA, "TCP", 1, true, DecisionNoPolicy, DecisionAllow},
		{"same service account name, no label", webB, dbA, "TCP", 1, false, DecisionNoPolicy, DecisionEndOfTier},
	})
	// serviceAccountSelector picks the endpoints a policy applies to.
	applies := gnp("deny-frontends", nil, GlobalNetworkPolicySpec{ServiceAccountSelector: "role == 'frontend'", Egress: []Rule{{Action: Deny}}})
	checkConns(t, newEvaluator(t, applies), []conn{
		{"frontend service account", webA, internet, "TCP", 443, false, DecisionDeny, ""},
		{"other service account", webB, internet, "TCP", 443, true, DecisionNoPolicy, ""},
	})
}

func TestNets(t *testing.T) {
	// Egress to the API servers' /28 on 443 and ingress from the node
	// network, for web pods.
	p := np("team-a", "web", nil, NetworkPolicySpec{
		Selector: Eq("app", "web").MustBuild(),
		Types:    []PolicyType{PolicyTypeIngress, PolicyTypeEgress},
		Egress: []Rule{{Action: Allow, Protocol: tcp,
			Destination: EntityRule{Nets: []string{"172.20.0.0/28"}, Ports: []Port{SinglePort(443)}}}},
		Ingress: []Rule{{Action: Allow, Source: EntityRule{Nets: []string{"172.21.0.0/16"}}}},
	})
	checkConns(t, newEvaluator(t, p), []conn{
		{"API server in the /28", webA, apiServer, "TCP", 443, true, DecisionAllow, ""},
		{"just outside the /28", webA, ipPeer("172.20.0.16"), "TCP", 443, false, DecisionEndOfTier, ""},
		{"wrong port", webA, apiServer, "TCP", 6443, false, DecisionEndOfTier, ""},
		{"from a node", nodeIP, webA, "TCP", 8080, true, "", DecisionAllow},
		{"from the internet", internet, webA, "TCP", 8080, false, "", DecisionEndOfTier},
		// An endpoint peer is in a net when one of its IPs is.
		{"from a pod outside the node network", dbA, webA, "TCP", 8080, false, DecisionNoPolicy, DecisionEndOfTier},
	})

	notNets := gnp("not-cluster", nil, GlobalNetworkPolicySpec{Selector: Eq("app", "web").MustBuild(),
		Egress: []Rule{{Action: Allow, Destination: EntityRule{NotNets: []string{"10.0.0.0/8"}}}}})
	checkConns(t, newEvaluator(t, notNets), []conn{
		{"outside the excluded net", webA, internet, "TCP", 443, true, DecisionAllow, ""},
		{"a pod inside it", webA, dns, "UDP", 53, false, DecisionEndOfTier, DecisionNoPolicy},
	})
}

func TestIPVersion(t *testing.T) {
	// An IPv4 CIDR makes the rule IPv4-only, as Calico renders it; so its
	// notNets do not let IPv6 traffic through.
	// The source is a dual-stack pod, which can send either.
	v4 := gnp("v4", nil, GlobalNetworkPolicySpec{Selector: Eq("app", "dual").MustBuild(),
		Egress: []Rule{{Action: Allow, Destination: EntityRule{NotNets: []string{"10.0.0.0/8"}}}}})
	explicit6 := gnp("v6", nil, GlobalNetworkPolicySpec{Selector: In("app", "dual", "web").MustBuild(),
		Egress: []Rule{{Action: Allow, IPVersion: new(6)}}})
	v6Internet := ipPeer("2001:db8::1")
	checkConns(t, newEvaluator(t, v4), []conn{
		{"IPv4 outside 10/8", dualStack, internet, "TCP", 443, true, DecisionAllow, ""},
		{"IPv4 inside 10/8", dualStack, dns, "UDP", 53, false, DecisionEndOfTier, DecisionNoPolicy},
		{"IPv6 is outside 10/8 but the rule is IPv4-only", dualStack, v6Internet, "TCP", 443, false, DecisionEndOfTier, ""},
	})
	checkConns(t, newEvaluator(t, explicit6), []conn{
		{"IPv4 does not match ipVersion 6", dualStack, internet, "TCP", 443, false, DecisionEndOfTier, ""},
		{"IPv6 does", dualStack, v6Internet, "TCP", 443, true, DecisionAllow, ""},
		// webA has no IPv6 address: it cannot be the source of IPv6 traffic,
		// so the IPv6-only rule never matches its traffic.
		{"an IPv4-only pod", webA, v6Internet, "TCP", 443, false, DecisionEndOfTier, ""},
	})
}

func TestOrder(t *testing.T) {
	deny := func(name string, order *float64) *GlobalNetworkPolicy {
		return gnp(name, order, GlobalNetworkPolicySpec{Ingress: []Rule{{Action: Deny}}})
	}
	allow := func(name string, order *float64) *GlobalNetworkPolicy {
		return gnp(name, order, GlobalNetworkPolicySpec{Ingress: []Rule{{Action: Allow}}})
	}
	tests := []struct {
		name     string
		policies []Policy
		want     Decision
		by       string
	}{
		{"equal orders: a-deny before b-allow by name", []Policy{allow("b-allow", Float64(100)), deny("a-deny", Float64(100))}, DecisionDeny, "a-deny"},
		{"equal orders: a-allow before b-deny by name", []Policy{deny("b-deny", Float64(100)), allow("a-allow", Float64(100))}, DecisionAllow, "a-allow"},
		{"lower order first, whatever the name", []Policy{deny("a-deny", Float64(200)), allow("z-allow", Float64(100))}, DecisionAllow, "z-allow"},
		{"fractional orders", []Policy{deny("a-deny", Float64(100.5)), allow("z-allow", Float64(100.25))}, DecisionAllow, "z-allow"},
		{"no order is last", []Policy{allow("a-allow", nil), deny("z-deny", Float64(1e9))}, DecisionDeny, "z-deny"},
		{"two without order: by name", []Policy{allow("b-allow", nil), deny("a-deny", nil)}, DecisionDeny, "a-deny"},
		{"NetworkPolicy and GlobalNetworkPolicy share the tier", []Policy{
			allow("z-allow", Float64(100)),
			np("team-a", "a-deny", Float64(100), NetworkPolicySpec{Ingress: []Rule{{Action: Deny}}}),
		}, DecisionDeny, "a-deny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, tr := newEvaluator(t, tt.policies...).Allowed(internet, webA, "TCP", 80)
			require.NotNil(t, tr.Ingress)
			assert.Equal(t, tt.want, tr.Ingress.Decision, tr.String())
			require.NotNil(t, tr.Ingress.Rule, tr.String())
			assert.Equal(t, tt.by, tr.Ingress.Rule.Policy.Name, tr.String())
		})
	}
}

func TestLogContinues(t *testing.T) {
	logAll := gnp("log", Float64(1), GlobalNetworkPolicySpec{Ingress: []Rule{{Action: Log}}})
	allow := gnp("allow", Float64(2), GlobalNetworkPolicySpec{Ingress: []Rule{{Action: Log}, {Action: Allow, Protocol: tcp}}})
	ev := newEvaluator(t, logAll, allow)
	checkConns(t, ev, []conn{
		{"Log rules go on to the Allow", internet, webA, "TCP", 80, true, "", DecisionAllow},
		{"and to the end of the tier when nothing decides", internet, webA, "UDP", 80, false, "", DecisionEndOfTier},
	})
	_, tr := ev.Allowed(internet, webA, "TCP", 80)
	assert.Equal(t, []string{"GlobalNetworkPolicy/log ingress[0]", "GlobalNetworkPolicy/allow ingress[0]"},
		[]string{tr.Ingress.Logged[0].String(), tr.Ingress.Logged[1].String()})
	assert.Equal(t, 1, tr.Ingress.Rule.Index)
}

func TestHostEndpointPoliciesAreIgnored(t *testing.T) {
	// doNotTrack and preDNAT policies apply to host endpoints only.
	untracked := gnp("untracked", Float64(1), GlobalNetworkPolicySpec{DoNotTrack: true, ApplyOnForward: true, Ingress: []Rule{{Action: Deny}}})
	preDNAT := gnp("pre-dnat", Float64(1), GlobalNetworkPolicySpec{PreDNAT: true, ApplyOnForward: true, Ingress: []Rule{{Action: Deny}}})
	checkConns(t, newEvaluator(t, untracked, preDNAT), []conn{
		{"no policy applies to the pod", internet, webA, "TCP", 80, true, "", DecisionNoPolicy},
	})
}

func TestNamespaceNotGiven(t *testing.T) {
	ev, err := NewEvaluator([]Policy{globalDeny()}, nil)
	require.NoError(t, err)
	// Without its labels the namespace still has projectcalico.org/name,
	// so the exclusion still works.
	ok, tr := ev.Allowed(metricsServer, dns, "UDP", 53)
	assert.True(t, ok, tr.String())
	require.NotEmpty(t, tr.Notes)
	assert.Contains(t, tr.Notes[0], `namespace "kube-system" was not given`)
}

func TestInvalidQueries(t *testing.T) {
	ev := newEvaluator(t)
	for _, tt := range []struct {
		src, dst Peer
		proto    string
		port     int
		msg      string
	}{
		{webA, dbA, "FOO", 80, "unknown protocol"},
		{webA, dbA, "0", 80, "unknown protocol"},
		{webA, dbA, "TCP", 70000, "not in 0-65535"},
		{webA, dbA, "TCP", -1, "not in 0-65535"},
		{Peer{}, dbA, "TCP", 80, "invalid source peer"},
		{webA, IPPeer(netip.Addr{}), "TCP", 80, "invalid destination peer"},
		{webA, EndpointPeer(Endpoint{Name: "x"}), "TCP", 80, "an endpoint needs a namespace"},
	} {
		ok, tr := ev.Allowed(tt.src, tt.dst, tt.proto, tt.port)
		assert.False(t, ok)
		require.Error(t, tr.Err)
		assert.Contains(t, tr.Err.Error(), tt.msg)
	}
	// Protocols of a query are case-insensitive and may be numbers.
	for _, proto := range []string{"tcp", "TCP", "6", "sctp", "icmpv6", "58"} {
		_, tr := ev.Allowed(webA, dbA, proto, 80)
		assert.NoError(t, tr.Err, proto)
	}
}

func TestNewEvaluatorRejects(t *testing.T) {
	rule := func(r Rule) *GlobalNetworkPolicy {
		return gnp("bad", nil, GlobalNetworkPolicySpec{Ingress: []Rule{r}})
	}
	tests := []struct {
		name   string
		policy Policy
		msg    string
	}{
		{"selector syntax", gnp("bad", nil, GlobalNetworkPolicySpec{Selector: "app = 'x'"}),
			`GlobalNetworkPolicy/bad: spec.selector: selector "app = 'x'": column 5`},
		{"global() outside a rule namespaceSelector", gnp("bad", nil, GlobalNetworkPolicySpec{NamespaceSelector: "global()"}),
			"spec.namespaceSelector: global() can only be used in a rule's namespaceSelector"},
		{"global() combined", rule(Rule{Action: Allow, Source: EntityRule{NamespaceSelector: "global() || has(a)"}}),
			"spec.ingress[0].source.namespaceSelector: global() cannot be combined"},
		{"no action", rule(Rule{}), "spec.ingress[0].action: a rule needs an action"},
		{"unknown action", rule(Rule{Action: "Drop"}), `unknown action "Drop"`},
		{"lower-case protocol", rule(Rule{Action: Allow, Protocol: ProtocolPtr("tcp")}), `spec.ingress[0].protocol: unknown protocol "tcp"`},
		{"ports without protocol", rule(Rule{Action: Allow, Destination: EntityRule{Ports: []Port{SinglePort(80)}}}),
			"must set protocol to TCP, UDP or SCTP"},
		{"ports with ICMP", rule(Rule{Action: Allow, Protocol: ProtocolPtr(ProtocolICMP), Destination: EntityRule{Ports: []Port{SinglePort(80)}}}),
			"must set protocol to TCP, UDP or SCTP"},
		{"named port", rule(Rule{Action: Allow, Protocol: tcp, Destination: EntityRule{Ports: []Port{{PortName: "metrics"}}}}),
			`spec.ingress[0].destination.ports[0]: named port "metrics" is not supported`},
		{"source ports", rule(Rule{Action: Allow, Protocol: tcp, Source: EntityRule{Ports: []Port{SinglePort(80)}}}),
			"source ports are not supported"},
		{"services", rule(Rule{Action: Allow, Destination: EntityRule{Services: &ServiceMatch{Name: "kubernetes"}}}),
			"service matches are not supported"},
		{"http", rule(Rule{Action: Allow, HTTP: &HTTPMatch{Methods: []string{"GET"}}}), "HTTP matches"},
		{"icmp", rule(Rule{Action: Allow, Protocol: ProtocolPtr(ProtocolICMP), ICMP: &ICMPFields{Type: new(8)}}), "icmp and notICMP"},
		{"bad CIDR", rule(Rule{Action: Allow, Source: EntityRule{Nets: []string{"10.0.0.0/33"}}}),
			`spec.ingress[0].source.nets[0]: invalid CIDR "10.0.0.0/33"`},
		{"mixed IP versions", rule(Rule{Action: Allow, Source: EntityRule{Nets: []string{"10.0.0.0/8"}}, Destination: EntityRule{Nets: []string{"fd00::/8"}}}),
			"both IPv4 and IPv6"},
		{"ipVersion against CIDRs", rule(Rule{Action: Allow, IPVersion: new(6), Source: EntityRule{Nets: []string{"10.0.0.0/8"}}}),
			"ipVersion 6 does not match the IPv4 CIDRs"},
		{"other tier", gnp("bad", nil, GlobalNetworkPolicySpec{Tier: "security"}), `tier "security" is not supported`},
		{"unknown type", gnp("bad", nil, GlobalNetworkPolicySpec{Types: []PolicyType{"ingress"}}), `unknown policy type "ingress"`},
		{"NetworkPolicy without namespace", np("", "bad", nil, NetworkPolicySpec{}), "a NetworkPolicy needs a namespace"},
		{"no name", gnp("", nil, GlobalNetworkPolicySpec{}), "a policy needs a name"},
		{"nil policy", (*NetworkPolicy)(nil), "nil policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEvaluator([]Policy{tt.policy}, testNamespaces)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}

	// Every problem is reported, not just the first.
	_, err := NewEvaluator([]Policy{
		rule(Rule{Action: "Drop", Protocol: ProtocolPtr("tcp")}),
		gnp("bad", nil, GlobalNetworkPolicySpec{}),
	}, []Namespace{{Name: "a"}, {Name: "a"}})
	require.Error(t, err)
	for _, msg := range []string{`unknown action "Drop"`, `unknown protocol "tcp"`, "GlobalNetworkPolicy/bad given twice", `namespace "a" given twice`} {
		assert.Contains(t, err.Error(), msg)
	}
}

func TestDecodedPoliciesEvaluate(t *testing.T) {
	// The policy of TestDecodeStrict, read from YAML, used as is.
	obj, err := DecodeStrict([]byte(strings.Replace(gnpYAML, `ports: [53, "8000:8080", metrics]`, "ports: [53]", 1)))
	require.NoError(t, err)
	ev, err := NewEvaluator([]Policy{obj.(Policy)}, testNamespaces)
	require.NoError(t, err)
	checkConns(t, ev, []conn{
		{"DNS is allowed", webA, dns, "UDP", 53, true, DecisionAllow, DecisionNoPolicy},
		{"nothing else", webA, dbA, "TCP", 5432, false, DecisionEndOfTier, DecisionEndOfTier},
	})
	assert.Equal(t, []PolicyRef{{Kind: KindGlobalNetworkPolicy, Name: "default-deny", Order: Float64(2000)}}, ev.Policies())
}
