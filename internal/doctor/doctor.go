// Package doctor compares what a profile needs with what a cluster runs and
// says why monitoring is broken: per target the plan expects, whether
// Prometheus scrapes it and, when it does not, the cause read from the
// evidence (the last scrape error, and the cluster's own pods, namespaces,
// PeerAuthentications, AuthorizationPolicies and network policies, evaluated
// with the same models as the proof of the generated output); then the flows
// the plan needs that the cluster's policies block, drift between obsgen's
// objects and the cluster's, and what the profile does not cover.
//
// Every requirement comes from Istio's, Kubernetes' or Prometheus' own
// documentation or code, cited next to it; none is read back from obsgen's
// generators.
package doctor

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/clusterstate"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
)

// Severity orders findings: a target Prometheus cannot scrape first.
type Severity int

// Severities.
const (
	Critical Severity = iota // monitoring data is missing now
	Warning                  // it works by accident, or breaks on the next change
	Info                     // the profile does not cover something that exists
)

func (s Severity) String() string {
	return [...]string{"critical", "warning", "info"}[s]
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one difference between what the profile needs and what the
// cluster runs.
type Finding struct {
	Severity Severity `json:"severity"`
	// Cause is a stable identifier (see Causes).
	Cause   string `json:"cause"`
	Subject string `json:"subject"`
	Summary string `json:"summary"`
	// Evidence are the facts the cause was read from.
	Evidence []string `json:"evidence,omitempty"`
	Fix      string   `json:"fix"`
	// Ref is the upstream document or code the diagnosis relies on.
	Ref string `json:"ref,omitempty"`
}

// Report is the outcome of a diagnosis.
type Report struct {
	Profile  string    `json:"profile"`
	Findings []Finding `json:"findings"`
	// Targets counts the targets the plan expects on the cluster and how
	// many of them Prometheus scrapes successfully (-1: no targets given).
	ExpectedTargets int `json:"expectedTargets"`
	HealthyTargets  int `json:"healthyTargets"`
	// Flows counts the plan's flows checked against the cluster's policies.
	Flows int `json:"flowsChecked"`
	// Notes say what could not be checked and why.
	Notes []string `json:"notes,omitempty"`
}

// Healthy tells whether the report has no finding.
func (r *Report) Healthy() bool { return len(r.Findings) == 0 }

// Input is what a diagnosis reads.
type Input struct {
	Plan *plan.Plan
	// Profile is the profile the plan was resolved from (for field paths).
	Profile *v1alpha1.Profile
	// Policies and Files are obsgen's output for the profile.
	Policies *built.Policies
	Files    []output.File
	// OutDir is where the output is committed, for the commands of fixes.
	OutDir string
	State  *clusterstate.State
	// Targets are Prometheus' targets; nil when none were given.
	Targets *Targets
}

// doctor holds the indexes of one diagnosis.
type doctor struct {
	in       Input
	p        *plan.Plan
	st       *clusterstate.State
	ns       map[string]*corev1.Namespace
	pods     map[string][]*corev1.Pod // by namespace
	prom     []*corev1.Pod
	net      *network
	findings []Finding
	notes    []string
	// claimed are the pods Prometheus' labels or an expectation select:
	// never another expectation's look-alike.
	claimed map[*corev1.Pod]bool
}

// Diagnose compares the plan with the cluster.
func Diagnose(in Input) *Report {
	d := &doctor{in: in, p: in.Plan, st: in.State, ns: map[string]*corev1.Namespace{}, pods: map[string][]*corev1.Pod{}}
	for _, n := range d.st.Namespaces {
		d.ns[n.Name] = n
	}
	for _, pod := range d.st.Pods {
		d.pods[pod.Namespace] = append(d.pods[pod.Namespace], pod)
	}
	d.prom = d.matching(d.p.Monitoring.Namespace, d.p.Monitoring.Prometheus.PodLabels.Map())
	d.net = newNetwork(d)
	r := &Report{Profile: d.p.Name, ExpectedTargets: 0, HealthyTargets: 0}
	if in.Targets == nil {
		d.notes = append(d.notes, "no Prometheus targets given (--targets or --prometheus): causes are predicted from the cluster state alone")
		r.HealthyTargets = -1
	}
	if len(d.prom) == 0 {
		d.add(Finding{Severity: Warning, Cause: CausePrometheusNotFound, Subject: "Prometheus",
			Summary:  fmt.Sprintf("no running pod in namespace %s carries Prometheus' labels %s", d.p.Monitoring.Namespace, d.p.Monitoring.Prometheus.PodLabels.Map()),
			Evidence: []string{fmt.Sprintf("pods in %s: %s", d.p.Monitoring.Namespace, podNames(d.pods[d.p.Monitoring.Namespace]))},
			Fix:      "deploy obsgen's output, or set monitoring.namespace and monitoring.prometheus.podLabels to what the cluster runs; network checks use a stand-in pod with the profile's labels",
			Ref:      "profile: monitoring.prometheus.podLabels"})
	}
	exps := d.expectations()
	d.claimed = map[*corev1.Pod]bool{}
	for _, pod := range d.prom {
		d.claimed[pod] = true
	}
	for _, e := range exps {
		for _, pod := range d.matching(e.Ns, e.Selector) {
			d.claimed[pod] = true
		}
	}
	for _, e := range exps {
		d.checkExpectation(e, r)
	}
	d.checkAPIServer()
	d.checkCilium()
	r.Flows = d.checkFlows()
	d.checkDrift()
	d.checkRetention()
	d.checkCoverage()
	slices.SortStableFunc(d.findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Severity, b.Severity), cmp.Compare(causeRank(a.Cause), causeRank(b.Cause)), strings.Compare(a.Subject, b.Subject))
	})
	r.Findings, r.Notes = d.findings, append(append(d.notes, d.net.notes...), d.st.Notes...)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

