package profile

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/validation"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/plan"
)

// validator collects every problem of a decoded profile.
type validator struct {
	l     *Loaded
	p     *v1alpha1.Profile // with defaults applied
	diags diag.List
}

// Validate checks a decoded profile, with its defaults applied, and returns
// every problem, errors and warnings, sorted by position.
func Validate(l *Loaded) diag.List {
	v := &validator{l: l, p: plan.WithDefaults(l.Profile)}
	v.metadata()
	v.cluster()
	v.mesh()
	v.monitoring()
	v.network()
	v.teams()
	v.alertingSection()
	v.receivers()
	v.dashboards()
	v.kialiTracing()
	v.connectivity()
	v.zeroValues()
	v.sinks()
	return v.diags.Sorted()
}

// at reports a problem at path, or at its closest parent that has a
// position (a missing or defaulted field has none of its own).
func (v *validator) at(path, hint, format string, args ...any) {
	v.diags = append(v.diags, diag.Diagnostic{
		File: v.l.FileOf(path), Pos: v.pos(path), Path: path,
		Message: fmt.Sprintf(format, args...), Hint: hint,
	})
}

// warnAt reports a warning at path, positioned as at does.
func (v *validator) warnAt(path, hint, format string, args ...any) {
	v.at(path, hint, format, args...)
	v.diags[len(v.diags)-1].Severity = diag.Warning
}

// atKey reports a problem with a map entry's key at the key.
func (v *validator) atKey(path, hint, format string, args ...any) {
	v.at(path, hint, format, args...)
	if pos, ok := v.l.Keys[path]; ok {
		v.diags[len(v.diags)-1].Pos = pos
	}
}

// written tells whether the file gives path a (non-null) value.
func (v *validator) written(path string) bool {
	_, ok := v.l.Positions[path]
	return ok
}

func (v *validator) pos(path string) diag.Pos { return v.l.Pos(path) }

// Pos is where the file gives path, or the nearest enclosing field it
// gives (line 1 for a field the file leaves to its default).
func (l *Loaded) Pos(path string) diag.Pos {
	for p := path; ; p = parent(p) {
		if pos, ok := l.Positions[p]; ok {
			return pos
		}
		if p == "" {
			return diag.Pos{Line: 1, Col: 1}
		}
	}
}

