package plan

import (
	"fmt"
	"maps"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// Defaults of the kiali and tracing sections.
const (
	// TracingProviderName is the meshConfig.extensionProviders entry obsgen
	// writes and its Telemetry selects.
	TracingProviderName = "obsgen-tracing"
	// ClusterDomain completes Service host names for Istio, which wants a
	// fully qualified host in an extension provider's service.
	ClusterDomain = "cluster.local"
)

// TracingPort is the collector's default port of a protocol: OTLP over
// gRPC 4317, over HTTP 4318 (opentelemetry-collector receiver/otlpreceiver),
// Zipkin 9411 (istio.io docs/tasks/observability/distributed-tracing).
func TracingPort(p v1alpha1.TracingProtocol) int {
	switch p {
	case v1alpha1.TracingOTLPHTTP:
		return 4318
	case v1alpha1.TracingZipkin:
		return 9411
	}
	return 4317
}

// defaultKialiTracing fills the kiali and tracing sections' defaults that
// depend on other sections.
func defaultKialiTracing(p *v1alpha1.Profile) {
	k := &p.Kiali
	if k.Namespace == "" {
		k.Namespace = p.Mesh.IstioNamespace
	}
	// The operator's and the chart's pod label (kiali-operator
	// roles/default/kiali-deploy/templates/kubernetes/deployment.yaml).
	k.PodLabels = orLabels(k.PodLabels, "app.kubernetes.io/name", "kiali")
	// The kiali-operator chart's names (kiali/helm-charts kiali-operator).
	k.Operator.PodLabels = orLabels(k.Operator.PodLabels, "app.kubernetes.io/name", "kiali-operator")
	defaultComponent(&k.Operator, "kiali-operator", "kiali-operator", 0)
	t := &p.Tracing
	// The OpenTelemetry Collector chart's names (open-telemetry/
	// opentelemetry-helm-charts, release opentelemetry-collector).
	t.Collector.PodLabels = orLabels(t.Collector.PodLabels, "app.kubernetes.io/name", "opentelemetry-collector")
	defaultComponent(&t.Collector, p.Monitoring.Namespace, "opentelemetry-collector", TracingPort(t.Protocol))
}

func copyKialiTracing(p *v1alpha1.Profile, in *v1alpha1.Profile) {
	p.Kiali.PodLabels = maps.Clone(in.Kiali.PodLabels)
	p.Kiali.Ingress = append([]v1alpha1.NetworkPeer(nil), in.Kiali.Ingress...)
	p.Kiali.Operator.PodLabels = maps.Clone(in.Kiali.Operator.PodLabels)
	if in.Kiali.GrafanaToken != nil {
		tok := *in.Kiali.GrafanaToken
		p.Kiali.GrafanaToken = &tok
	}
	p.Tracing.Collector.PodLabels = maps.Clone(in.Tracing.Collector.PodLabels)
	p.Tracing.Backends = append([]v1alpha1.NetworkPeer(nil), in.Tracing.Backends...)
	if in.Tracing.SamplingPercentage != nil {
		v := *in.Tracing.SamplingPercentage
		p.Tracing.SamplingPercentage = &v
	}
	if in.Tracing.Query != nil {
		q := *in.Tracing.Query
		q.PodLabels = maps.Clone(q.PodLabels)
		q.Headers = maps.Clone(q.Headers)
		p.Tracing.Query = &q
	}
}

// Kiali is the resolved kiali section.
type Kiali struct {
	Install   v1alpha1.KialiInstall
	Namespace string
	PodLabels Labels
	Port      int
	Ingress   []ExternalPeer
	// Prometheus is what Kiali queries: the dashboards' data source (this
	// cluster's Prometheus, or the shared store with its tenant header),
	// located from Kiali's namespace.
	Prometheus Datasource
	// GrafanaURL is Grafana's in-cluster URL, set when Kiali links to the
	// dashboards (dashboards generated and kiali.grafanaURL given);
	// GrafanaExternalURL the browsers'.
	GrafanaURL, GrafanaExternalURL string
	// GrafanaToken is the Secret key of Kiali's Grafana token, or nil.
	GrafanaToken *v1alpha1.SecretKey
	// Operator is the Kiali operator (install: operator), else nil.
	Operator *Component
	// ScrapeInterval is Prometheus' scrape interval, which Kiali cannot
	// read from a store.
	ScrapeInterval string
	// OwnNetworkPolicy tells Kiali to keep the NetworkPolicy it ships:
	// only when obsgen writes none (the open stance).
	OwnNetworkPolicy bool
}

// Tracing is the resolved tracing section.
type Tracing struct {
	Protocol  v1alpha1.TracingProtocol
	Collector Component
	// Sampling is the percentage of requests traced.
	Sampling float64
	Backends []ExternalPeer
	Query    *TracingQuery
}

// TracingQuery is the tracing store's query service.
type TracingQuery struct {
	Provider         v1alpha1.TracingProvider
	URL, ExternalURL string
	Endpoint         NetEndpoint
	Headers          Labels
}

// CollectorHost is the collector Service's fully qualified name, as an
// extension provider's service wants it (mesh/v1alpha1/config.proto:
// "[<Namespace>/]<Hostname>", the FQDN of a Kubernetes Service).
func (t Tracing) CollectorHost() string {
	return fmt.Sprintf("%s.%s.svc.%s", t.Collector.Service, t.Collector.Namespace, ClusterDomain)
}

// UsesGRPC tells whether Kiali reads the query service over gRPC: Jaeger's
// gRPC query port 16685 (kiali/kiali tracing/client.go); Tempo and
// Jaeger's HTTP port are read over HTTP.
func (q TracingQuery) UsesGRPC() bool {
	return q.Provider == v1alpha1.TracingJaeger && q.Endpoint.Port == 16685
}

func resolveKiali(p *v1alpha1.Profile, d Dashboards) *Kiali {
	k := p.Kiali
	if !k.Enabled || p.Mesh.Provider != v1alpha1.MeshIstio {
		return nil
	}
	ds := d.Datasource
	ds.Endpoint = ResolveURL(ds.URL, p.Dashboards.Datasource.CIDRs, k.Namespace)
	out := &Kiali{Install: k.Install, Namespace: k.Namespace, PodLabels: SortedLabels(k.PodLabels), Port: k.Port,
		Ingress: externalPeers(k.Ingress), Prometheus: ds, GrafanaExternalURL: k.GrafanaURL, GrafanaToken: k.GrafanaToken,
		ScrapeInterval: p.Monitoring.Prometheus.ScrapeInterval, OwnNetworkPolicy: p.Network.Stance == v1alpha1.StanceOpen}
	g := p.Monitoring.Grafana
	if d.Any() && k.GrafanaURL != "" {
		out.GrafanaURL = k.GrafanaInternalURL
		if out.GrafanaURL == "" {
			out.GrafanaURL = fmt.Sprintf("http://%s.%s.svc:%d", g.Service, g.Namespace, g.Port)
		}
	}
	if k.Install == v1alpha1.KialiOperator {
		out.Operator = &Component{Namespace: k.Operator.Namespace, PodLabels: SortedLabels(k.Operator.PodLabels), Service: k.Operator.Service}
	}
	return out
}

func resolveTracing(p *v1alpha1.Profile) *Tracing {
	t := p.Tracing
	if !t.Enabled || p.Mesh.Provider != v1alpha1.MeshIstio {
		return nil
	}
	out := &Tracing{Protocol: t.Protocol, Collector: Component{Namespace: t.Collector.Namespace, PodLabels: SortedLabels(t.Collector.PodLabels),
		Port: t.Collector.Port, Service: t.Collector.Service}, Sampling: *t.SamplingPercentage, Backends: externalPeers(t.Backends)}
	if q := t.Query; q != nil {
		e := ResolveURL(q.URL, q.CIDRs, p.Kiali.Namespace)
		if e.InCluster {
			e.Peer.Labels = SortedLabels(q.PodLabels)
		}
		out.Query = &TracingQuery{Provider: q.Provider, URL: q.URL, ExternalURL: q.ExternalURL, Endpoint: e, Headers: SortedLabels(q.Headers)}
	}
	return out
}