func (d *doctor) add(f Finding) { d.findings = append(d.findings, f) }

// matching are the running pods of ns whose labels include sel.
func (d *doctor) matching(ns string, sel map[string]string) []*corev1.Pod {
	s := labels.SelectorFromSet(sel)
	var out []*corev1.Pod
	for _, pod := range d.pods[ns] {
		if s.Matches(labels.Set(pod.Labels)) && running(pod) {
			out = append(out, pod)
		}
	}
	return out
}

// running tells whether Prometheus would scrape the pod: the generated jobs
// drop Pending, Succeeded and Failed pods, and a pod needs an address.
func running(pod *corev1.Pod) bool {
	return (pod.Status.Phase == corev1.PodRunning || pod.Status.Phase == "") && pod.Status.PodIP != ""
}

// podNames lists pods with their labels, at most five.
func podNames(pods []*corev1.Pod) string { return podList(pods, false) }

// qualifiedPodNames is podNames with each pod's namespace, for pods of
// several namespaces.
func qualifiedPodNames(pods []*corev1.Pod) string { return podList(pods, true) }

func podList(pods []*corev1.Pod, namespaced bool) string {
	if len(pods) == 0 {
		return "none"
	}
	var names []string
	for _, p := range pods {
		name := p.Name
		if namespaced {
			name = p.Namespace + "/" + name
		}
		names = append(names, fmt.Sprintf("%s %v", name, p.Labels))
		if len(names) == 5 && len(pods) > 5 {
			names = append(names, fmt.Sprintf("and %d more", len(pods)-5))
			break
		}
	}
	return strings.Join(names, ", ")
}

// expectation is a set of targets the plan expects: the pods of one
// service, gateway or control plane, scraped on one endpoint.
type expectation struct {
	What  string // "service payments/checkout"
	Field string // the profile field that asks for it
	Job   string // the job label of its targets
	// Pool is the scrape job (pool) that should discover it.
	Pool     string
	Label    string // a target label that tells it apart ("gateway=ingress"), or ""
	Ns       string
	Selector map[string]string
	Endpoint plan.Endpoint
	// AppPort is the application's own port (services), for messages.
	AppPort int
	AppPath string
	Service *plan.Service
}

