package reach

import (
	"fmt"
	"net/netip"

	"obsgen.dev/obsgen/internal/calico"
)

// Calico evaluates projectcalico.org/v3 policies with obsgen's Calico
// evaluator (internal/calico), which the analyzer cannot read.
type Calico struct {
	ev *calico.Evaluator
	// peers are the cluster's pods, prepared once: their label sets and
	// the policies that apply to them do not change from check to check.
	peers map[*Pod]calico.Peer
}

// NewCalico loads the cluster's namespaces and pods and the policies.
func NewCalico(c *Cluster, policies []calico.Policy) (*Calico, error) {
	var namespaces []calico.Namespace
	for _, ns := range c.Namespaces {
		namespaces = append(namespaces, calico.Namespace{Name: ns, Labels: c.namespaceLabels(ns)})
	}
	ev, err := calico.NewEvaluator(policies, namespaces)
	if err != nil {
		return nil, fmt.Errorf("reach: %w", err)
	}
	m := &Calico{ev: ev, peers: make(map[*Pod]calico.Peer, len(c.Pods))}
	for _, pod := range c.Pods {
		m.peers[pod] = ev.Prepare(calico.EndpointPeer(calico.Endpoint{Name: pod.Role, Namespace: pod.Namespace, Labels: pod.Labels.Map(),
			ServiceAccount: "default", IPs: []netip.Addr{pod.IP}}))
	}
	return m, nil
}

// Name describes the model.
func (*Calico) Name() string { return "Calico policies (obsgen's projectcalico.org/v3 evaluator)" }

// Allowed asks the evaluator.
func (m *Calico) Allowed(src, dst Endpoint, proto string, port int) (bool, error) {
	ok, trace := m.ev.Allowed(m.peer(src), m.peer(dst), proto, port)
	return ok, trace.Err
}

func (m *Calico) peer(e Endpoint) calico.Peer {
	if e.Pod != nil {
		return m.peers[e.Pod]
	}
	return calico.IPPeer(e.Addr)
}

// Explain traces how the evaluator decided a connection: the policies and
// rules of each direction.
func (m *Calico) Explain(src, dst Endpoint, proto string, port int) string {
	_, trace := m.ev.Allowed(m.peer(src), m.peer(dst), proto, port)
	return trace.String()
}
