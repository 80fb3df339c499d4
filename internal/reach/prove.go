package reach

import (
	"fmt"
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

// Prove asks m about every connection the plan needs and every connection
// obsgen must not open. Under the open stance only the needed flows are
// asked: nothing is isolated.
func Prove(c *Cluster, m Model) (*Result, error) {
	p := c.Plan
	r := &Result{Model: m.Name(), Enforced: p.Network.Stance != "open", Pods: c.Pods}
	ask := func(flow string, from, to Endpoint, proto string, port int, want bool, why string) error {
		if from.Pod == nil && !from.Addr.IsValid() || to.Pod == nil && !to.Addr.IsValid() {
			return fmt.Errorf("reach: flow %s has an endpoint without a pod", flow)
		}
		got, err := m.Allowed(from, to, proto, port)
		if err != nil {
			return fmt.Errorf("reach: %s -> %s %s/%d: %w", from, to, proto, port, err)
		}
		r.Checks = append(r.Checks, Check{Flow: flow, From: from, To: to, Protocol: proto, Port: port, Want: want, Got: got, Why: why})
		return nil
	}
	for _, f := range p.Flows {
		from, to := c.endpoint(f.From), c.endpoint(f.To)
		for _, pp := range f.Ports {
			if err := ask(f.ID, from, to, pp.Protocol, pp.Port, true, f.Why); err != nil {
				return nil, err
			}
		}
	}
	if !r.Enforced {
		return r, nil
	}
	for _, d := range c.forbidden() {
		if err := ask(d.flow, d.from, d.to, "TCP", d.port, false, d.why); err != nil {
			return nil, err
		}
	}
	return r, nil
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
	var out []denial
	deny := func(flow string, from, to Endpoint, port int, why string) {
		if from.Pod != nil && to.Pod != nil && from.Pod != to.Pod {
			out = append(out, denial{flow: flow, from: from, to: to, port: port, why: why})
		}
	}
	unused := c.unusedPort()
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
		if f.From.IsCIDR() || f.From.Any || f.To.IsCIDR() || f.To.Any || !prometheusPeer(p, f.From) {
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
	deny("prometheus-to-grafana", prom, grafana, m.Grafana.Port, "Prometheus reaches Grafana")
	deny("outsider-to-prometheus", outsider, prom, plan.PortPrometheus, "a pod outside the covered namespaces queries Prometheus")
	return out
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
	i := slices.IndexFunc(teams, func(t plan.Team) bool { return t.Name == s.Team })
	out := slices.Concat(teams[i].Namespaces, teams[(i+1)%len(teams)].Namespaces)
	return slices.DeleteFunc(out, func(ns string) bool { return ns == s.Namespace })
}

// unusedPort is a TCP port no flow opens.
func (c *Cluster) unusedPort() int {
	used := map[int]bool{}
	for _, f := range c.Plan.Flows {
		for _, pp := range f.Ports {
			used[pp.Port] = true
		}
	}
	for _, s := range c.Plan.ServiceTargets {
		used[s.AppPort] = true
	}
	port := 9999
	for used[port] {
		port++
	}
	return port
}
