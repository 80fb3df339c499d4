// Package reach proves what the generated network policies allow. It builds
// a synthetic cluster from the plan (one representative pod per distinct
// flow endpoint, an intruder pod in every team namespace, and an outsider
// and a Prometheus impostor in a namespace obsgen does not cover), asks a
// policy model whether each connection is allowed, and checks that every
// flow monitoring needs is allowed and that the connections obsgen must not
// open are denied.
//
// The models are obsgen's own evaluators: Compiled for Kubernetes
// NetworkPolicies, AdminNetwork for AdminNetworkPolicies and the
// BaselineAdminNetworkPolicy, and the Calico evaluator for
// projectcalico.org/v3 policies. np-guard's netpol-analyzer, the
// independent reference for the first two, lives in reach/analyzer, which
// only the tests and obsgen-verify link. The result feeds the connectivity
// reports and `obsgen validate`.
package reach

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// Pod is a synthetic pod standing for the pods a peer selects.
type Pod struct {
	// Name is "namespace/name" as the models address pods.
	Name      string
	Namespace string
	Labels    plan.Labels
	IP        netip.Addr
	// Role says what the pod stands for, for reports: prometheus,
	// payments/checkout, intruder, ...
	Role string
}

// Endpoint is one side of a connection: a pod, or an address.
type Endpoint struct {
	Pod  *Pod
	Addr netip.Addr
}

// String names the endpoint as reports show it.
func (e Endpoint) String() string {
	if e.Pod != nil {
		return e.Pod.Namespace + "/" + e.Pod.Role
	}
	return e.Addr.String()
}

// Model answers whether the policies allow a connection.
type Model interface {
	// Name describes the model for reports.
	Name() string
	Allowed(src, dst Endpoint, protocol string, port int) (bool, error)
}

// Check is one connection the proof asks about.
type Check struct {
	// Flow is the plan's flow ID for a required connection, or what a
	// forbidden connection would mean.
	Flow     string
	From, To Endpoint
	Protocol string
	Port     int
	// Want is true for a flow monitoring needs, false for one that must
	// stay closed.
	Want bool
	// Got is the model's answer.
	Got bool
	Why string
	// Source is the profile field that makes the connection needed; Ref
	// the upstream document that requires it.
	Source string
	Ref    string
	// Requirement marks a connection derived from the cluster's needs
	// rather than from the plan's flows.
	Requirement bool
}

// OK tells whether the model answered as the proof wants.
func (c Check) OK() bool { return c.Want == c.Got }

// Result is the outcome of a proof.
type Result struct {
	Model string
	// Enforced is false under the open stance: no policy is written, so
	// the forbidden connections are not checked.
	Enforced bool
	Pods     []*Pod
	Checks   []Check
}

// Failures are the checks the model answered wrongly.
func (r *Result) Failures() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK() {
			out = append(out, c)
		}
	}
	return out
}

// Counts are the required checks, how many of them are allowed, and the
// forbidden checks and how many of them are denied.
func (r *Result) Counts() (required, allowed, forbidden, denied int) {
	for _, c := range r.Checks {
		switch {
		case c.Want:
			required++
			if c.Got {
				allowed++
			}
		default:
			forbidden++
			if !c.Got {
				denied++
			}
		}
	}
	return
}

// Err describes the failures as a *ProofError, or returns nil.
func (r *Result) Err() error {
	f := r.Failures()
	if len(f) == 0 {
		return nil
	}
	return &ProofError{Model: r.Model, Total: len(r.Checks), Failures: f}
}

// ProofError lists the checks a model answered wrongly. Each failure names
// the profile field it comes from, so the caller can position it.
type ProofError struct {
	Model    string
	Total    int
	Failures []Check
}

// Error describes at most ten failures.
func (e *ProofError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d connection checks fail under %s:", len(e.Failures), e.Total, e.Model)
	for i, c := range e.Failures {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Failures)-10)
			break
		}
		fmt.Fprintf(&b, "\n  %s", c.Describe())
	}
	return b.String()
}

// Describe says what is wrong with a failed check.
func (c Check) Describe() string {
	verb := "must be allowed but is denied"
	if !c.Want {
		verb = "must be denied but is allowed"
	}
	return fmt.Sprintf("%s -> %s %s/%d (%s: %s): %s", c.From, c.To, c.Protocol, c.Port, c.Flow, c.Why, verb)
}

