package reach

import (
	"fmt"
	"net/netip"
	"slices"

	"obsgen.dev/obsgen/internal/plan"
)

// exhaustiveLimit is the number of team namespaces up to which every
// namespace's intruder is tried against every metrics port. Above it the
// intruders of the same team's other namespaces and of the next team's
// namespaces are tried: obsgen's ingress rules name the allowed sources
// only, so a foreign namespace is as foreign as any other, and the proof
// stays linear in the number of teams.
const exhaustiveLimit = 24

// Prove asks m about every connection the plan's flows open, every
// connection the cluster needs (requirements.go, derived without the
// flows) and every connection obsgen must not open. Under the open stance
// the forbidden ones are not asked: nothing is isolated.
func Prove(c *Cluster, m Model) (*Result, error) {
	p := c.Plan
	r := &Result{Model: m.Name(), Enforced: p.Network.Policies != "", Pods: c.Pods}
	var denials []denial
	if r.Enforced {
		denials = c.forbidden()
	}
	// Sized once: with thousands of teams, growing the checks copied
	// hundreds of megabytes.
	r.Checks = make([]Check, 0, 2*len(p.Flows)+len(c.reqs)+len(denials))
	for _, f := range p.Flows {
		from, to := c.flowEnds(f)
		for _, pp := range c.flowPorts(f, to) {
			if err := r.ask(m, Check{Flow: f.ID, From: from, To: to, Protocol: pp.Protocol, Port: pp.Port, Want: true, Why: f.Why, Source: f.Source, Ref: f.Ref}); err != nil {
				return nil, err
			}
		}
	}
	for _, q := range c.reqs {
		if err := r.ask(m, Check{Flow: q.id, From: q.from, To: q.to, Protocol: q.proto, Port: q.port, Want: true, Why: q.why, Source: q.source, Requirement: true}); err != nil {
			return nil, err
		}
	}
	if !r.Enforced {
		return r, nil
	}
	// What must stay closed is judged by the network alone: Istio's layer
	// may refuse more, but obsgen's network policies must not open it.
	network := m
	if l, ok := m.(interface{ Network() Model }); ok {
		network = l.Network()
	}
	for _, d := range denials {
		if err := r.ask(network, Check{Flow: d.flow, From: d.from, To: d.to, Protocol: "TCP", Port: d.port, Want: false, Why: d.why}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// ask puts ch to the model and records the answer. A panic inside a model
// (a dependency's) becomes an error that names the connection.
func (r *Result) ask(m Model, ch Check) (err error) {
	if ch.From.Pod == nil && !ch.From.Addr.IsValid() || ch.To.Pod == nil && !ch.To.Addr.IsValid() {
		return fmt.Errorf("reach: %s has an endpoint without a pod", ch.Flow)
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("reach: %s evaluating %s -> %s %s/%d (%s) failed: %v", m.Name(), ch.From, ch.To, ch.Protocol, ch.Port, ch.Flow, v)
		}
	}()
	got, err := m.Allowed(ch.From, ch.To, ch.Protocol, ch.Port)
	if err != nil {
		return fmt.Errorf("reach: %s -> %s %s/%d: %w", ch.From, ch.To, ch.Protocol, ch.Port, err)
	}
	ch.Got = got
	r.Checks = append(r.Checks, ch)
	return nil
}

// flowPorts are the ports to ask about for f: its own, or for a flow to
// every port the destination's application port and a port nothing uses.
func (c *Cluster) flowPorts(f plan.Flow, to Endpoint) []plan.PortProto {
	if !f.AllPorts() {
		return f.Ports
	}
	ports := []plan.PortProto{{Port: c.unused, Protocol: "TCP"}}
	if to.Pod != nil {
		ports = append([]plan.PortProto{{Port: c.appPort(to.Pod), Protocol: "TCP"}}, ports...)
	}
	return ports
}

type denial struct {
	flow     string
	from, to Endpoint
	port     int
	why      string
}

// forbidden lists the connections that must stay closed.
func (c *Cluster) forbidden() []denial {
	p := c.Plan
	m := p.Monitoring
	pod := func(ns string, l plan.Labels) Endpoint { return Endpoint{Pod: c.Pod(ns, l)} }
	prom := pod(m.Namespace, m.Prometheus.PodLabels)
	grafana := pod(m.Grafana.Namespace, m.Grafana.PodLabels)
	outsider := pod(OutsideNamespace, outsiderLabels)
	impostor := pod(OutsideNamespace, m.Prometheus.PodLabels)
	out := make([]denial, 0, 8*len(p.ServiceTargets)+2*len(p.Flows))
	deny := func(flow string, from, to Endpoint, port int, why string) {
		if from.Pod != nil && to.Pod != nil && from.Pod != to.Pod {
			out = append(out, denial{flow: flow, from: from, to: to, port: port, why: why})
		}
	}
	unused := c.unused
	for _, s := range p.ServiceTargets {
		target := pod(s.Namespace, s.Selector)
		for _, ns := range c.foreignNamespaces(s) {
			intruder := pod(ns, intruderLabels)
			deny("intruder-to-metrics", intruder, target, s.Endpoint.Port, "another namespace reaches a metrics port")
			if s.AppPort != s.Endpoint.Port {
				deny("intruder-to-app", intruder, target, s.AppPort, "teams' namespaces reach each other through obsgen's policies")
			}
		}
		deny("grafana-to-metrics", grafana, target, s.Endpoint.Port, "Grafana reaches a metrics port")
		deny("outsider-to-metrics", outsider, target, s.Endpoint.Port, "a pod outside the covered namespaces reaches a metrics port")
		deny("outsider-to-app", outsider, target, s.AppPort, "a pod outside the covered namespaces reaches a team")
		deny("impostor-to-metrics", impostor, target, s.Endpoint.Port, "a pod labelled like Prometheus in another namespace reaches a metrics port")
		deny("prometheus-unscraped-port", prom, target, unused, "Prometheus reaches a port it does not scrape")
	}
	for _, f := range p.Flows {
		// Only where obsgen isolates the destination: elsewhere (a
		// gateway's own namespace, a remote-write receiver's) whoever
		// else may connect is not obsgen's to decide.
		if !f.From.IsPods() || !f.To.IsPods() || !prometheusPeer(p, f.From) || !p.DeniesIngress(f.To.Namespace) {
			continue
		}
		// Every scrape target, stack component and proxy port Prometheus
		// reaches is closed to the outsider and the impostor.
		to := pod(f.To.Namespace, f.To.Labels)
		for _, pp := range f.Ports {
			deny("outsider-to-"+f.ID, outsider, to, pp.Port, "a pod outside the covered namespaces uses a port opened for Prometheus")
			deny("impostor-to-"+f.ID, impostor, to, pp.Port, "a pod labelled like Prometheus in another namespace uses a port opened for Prometheus")
		}
	}
	// A rule for an address range must not open the pods inside it:
	// Calico's nets, a NetworkPolicy's ipBlock on most implementations and
	// an AdminNetworkPolicy's networks peer (network-policy-api
	// apis/v1alpha1/shared_types.go) all match pod addresses. The other
	// end is a pod no policy isolates (openEndpoint), so the rule's side
	// alone decides. The check means something where that pod's address
	// lies in the range: every range for 0.0.0.0/0, and any range that
	// holds cluster.podCIDR, where the synthetic pods live.
	open := c.openEndpoint()
	for _, f := range p.Flows {
		var from, to Endpoint
		switch {
		case f.From.IsPods() && f.To.IsCIDR() && p.DeniesEgress(f.From.Namespace):
			from, to = pod(f.From.Namespace, f.From.Labels), open
		case f.From.IsCIDR() && f.To.IsPods() && p.DeniesIngress(f.To.Namespace) && !everyAddress(f.From.CIDRs):
			// A source of every address means everyone, pods included
			// (plan.PodExcept).
			from, to = open, pod(f.To.Namespace, f.To.Labels)
		default:
			continue
		}
		ports := f.Ports
		if len(ports) == 0 {
			ports = []plan.PortProto{{Port: unused, Protocol: "TCP"}}
		}
		for _, pp := range ports {
			if pp.Protocol == "TCP" {
				deny("pods-through-"+f.ID, from, to, pp.Port, "a rule for an address range lets pods inside it through")
			}
		}
	}
	deny("prometheus-to-grafana", prom, grafana, m.Grafana.Port, "Prometheus reaches Grafana")
	deny("outsider-to-prometheus", outsider, prom, plan.PortPrometheus, "a pod outside the covered namespaces queries Prometheus")
	return out
}

// everyAddress tells whether cidrs hold a range of every address of a
// family (0.0.0.0/0, ::/0).
func everyAddress(cidrs []string) bool {
	return slices.ContainsFunc(cidrs, func(c string) bool {
		pr, err := netip.ParsePrefix(c)
		return err == nil && pr.Bits() == 0
	})
}

func prometheusPeer(p *plan.Plan, peer plan.Peer) bool {
	return peer.Namespace == p.Monitoring.Namespace && slices.Equal(peer.Labels, p.Monitoring.Prometheus.PodLabels)
}

// foreignNamespaces are the team namespaces whose intruders try s.
func (c *Cluster) foreignNamespaces(s plan.Service) []string {
	if all := c.teamNS; len(all) <= exhaustiveLimit {
		return slices.DeleteFunc(slices.Clone(all), func(ns string) bool { return ns == s.Namespace })
	}
	teams := c.Plan.Teams
	i := c.teamByName[s.Team]
	out := slices.Concat(teams[i].Namespaces, teams[(i+1)%len(teams)].Namespaces)
	return slices.DeleteFunc(out, func(ns string) bool { return ns == s.Namespace })
}