// parent strips the last segment of a field path: a.b[2] -> a.b -> a -> "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func (v *validator) metadata() {
	name := v.p.Metadata.Name
	switch {
	case name == "":
		v.at("metadata.name", "add `metadata.name: my-cluster`; it names the output folder", "missing")
	case strings.ContainsAny(name, `/\`) || strings.Contains(name, ".."):
		v.at("metadata.name", "use a plain name such as `prod-eu`", "%q would escape the output folder", name)
	default:
		v.dnsLabel("metadata.name", name)
	}
}

func (v *validator) cluster() {
	c := v.p.Cluster
	v.cidrs("cluster.apiServerCIDRs", c.APIServerCIDRs)
	v.cidrs("cluster.nodeCIDRs", c.NodeCIDRs)
	if c.PodCIDR != "" {
		v.cidr("cluster.podCIDR", c.PodCIDR)
	}
	if strings.ContainsFunc(c.Name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		v.at("cluster.name", "write it on one line, such as prod-eu-1", "must be printable text on one line (got %q)", c.Name)
	}
	port := c.APIServerPort
	if v.written("cluster.apiServerPort") {
		port = v.l.Profile.Cluster.APIServerPort // an explicit 0 is not defaulted away
	}
	v.port("cluster.apiServerPort", port)
	if v.p.Network.Stance == v1alpha1.StanceOpen {
		return
	}
	if len(c.APIServerCIDRs) == 0 {
		v.at("cluster.apiServerCIDRs", "list the addresses of `kubectl get endpoints kubernetes -n default`, such as [10.0.0.10/32]",
			"required when network.stance is %s: Prometheus needs egress to the API servers for service discovery", v.p.Network.Stance)
	}
	if len(c.NodeCIDRs) == 0 {
		v.at("cluster.nodeCIDRs", "list the range of the nodes' InternalIP addresses, such as [10.10.0.0/16]",
			"required when network.stance is %s: Prometheus scrapes kubelets and node-exporter on node addresses", v.p.Network.Stance)
	}
}

func (v *validator) cidrs(path string, cidrs []string) {
	seen := map[string]int{}
	for i, c := range cidrs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if j, dup := seen[c]; dup {
			v.at(p, fmt.Sprintf("remove it; it is listed at %s[%d] already", path, j), "duplicate CIDR %q", c)
			continue
		}
		seen[c] = i
		v.cidr(p, c)
	}
}

func (v *validator) cidr(path, c string) {
	prefix, err := netip.ParsePrefix(c)
	if err != nil {
		hint := "write an address range such as 10.0.0.0/16; a single address is 10.0.0.1/32"
		if addr, aerr := netip.ParseAddr(c); aerr == nil {
			hint = fmt.Sprintf("did you mean %q?", netip.PrefixFrom(addr, addr.BitLen()).String())
		}
		v.at(path, hint, "not a CIDR (got %q)", c)
		return
	}
	if masked := prefix.Masked(); masked != prefix {
		v.at(path, fmt.Sprintf("did you mean %q?", masked.String()), "%q has host bits set", c)
	}
}

func (v *validator) mesh() {
	m := v.p.Mesh
	v.dnsLabel("mesh.istioNamespace", m.IstioNamespace)
	if _, ok := plan.IstioMinor(m.Version); !ok {
		v.at("mesh.version", `write the Istio release the mesh runs as major.minor, such as "1.31" (istioctl version shows it)`,
			"not an Istio version (got %q)", m.Version)
		return // the strategy checks below depend on it
	}
	if errs := validation.IsDNS1123Subdomain(m.TrustDomain); len(errs) > 0 {
		v.at("mesh.trustDomain", "use the mesh's trust domain as istioctl shows it, such as cluster.local", "invalid trust domain %q: must be a lower-case DNS name", m.TrustDomain)
	}
	if c := m.IstioCSR; c != nil {
		if m.Provider != v1alpha1.MeshIstio {
			v.at("mesh.istioCSR", "remove it, or set mesh.provider: istio", "istio-csr signs an Istio mesh's certificates (mesh.provider is %s)", m.Provider)
		}
		v.dnsLabel("mesh.istioCSR.namespace", c.Namespace)
		if c.CertManagerNamespace != "" {
			v.dnsLabel("mesh.istioCSR.certManagerNamespace", c.CertManagerNamespace)
		}
		v.labels("mesh.istioCSR.podLabels", c.PodLabels)
		v.port("mesh.istioCSR.port", c.Port)
	}
	if m.Authorization == v1alpha1.AuthorizationDenyByDefault && m.Provider != v1alpha1.MeshIstio {
		v.at("mesh.authorization", "remove it, or set mesh.provider: istio", "deny-by-default is an Istio authorization stance (mesh.provider is %s)", m.Provider)
	}
	strategy, reason := plan.ChooseStrategy(v.p)
	problem, hint := plan.StrategyProblem(v.p, strategy)
	if problem == "" {
		return
	}
	if m.ScrapeStrategy == v1alpha1.StrategyAuto {
		problem = fmt.Sprintf("auto chose %s (%s), but %s", strategy, reason, problem)
	}
	v.at("mesh.scrapeStrategy", hint, "%s cannot work: %s", strategy, problem)
}

func (v *validator) monitoring() {
	if u, err := url.Parse(v.p.Monitoring.RunbookBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.at("monitoring.runbookBaseURL", "write an absolute http(s) URL such as https://runbooks.example.com/alerts/",
			"not an http(s) URL (got %q)", v.p.Monitoring.RunbookBaseURL)
	}
	m := v.p.Monitoring
	v.dnsLabel("monitoring.namespace", m.Namespace)
	v.operatorVersion(m)
	v.uniqueFlavours(m.Flavours)
	v.prometheus(m.Prometheus)
	v.retention()
	v.remoteWrite(m.Prometheus)
	v.federation(m.Prometheus)
	v.ruleEvaluator(m)
	v.waypoints()
	raw := v.l.Profile.Monitoring
	v.component("monitoring.alertmanager", m.Alertmanager, raw.Alertmanager.Port)
	v.component("monitoring.grafana", m.Grafana, raw.Grafana.Port)
	v.component("monitoring.kubeStateMetrics", m.KubeStateMetrics, raw.KubeStateMetrics.Port)
	v.component("monitoring.nodeExporter", m.NodeExporter, raw.NodeExporter.Port)
}

// operatorVersion checks monitoring.operatorVersion, and that the release
// holds what the operator flavour writes for this profile.
func (v *validator) operatorVersion(m v1alpha1.Monitoring) {
	minor, ok := plan.OperatorMinor(m.OperatorVersion)
	operator := slices.Contains(m.Flavours, v1alpha1.FlavourOperator)
	switch {
	case !ok:
		v.at("monitoring.operatorVersion", `write the Prometheus Operator release as 0.minor, such as "0.94" (the operator's image tag shows it)`,
			"not a Prometheus Operator version (got %q)", m.OperatorVersion)
	case operator && minor < plan.OperatorMinimumMinor:
		v.at("monitoring.operatorVersion", fmt.Sprintf("upgrade the Prometheus Operator to 0.%d or later, or leave the operator flavour out of monitoring.flavours", plan.OperatorMinimumMinor),
			"the operator flavour needs Prometheus Operator 0.%d or later: before it, a ScrapeConfig is not sharded, and before 0.71 its discovery cannot be limited to the job's namespaces (got %q)", plan.OperatorMinimumMinor, m.OperatorVersion)
	case operator && minor < plan.AlertmanagerRelabelingsMinor && m.Prometheus.Mode != v1alpha1.ModeAgent:
		for i, t := range v.p.Teams {
			if len(t.Alerting.Labels) > 0 {
				v.at(fmt.Sprintf("teams[%d].alerting.labels", i), fmt.Sprintf("upgrade the Prometheus Operator to 0.%d or later, or route on the team label alone", plan.AlertmanagerRelabelingsMinor),
					"team %q adds labels to its alerts, which the operator flavour's Prometheus resource holds from Prometheus Operator 0.%d on (alertRelabelings, #6450; monitoring.operatorVersion is %q)",
					t.Name, plan.AlertmanagerRelabelingsMinor, m.OperatorVersion)
				return
			}
		}
	}
}

