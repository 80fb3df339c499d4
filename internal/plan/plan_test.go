package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

func minimal() *v1alpha1.Profile {
	return &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind,
		Metadata: v1alpha1.Metadata{Name: "c1"},
		Teams: []v1alpha1.Team{{Name: "b-team", Namespaces: []string{"b2", "b1"},
			Services: []v1alpha1.Service{{Name: "z", Namespace: "b1", Port: 8080}, {Name: "a", Namespace: "b2", Port: 9090, Selector: map[string]string{"app": "a"}}}},
			{Name: "a-team", Namespaces: []string{"a"}}}}
}

func ptr[T any](v T) *T { return &v }

func TestChooseStrategy(t *testing.T) {
	tests := map[string]struct {
		mesh    v1alpha1.Mesh
		inMesh  bool
		want    v1alpha1.ScrapeStrategy
		problem bool
	}{
		"no mesh scrapes directly": {
			mesh: v1alpha1.Mesh{Provider: v1alpha1.MeshNone}, want: v1alpha1.StrategyDirect},
		"STRICT sidecars with merging on Istio 1.31 scrape the mTLS listener": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict}, want: v1alpha1.StrategySecurePort},
		"STRICT sidecars with merging before Istio 1.31 use :15020": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, Version: "1.30"}, want: v1alpha1.StrategyMerged},
		"PERMISSIVE sidecars with merging use :15020": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSPermissive}, want: v1alpha1.StrategyMerged},
		"a patch release counts as its minor": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, Version: "1.31.4"}, want: v1alpha1.StrategySecurePort},
		"secure-port needs Istio 1.31": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, Version: "1.29", ScrapeStrategy: v1alpha1.StrategySecurePort}, want: v1alpha1.StrategySecurePort, problem: true},
		"secure-port needs metrics merging": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: ptr(false), ScrapeStrategy: v1alpha1.StrategySecurePort}, want: v1alpha1.StrategySecurePort, problem: true},
		"secure-port needs sidecars": {
			mesh: v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient, MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategySecurePort}, want: v1alpha1.StrategySecurePort, problem: true},
		"secure-port works under PERMISSIVE too (the port is outside capture)": {
			mesh: v1alpha1.Mesh{ScrapeStrategy: v1alpha1.StrategySecurePort}, want: v1alpha1.StrategySecurePort},
		"sidecars, STRICT, no merging need Istio certificates": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: ptr(false)}, want: v1alpha1.StrategyIstioCerts},
		"sidecars, PERMISSIVE, no merging scrape plaintext": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSPermissive, MetricsMerging: ptr(false)}, want: v1alpha1.StrategyDirect},
		"sidecars, DISABLE, no merging scrape plaintext": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSDisable, MetricsMerging: ptr(false)}, want: v1alpha1.StrategyDirect},
		"ambient STRICT with Prometheus enrolled scrapes through ztunnel": {
			mesh: v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient, MTLS: v1alpha1.MTLSStrict}, inMesh: true, want: v1alpha1.StrategyDirect},
		"ambient STRICT with Prometheus outside opens metrics ports per workload": {
			mesh: v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient, MTLS: v1alpha1.MTLSStrict}, want: v1alpha1.StrategyPermissivePort},
		"ambient PERMISSIVE scrapes plaintext": {
			mesh: v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient}, want: v1alpha1.StrategyDirect},
		"an explicit strategy is kept": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyPermissivePort}, want: v1alpha1.StrategyPermissivePort},
		"istio-certs cannot work under PERMISSIVE": {
			mesh: v1alpha1.Mesh{ScrapeStrategy: v1alpha1.StrategyIstioCerts}, want: v1alpha1.StrategyIstioCerts, problem: true},
		"merged cannot work without merging": {
			mesh: v1alpha1.Mesh{ScrapeStrategy: v1alpha1.StrategyMerged, MetricsMerging: ptr(false)}, want: v1alpha1.StrategyMerged, problem: true},
		"direct cannot work against STRICT sidecars": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyDirect}, want: v1alpha1.StrategyDirect, problem: true},
		"direct cannot work against STRICT ztunnel from outside the mesh": {
			mesh: v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient, MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyDirect}, want: v1alpha1.StrategyDirect, problem: true},
		"permissive-port is only for STRICT": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSDisable, ScrapeStrategy: v1alpha1.StrategyPermissivePort}, want: v1alpha1.StrategyPermissivePort, problem: true},
		"without a mesh only direct works": {
			mesh: v1alpha1.Mesh{Provider: v1alpha1.MeshNone, ScrapeStrategy: v1alpha1.StrategyMerged}, want: v1alpha1.StrategyMerged, problem: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := minimal()
			in.Mesh, in.Monitoring.InMesh = tc.mesh, tc.inMesh
			p := WithDefaults(in)
			got, reason := ChooseStrategy(p)
			assert.Equal(t, tc.want, got)
			assert.NotEmpty(t, reason)
			problem, hint := StrategyProblem(p, got)
			assert.Equal(t, tc.problem, problem != "", "problem %q", problem)
			assert.Equal(t, tc.problem, hint != "", "hint %q", hint)
		})
	}
}