func (d *doctor) expectations() []expectation {
	var out []expectation
	pool := string(plan.JobTeamServices)
	for _, j := range d.p.Jobs {
		if j.Kind == plan.JobTeamServices {
			pool = j.Name
		}
	}
	for i := range d.p.ServiceTargets {
		s := &d.p.ServiceTargets[i]
		out = append(out, expectation{What: "service " + s.Job, Field: d.serviceField(s, ""), Job: s.Job, Pool: pool, Ns: s.Namespace,
			Selector: s.Selector.Map(), Endpoint: s.Endpoint, AppPort: s.AppPort, AppPath: s.AppPath, Service: s})
	}
	for _, j := range d.p.Jobs {
		switch j.Kind {
		case plan.JobGateways:
			for i, g := range d.p.Mesh.Gateways {
				out = append(out, expectation{What: "gateway " + g.Name, Field: fmt.Sprintf("mesh.gateways[%d]", i), Job: j.Name, Pool: j.Name,
					Label: plan.GatewayTargetLabel + "=" + g.Name, Ns: g.Namespace, Selector: g.PodLabels.Map(), Endpoint: j.Endpoint})
			}
		case plan.JobIstiod:
			out = append(out, expectation{What: "istiod", Field: "mesh.provider", Job: j.Name, Pool: j.Name, Ns: d.p.Mesh.IstioNamespace,
				Selector: plan.IstiodLabels.Map(), Endpoint: j.Endpoint})
		case plan.JobKubeStateMetrics, plan.JobNodeExporter, plan.JobAlertmanager:
			// The monitoring components the profile locates by namespace
			// and pod labels, whose defaults follow one install and not
			// another: kube-prometheus-stack's prometheus-node-exporter
			// chart labels node-exporter with the chart's name
			// (charts/prometheus-node-exporter/templates/_helpers.tpl,
			// selectorLabels), kube-prometheus with node-exporter. Nothing
			// else says that such a job finds no pod: TargetDown needs a
			// target to count.
			if len(j.Namespaces) == 0 {
				continue
			}
			out = append(out, expectation{What: j.Name, Field: platformFields[j.Kind], Job: j.Name, Pool: j.Name, Ns: j.Namespaces[0],
				Selector: j.Selector.Map(), Endpoint: j.Endpoint})
		}
	}
	return out
}

// serviceField is the profile path of a service (and one of its fields).
func (d *doctor) serviceField(s *plan.Service, field string) string {
	path := fmt.Sprintf("teams[%s].services[%s]", s.Team, s.Name)
	if d.in.Profile != nil {
		for ti, t := range d.in.Profile.Teams {
			for si, ps := range t.Services {
				if t.Name == s.Team && ps.Name == s.Name && ps.Namespace == s.Namespace {
					path = fmt.Sprintf("teams[%d].services[%d]", ti, si)
				}
			}
		}
	}
	if field != "" {
		path += "." + field
	}
	return path
}

// platformFields are the profile fields that locate the monitoring
// components doctor expects targets of.
var platformFields = map[plan.JobKind]string{
	plan.JobKubeStateMetrics: "monitoring.kubeStateMetrics",
	plan.JobNodeExporter:     "monitoring.nodeExporter",
	plan.JobAlertmanager:     "monitoring.alertmanager",
}

