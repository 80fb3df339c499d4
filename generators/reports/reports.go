// Package reports writes the connectivity reports: which connections the
// generated network policies allow, proven by a policy model over a
// synthetic cluster (see internal/reach), as a Markdown table and matrix
// (reports/connectivity.md) and a Graphviz graph
// (reports/connectivity.dot), so a reviewer sees in the GitOps diff what a
// profile change opens or closes.
package reports

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
)

// Paths of the reports.
const (
	MarkdownPath = "reports/connectivity.md"
	DotPath      = "reports/connectivity.dot"
)

// matrixLimit is the most pods the Markdown matrix shows; the tables list
// every check whatever the size.
const matrixLimit = 40

// Proof is a proven plan: the synthetic cluster, the checks' results and
// the model that answered them.
type Proof struct {
	Cluster *reach.Cluster
	Result  *reach.Result
	Model   reach.Model
}

// Generate proves the plan's policies and writes the reports. A proof
// that fails is an error: obsgen never writes policies that break
// monitoring or open more than it needs.
func Generate(p *plan.Plan, pol *built.Policies) ([]output.File, *Proof, error) {
	proof, err := Prove(p, pol, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := proof.Result.Err(); err != nil {
		return nil, nil, fmt.Errorf("the generated network policies are wrong: %w", err)
	}
	md, err := markdown(p, proof.Cluster, proof.Result, proof.Model)
	if err != nil {
		return nil, nil, err
	}
	return []output.File{output.Text(MarkdownPath, md), output.Text(DotPath, dot(p, proof.Result))}, proof, nil
}

// Reference builds an independent model of the plan's NetworkPolicies or
// AdminNetworkPolicies and BaselineAdminNetworkPolicy: np-guard's
// netpol-analyzer (internal/reach/analyzer), which the tests and
// obsgen-verify pass to Prove. It links client-go, so obsgen itself never
// does.
type Reference func(c *reach.Cluster, policies []runtime.Object) (reach.Model, error)

// Prove builds the synthetic cluster and the model of the plan's stance
// and engine over the policy objects, and runs the proof. With a
// reference, Kubernetes NetworkPolicies and AdminNetworkPolicies are
// evaluated by it (the analyzer is thorough, but quadratic in the number of
// namespaces) instead of obsgen's evaluators; the tests show both agree.
func Prove(p *plan.Plan, pol *built.Policies, reference Reference) (*Proof, error) {
	c, err := reach.NewCluster(p)
	if err != nil {
		return nil, err
	}
	m, err := Model(p, c, pol, reference)
	if err != nil {
		return nil, err
	}
	if p.Mesh.Istio {
		m = reach.NewMesh(c, m, pol.PeerAuthentications, pol.AuthorizationPolicies)
	}
	r, err := reach.Prove(c, m)
	if err != nil {
		return nil, err
	}
	return &Proof{Cluster: c, Result: r, Model: m}, nil
}

// Model returns the policy model of the plan's stance and engine over
// the policy objects: obsgen's evaluators, or for NetworkPolicies and
// AdminNetworkPolicies the reference when one is given.
func Model(p *plan.Plan, c *reach.Cluster, pol *built.Policies, reference Reference) (reach.Model, error) {
	switch p.Network.Policies {
	case "":
		return reach.Open{}, nil
	case v1alpha1.EngineKubernetes:
		policies := KubernetesPolicies(p, pol)
		if reference != nil {
			objs := make([]runtime.Object, len(policies))
			for i, np := range policies {
				objs[i] = np
			}
			return reference(c, objs)
		}
		return reach.NewCompiled(c, policies)
	case v1alpha1.EngineCalico:
		return reach.NewCalico(c, pol.Calico)
	case v1alpha1.EngineAdminNetworkPolicy:
		// No NetworkPolicy of obsgen's sits between the two: the teams
		// own theirs.
		banp, anps := pol.BaselineAdminNetworkPolicy, pol.AdminNetworkPolicies
		if reference != nil {
			objs := []runtime.Object{banp}
			for _, anp := range anps {
				objs = append(objs, anp)
			}
			return reference(c, objs)
		}
		return reach.NewAdminNetwork(c, anps, banp, nil)
	}
	return nil, fmt.Errorf("reports: no policy model for stance %s with engine %s", p.Network.Stance, p.Network.Engine)
}

// KubernetesPolicies are the NetworkPolicies of pol, namespace by
// namespace in the plan's order.
func KubernetesPolicies(p *plan.Plan, pol *built.Policies) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, ns := range p.Covered {
		out = append(out, pol.NetworkPolicies[ns]...)
	}
	return out
}