func TestResolveAppliesDefaultsAndSorts(t *testing.T) {
	in := minimal()
	p := Resolve(in)
	assert.Equal(t, "c1", p.Cluster.Name, "cluster name defaults to metadata.name")
	assert.Equal(t, 443, p.Cluster.APIServerPort)
	assert.Equal(t, "monitoring", p.Monitoring.Namespace)
	assert.Equal(t, "30s", p.Scrape.Interval)
	assert.Equal(t, v1alpha1.StrategyMerged, p.Scrape.Strategy, "Istio with merging on is the default")
	assert.True(t, p.Monitoring.RawFlavour)
	assert.False(t, p.Monitoring.OperatorFlavour)
	assert.Equal(t, Component{Namespace: "monitoring", Port: 9093, Service: "alertmanager-operated",
		PodLabels: Labels{{Name: "app.kubernetes.io/name", Value: "alertmanager"}}}, p.Monitoring.Alertmanager)
	require.Len(t, p.Teams, 2)
	assert.Equal(t, "a-team", p.Teams[0].Name, "teams sorted")
	assert.Equal(t, []string{"b1", "b2"}, p.Teams[1].Namespaces, "namespaces sorted")
	assert.Equal(t, "a", p.Teams[1].Services[0].Name, "services sorted")
	assert.Equal(t, "b-team", p.Teams[1].Receiver, "receiver defaults to the team name")
	assert.Equal(t, "/metrics", p.Teams[1].Services[1].AppPath)
	assert.Equal(t, Labels{{Name: "cluster", Value: "c1"}}, p.ExternalLabels)
	assert.Empty(t, in.Monitoring.Namespace, "Resolve must not change its input")
	assert.Nil(t, in.Mesh.MetricsMerging, "Resolve must not change its input")
}

func TestJobsFollowTheStrategy(t *testing.T) {
	kinds := func(p *Plan) []JobKind {
		var out []JobKind
		for _, j := range p.Jobs {
			out = append(out, j.Kind)
		}
		return out
	}
	platform := []JobKind{JobAPIServers, JobKubelet, JobCAdvisor, JobKubeStateMetrics, JobNodeExporter, JobPrometheus, JobAlertmanager}
	tests := map[string]struct {
		mesh v1alpha1.Mesh
		want []JobKind
		svc  Endpoint
	}{
		"merged scrapes sidecars on 15020 and never 15090 as well": {
			mesh: v1alpha1.Mesh{},
			want: append(platform, JobIstiod, JobIstioMerged, JobPods, JobTeamServices),
			svc:  Endpoint{Port: 15020, Path: "/stats/prometheus", Scheme: "http"},
		},
		"istio-certs adds the secure pod job and TLS service jobs": {
			mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: ptr(false)},
			want: append(platform, JobIstiod, JobEnvoyStats, JobPods, JobPodsIstioSecure, JobTeamServices),
			svc:  Endpoint{Port: 9090, Path: "/metrics", Scheme: "https", IstioTLS: true},
		},
		"ambient scrapes ztunnel and has no sidecar jobs": {
			mesh: v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient},
			want: append(platform, JobIstiod, JobZtunnel, JobPods, JobTeamServices),
			svc:  Endpoint{Port: 9090, Path: "/metrics", Scheme: "http"},
		},
		"no mesh has no Istio jobs": {
			mesh: v1alpha1.Mesh{Provider: v1alpha1.MeshNone},
			want: append(platform, JobPods, JobTeamServices),
			svc:  Endpoint{Port: 9090, Path: "/metrics", Scheme: "http"},
		},
	}
	t.Run("agent mode sends no alerts, so Alertmanager is not scraped", func(t *testing.T) {
		in := minimal()
		in.Monitoring.Prometheus.Mode = v1alpha1.ModeAgent
		assert.NotContains(t, kinds(Resolve(in)), JobAlertmanager)
		assert.Contains(t, kinds(Resolve(in)), JobPrometheus)
	})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := minimal()
			in.Mesh = tc.mesh
			p := Resolve(in)
			assert.Equal(t, tc.want, kinds(p))
			assert.Equal(t, tc.svc, p.Teams[1].Services[0].Endpoint)
			last := p.Jobs[len(p.Jobs)-1]
			assert.Equal(t, "team-services", last.Name)
			assert.Equal(t, Endpoint{Scheme: tc.svc.Scheme, IstioTLS: tc.svc.IstioTLS}, last.Endpoint, "the job and the services agree on scheme and TLS")
			assert.Equal(t, "b-team/a", p.Teams[1].Services[0].Job)
			for _, j := range p.Jobs {
				assert.NotEmpty(t, j.Why, "job %s has no explanation", j.Name)
			}
		})
	}
}

