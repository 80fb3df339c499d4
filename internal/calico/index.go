package calico

import "slices"

// Indexes of the Evaluator. A cluster with thousands of namespaces has
// thousands of namespaced policies, and a policy (Prometheus' egress) with
// a rule per namespace; scanning them all for every connection made a
// proof over the cluster quadratic. Policies and rules are therefore
// indexed by the namespaces of the endpoints they can select, read off
// their selectors; whatever the index cannot place is kept in a list that
// every lookup also reads. An index only narrows the candidates: each
// candidate is still matched in full, in evaluation order, so verdicts and
// traces are those of a scan of every policy and rule.

// requiredValues returns the values label key must hold for the selector to
// match: from key == 'v', key in {...}, a conjunction with one of them, or
// a disjunction of such. It returns false when the selector does not limit
// key so.
func (s Selector) requiredValues(key string) ([]string, bool) {
	return requiredValues(s.rootNode(), key)
}

func requiredValues(n node, key string) ([]string, bool) {
	switch n := n.(type) {
	case cmpNode:
		return []string{n.value}, n.key == key && n.op == opEq
	case setNode:
		return n.values, n.key == key && !n.not
	case boolNode:
		if n.and {
			for _, x := range n.xs {
				if vs, ok := requiredValues(x, key); ok {
					return vs, true
				}
			}
			return nil, false
		}
		var out []string
		for _, x := range n.xs {
			vs, ok := requiredValues(x, key)
			if !ok {
				return nil, false
			}
			out = append(out, vs...)
		}
		return out, true
	}
	return nil, false
}

// namespaces returns the namespaces of the workload endpoints the policy
// can apply to, or false when it can apply in any. A NetworkPolicy applies
// in its own; a GlobalNetworkPolicy where its namespaceSelector requires
// projectcalico.org/name or its selector projectcalico.org/namespace
// (which the Evaluator sets from the endpoint's namespace, over any label
// of the same name).
func (p *compiledPolicy) namespaces() ([]string, bool) {
	switch {
	case !p.global:
		return []string{p.namespace}, true
	case p.nsSelector != nil:
		if vs, ok := p.nsSelector.requiredValues(LabelName); ok {
			return vs, true
		}
	}
	if p.selector != nil {
		return p.selector.requiredValues(LabelNamespace)
	}
	return nil, false
}

// namespaces returns the namespaces of the workload endpoints the entity
// can match, or false when it can match any peer, addresses included.
func (e *compiledEntity) namespaces() ([]string, bool) {
	if !e.selects {
		return nil, false
	}
	if e.nsSelector != nil {
		if vs, ok := e.nsSelector.requiredValues(LabelName); ok {
			return vs, true
		}
	} else if e.ownNamespace != "" {
		return []string{e.ownNamespace}, true
	}
	if e.selector != nil {
		return e.selector.requiredValues(LabelNamespace)
	}
	return nil, false
}

// workloadNamespace is the namespace an index may place p by, or false for
// an address or a host endpoint: host endpoints carry whatever labels they
// are given, projectcalico.org/namespace included, so they are matched
// against everything.
func (p *peerInfo) workloadNamespace() (string, bool) {
	if p.endpoint == nil || p.endpoint.Host {
		return "", false
	}
	return p.endpoint.Namespace, true
}

// ruleIndex places the rules of one direction of a policy by the
// namespaces of the remote peers they can match (the destination of an
// egress rule, the source of an ingress rule).
type ruleIndex struct {
	n           int
	byNamespace map[string][]int
	anywhere    []int
}

func newRuleIndex(rules []compiledRule, dir PolicyType) ruleIndex {
	x := ruleIndex{n: len(rules)}
	for i := range rules {
		remote := &rules[i].source
		if dir == PolicyTypeEgress {
			remote = &rules[i].destination
		}
		namespaces, ok := remote.namespaces()
		if !ok {
			x.anywhere = append(x.anywhere, i)
			continue
		}
		if x.byNamespace == nil {
			x.byNamespace = map[string][]int{}
		}
		for _, ns := range namespaces {
			if rs := x.byNamespace[ns]; len(rs) == 0 || rs[len(rs)-1] != i {
				x.byNamespace[ns] = append(rs, i)
			}
		}
	}
	return x
}

// candidates calls f with each rule that can match remote, in order,
// until f returns false.
func (x *ruleIndex) candidates(remote *peerInfo, f func(int) bool) {
	ns, ok := remote.workloadNamespace()
	if remote.endpoint != nil && !ok {
		for i := range x.n {
			if !f(i) {
				return
			}
		}
		return
	}
	mergeAscending(x.byNamespace[ns], x.anywhere, f)
}

// mergeAscending calls f with the union of two ascending lists, ascending,
// until f returns false.
func mergeAscending(a, b []int, f func(int) bool) {
	for len(a) > 0 || len(b) > 0 {
		var next int
		if len(b) == 0 || len(a) > 0 && a[0] < b[0] {
			next, a = a[0], a[1:]
		} else {
			next, b = b[0], b[1:]
		}
		if !f(next) {
			return
		}
	}
}

// indexPolicies ranks the policies in evaluation order and places them
// and their rules.
func (ev *Evaluator) indexPolicies() {
	ev.byNamespace = map[string][]int{}
	for i, p := range ev.policies {
		p.ingressIndex = newRuleIndex(p.ingressRules, PolicyTypeIngress)
		p.egressIndex = newRuleIndex(p.egressRules, PolicyTypeEgress)
		namespaces, ok := p.namespaces()
		if !ok {
			ev.anywhere = append(ev.anywhere, i)
			continue
		}
		for _, ns := range slices.Compact(slices.Sorted(slices.Values(namespaces))) {
			ev.byNamespace[ns] = append(ev.byNamespace[ns], i)
		}
	}
}

// applicable lists the policies that apply to local for the direction, in
// evaluation order.
func (ev *Evaluator) applicable(dir PolicyType, local *peerInfo) []*compiledPolicy {
	var out []*compiledPolicy
	add := func(i int) bool {
		if p := ev.policies[i]; p.appliesTo(dir, local) {
			out = append(out, p)
		}
		return true
	}
	ns, ok := local.workloadNamespace()
	if !ok {
		for i := range ev.policies {
			add(i)
		}
		return out
	}
	mergeAscending(ev.byNamespace[ns], ev.anywhere, add)
	return out
}