// Cluster is the synthetic cluster of a plan.
type Cluster struct {
	Plan *plan.Plan
	// Namespaces are every namespace a pod lives in, sorted.
	Namespaces []string
	Pods       []*Pod
	// Nodes are node addresses known besides cluster.nodeCIDRs (a live
	// cluster's host-network pods answer on theirs).
	Nodes  []netip.Addr
	byKey  map[string]*Pod
	prefix netip.Prefix
	// used counts the pod addresses handed out or skipped; reserved are
	// the addresses that stand for what is not a pod (nextAddr).
	used     int
	reserved map[netip.Addr]bool
	teamNS   []string
	roles    map[string]string
	// index answers, in constant time, what the requirements and the
	// checks ask once per pod or per check (index.go).
	index
	// gateways are the pods of the declared gateways; waypoints, of the
	// declared waypoints.
	gateways  map[*Pod]*plan.Gateway
	waypoints map[*Pod]*plan.Waypoint
	// reqs are the connections the cluster needs (requirements.go).
	reqs []requirement
	// nsLabels are the labels of a live cluster's namespaces (NewLiveCluster);
	// a synthetic namespace carries its name label only.
	nsLabels map[string]map[string]string
}

// NewLiveCluster is a cluster of the namespaces and pods a real cluster
// runs, with their own labels and addresses, for asking the network models
// whether one real pod may connect to another (obsgen doctor evaluates the
// cluster's own policies this way). It has no flows, requirements or
// synthetic pods: Prove is meaningless on it.
func NewLiveCluster(p *plan.Plan, namespaces map[string]map[string]string, pods []*Pod) *Cluster {
	c := &Cluster{Plan: p, Pods: pods, nsLabels: namespaces, byKey: map[string]*Pod{}}
	ns := make([]string, 0, len(namespaces))
	for name := range namespaces {
		ns = append(ns, name)
	}
	for _, pod := range pods {
		ns = append(ns, pod.Namespace)
	}
	slices.Sort(ns)
	c.Namespaces = slices.Compact(ns)
	return c
}

// namespaceLabels are the labels of namespace ns: its own in a live
// cluster, and always kubernetes.io/metadata.name, which the API server sets
// on every namespace (kubernetes.io/docs/reference/labels-annotations-taints,
// "kubernetes.io/metadata.name").
func (c *Cluster) namespaceLabels(ns string) map[string]string {
	out := map[string]string{}
	for k, v := range c.nsLabels[ns] {
		out[k] = v
	}
	out[plan.NamespaceNameLabel] = ns
	return out
}

// OutsideNamespace holds the outsider and the impostor: no obsgen policy
// covers it.
const OutsideNamespace = "obsgen-outside"

// Roles of the pods that stand for no flow endpoint.
const (
	RoleIntruder = "intruder"
	RoleOutsider = "outsider"
	RoleImpostor = "prometheus-impostor"
	// RoleOpen stands in a namespace the global deny excludes.
	RoleOpen = "unisolated"
)

// NewCluster builds the synthetic cluster of p.
func NewCluster(p *plan.Plan) (*Cluster, error) {
	prefix, err := podPrefix(p)
	if err != nil {
		return nil, err
	}
	// About a pod per flow end and team namespace: sized once, the map is
	// not rebuilt as a large cluster grows.
	c := &Cluster{Plan: p, byKey: make(map[string]*Pod, len(p.Flows)+2*len(p.Teams)), prefix: prefix, teamNS: p.TeamNamespaces(),
		roles: roleNames(p), index: newIndex(p), gateways: map[*Pod]*plan.Gateway{}, waypoints: map[*Pod]*plan.Waypoint{}}
	for i, g := range p.Mesh.Gateways {
		c.gateways[c.add(g.Namespace, g.PodLabels, "gateway-"+g.Name)] = &p.Mesh.Gateways[i]
	}
	for i, w := range p.Mesh.Waypoints {
		// Selected as Istio selects them, not by the plan's labels.
		c.waypoints[c.add(w.Namespace, waypointPodLabels(w.Name), "waypoint-"+w.Name)] = &p.Mesh.Waypoints[i]
	}
	for _, f := range p.Flows {
		for _, peer := range []plan.Peer{f.From, f.To} {
			if peer.IsPods() {
				c.add(peer.Namespace, peer.Labels, c.roles[key(peer.Namespace, peer.Labels)])
			}
		}
	}
	for _, ns := range c.teamNS {
		c.add(ns, intruderLabels, RoleIntruder)
	}
	c.add(OutsideNamespace, outsiderLabels, RoleOutsider)
	c.add(OutsideNamespace, p.Monitoring.Prometheus.PodLabels, RoleImpostor)
	if p.GlobalDeny() && len(p.Network.Calico.Excluded) > 0 {
		c.add(p.Network.Calico.Excluded[0], outsiderLabels, RoleOpen)
	}
	c.addUndescribed()
	c.reqs = c.requirements()
	ns := slices.Clone(p.Covered)
	ns = append(ns, p.Network.DNS.Namespace, OutsideNamespace)
	for _, pod := range c.Pods {
		ns = append(ns, pod.Namespace)
	}
	slices.Sort(ns)
	c.Namespaces = slices.Compact(ns)
	return c, nil
}

