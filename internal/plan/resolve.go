package plan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// Certificate paths of the istio-certs strategy (istio.io, Prometheus
// integration): the cert-writing sidecar writes to /etc/istio-output-certs,
// the Prometheus container reads the same volume at /etc/prom-certs.
const (
	certsVolume        = "istio-certs"
	certsSidecarPath   = "/etc/istio-output-certs"
	certsPrometheusDir = "/etc/prom-certs/"
)

type resolver struct {
	plan *Plan
	// teamNamespaces maps each team namespace to the profile path that
	// lists it, once the teams are resolved (teamNamespacePaths).
	teamNamespaces map[string]string
}

// Resolve builds the plan of a validated profile. It never fails for a
// profile that passed validation; everything it returns is sorted.
func Resolve(in *v1alpha1.Profile) *Plan {
	p := WithDefaults(in)
	strategy, reason := ChooseStrategy(p)
	r := &resolver{plan: &Plan{
		Name:    p.Metadata.Name,
		Cluster: resolveCluster(p.Cluster),
		Mesh:    resolveMesh(p),
		Scrape:  resolveScrape(p, strategy, reason),
		Network: resolveNetwork(p.Network),
	}}
	r.plan.Monitoring = resolveMonitoring(p, strategy)
	r.plan.ExternalLabels = externalLabels(p)
	r.plan.Federation = resolveFederation(p)
	r.plan.Alerting = resolveAlerting(p.Alerting)
	r.plan.Rules = resolveRules(p)
	if rl := r.plan.Rules; rl.TwoEvaluators() {
		r.plan.Alerting.Watchdog.RulerReceiver = p.Alerting.Watchdog.RulerReceiver
		r.plan.Alerting.Watchdog.Ruler = rl.Global
	}
	r.plan.Teams = resolveTeams(p.Teams, strategy, reason)
	assignWaypoints(r.plan.Teams, r.plan.Mesh.Waypoints)
	r.plan.ServiceTargets = serviceTargets(r.plan.Teams)
	r.plan.Jobs = r.jobs(strategy)
	r.plan.Claimed = r.claimed()
	r.plan.ClaimGroups = groupClaims(r.plan.Claimed)
	r.plan.ProxyClaimGroups = groupClaims(r.proxyClaimed())
	r.plan.Covered = slices.Sorted(maps.Keys(Covered(p)))
	r.plan.Dashboards = resolveDashboards(p)
	r.plan.Kiali = resolveKiali(p, r.plan.Dashboards)
	r.plan.Tracing = resolveTracing(p)
	r.plan.Flows = r.flows()
	return r.plan
}

func resolveCluster(c v1alpha1.Cluster) Cluster {
	return Cluster{
		Name: c.Name, APIServerPort: c.APIServerPort, PodCIDR: c.PodCIDR,
		APIServerCIDRs: sortedCopy(c.APIServerCIDRs), NodeCIDRs: sortedCopy(c.NodeCIDRs),
	}
}

func resolveMesh(p *v1alpha1.Profile) Mesh {
	m := p.Mesh
	istio := m.Provider == v1alpha1.MeshIstio
	return Mesh{
		DefaultPeerAuthentications:  m.PeerAuthentication == v1alpha1.PeerAuthenticationManage,
		WorkloadPeerAuthentications: m.PeerAuthentication != v1alpha1.PeerAuthenticationNone,
		Gateways:                    gateways(p),
		Waypoints:                   waypoints(p),
		RequestReporter:             requestReporter(m.DataPlane),
		IstioCSR:                    istioCSR(istio, m.IstioCSR),
		Istio:                       istio,
		Sidecar:                     istio && m.DataPlane == v1alpha1.DataPlaneSidecar,
		Ambient:                     istio && m.DataPlane == v1alpha1.DataPlaneAmbient,
		MTLS:                        m.MTLS,
		Version:                     m.Version,
		IstioNamespace:              m.IstioNamespace,
		MetricsMerging:              istio && *m.MetricsMerging,
		DenyByDefault:               istio && m.Authorization == v1alpha1.AuthorizationDenyByDefault,
		TrustDomain:                 m.TrustDomain,
	}
}