func (v *validator) uniqueFlavours(flavours []v1alpha1.Flavour) {
	for i, f := range flavours {
		if slices.Index(flavours, f) != i {
			v.at(fmt.Sprintf("monitoring.flavours[%d]", i), "remove the repeated entry", "duplicate flavour %q", f)
		}
	}
}

func (v *validator) prometheus(p v1alpha1.Prometheus) {
	const path = "monitoring.prometheus"
	v.dnsLabel(path+".name", p.Name)
	if c := p.IstioCertificates; c.Source == v1alpha1.CertificatesCertManager && c.Issuer == nil {
		v.at(path+".istioCertificates.issuer", "name the ClusterIssuer of the mesh CA (the CA istio-csr signs with): issuer: {name: istio-ca, kind: ClusterIssuer}",
			"cert-manager needs the issuer of the mesh CA")
	} else if c.Source == v1alpha1.CertificatesCertManager && c.Issuer.Name == "" {
		v.at(path+".istioCertificates.issuer.name", "", "the issuer needs a name")
	}
	if errs := validation.IsDNS1123Subdomain(p.ServiceAccount); len(errs) > 0 {
		v.at(path+".serviceAccount", "", "invalid service account name %q: %s", p.ServiceAccount, errs[0])
	}
	v.labels(path+".podLabels", p.PodLabels)
	interval := v.duration(path+".scrapeInterval", p.ScrapeInterval)
	timeout := v.duration(path+".scrapeTimeout", p.ScrapeTimeout)
	v.duration(path+".evaluationInterval", p.EvaluationInterval)
	if p.Shards < 1 || p.Shards > 64 {
		v.at(path+".shards", "use 1 (no sharding) to 64", "must be 1..64 (got %d)", p.Shards)
	}
	if interval > 0 && timeout > interval {
		v.at(path+".scrapeTimeout", "lower it to at most the scrape interval", "%s is longer than scrapeInterval %s", p.ScrapeTimeout, p.ScrapeInterval)
	}
	for _, k := range slices.Sorted(mapKeys(p.ExternalLabels)) {
		lp := fmt.Sprintf("%s.externalLabels[%q]", path, k)
		if k == "cluster" || k == plan.ShardLabel {
			v.atKey(lp, "obsgen sets it: cluster from cluster.name, shard from shards", "label %q is reserved", k)
		} else if !model.LabelName(k).IsValidLegacy() {
			v.atKey(lp, "use letters, digits and _; do not start with a digit", "invalid Prometheus label name %q", k)
		}
	}
}