var (
	intruderLabels = plan.Labels{{Name: "app", Value: "obsgen-intruder"}}
	outsiderLabels = plan.Labels{{Name: "app", Value: "obsgen-outsider"}}
)

// podPrefix picks the range of the synthetic pod addresses: the profile's
// cluster.podCIDR, where address ranges of rules meet the pods as they do
// on the cluster; without one, a range that overlaps no address range of
// the profile, so no pod is mistaken for a node or an API server.
func podPrefix(p *plan.Plan) (netip.Prefix, error) {
	if pr, err := netip.ParsePrefix(p.Cluster.PodCIDR); err == nil {
		return pr.Masked(), nil
	}
	var taken []netip.Prefix
	for _, c := range slices.Concat(p.Cluster.APIServerCIDRs, p.Cluster.NodeCIDRs) {
		if pr, err := netip.ParsePrefix(c); err == nil {
			taken = append(taken, pr)
		}
	}
	for _, f := range p.Flows {
		for _, c := range slices.Concat(f.From.CIDRs, f.To.CIDRs) {
			// Every address (0.0.0.0/0, ::/0) holds the pods anyway.
			if pr, err := netip.ParsePrefix(c); err == nil && pr.Bits() > 0 {
				taken = append(taken, pr)
			}
		}
	}
candidates:
	for _, s := range []string{"100.64.0.0/16", "10.254.0.0/16", "172.31.0.0/16", "192.168.0.0/16", "fd00:64::/48"} {
		cand := netip.MustParsePrefix(s)
		for _, t := range taken {
			if t.Overlaps(cand) {
				continue candidates
			}
		}
		return cand, nil
	}
	return netip.Prefix{}, fmt.Errorf("the profile's address ranges cover every range obsgen uses for synthetic pods")
}