func (d *doctor) checkExpectation(e expectation, r *Report) {
	pods := d.matching(e.Ns, e.Selector)
	if len(pods) == 0 {
		f := Finding{Severity: Warning, Cause: CauseNoPods, Subject: e.What,
			Summary:  fmt.Sprintf("no running pod in namespace %s matches %s: its metrics, dashboards and alerts stay empty", e.Ns, selectorText(e.Selector)),
			Evidence: []string{fmt.Sprintf("pods in %s: %s", e.Ns, podNames(d.pods[e.Ns]))},
			Fix:      fmt.Sprintf("set %s to the namespace and pod labels the workload runs with", fieldOr(e.Field, "selector")),
			Ref:      "kubernetes.io docs/concepts/overview/working-with-objects/labels (equality-based selectors)"}
		if near := d.lookalikes(e); len(near) > 0 {
			pod := near[0]
			f.Evidence = append(f.Evidence, "pods that look like it: "+qualifiedPodNames(near))
			f.Fix = fmt.Sprintf("if %s/%s is it, set %s to namespace %s and pod labels %s, as it runs with",
				pod.Namespace, pod.Name, fieldOr(e.Field, "selector"), pod.Namespace, selectorText(suggested(e.Selector, pod)))
		}
		d.add(f)
		return
	}
	for _, pod := range pods {
		r.ExpectedTargets++
		d.checkTarget(e, pod, r)
	}
}

// lookalikes are the running pods, in any namespace, that no other
// expectation (nor Prometheus' labels) selects and that carry e's
// selector in another namespace, or one of its labels with a value that
// contains the expected one or is contained in it (prometheus-node-exporter
// for node-exporter): an install that names or places the workload
// otherwise than the profile's defaults. The whole selector elsewhere
// comes first, then those in e's namespace; at most five.
func (d *doctor) lookalikes(e expectation) []*corev1.Pod {
	var exact, near, far []*corev1.Pod
	sel := labels.SelectorFromSet(e.Selector)
	for _, pod := range d.st.Pods {
		switch {
		case !running(pod) || d.claimed[pod]:
		case len(e.Selector) > 0 && sel.Matches(labels.Set(pod.Labels)):
			exact = append(exact, pod)
		case !looksLike(e.Selector, pod.Labels):
		case pod.Namespace == e.Ns:
			near = append(near, pod)
		default:
			far = append(far, pod)
		}
	}
	out := slices.Concat(exact, near, far)
	return out[:min(len(out), 5)]
}

func looksLike(sel, podLabels map[string]string) bool {
	for k, v := range sel {
		got := podLabels[k]
		if got != "" && v != "" && (strings.Contains(got, v) || strings.Contains(v, got)) {
			return true
		}
	}
	return false
}

// suggested is the part of sel's keys pod carries, with its values: a
// selector that matches pod.
func suggested(sel map[string]string, pod *corev1.Pod) map[string]string {
	out := make(map[string]string, len(sel))
	for k := range sel {
		if v, ok := pod.Labels[k]; ok {
			out[k] = v
		}
	}
	return out
}

func fieldOr(field, sub string) string {
	if strings.HasPrefix(field, "teams[") {
		return field + "." + sub
	}
	return field
}

func selectorText(sel map[string]string) string {
	if len(sel) == 0 {
		return "any labels"
	}
	return labels.SelectorFromSet(sel).String()
}

// port is the port Prometheus scrapes on pod for e.
func (e expectation) port(pod *corev1.Pod) int {
	if e.Endpoint.Port != 0 {
		return e.Endpoint.Port
	}
	n, _ := strconv.Atoi(pod.Annotations["prometheus.io/port"])
	return n
}

func (e expectation) url(pod *corev1.Pod) string {
	return fmt.Sprintf("%s://%s%s", cmp.Or(e.Endpoint.Scheme, "http"), hostPort(pod.Status.PodIP, e.port(pod)), cmp.Or(e.Endpoint.Path, "/metrics"))
}

func hostPort(ip string, port int) string {
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}