func (v *validator) duration(path, s string) model.Duration {
	d, err := model.ParseDuration(s)
	if err != nil || d <= 0 {
		v.at(path, "use a Prometheus duration such as 30s, 1m or 1h30m", "invalid duration %q", s)
		return 0
	}
	return d
}

func (v *validator) component(path string, c v1alpha1.Component, rawPort int) {
	v.dnsLabel(path+".namespace", c.Namespace)
	v.labels(path+".podLabels", c.PodLabels)
	port := c.Port
	if v.written(path + ".port") {
		port = rawPort // an explicit 0 is not defaulted away
	}
	v.port(path+".port", port)
	v.dnsLabel(path+".service", c.Service)
}

func (v *validator) network() {
	n := v.p.Network
	if n.Stance == v1alpha1.StanceGlobalDeny && n.Engine != v1alpha1.EngineCalico {
		v.at("network.engine", "set network.engine: calico, or use stance default-deny",
			"a global deny needs the calico engine (got %s)", n.Engine)
	}
	if n.Engine == v1alpha1.EngineAdminNetworkPolicy && n.Stance != v1alpha1.StanceDefaultDeny {
		v.at("network.engine", "set network.stance: default-deny, or another engine",
			"admin-network-policy writes the default-deny stance (got stance %s)", n.Stance)
	}
	// The API takes 0..1000 (AdminNetworkPolicySpec.Priority); obsgen's
	// egress to address ranges takes the priority after this one.
	if p := n.AdminNetworkPolicy.Priority; p < 1 || p > 999 {
		v.at("network.adminNetworkPolicy.priority", "pick a priority from 1 to 999",
			"must be 1..999: obsgen's egress to address ranges uses the next priority, and AdminNetworkPolicy priorities end at 1000 (got %d)", p)
	}
	v.dnsLabel("network.dns.namespace", n.DNS.Namespace)
	v.labels("network.dns.podLabels", n.DNS.PodLabels)
	v.port("network.dns.port", n.DNS.Port)
	v.cidrs("network.dns.cidrs", n.DNS.CIDRs)
	for i, e := range n.GrafanaIngress {
		v.ingressPeer(fmt.Sprintf("network.grafanaIngress[%d]", i), e, "Grafana", "monitoring.grafana.port")
	}
	for i, e := range n.AlertmanagerEgress {
		v.egressPeer(fmt.Sprintf("network.alertmanagerEgress[%d]", i), e, "list the receivers' TCP ports, such as [443]")
	}
	for i, e := range n.AlertmanagerIngress {
		v.ingressPeer(fmt.Sprintf("network.alertmanagerIngress[%d]", i), e, "Alertmanager", "monitoring.alertmanager.port")
	}
	v.rulerReachesAlertmanager()
	v.operatorFindsAlertmanager()
	v.calico()
}