func markdown(p *plan.Plan, c *reach.Cluster, r *reach.Result, m reach.Model) ([]byte, error) {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	required, allowed, forbidden, denied := r.Counts()
	w("# Connectivity of %s\n\n", p.Name)
	w("Network stance **%s**", p.Network.Stance)
	if p.Network.Policies != "" {
		w(" with the **%s** engine", p.Network.Engine)
	}
	w(". Each connection below was checked by %s over a synthetic cluster: ", r.Model)
	w("one pod per distinct endpoint of the policies, an intruder pod in every team namespace, an outsider and a ")
	w("pod labelled like Prometheus in the uncovered namespace `%s`, and, with Istio, what real clusters hold beyond the profile: ", reach.OutsideNamespace)
	w("a gateway in Istio's namespace and one in `%s`, a meshed namespace no team owns (`%s`), ztunnel and a waypoint in ambient.\n\n",
		reach.GatewayNamespace, reach.UnownedNamespace)
	w("Required connections are the flows obsgen opens (with the upstream document that requires each, in the flows table of docs/network.md) ")
	w("and the connections the proof derives on its own from the cluster's needs (marked *derived*), so a flow obsgen forgets fails the proof. ")
	w("With Istio a connection counts as allowed only when the network policies and Istio's mTLS (PeerAuthentication) and ")
	w("authorization (AuthorizationPolicy) both let it through; forbidden connections are judged on the network policies.\n\n")
	w("- Required connections allowed: **%d of %d**\n", allowed, required)
	if r.Enforced {
		w("- Forbidden connections denied: **%d of %d**\n", denied, forbidden)
	} else {
		w("- Forbidden connections: not checked. Under the open stance obsgen writes no network policy, so every pod reaches every port.\n")
	}
	// A row per check: sized once and written without fmt, as a proof
	// over thousands of teams has hundreds of thousands of them.
	b.Grow(rowBytes * len(r.Checks))
	w("\n## Required connections\n\n| Flow | From | To | Port | Allowed | Why | Profile field |\n|---|---|---|---|---|---|---|\n")
	for _, ch := range r.Checks {
		if ch.Want {
			flow := ch.Flow
			if ch.Requirement {
				flow += " (derived)"
			}
			row(&b, flow, ch.From.String(), ch.To.String(), portOf(ch), yesNo(ch.Got), ch.Why, ch.Source)
		}
	}
	if r.Enforced {
		w("\n## Forbidden connections\n\n| Check | From | To | Port | Denied | What it would mean |\n|---|---|---|---|---|---|\n")
		for _, ch := range r.Checks {
			if !ch.Want {
				row(&b, ch.Flow, ch.From.String(), ch.To.String(), portOf(ch), yesNo(!ch.Got), ch.Why)
			}
		}
	}
	if err := matrix(&b, c, m); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// rowBytes is about the length of a table row.
const rowBytes = 200

// row writes a table row of cells.
func row(b *strings.Builder, cells ...string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" ")
		b.WriteString(c)
		b.WriteString(" |")
	}
	b.WriteString("\n")
}

// portOf is the check's port as the tables show it: TCP/9090.
func portOf(ch reach.Check) string { return ch.Protocol + "/" + strconv.Itoa(ch.Port) }

// matrix writes, for every pair of pods, the ports of the monitoring flows
// (and the services' application ports) the model allows.
func matrix(b *strings.Builder, c *reach.Cluster, m reach.Model) error {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("\n## Matrix\n\n")
	if len(c.Pods) > matrixLimit {
		w("%d synthetic pods: the matrix is left out above %d; the tables list every check.\n", len(c.Pods), matrixLimit)
		return nil
	}
	ports := candidatePorts(c.Plan)
	w("Rows are sources, columns destinations. A cell lists which of the ports monitoring uses (%s) the policies allow; · means none.\n\n",
		strings.Join(portNames(ports), ", "))
	w("| from \\ to |")
	for i := range c.Pods {
		w(" %d |", i+1)
	}
	w("\n|---|")
	for range c.Pods {
		w("---|")
	}
	w("\n")
	for i, src := range c.Pods {
		w("| %d %s/%s |", i+1, src.Namespace, src.Role)
		for _, dst := range c.Pods {
			if src == dst {
				w(" |")
				continue
			}
			var open []string
			for _, pp := range ports {
				ok, err := m.Allowed(reach.Endpoint{Pod: src}, reach.Endpoint{Pod: dst}, pp.Protocol, pp.Port)
				if err != nil {
					return err
				}
				if ok {
					open = append(open, portName(pp))
				}
			}
			switch {
			case len(open) == 0:
				w(" · |")
			case len(open) == len(ports):
				w(" all |")
			default:
				w(" %s |", strings.Join(open, " "))
			}
		}
		w("\n")
	}
	return nil
}