// istioCSR resolves mesh.istioCSR (its defaults are applied already but
// the labels'), nil without a mesh or without it.
func istioCSR(istio bool, c *v1alpha1.IstioCSR) *IstioCSR {
	if !istio || c == nil {
		return nil
	}
	labels := SortedLabels(orLabels(c.PodLabels, "app", "cert-manager-istio-csr"))
	return &IstioCSR{Pods: Peer{Namespace: c.Namespace, Labels: labels}, Port: c.Port}
}

// gateways resolves the declared gateways; sources default to every pod
// and every address.
func gateways(p *v1alpha1.Profile) []Gateway {
	if p.Mesh.Provider != v1alpha1.MeshIstio {
		return nil
	}
	var out []Gateway
	for _, g := range p.Mesh.Gateways {
		ports := slices.Clone(g.Ports)
		slices.Sort(ports)
		gw := Gateway{Name: g.Name, Namespace: g.Namespace, PodLabels: SortedLabels(g.PodLabels), Ports: slices.Compact(ports),
			Destinations: externalPeers(g.Destinations)}
		for _, s := range externalPeers(g.Sources) {
			gw.Sources = append(gw.Sources, s.Peer)
		}
		if len(gw.Sources) == 0 {
			gw.Sources = []Peer{{Any: true}, {CIDRs: slices.Clone(Everywhere)}}
		}
		out = append(out, gw)
	}
	return out
}

// requestReporter is the reporter of a service's request metrics: its
// sidecar reports them as destination; in ambient only the waypoint sees
// requests and reports them as waypoint (ztunnel reports TCP only).
func requestReporter(d v1alpha1.DataPlane) string {
	if d == v1alpha1.DataPlaneAmbient {
		return "waypoint"
	}
	return "destination"
}