// operatorFindsAlertmanager warns when the operator flavour's Prometheus
// looks for Alertmanager through alertmanager-operated, whose pods
// (app.kubernetes.io/name=alertmanager: prometheus-operator
// pkg/alertmanager/statefulset.go) are not the ones the profile's labels
// select, which obsgen's policies and its scrape job follow: the alerts
// would go to pods the policies do not open, or to none.
func (v *validator) operatorFindsAlertmanager() {
	m := v.p.Monitoring
	if !slices.Contains(m.Flavours, v1alpha1.FlavourOperator) || m.Prometheus.Mode == v1alpha1.ModeAgent ||
		m.Alertmanager.Service != plan.AlertmanagerOperatedService || m.Alertmanager.PodLabels["app.kubernetes.io/name"] == "alertmanager" {
		return
	}
	v.warnAt("monitoring.alertmanager.service", "name the Service in front of the pods monitoring.alertmanager.podLabels select, or select the operator's pods (app.kubernetes.io/name: alertmanager)",
		"the operator flavour's Prometheus finds Alertmanager through %s, which selects the Prometheus Operator's Alertmanager pods (app.kubernetes.io/name=alertmanager), "+
			"while monitoring.alertmanager.podLabels (%s) select others: obsgen's policies and scrape job follow those labels", plan.AlertmanagerOperatedService, labelList(m.Alertmanager.PodLabels))
}

// labelList writes labels as k=v, sorted.
func labelList(m map[string]string) string {
	var out []string
	for _, l := range plan.SortedLabels(m) {
		out = append(out, l.Name+"="+l.Value)
	}
	return strings.Join(out, ", ")
}

// rulerReachesAlertmanager warns when a ruler evaluates the rules that
// need every series while a deny stance lets only Prometheus reach
// Alertmanager: the ruler's alerts, the service alerts and SLO pages among
// them, would be dropped on the way. An agent has no Alertmanager flows
// (it sends no alerts; where Alertmanager runs is the ruler's business).
func (v *validator) rulerReachesAlertmanager() {
	p := v.p
	if p.Network.Stance == v1alpha1.StanceOpen || p.Monitoring.Prometheus.Mode == v1alpha1.ModeAgent || len(p.Network.AlertmanagerIngress) > 0 {
		return
	}
	r := plan.ResolveRules(p)
	if r.Global == "" || !r.Ruler() {
		return // an unknown store is refused elsewhere
	}
	v.warnAt("network.alertmanagerIngress", "list the ruler's pods, or the ingress that forwards its requests, in network.alertmanagerIngress",
		"the %s evaluates the rules that need every series, but under network.stance %s obsgen's policies let only Prometheus reach Alertmanager: the ruler's alerts (the service alerts and SLO pages among them) are dropped",
		r.GlobalName(), p.Network.Stance)
}

// ingressPeer checks a source that reaches one component of the stack on
// its known port (field), so it takes no ports.
func (v *validator) ingressPeer(path string, e v1alpha1.NetworkPeer, component, field string) {
	v.networkPeer(path, e)
	v.podRange(path+".cidrs", e.CIDRs, false)
	if len(e.Ports) > 0 {
		v.at(path+".ports", fmt.Sprintf("remove it; %s's port is %s", component, field), "not used for %s ingress", component)
	}
}

// egressPeer checks a destination outside the stack, which needs ports.
func (v *validator) egressPeer(path string, e v1alpha1.NetworkPeer, portsHint string) {
	v.networkPeer(path, e)
	v.podRange(path+".cidrs", e.CIDRs, true)
	if len(e.Ports) == 0 {
		v.at(path+".ports", portsHint, "missing")
	}
	for j, port := range e.Ports {
		v.port(fmt.Sprintf("%s.ports[%d]", path, j), port)
	}
}