// candidatePorts are the ports of every flow and the services' application
// ports, sorted.
func candidatePorts(p *plan.Plan) []plan.PortProto {
	var out []plan.PortProto
	for _, f := range p.Flows {
		out = append(out, f.Ports...)
	}
	for _, s := range p.ServiceTargets {
		out = append(out, plan.PortProto{Port: s.AppPort, Protocol: "TCP"})
	}
	slices.SortFunc(out, func(a, b plan.PortProto) int {
		return cmp.Or(cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol))
	})
	return slices.Compact(out)
}

func portName(pp plan.PortProto) string {
	if pp.Protocol == "TCP" {
		return strconv.Itoa(pp.Port)
	}
	return strconv.Itoa(pp.Port) + "/" + strings.ToLower(pp.Protocol)
}

func portNames(in []plan.PortProto) []string {
	out := make([]string, len(in))
	for i, pp := range in {
		out[i] = portName(pp)
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**NO**"
}

// dot draws the required connections between the pods and address ranges,
// grouped by namespace. A required connection the policies deny is dotted
// red, a forbidden one they allow dashed red; Generate refuses both, so
// generated reports are all green.
func dot(p *plan.Plan, r *reach.Result) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("digraph %q {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n", p.Name)
	byNS := map[string][]*reach.Pod{}
	for _, pod := range r.Pods {
		byNS[pod.Namespace] = append(byNS[pod.Namespace], pod)
	}
	// Lines per pod and per edge are written without fmt: a proof over
	// thousands of teams draws tens of thousands of them.
	b.Grow(100 * (len(r.Pods) + len(r.Checks)))
	for i, ns := range slices.Sorted(maps.Keys(byNS)) {
		w("  subgraph cluster_%d {\n    label=%q;\n", i, ns)
		for _, pod := range byNS[ns] {
			b.WriteString("    " + strconv.Quote(pod.Name) + " [label=" + strconv.Quote(pod.Role) + "];\n")
		}
		w("  }\n")
	}
	type edge struct{ from, to string }
	ports := map[edge][]string{}
	state := map[edge]string{}
	var order []edge
	for _, ch := range r.Checks {
		if !ch.Want && !ch.Got {
			continue
		}
		e := edge{nodeID(ch.From), nodeID(ch.To)}
		if _, ok := ports[e]; !ok {
			order = append(order, e)
		}
		label := portName(plan.PortProto{Port: ch.Port, Protocol: ch.Protocol})
		if !slices.Contains(ports[e], label) {
			ports[e] = append(ports[e], label)
		}
		switch {
		case !ch.Want:
			state[e] = "color=red, penwidth=2, style=dashed"
		case !ch.Got && state[e] == "":
			state[e] = "color=red, style=dotted"
		}
	}
	addrs := map[string]bool{}
	for _, e := range order {
		for _, n := range []string{e.from, e.to} {
			if !strings.Contains(n, "/") && !addrs[n] {
				addrs[n] = true
				b.WriteString("  " + strconv.Quote(n) + " [shape=ellipse];\n")
			}
		}
	}
	for _, e := range order {
		attrs := state[e]
		if attrs == "" {
			attrs = "color=darkgreen"
		}
		b.WriteString("  " + strconv.Quote(e.from) + " -> " + strconv.Quote(e.to) + " [label=" + strconv.Quote(strings.Join(ports[e], ",")) + ", " + attrs + "];\n")
	}
	w("}\n")
	return []byte(b.String())
}

func nodeID(e reach.Endpoint) string {
	if e.Pod != nil {
		return e.Pod.Name
	}
	return e.Addr.String()
}