// checkTarget finds the pod's target and, when it is not up, its cause.
func (d *doctor) checkTarget(e expectation, pod *corev1.Pod, r *Report) {
	subject := fmt.Sprintf("%s: pod %s/%s (%s)", e.What, pod.Namespace, pod.Name, e.url(pod))
	causes := d.causes(e, pod)
	if d.in.Targets == nil {
		for _, c := range causes {
			if c.severity == Critical || c.standing {
				d.add(c.finding(subject, "predicted from the cluster state; no Prometheus targets given"))
			}
		}
		return
	}
	t := d.findTarget(e, pod)
	switch {
	case t != nil && t.Health == "up":
		r.HealthyTargets++
		for _, c := range causes {
			if c.standing {
				f := c.finding(subject, "")
				f.Severity = max(f.Severity, Warning)
				d.add(f)
			}
		}
		return
	case t != nil:
		sym := classify(t.LastError)
		evidence := fmt.Sprintf("Prometheus: %s target %s is %s: %s", t.ScrapePool, t.ScrapeURL, cmp.Or(t.Health, "unknown"), cmp.Or(t.LastError, "no error recorded yet"))
		d.explainDown(subject, evidence, sym, causes, e, pod)
	default:
		d.explainMissing(subject, causes, e, pod)
	}
}

// findTarget is the active target of the pod in e's job.
func (d *doctor) findTarget(e expectation, pod *corev1.Pod) *ActiveTarget {
	for i, t := range d.in.Targets.Active {
		if t.Labels["job"] != e.Job {
			continue
		}
		if e.Label != "" {
			name, value, _ := strings.Cut(e.Label, "=")
			if t.Labels[name] != value {
				continue
			}
		}
		ip, _ := t.host()
		if ip == pod.Status.PodIP || t.Labels["pod"] == pod.Name && t.Labels["namespace"] == pod.Namespace {
			return &d.in.Targets.Active[i]
		}
	}
	return nil
}

// explainDown reports a target that is down: the first cause that
// explains its error, else what the error alone says.
func (d *doctor) explainDown(subject, evidence string, sym symptom, causes []cause, e expectation, pod *corev1.Pod) {
	for _, c := range causes {
		if slices.Contains(c.explains, sym) {
			f := c.finding(subject, "")
			f.Severity = Critical
			f.Evidence = append([]string{evidence}, f.Evidence...)
			d.add(f)
			return
		}
	}
	f := d.fromSymptom(sym, e, pod)
	f.Subject = subject
	f.Evidence = append([]string{evidence}, f.Evidence...)
	d.add(f)
}

// explainMissing reports a pod that is no active target of its job.
func (d *doctor) explainMissing(subject string, causes []cause, e expectation, pod *corev1.Pod) {
	pools := d.pools()
	evidence := fmt.Sprintf("Prometheus has no active target with job=%q for this pod", e.Job)
	if !slices.ContainsFunc(pools, e.poolIs) {
		d.add(Finding{Severity: Critical, Cause: CauseNotDiscovered, Subject: subject,
			Summary:  fmt.Sprintf("Prometheus runs no scrape job %s: the configuration it runs is not obsgen's current output", e.Pool),
			Evidence: []string{evidence, "scrape pools Prometheus runs: " + strings.Join(pools, ", ")},
			Fix:      fmt.Sprintf("deploy the generated configuration (`kubectl apply -k %s`) and check that Prometheus reloaded it (its /api/v1/status/config)", d.outDir()),
			Ref:      "prometheus.io docs/prometheus/latest/configuration/configuration (scrape_config)"})
		return
	}
	dropped, unlisted := false, 0
	for _, t := range d.in.Targets.Dropped {
		if e.poolIs(t.ScrapePool) && t.DiscoveredLabels["__meta_kubernetes_pod_name"] == pod.Name && t.DiscoveredLabels["__meta_kubernetes_namespace"] == pod.Namespace {
			dropped = true
		}
	}
	for _, pool := range pools {
		if e.poolIs(pool) {
			unlisted += d.in.Targets.unlisted(pool)
		}
	}
	summary := "Prometheus discovers the pod but the job's relabeling drops it: the pod does not look as the profile describes it"
	fix := fmt.Sprintf("compare the pod with %s (selector, port) and with `obsgen explain scrape`", fieldOr(e.Field, "selector"))
	switch {
	case dropped:
		evidence += fmt.Sprintf("; %s discovers the pod and its relabeling drops it", e.Pool)
		for _, c := range causes {
			if slices.Contains(c.explains, symDropped) {
				f := c.finding(subject, "")
				f.Severity = Critical
				f.Evidence = append([]string{evidence}, f.Evidence...)
				d.add(f)
				return
			}
		}
	case unlisted > 0:
		// keep_dropped_targets cut the list (scrape/scrape.go): the pod
		// may be among the drops it leaves out.
		summary = fmt.Sprintf("%s drops %d target(s) it does not list (keep_dropped_targets), so whether this pod is among them cannot be told; if it is, the pod does not look as the profile describes it", e.Pool, unlisted)
		fix += "; raise keep_dropped_targets to see every dropped target"
	}
	if dropped || unlisted > 0 {
		d.add(Finding{Severity: Critical, Cause: CauseDropped, Subject: subject, Summary: summary, Fix: fix,
			Evidence: []string{evidence, fmt.Sprintf("pod labels %v, annotations %v", pod.Labels, metricAnnotations(pod))},
			Ref:      "prometheus.io docs/prometheus/latest/configuration/configuration (relabel_config keep/drop, keep_dropped_targets)"})
		return
	}
	if !d.anyDiscovered(pod) {
		evidence += "; no job of Prometheus discovers it"
	}
	d.add(Finding{Severity: Critical, Cause: CauseNotDiscovered, Subject: subject,
		Summary:  fmt.Sprintf("%s does not discover the pod: its service discovery cannot see the namespace %s", e.Pool, pod.Namespace),
		Evidence: []string{evidence},
		Fix:      fmt.Sprintf("deploy obsgen's RBAC and configuration (`kubectl apply -k %s`): Prometheus' ClusterRole must allow list and watch of pods in %s", d.outDir(), pod.Namespace),
		Ref:      "prometheus.io docs/prometheus/latest/configuration/configuration (kubernetes_sd_config)"})
}