// waypoints resolves the declared waypoints (ambient only).
func waypoints(p *v1alpha1.Profile) []Waypoint {
	if p.Mesh.Provider != v1alpha1.MeshIstio || p.Mesh.DataPlane != v1alpha1.DataPlaneAmbient {
		return nil
	}
	var out []Waypoint
	for _, w := range p.Mesh.Waypoints {
		ns := sortedCopy(w.Namespaces)
		if len(ns) == 0 {
			ns = []string{w.Namespace}
		}
		out = append(out, Waypoint{Name: w.Name, Namespace: w.Namespace, Namespaces: ns,
			PodLabels: Labels{{Name: WaypointLabel, Value: w.Name}}})
	}
	slices.SortFunc(out, func(a, b Waypoint) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// assignWaypoints gives each service the waypoint of its namespace.
func assignWaypoints(teams []Team, ws []Waypoint) {
	for ti := range teams {
		for si := range teams[ti].Services {
			s := &teams[ti].Services[si]
			for _, w := range ws {
				if slices.Contains(w.Namespaces, s.Namespace) {
					s.Waypoint = w.Name
					break
				}
			}
		}
	}
}

func resolveScrape(p *v1alpha1.Profile, strategy v1alpha1.ScrapeStrategy, reason string) Scrape {
	pr := p.Monitoring.Prometheus
	s := Scrape{
		Strategy: strategy, Reason: reason,
		Interval: pr.ScrapeInterval, Timeout: pr.ScrapeTimeout, EvaluationInterval: pr.EvaluationInterval,
		Shards: pr.Shards,
	}
	switch {
	case NeedsIstioCerts(strategy) && certManager(p):
		// The keys of a cert-manager Certificate's Secret (kubernetes.io/tls
		// with ca.crt; cert-manager.io docs/usage/certificate).
		s.TLS = &TLSFiles{
			MountPath: certsPrometheusDir,
			CAFile:    certsPrometheusDir + "ca.crt",
			CertFile:  certsPrometheusDir + "tls.crt",
			KeyFile:   certsPrometheusDir + "tls.key",
		}
	case NeedsIstioCerts(strategy):
		s.TLS = &TLSFiles{
			MountPath: certsPrometheusDir,
			CAFile:    certsPrometheusDir + "root-cert.pem",
			CertFile:  certsPrometheusDir + "cert-chain.pem",
			KeyFile:   certsPrometheusDir + "key.pem",
		}
	}
	return s
}

func resolveMonitoring(p *v1alpha1.Profile, strategy v1alpha1.ScrapeStrategy) Monitoring {
	m := p.Monitoring
	lookback := RuleLookback(p)
	return Monitoring{
		Namespace:               m.Namespace,
		RunbookBaseURL:          m.RunbookBaseURL,
		InMesh:                  m.InMesh,
		RawFlavour:              slices.Contains(m.Flavours, v1alpha1.FlavourPrometheus),
		OperatorFlavour:         slices.Contains(m.Flavours, v1alpha1.FlavourOperator),
		ScrapeClasses:           operatorFrom(m.OperatorVersion, ScrapeClassMinor),
		ScrapeConfigJobName:     operatorFrom(m.OperatorVersion, ScrapeConfigJobNameMinor),
		PodMonitorPortNumber:    operatorFrom(m.OperatorVersion, PodMonitorPortNumberMinor),
		AlertmanagerRelabelings: operatorFrom(m.OperatorVersion, AlertmanagerRelabelingsMinor),
		Prometheus: Prometheus{
			Agent: m.Prometheus.Mode == v1alpha1.ModeAgent, RemoteWrite: remoteWrites(m.Prometheus.RemoteWrite, m.Namespace),
			Name: m.Prometheus.Name, Workload: string(m.Prometheus.Workload), ServiceAccount: m.Prometheus.ServiceAccount,
			PodLabels:      SortedLabels(m.Prometheus.PodLabels),
			PodAnnotations: prometheusPodAnnotations(p, strategy),
			MeshPodLabels:  meshPodLabels(p, strategy),
			CertsVolume:    certsVolumeFor(strategy),
			CertsSecret:    certsSecret(p, strategy),
			CertIssuer:     certIssuer(p, strategy),
			RuleLookback:   lookback,
			Retention:      retention(p, lookback, OperatorDefaultRetention),
			RawRetention:   retention(p, lookback, PrometheusDefaultRetention),
			Storage:        resolveStorage(m.Prometheus.Storage),
		},
		Alertmanager:       component(m.Alertmanager),
		Grafana:            component(m.Grafana),
		KubeStateMetrics:   component(m.KubeStateMetrics),
		NodeExporter:       component(m.NodeExporter),
		PrometheusOperator: component(m.PrometheusOperator),
	}
}

// operatorFrom tells whether the operator version is 0.minor or later.
func operatorFrom(version string, minor int) bool {
	v, ok := OperatorMinor(version)
	return ok && v >= minor
}

// prometheusPodAnnotations wires the Prometheus pod for the strategy
// (istio.io, Prometheus integration, "TLS settings").
func prometheusPodAnnotations(p *v1alpha1.Profile, strategy v1alpha1.ScrapeStrategy) Labels {
	if p.Mesh.Provider != v1alpha1.MeshIstio || p.Mesh.DataPlane != v1alpha1.DataPlaneSidecar {
		return nil
	}
	switch {
	case NeedsIstioCerts(strategy) && !certManager(p):
		// holdApplicationUntilProxyStarts: Prometheus starts once the
		// sidecar runs, so the certificates exist before its first scrape
		// (istio.io docs/reference/config/istio.mesh.v1alpha1, ProxyConfig).
		return SortedLabels(map[string]string{
			"traffic.sidecar.istio.io/includeInboundPorts":     "",
			"traffic.sidecar.istio.io/includeOutboundIPRanges": "",
			"proxy.istio.io/config":                            "holdApplicationUntilProxyStarts: true\nproxyMetadata:\n  OUTPUT_CERTS: " + certsSidecarPath + "\n",
			"sidecar.istio.io/userVolumeMount":                 `[{"name": "` + certsVolume + `", "mountPath": "` + certsSidecarPath + `"}]`,
		})
	case p.Monitoring.InMesh:
		return Labels{{Name: "traffic.sidecar.istio.io/includeOutboundIPRanges", Value: ""}}
	default:
		return nil
	}
}

// certManager tells whether Prometheus' mesh certificates come from a
// cert-manager Certificate rather than a cert-writing sidecar.
func certManager(p *v1alpha1.Profile) bool {
	return p.Monitoring.Prometheus.IstioCertificates.Source == v1alpha1.CertificatesCertManager
}

// certsSecret names the Secret of Prometheus' cert-manager Certificate.
func certsSecret(p *v1alpha1.Profile, strategy v1alpha1.ScrapeStrategy) string {
	if !NeedsIstioCerts(strategy) || !certManager(p) {
		return ""
	}
	return p.Monitoring.Prometheus.Name + "-istio-certs"
}

func certIssuer(p *v1alpha1.Profile, strategy v1alpha1.ScrapeStrategy) *CertIssuer {
	i := p.Monitoring.Prometheus.IstioCertificates.Issuer
	if certsSecret(p, strategy) == "" || i == nil {
		return nil
	}
	return &CertIssuer{Name: i.Name, Kind: string(i.Kind), Group: i.Group}
}

func certsVolumeFor(strategy v1alpha1.ScrapeStrategy) string {
	if NeedsIstioCerts(strategy) {
		return certsVolume
	}
	return ""
}

// meshPodLabels are the Prometheus pods' labels for the mesh. In ambient
// with the monitoring stack in the mesh, istio.io/dataplane-mode: ambient
// enrolls them (a pod label works without labelling the namespace). With
// sidecars, sidecar.istio.io/inject decides injection: the injector's
// webhook selects pods by this *label* (manifests/charts/istio-control/
// istio-discovery/templates/mutatingwebhook.yaml objectSelector; istio.io
// docs/setup/additional-setup/sidecar-injection, "Controlling the injection
// policy"), so an annotation alone never brings the cert-writing sidecar to
// a namespace without an injection label. "true" for istio-certs' sidecar,
// "false" outside the mesh.
func meshPodLabels(p *v1alpha1.Profile, strategy v1alpha1.ScrapeStrategy) Labels {
	if p.Mesh.Provider != v1alpha1.MeshIstio {
		return nil
	}
	switch {
	case p.Mesh.DataPlane == v1alpha1.DataPlaneAmbient && p.Monitoring.InMesh:
		return Labels{{Name: "istio.io/dataplane-mode", Value: "ambient"}}
	case p.Mesh.DataPlane != v1alpha1.DataPlaneSidecar:
		return nil
	case NeedsIstioCerts(strategy) && !certManager(p):
		// The injector labels every injected pod security.istio.io/tlsMode:
		// istio unless the pod sets it (files/injection-template.yaml), and
		// meshed clients then speak Istio mTLS to it (pilot/pkg/networking/
		// core/cluster_tls.go): Grafana's queries to :9090 would arrive as
		// TLS at a port the cert-writing sidecar does not intercept.
		// "disabled" keeps its clients in plaintext, which the port takes.
		return Labels{{Name: TLSModeLabel, Value: "disabled"}, {Name: SidecarInjectLabel, Value: "true"}}
	case !p.Monitoring.InMesh:
		return Labels{{Name: SidecarInjectLabel, Value: "false"}}
	}
	return nil
}

// SidecarInjectLabel is the pod label Istio's injector selects by.
const SidecarInjectLabel = "sidecar.istio.io/inject"

// TLSModeLabel is the pod label that tells meshed clients whether to speak
// Istio mTLS to the pod (istio/api label.SecurityTlsMode; the injector sets
// "istio" unless the pod carries it).
const TLSModeLabel = "security.istio.io/tlsMode"

// resolveFederation returns nil unless federation is enabled (and Istio
// metrics exist to aggregate).
func resolveFederation(p *v1alpha1.Profile) *Federation {
	f := p.Monitoring.Prometheus.Federation
	if f == nil || !f.Enabled || p.Mesh.Provider != v1alpha1.MeshIstio {
		return nil
	}
	targets := f.Targets
	if len(targets) == 0 {
		targets = []string{fmt.Sprintf("%s.%s.svc:9090", p.Monitoring.Prometheus.Name, p.Monitoring.Namespace)}
	}
	var sources []Peer
	for _, s := range externalPeers(f.Sources) {
		sources = append(sources, s.Peer)
	}
	return &Federation{Targets: targets, Metrics: IstioStandardMetrics, Sources: sources}
}

func remoteWrites(in []v1alpha1.RemoteWrite, namespace string) []RemoteWrite {
	var out []RemoteWrite
	for _, rw := range in {
		r := RemoteWrite{Name: rw.Name, URL: rw.URL, Headers: SortedLabels(rw.Headers), Endpoint: ResolveURL(rw.URL, rw.CIDRs, namespace)}
		if q := rw.Queue; q != nil {
			r.Capacity, r.MinShards, r.MaxShards = q.Capacity, q.MinShards, q.MaxShards
			r.MaxSamplesPerSend, r.BatchSendDeadline = q.MaxSamplesPerSend, q.BatchSendDeadline
		}
		out = append(out, r)
	}
	return out
}

func component(c v1alpha1.Component) Component {
	return Component{Namespace: c.Namespace, PodLabels: SortedLabels(c.PodLabels), Port: c.Port, Service: c.Service}
}

func externalLabels(p *v1alpha1.Profile) Labels {
	labels := maps.Clone(p.Monitoring.Prometheus.ExternalLabels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[ClusterLabel] = p.Cluster.Name
	return SortedLabels(labels)
}

// ClusterLabel is the external label that names the cluster on every
// series and alert Prometheus sends out (remote write, federation,
// Alertmanager): what a shared store, a ruler, the dashboards and
// Alertmanager's grouping tell clusters apart by.
const ClusterLabel = "cluster"

// ShardLabel is the external label that tells shards apart.
const ShardLabel = "shard"

// ShardExternalLabels are the external labels of shard i: the plan's, plus
// shard="i" when the targets are split.
func (p *Plan) ShardExternalLabels(i int) Labels {
	if p.Scrape.Shards <= 1 {
		return p.ExternalLabels
	}
	out := append(Labels{{Name: ShardLabel, Value: strconv.Itoa(i)}}, p.ExternalLabels...)
	slices.SortFunc(out, func(a, b Label) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func resolveTeams(in []v1alpha1.Team, strategy v1alpha1.ScrapeStrategy, reason string) []Team {
	teams := make([]Team, 0, len(in))
	for _, t := range in {
		team := Team{
			Name: t.Name, Namespaces: sortedCopy(t.Namespaces), Receiver: t.Alerting.Receiver,
			SeverityReceivers: SortedLabels(t.Alerting.SeverityReceivers),
			AlertLabels:       SortedLabels(t.Alerting.Labels),
			DisabledAlerts:    sortedCopy(t.Alerting.Disable), Overrides: overrides(t.Alerting.Overrides),
		}
		for _, s := range t.Services {
			team.Services = append(team.Services, resolveService(t.Name, s, strategy, reason))
		}
		slices.SortFunc(team.Services, func(a, b Service) int { return cmp.Compare(a.Name, b.Name) })
		teams = append(teams, team)
	}
	slices.SortFunc(teams, func(a, b Team) int { return cmp.Compare(a.Name, b.Name) })
	return teams
}

func resolveService(team string, s v1alpha1.Service, strategy v1alpha1.ScrapeStrategy, reason string) Service {
	out := Service{
		Team: team, Name: s.Name, Namespace: s.Namespace, Selector: SortedLabels(s.Selector),
		AppPort: s.Port, AppPath: s.Path, Job: team + "/" + s.Name,
		Endpoint: serviceEndpoint(strategy, s.Port, s.Path),
	}
	out.Why = serviceWhy(strategy, out, reason)
	if s.SLOs != nil {
		if a := s.SLOs.Availability; a != nil {
			out.SLOs.Availability = &AvailabilitySLO{Target: a.Target}
		}
		if l := s.SLOs.Latency; l != nil {
			out.SLOs.Latency = &LatencySLO{ThresholdMs: l.ThresholdMs, Target: l.Target}
		}
	}
	return out
}

// claimed lists the pods that dedicated jobs scrape, so the annotation-driven
// jobs can drop them.
func (r *resolver) claimed() []PodSelector {
	var out []PodSelector
	if r.plan.Mesh.Istio {
		out = append(out, PodSelector{Namespace: r.plan.Mesh.IstioNamespace, Labels: IstiodLabels})
	}
	for _, j := range r.plan.Jobs {
		switch j.Kind {
		case JobZtunnel, JobKubeStateMetrics, JobNodeExporter:
			out = append(out, PodSelector{Namespace: j.Namespaces[0], Labels: j.Selector})
		}
	}
	out = append(out, r.proxyClaimed()...)
	for _, s := range r.plan.ServiceTargets {
		out = append(out, PodSelector{Namespace: s.Namespace, Labels: s.Selector})
	}
	return out
}

// proxyClaimed are the pods whose proxy a dedicated job scrapes: the
// declared gateways (istio-gateways) and waypoints (istio-waypoints).
// Besides the annotation-driven jobs, envoy-stats drops them too: both
// carry an http-envoy-prom container port it would keep.
func (r *resolver) proxyClaimed() []PodSelector {
	var out []PodSelector
	for _, g := range r.plan.Mesh.Gateways {
		out = append(out, PodSelector{Namespace: g.Namespace, Labels: g.PodLabels})
	}
	for _, w := range r.plan.Mesh.Waypoints {
		out = append(out, PodSelector{Namespace: w.Namespace, Labels: w.PodLabels})
	}
	return out
}

// serviceTargets orders services for the team-services job: those without
// a selector first (they tag a whole namespace), then by team and name.
func serviceTargets(teams []Team) []Service {
	var out []Service
	for _, t := range teams {
		out = append(out, t.Services...)
	}
	slices.SortStableFunc(out, func(a, b Service) int {
		return cmp.Compare(min(len(a.Selector), 1), min(len(b.Selector), 1))
	})
	return out
}

// groupClaims puts claimed selectors with the same label keys into one
// group, in order of first appearance, so one relabel rule drops them all.
func groupClaims(claimed []PodSelector) []ClaimGroup {
	var groups []ClaimGroup
	index := map[string]int{}
	for _, c := range claimed {
		keys := c.Labels.Names()
		id := strings.Join(keys, "\x00")
		i, ok := index[id]
		if !ok {
			i = len(groups)
			index[id] = i
			groups = append(groups, ClaimGroup{Keys: keys})
		}
		groups[i].Matches = append(groups[i].Matches, c.Values())
	}
	return groups
}

// SortedLabels turns a map into labels sorted by name.
func SortedLabels(m map[string]string) Labels {
	if len(m) == 0 {
		return nil
	}
	out := make(Labels, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Label{Name: k, Value: m[k]})
	}
	return out
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(s))
}

func resolveNetwork(n v1alpha1.Network) Network {
	g := n.Calico.GlobalDeny
	policies := n.Engine
	if n.Stance == v1alpha1.StanceOpen {
		policies = ""
	}
	return Network{Stance: n.Stance, Engine: n.Engine, Policies: policies,
		DNS:                 Component{Namespace: n.DNS.Namespace, PodLabels: SortedLabels(n.DNS.PodLabels), Port: n.DNS.Port},
		DNSCIDRs:            sortedCopy(n.DNS.CIDRs),
		GrafanaIngress:      externalPeers(n.GrafanaIngress),
		AlertmanagerEgress:  externalPeers(n.AlertmanagerEgress),
		AlertmanagerIngress: externalPeers(n.AlertmanagerIngress),
		Calico: Calico{Order: n.Calico.Order, ManageDeny: g.Manage == nil || *g.Manage, DenyOrder: g.Order,
			Excluded: sortedCopy(g.ExcludedNamespaces)},
		ANPPriority: n.AdminNetworkPolicy.Priority, ManageBaseline: n.AdminNetworkPolicy.Baseline.Manage == nil || *n.AdminNetworkPolicy.Baseline.Manage,
	}
}

func externalPeers(in []v1alpha1.NetworkPeer) []ExternalPeer {
	var out []ExternalPeer
	for _, e := range in {
		ports := slices.Clone(e.Ports)
		slices.Sort(ports)
		out = append(out, ExternalPeer{Peer: Peer{Namespace: e.Namespace, Labels: SortedLabels(e.PodLabels), CIDRs: sortedCopy(e.CIDRs)},
			Ports: slices.Compact(ports)})
	}
	return out
}