// networkPeer checks a peer outside the stack: address ranges or pods,
// never both.
func (v *validator) networkPeer(path string, e v1alpha1.NetworkPeer) {
	switch {
	case len(e.CIDRs) > 0 && e.Namespace != "":
		v.at(path+".namespace", "split it into two entries: one with cidrs, one with namespace", "set either cidrs or namespace, not both")
	case len(e.CIDRs) == 0 && e.Namespace == "":
		v.at(path, "add cidrs: [203.0.113.0/24], or namespace: ingress-nginx", "needs cidrs or namespace")
	case e.Namespace != "":
		v.dnsLabel(path+".namespace", e.Namespace)
	}
	if len(e.PodLabels) > 0 && e.Namespace == "" {
		v.at(path+".podLabels", "add the pods' namespace", "podLabels need a namespace")
	}
	v.cidrs(path+".cidrs", e.CIDRs)
	v.labels(path+".podLabels", e.PodLabels)
}

// podRange checks address ranges of a rule against the pods: a rule for
// an address range matches pod addresses too (Calico's nets, most
// plugins' NetworkPolicy ipBlock, an AdminNetworkPolicy's networks; see
// plan.PodExcept), so obsgen leaves cluster.podCIDR out of the ranges
// that hold it. A range inside the pod range cannot leave it out, and
// without a pod range an egress rule to every address opens every pod's
// port under the calico and kubernetes engines (the
// admin-network-policy engine passes pods on with a rule of its own).
func (v *validator) podRange(path string, cidrs []string, egress bool) {
	pods, perr := netip.ParsePrefix(v.p.Cluster.PodCIDR)
	n := v.p.Network
	for i, c := range cidrs {
		r, err := netip.ParsePrefix(c)
		if err != nil {
			continue // reported by cidr
		}
		at := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case perr == nil && r.Addr().Is4() == pods.Addr().Is4() && pods.Contains(r.Addr()) && r.Bits() >= pods.Bits():
			v.at(at, "select the pods with namespace and podLabels in an entry of their own",
				"%s lies inside cluster.podCIDR %s: an address range is for what lives outside the cluster's pods", c, v.p.Cluster.PodCIDR)
		case perr != nil && egress && r.Bits() == 0 && n.Stance != v1alpha1.StanceOpen &&
			n.Engine != v1alpha1.EngineAdminNetworkPolicy:
			v.at(at, "set cluster.podCIDR so obsgen leaves the pods out of it, or list the receivers' address ranges",
				"%s holds every pod's address: Calico's nets and most plugins' NetworkPolicy ipBlock match pods too, so the rule would reach every pod on these ports", c)
		}
	}
}