func TestIstioCertsWiresThePrometheusPod(t *testing.T) {
	in := minimal()
	in.Mesh = v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: ptr(false)}
	p := Resolve(in)
	require.NotNil(t, p.Scrape.TLS)
	assert.Equal(t, "/etc/prom-certs/root-cert.pem", p.Scrape.TLS.CAFile)
	ann := map[string]string{}
	for _, l := range p.Monitoring.Prometheus.PodAnnotations {
		ann[l.Name] = l.Value
	}
	assert.Equal(t, "holdApplicationUntilProxyStarts: true\nproxyMetadata:\n  OUTPUT_CERTS: /etc/istio-output-certs\n", ann["proxy.istio.io/config"],
		"Prometheus starts once the sidecar has written the certificates")
	assert.NotContains(t, ann, "sidecar.istio.io/inject", "an annotation alone never calls the injector's webhook")
	assert.Equal(t, Labels{{Name: "security.istio.io/tlsMode", Value: "disabled"}, {Name: "sidecar.istio.io/inject", Value: "true"}}, p.Monitoring.Prometheus.MeshPodLabels,
		"the injector's objectSelector matches the label (mutatingwebhook.yaml); meshed clients speak plaintext to the uncaptured ports (cluster_tls.go)")
	assert.Equal(t, "", ann["traffic.sidecar.istio.io/includeOutboundIPRanges"])
	assert.Contains(t, ann, "traffic.sidecar.istio.io/includeInboundPorts")

	in.Mesh = v1alpha1.Mesh{}
	assert.Equal(t, Labels{{Name: "sidecar.istio.io/inject", Value: "false"}}, Resolve(in).Monitoring.Prometheus.MeshPodLabels,
		"outside the mesh Prometheus must not get a sidecar")
	assert.Empty(t, Resolve(in).Monitoring.Prometheus.PodAnnotations)
}

func TestClaimedPodsAreDroppedFromAnnotationJobs(t *testing.T) {
	p := Resolve(minimal())
	assert.Contains(t, p.Claimed, PodSelector{Namespace: "b2", Labels: Labels{{Name: "app", Value: "a"}}})
	assert.Contains(t, p.Claimed, PodSelector{Namespace: "b1"}, "a service without selector claims its namespace")
	assert.Contains(t, p.Claimed, PodSelector{Namespace: "istio-system", Labels: Labels{{Name: "app", Value: "istiod"}}})
	assert.Equal(t, []string{"b2", "app-value"}, PodSelector{Namespace: "b2", Labels: Labels{{Name: "app", Value: "app-value"}}}.Values())
	assert.Equal(t, []ClaimGroup{
		{Keys: []string{"app"}, Matches: [][]string{{"istio-system", "istiod"}, {"b2", "a"}}},
		{Keys: []string{"app.kubernetes.io/name"}, Matches: [][]string{{"monitoring", "kube-state-metrics"}, {"monitoring", "prometheus-node-exporter"}}},
		{Keys: []string{}, Matches: [][]string{{"b1"}}},
	}, p.ClaimGroups, "one drop rule per set of label keys")
	assert.Equal(t, "z", p.ServiceTargets[0].Name, "services without a selector are tagged first, so selectors win")
}