// key names (ns, labels) without fmt, which the proof would otherwise run
// for every pod it looks up; neither names nor values hold a NUL.
func key(ns string, labels plan.Labels) string {
	n := len(ns)
	for _, l := range labels {
		n += 2 + len(l.Name) + len(l.Value)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(ns)
	for _, l := range labels {
		b.WriteByte(0)
		b.WriteString(l.Name)
		b.WriteByte(0)
		b.WriteString(l.Value)
	}
	return b.String()
}

// add returns the pod that stands for (ns, labels), creating it once.
func (c *Cluster) add(ns string, labels plan.Labels, role string) *Pod {
	k := key(ns, labels)
	if pod, ok := c.byKey[k]; ok {
		return pod
	}
	ip := c.nextAddr()
	if role == "" {
		role = "any-pod"
		if len(labels) > 0 {
			role = strings.Join(labels.Values(), "-")
		}
	}
	pod := &Pod{Name: ns + "/pod-" + strconv.Itoa(len(c.Pods)+1), Namespace: ns, Labels: labels, IP: ip, Role: role}
	c.byKey[k] = pod
	c.Pods = append(c.Pods, pod)
	return pod
}

// nextAddr is the next free pod address: past the range's first two and
// any address that stands for a node, an API server or a flow's address
// range (endpoint), which the profile's pod range may hold, e.g. where
// pods and nodes share a VPC subnet.
func (c *Cluster) nextAddr() netip.Addr {
	if c.reserved == nil {
		c.reserved = map[netip.Addr]bool{}
		p := c.Plan
		for _, cidrs := range [][]string{p.Cluster.APIServerCIDRs, p.Cluster.NodeCIDRs} {
			for _, cidr := range cidrs {
				c.reserved[c.address([]string{cidr}).Addr] = true
			}
		}
		for _, f := range p.Flows {
			for _, peer := range []plan.Peer{f.From, f.To} {
				for _, cidr := range peer.CIDRs {
					c.reserved[c.endpoint(plan.Peer{CIDRs: []string{cidr}}).Addr] = true
				}
			}
		}
	}
	for {
		c.used++
		ip := addrPlus(c.prefix.Addr(), c.used+1)
		if !c.reserved[ip] {
			return ip
		}
	}
}

// Pod returns the pod of (ns, labels), or nil.
func (c *Cluster) Pod(ns string, labels plan.Labels) *Pod { return c.byKey[key(ns, labels)] }

// roleNames names the pods of the monitoring stack, the mesh and the
// teams' services after what they are.
func roleNames(p *plan.Plan) map[string]string {
	m := p.Monitoring
	out := map[string]string{
		key(m.Namespace, m.Prometheus.PodLabels):                            RolePrometheus,
		key(m.Grafana.Namespace, m.Grafana.PodLabels):                       "grafana",
		key(m.Alertmanager.Namespace, m.Alertmanager.PodLabels):             "alertmanager",
		key(m.KubeStateMetrics.Namespace, m.KubeStateMetrics.PodLabels):     "kube-state-metrics",
		key(m.NodeExporter.Namespace, m.NodeExporter.PodLabels):             "node-exporter",
		key(p.Network.DNS.Namespace, p.Network.DNS.PodLabels):               "dns",
		key(p.Mesh.IstioNamespace, plan.IstiodLabels):                       "istiod",
		key(p.Mesh.IstioNamespace, plan.ZtunnelLabels):                      "ztunnel",
		key(m.PrometheusOperator.Namespace, m.PrometheusOperator.PodLabels): "prometheus-operator",
	}
	if op := p.Dashboards.Operator; op != nil {
		out[key(op.Namespace, op.PodLabels)] = "grafana-operator"
	}
	for _, s := range p.ServiceTargets {
		out[key(s.Namespace, s.Selector)] = s.Name
	}
	for _, ns := range p.TeamNamespaces() {
		if _, ok := out[key(ns, nil)]; !ok {
			out[key(ns, nil)] = "any-pod"
		}
	}
	return out
}

// flowEnds are the endpoints the proof asks about for f. A flow opened at
// one side only is asked about from or to a pod that no deny isolates,
// so the answer shows that side alone.
func (c *Cluster) flowEnds(f plan.Flow) (from, to Endpoint) {
	from, to = c.endpoint(f.From), c.endpoint(f.To)
	if !f.DestinationSide() && f.To.Any {
		to = c.openEndpoint()
	}
	if !f.SourceSide() && f.From.Any {
		from = c.openEndpoint()
	}
	return from, to
}

// openEndpoint is a pod no deny isolates: in a namespace the global deny
// excludes, else in the outside namespace.
func (c *Cluster) openEndpoint() Endpoint {
	if p := c.Plan; p.GlobalDeny() && len(p.Network.Calico.Excluded) > 0 {
		return Endpoint{Pod: c.Pod(p.Network.Calico.Excluded[0], outsiderLabels)}
	}
	return Endpoint{Pod: c.Pod(OutsideNamespace, outsiderLabels)}
}

// endpoint names a flow peer: its pod, an address in its range, or for
// "any pod" the intruder of the first team namespace (or the outsider).
func (c *Cluster) endpoint(p plan.Peer) Endpoint {
	switch {
	case p.IsCIDR():
		prefix := netip.MustParsePrefix(p.CIDRs[0])
		if prefix.Bits() == prefix.Addr().BitLen() {
			return Endpoint{Addr: prefix.Addr()}
		}
		return Endpoint{Addr: prefix.Addr().Next()}
	case p.Any:
		if len(c.teamNS) > 0 {
			return Endpoint{Pod: c.Pod(c.teamNS[0], intruderLabels)}
		}
		return Endpoint{Pod: c.Pod(OutsideNamespace, outsiderLabels)}
	}
	return Endpoint{Pod: c.Pod(p.Namespace, p.Labels)}
}
