package calico

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scanDirection is the verdict of one direction without the indexes:
// every policy in evaluation order, every rule of those that apply.
func scanDirection(ev *Evaluator, dir PolicyType, local *peerInfo, c *connection) DirectionTrace {
	d := DirectionTrace{Direction: dir, Endpoint: local.endpoint.String(), Decision: DecisionNoPolicy, Allowed: true}
	for _, p := range ev.policies {
		if !p.appliesTo(dir, local) {
			continue
		}
		d.Applied = append(d.Applied, p.ref)
		d.Decision, d.Allowed = DecisionEndOfTier, false
		for i, r := range p.rules(dir) {
			if !r.matches(c) {
				continue
			}
			ref := RuleRef{Policy: p.ref, Direction: dir, Index: i}
			if r.action == Log {
				d.Logged = append(d.Logged, ref)
				continue
			}
			d.Rule = &ref
			d.Decision, d.Allowed = Decision(r.action), r.action != Deny
			return d
		}
	}
	return d
}

// indexPolicies select by namespace in every way the indexes read, and in
// ways they cannot place.
func indexPolicies() []Policy {
	nsA := Eq(LabelName, "team-a").MustBuild()
	return []Policy{
		globalDeny(),
		gnp("log-team-a", Float64(1), GlobalNetworkPolicySpec{NamespaceSelector: nsA,
			Ingress: []Rule{{Action: Log}}, Egress: []Rule{{Action: Log}}}),
		gnp("by-endpoint-namespace", Float64(5), GlobalNetworkPolicySpec{
			Selector: And(In(LabelNamespace, "team-b", "kube-system"), Has("k8s-app")).MustBuild(),
			Ingress:  []Rule{{Action: Deny, Protocol: udp}, {Action: Pass}}}),
		gnp("either", Float64(6), GlobalNetworkPolicySpec{
			Selector: Or(Eq(LabelNamespace, "team-a"), Eq(LabelNamespace, "observability")).MustBuild(),
			Egress: []Rule{
				{Action: Allow, Protocol: tcp, Destination: EntityRule{NamespaceSelector: nsA, Selector: Eq("app", "db").MustBuild(), Ports: []Port{SinglePort(5432)}}},
				{Action: Log, Destination: EntityRule{Selector: In(LabelNamespace, "kube-system", "team-b").MustBuild()}},
				{Action: Deny, Protocol: udp, Destination: EntityRule{Selector: Eq("k8s-app", "kube-dns").MustBuild()}},
				{Action: Allow, Protocol: udp, Destination: EntityRule{NamespaceSelector: Or(Eq(LabelName, "kube-system"), Eq(LabelName, "team-b")).MustBuild()}},
				{Action: Allow, Destination: EntityRule{Nets: []string{"172.20.0.0/16"}}},
				{Action: Allow, Protocol: tcp, Destination: EntityRule{NotSelector: Eq("app", "web").MustBuild(), Ports: []Port{SinglePort(8080)}}},
			}}),
		np("team-a", "own-namespace", Float64(10), NetworkPolicySpec{
			Ingress: []Rule{
				{Action: Allow, Source: EntityRule{Selector: Eq("app", "web").MustBuild()}},
				{Action: Allow, Source: EntityRule{NamespaceSelector: Eq("team", "b").MustBuild()}},
				{Action: Deny, Source: EntityRule{NotSelector: Has("app").MustBuild()}},
			}}),
		np("team-b", "from-observability", nil, NetworkPolicySpec{Selector: Eq("app", "web").MustBuild(),
			Ingress: []Rule{{Action: Allow, Source: EntityRule{NamespaceSelector: Eq(LabelName, "observability").MustBuild()}}}}),
	}
}

// TestIndexesAnswerAsAScanDoes: with raw and prepared peers, every
// direction of every connection between the test peers, a host endpoint
// labelled as if it were in a namespace, and addresses is decided as a
// scan of every policy and rule decides it, traces included.
func TestIndexesAnswerAsAScanDoes(t *testing.T) {
	ev, err := NewEvaluator(indexPolicies(), testNamespaces[:4]) // observability is not given
	require.NoError(t, err)
	host := EndpointPeer(Endpoint{Name: "node-1", Host: true, Labels: labels{LabelNamespace: "team-b", "k8s-app": "kube-dns"}, IPs: addrs("172.21.0.1")})
	peers := []Peer{webA, dbA, webB, dns, metricsServer, fakeDNS, prom, dualStack, host, apiServer, nodeIP, internet}
	for _, p := range peers[:9] {
		peers = append(peers, ev.Prepare(p))
	}
	compared := 0
	for _, src := range peers {
		for _, dst := range peers {
			for _, q := range []struct {
				proto string
				port  int
			}{{"TCP", 5432}, {"TCP", 8080}, {"UDP", 53}} {
				_, tr := ev.Allowed(src, dst, q.proto, q.port)
				require.NoError(t, tr.Err)
				var scan Trace
				c := connection{src: ev.peer(src, &scan), dst: ev.peer(dst, &scan), proto: mustProtocol(t, q.proto), port: uint16(q.port)}
				if c.src.endpoint != nil {
					d := scanDirection(ev, PolicyTypeEgress, c.src, &c)
					assert.Equal(t, d, *tr.Egress, "egress %s", tr)
				}
				if c.dst.endpoint != nil {
					d := scanDirection(ev, PolicyTypeIngress, c.dst, &c)
					assert.Equal(t, d, *tr.Ingress, "ingress %s", tr)
				}
				assert.Equal(t, scan.Notes, tr.Notes)
				compared++
			}
		}
	}
	t.Logf("%d connections compared", compared)
}

func mustProtocol(t *testing.T, s string) uint8 {
	n, ok := queryProtocol(s)
	require.True(t, ok)
	return n
}

func TestRequiredValues(t *testing.T) {
	for sel, want := range map[string][]string{
		"k == 'a'":                         {"a"},
		"k in {'b', 'a'}":                  {"a", "b"},
		"has(x) && k == 'a'":               {"a"},
		"k == 'a' || k in {'b', 'c'}":      {"a", "b", "c"},
		"k == 'a' || x == 'b'":             nil,
		"k != 'a'":                         nil,
		"k not in {'a'}":                   nil,
		"!(k == 'a')":                      nil,
		"all()":                            nil,
		"has(y) && (k == 'a' || k == 'b')": {"a", "b"},
	} {
		s, err := ParseSelector(sel)
		require.NoError(t, err, sel)
		got, ok := s.requiredValues("k")
		assert.Equal(t, want != nil, ok, sel)
		if ok {
			assert.Equal(t, want, got, sel)
		}
	}
}