func TestGatewaysAndWaypointsHaveJobsOfTheirOwn(t *testing.T) {
	job := func(p *Plan, kind JobKind) *Job {
		for i := range p.Jobs {
			if p.Jobs[i].Kind == kind {
				return &p.Jobs[i]
			}
		}
		return nil
	}
	gw := v1alpha1.Gateway{Name: "public", Namespace: "istio-ingress", PodLabels: map[string]string{"istio": "ingress"}, Ports: []int{8080}}
	pods := PodSelector{Namespace: "istio-ingress", Labels: Labels{{Name: "istio", Value: "ingress"}}}
	for merging, port := range map[bool]int{true: 15020, false: 15090} {
		in := minimal()
		in.Mesh = v1alpha1.Mesh{MTLS: v1alpha1.MTLSPermissive, MetricsMerging: ptr(merging), Gateways: []v1alpha1.Gateway{gw}}
		p := Resolve(in)
		j := job(p, JobGateways)
		require.NotNil(t, j, "merging %v", merging)
		assert.Equal(t, Endpoint{Port: port, Path: "/stats/prometheus", Scheme: "http"}, j.Endpoint, "merging %v: the chart's 15020, or Envoy's 15090", merging)
		assert.Equal(t, []string{"istio-ingress"}, j.Namespaces)
		assert.Equal(t, GatewayTargetLabel, j.TargetLabel)
		assert.Equal(t, []JobTarget{{Name: "public", Pods: pods}}, j.Targets)
		assert.Contains(t, p.Claimed, pods, "the annotation-driven jobs drop it")
		assert.Equal(t, []ClaimGroup{{Keys: []string{"istio"}, Matches: [][]string{{"istio-ingress", "ingress"}}}}, p.ProxyClaimGroups,
			"envoy-stats drops it, and not the team services' pods")
	}
	// Under secure-port the gateway's plaintext ports answer localhost only
	// (METRICS_LOCALHOST_ACCESS_ONLY reaches injected gateways through
	// proxyMetadata): the job takes the mTLS listener with Istio certificates.
	spIn := minimal()
	spIn.Mesh = v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, Gateways: []v1alpha1.Gateway{gw}}
	sp := Resolve(spIn)
	require.Equal(t, v1alpha1.StrategySecurePort, sp.Scrape.Strategy)
	require.NotNil(t, job(sp, JobGateways))
	assert.Equal(t, Endpoint{Port: PortSecureMergedMetrics, Path: "/stats/prometheus", Scheme: "https", IstioTLS: true}, job(sp, JobGateways).Endpoint)
	assert.Equal(t, Endpoint{Port: PortSecureMergedMetrics, Path: "/stats/prometheus", Scheme: "https", IstioTLS: true}, job(sp, JobIstioMerged).Endpoint)
	assert.Nil(t, job(sp, JobEnvoyStats), "15090 answers localhost only")
	require.NotNil(t, sp.Scrape.TLS, "Prometheus presents Istio certificates")

	ambient := func(ns string) *Plan {
		in := minimal()
		in.Mesh = v1alpha1.Mesh{DataPlane: v1alpha1.DataPlaneAmbient, MTLS: v1alpha1.MTLSStrict,
			Waypoints: []v1alpha1.Waypoint{{Name: "wp", Namespace: ns, Namespaces: []string{"b1"}}}}
		in.Monitoring.InMesh = true
		in.Network.Stance = v1alpha1.StanceDefaultDeny
		return Resolve(in)
	}
	flows := func(p *Plan) map[string]Flow {
		out := map[string]Flow{}
		for _, f := range p.Flows {
			out[f.ID] = f
		}
		return out
	}
	p := ambient("b1")
	j := job(p, JobWaypoints)
	require.NotNil(t, j)
	assert.Equal(t, Endpoint{Port: 15020, Path: "/stats/prometheus", Scheme: "http"}, j.Endpoint)
	assert.True(t, j.CarriesTeam(), "a waypoint in a team's namespace is that team's")
	wp := Peer{Namespace: "b1", Labels: Labels{{Name: WaypointLabel, Value: "wp"}}}
	scrape, ok := flows(p)["scrape-waypoint-b1-wp"]
	require.True(t, ok)
	assert.Equal(t, wp, scrape.To)
	assert.Equal(t, tcp(15020), scrape.Ports, "a waypoint is not enrolled: the scrape is not tunnelled, even from an enrolled Prometheus")
	assert.True(t, scrape.SourceSide() && scrape.DestinationSide())
	assert.NotContains(t, flows(p), "waypoint-b1-wp-hbone-in", "b1's hbone-in carries it")

	f := flows(ambient("istio-system"))
	in, out := f["waypoint-istio-system-wp-hbone-in"], f["waypoint-istio-system-wp-to-b1"]
	assert.Equal(t, Flow{ID: in.ID, From: Peer{Any: true}, To: Peer{Namespace: "istio-system", Labels: wp.Labels}, Ports: tcp(15008), Only: SideDestination,
		Why: in.Why, Source: "mesh.waypoints[0]", Ref: refWaypointHBONE}, in)
	assert.Equal(t, Flow{ID: out.ID, From: Peer{Namespace: "istio-system", Labels: wp.Labels}, To: Peer{Namespace: "b1"}, Ports: tcp(15008), Only: SideSource,
		Why: out.Why, Source: "mesh.waypoints[0].namespaces", Ref: refWaypointHBONE}, out)
}