// poolIs tells whether a scrape pool is e's job: the raw configuration's
// job name, or the pool of the operator object obsgen writes for it
// (scrapeConfig/<ns>/<name>, serviceMonitor/<ns>/<name>/<i>,
// podMonitor/<ns>/<name>/<i>: prometheus-operator pkg/prometheus/
// promcfg.go), whose name is the job's or the job's after the Prometheus
// resource's name and a dash (prometheus-node-exporter).
func (e expectation) poolIs(pool string) bool {
	if pool == e.Pool {
		return true
	}
	parts := strings.Split(pool, "/")
	if len(parts) < 3 {
		return false
	}
	switch parts[0] {
	case "scrapeConfig", "serviceMonitor", "podMonitor", "probe":
	default:
		return false
	}
	name := parts[2]
	return name == e.Pool || strings.HasSuffix(name, "-"+e.Pool)
}

func (d *doctor) anyDiscovered(pod *corev1.Pod) bool {
	for _, t := range d.in.Targets.Active {
		if t.Labels["pod"] == pod.Name && t.Labels["namespace"] == pod.Namespace {
			return true
		}
		if ip, _ := t.host(); ip == pod.Status.PodIP {
			return true
		}
	}
	return false
}

func (d *doctor) pools() []string {
	var out []string
	for _, t := range d.in.Targets.Active {
		out = append(out, t.ScrapePool)
	}
	for _, t := range d.in.Targets.Dropped {
		out = append(out, t.ScrapePool)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 || len(out) == 1 && out[0] == "" {
		return []string{"none"}
	}
	return out
}

func (d *doctor) jobNames() []string {
	var out []string
	for _, j := range d.p.Jobs {
		out = append(out, j.Name)
	}
	return out
}

func (d *doctor) outDir() string {
	dir := cmp.Or(d.in.OutDir, "out")
	return strings.TrimSuffix(dir, "/") + "/" + d.p.Name
}

func metricAnnotations(pod *corev1.Pod) map[string]string {
	out := map[string]string{}
	for k, v := range pod.Annotations {
		if strings.HasPrefix(k, "prometheus.io/") || k == annotationStatus {
			out[k] = v
		}
	}
	return out
}