// calico checks the calico engine's orders and the global deny's
// exclusions: excluding a namespace obsgen's policies cover would leave
// it open while the report claims it is locked down.
func (v *validator) calico() {
	n := v.p.Network
	if n.Engine != v1alpha1.EngineCalico {
		return
	}
	c := n.Calico
	if c.Order >= c.GlobalDeny.Order {
		v.at("network.calico.order", fmt.Sprintf("set it below %d, or raise network.calico.globalDeny.order", c.GlobalDeny.Order),
			"the allows (order %d) must come before the global deny (order %d): Calico applies lower orders first", c.Order, c.GlobalDeny.Order)
	}
	if n.Stance != v1alpha1.StanceGlobalDeny {
		return
	}
	if csr := v.p.Mesh.IstioCSR; csr != nil && v.p.Mesh.Provider == v1alpha1.MeshIstio {
		// istio-csr only creates CertificateRequests; cert-manager's
		// controller signs them and its webhook admits them
		// (cert-manager.io docs/usage/istio-csr), and obsgen opens neither.
		ns, path := csr.CertManagerNamespace, "mesh.istioCSR.certManagerNamespace"
		if ns == "" {
			ns, path = csr.Namespace, "mesh.istioCSR.namespace"
		}
		if !slices.Contains(c.GlobalDeny.ExcludedNamespaces, ns) {
			v.at(path, fmt.Sprintf("list it in network.calico.globalDeny.excludedNamespaces; a list replaces the default %s, so name those too",
				strings.Join(plan.DefaultExcludedNamespaces, ", ")),
				"the global deny covers %q, where cert-manager's controller and webhook sign istio-csr's requests: no proxy would get a certificate", ns)
		}
	}
	covered := plan.Covered(v.p)
	// Pods the profile names as a way in (an ingress controller forwarding
	// users to Grafana, or a ruler's alerts to Alertmanager) get only the
	// hop obsgen needs: under the global deny the rest of their traffic
	// (the clients they serve, the API server they watch) is denied too,
	// as Calico's "global default deny" guidance warns of ingress
	// controllers. A namespace obsgen covers has its own flows.
	for _, list := range []struct {
		field string
		peers []v1alpha1.NetworkPeer
	}{{"network.grafanaIngress", n.GrafanaIngress}, {"network.alertmanagerIngress", n.AlertmanagerIngress}} {
		for i, e := range list.peers {
			if e.Namespace == "" || slices.Contains(c.GlobalDeny.ExcludedNamespaces, e.Namespace) {
				continue
			}
			if _, ok := covered[e.Namespace]; ok {
				continue
			}
			v.warnAt(fmt.Sprintf("%s[%d].namespace", list.field, i),
				fmt.Sprintf("list %q in network.calico.globalDeny.excludedNamespaces (a list replaces the default %s, so name those too), or give its pods policies of their own",
					e.Namespace, strings.Join(plan.DefaultExcludedNamespaces, ", ")),
				"the global deny covers %q: obsgen opens only the hop from its pods, so whatever reaches them (the ingress from outside) and whatever else they need (the API server) is denied", e.Namespace)
		}
	}
	seen := map[string]bool{}
	for i, ns := range c.GlobalDeny.ExcludedNamespaces {
		path := fmt.Sprintf("network.calico.globalDeny.excludedNamespaces[%d]", i)
		v.dnsLabel(path, ns)
		if seen[ns] {
			v.at(path, "remove the duplicate", "%q is listed twice", ns)
		}
		seen[ns] = true
		if why, ok := covered[ns]; ok {
			v.at(path, "remove it from the exclusions: obsgen's allows are written for a namespace the deny covers",
				"%q holds %s: excluded from the global deny, it would not be locked down", ns, why)
		}
	}
}

func (v *validator) dnsLabel(path, s string) {
	switch {
	case s == "":
		v.at(path, "", "missing")
	case len(s) > validation.DNS1123LabelMaxLength:
		v.at(path, "shorten it", "%q is longer than %d characters", s, validation.DNS1123LabelMaxLength)
	case len(validation.IsDNS1123Label(s)) > 0:
		hint := "use lower-case letters, digits and '-', starting and ending with a letter or digit"
		if fixed := toDNSLabel(s); fixed != "" && len(validation.IsDNS1123Label(fixed)) == 0 {
			hint = fmt.Sprintf("did you mean %q?", fixed)
		}
		v.at(path, hint, "invalid name %q: must be a DNS-1123 label (lower-case letters, digits and '-')", s)
	}
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// toDNSLabel proposes a valid name for an invalid one: Payments_V2 -> payments-v2.
func toDNSLabel(s string) string {
	return strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func (v *validator) port(path string, port int) {
	switch {
	case port == 0 && !v.written(path):
		v.at(path, "", "missing")
	case port < 1 || port > 65535:
		v.at(path, "", "must be 1..65535 (got %d)", port)
	}
}

func (v *validator) labels(path string, labels map[string]string) {
	for _, k := range slices.Sorted(mapKeys(labels)) {
		lp := fmt.Sprintf("%s[%q]", path, k)
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			v.atKey(lp, "", "invalid label key %q: %s", k, errs[0])
		}
		if errs := validation.IsValidLabelValue(labels[k]); len(errs) > 0 {
			v.at(lp, "", "invalid label value %q: %s", labels[k], errs[0])
		}
	}
}
