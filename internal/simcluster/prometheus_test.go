package simcluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/testtools"
)

// smokeConfig scrapes the pods of namespace demo; a pod annotated
// example.com/scheme: https is scraped over mutual TLS with the Istio-style
// client certificate, verified against the test CA.
const smokeConfig = `
global:
  scrape_interval: 30s
scrape_configs:
  - job_name: demo
    tls_config:
      ca_file: /etc/prom-certs/root-cert.pem
      cert_file: /etc/prom-certs/cert-chain.pem
      key_file: /etc/prom-certs/key.pem
    kubernetes_sd_configs:
      - role: pod
        namespaces:
          names: [demo]
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_example_com_scheme]
        regex: (https?)
        target_label: __scheme__
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
`

func TestPrometheusScrapesPlainAndMutualTLSPods(t *testing.T) {
	testtools.Find(t, "prometheus")
	t.Parallel()
	start := time.Now()
	c := New(t)
	plain := c.AddPod(Pod{Namespace: "demo", Name: "plain-1",
		Containers: []Container{{Name: "app", Ports: []Port{{"http", 8080}}}},
		Serve:      []Listener{{Port: 8080}}})
	secure := c.AddPod(Pod{Namespace: "demo", Name: "secure-1",
		Annotations: map[string]string{"example.com/scheme": "https"},
		Containers:  []Container{{Name: "app", Ports: []Port{{"http", 8080}}}},
		Serve:       []Listener{{Port: 8080, Mode: MutualTLS}}})
	c.AddPod(Pod{Namespace: "other", Name: "elsewhere-1",
		Containers: []Container{{Name: "app", Ports: []Port{{"http", 8080}}}},
		Serve:      []Listener{{Port: 8080}}})
	c.Start()

	targets := RunPrometheus(t, c.RewriteConfig(smokeConfig))
	t.Logf("targets after %s:\n%s", time.Since(start).Round(time.Millisecond), targets)
	for _, r := range c.Requests() {
		t.Log("API:", r)
	}

	assert.Equal(t, []string{
		fmt.Sprintf("demo http://%s:8080/metrics up namespace=demo pod=plain-1", plain),
		fmt.Sprintf("demo https://%s:8080/metrics up namespace=demo pod=secure-1", secure),
	}, podLines(targets))
	assert.Contains(t, c.Scrapes(), Scrape{Addr: secure + ":8080", Path: "/metrics", Transport: "mtls",
		Count: scrapeCount(c, secure+":8080")})
}

// podLines renders the targets with only the labels the smoke config sets.
func podLines(ts Targets) []string {
	var out []string
	for _, t := range ts.Active {
		out = append(out, fmt.Sprintf("%s %s %s namespace=%s pod=%s", t.Job(), t.ScrapeURL, t.Health,
			t.DiscoveredLabels["__meta_kubernetes_namespace"], t.Labels["pod"]))
	}
	return out
}

func scrapeCount(c *Cluster, addr string) int {
	for _, s := range c.Scrapes() {
		if s.Addr == addr {
			return s.Count
		}
	}
	return 0
}

// everyRoleConfig uses the roles and authentication of the generated jobs:
// node (kubelet), endpoints (API server, istiod), endpointslice and service.
const everyRoleConfig = `
scrape_configs:
  - job_name: kubelet
    scheme: https
    metrics_path: /metrics/cadvisor
    authorization:
      credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token
    tls_config:
      ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
      insecure_skip_verify: true
    kubernetes_sd_configs: [{role: node}]
    relabel_configs:
      - source_labels: [__meta_kubernetes_node_name]
        target_label: node
  - job_name: apiservers
    scheme: https
    authorization:
      credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token
    tls_config:
      ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    kubernetes_sd_configs: [{role: endpoints, namespaces: {names: [default]}}]
    relabel_configs:
      - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpoint_port_name]
        action: keep
        regex: kubernetes;https
  - job_name: istiod
    kubernetes_sd_configs: [{role: endpoints, namespaces: {names: [istio-system]}}]
    relabel_configs:
      - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpoint_port_name]
        action: keep
        regex: istiod;http-monitoring
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
  - job_name: istiod-slices
    kubernetes_sd_configs: [{role: endpointslice, namespaces: {names: [istio-system]}}]
    relabel_configs:
      - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpointslice_port_name]
        action: keep
        regex: istiod;http-monitoring
  - job_name: services
    metrics_path: /probe
    kubernetes_sd_configs: [{role: service}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__address__]
        target_label: instance
      - target_label: __address__
        replacement: PROBER
      - source_labels: [__meta_kubernetes_service_name]
        target_label: service
`

func TestPrometheusDiscoversEveryRole(t *testing.T) {
	testtools.Find(t, "prometheus")
	t.Parallel()
	start := time.Now()
	c := New(t)
	node := c.AddNode(Node{Name: "node-1"})
	api := c.AddAPIServer()
	istiod := c.AddPod(Pod{Namespace: "istio-system", Name: "istiod-1", Node: "node-1",
		Labels:     map[string]string{"app": "istiod"},
		Containers: []Container{{Name: "discovery", Ports: []Port{{"http-debug", 8080}, {"http-monitoring", 15014}}}},
		Serve:      []Listener{{Port: 15014}}})
	c.AddService(Service{Namespace: "istio-system", Name: "istiod", Selector: map[string]string{"app": "istiod"},
		Ports: []ServicePort{{Name: "grpc-xds", Port: 15010}, {Name: "http-monitoring", Port: 15014}}})
	prober := c.AllocateIP()
	c.Serve(prober, Listener{Port: 9115, Paths: []string{"/probe"}})
	c.Start()

	cfg := strings.ReplaceAll(everyRoleConfig, "PROBER", prober+":9115")
	p := StartPrometheus(t, c.RewriteConfig(cfg))
	targets := p.WaitForTargets(t, DefaultTimeout, DefaultSettle)
	t.Logf("targets after %s:\n%s", time.Since(start).Round(time.Millisecond), targets)
	paths := map[string]bool{}
	for _, r := range c.Requests() {
		paths[r.Method+" "+r.Path+" "+strings.Join(sortedQueryKeys(r), ",")] = true
	}
	t.Logf("API requests: %v", paths)

	assert.Equal(t, []string{
		fmt.Sprintf("apiservers https://%s:6443/metrics up", api),
		fmt.Sprintf("istiod http://%s:15014/metrics up pod=istiod-1", istiod),
		fmt.Sprintf("istiod-slices http://%s:15014/metrics up", istiod),
		fmt.Sprintf("kubelet https://%s:10250/metrics/cadvisor up node=node-1", node),
		fmt.Sprintf("services http://%s:9115/probe?target=istiod.istio-system.svc%%3A15010 up service=istiod", prober),
		fmt.Sprintf("services http://%s:9115/probe?target=istiod.istio-system.svc%%3A15014 up service=istiod", prober),
		fmt.Sprintf("services http://%s:9115/probe?target=kubernetes.default.svc%%3A443 up service=kubernetes", prober),
	}, targets.Lines())
	assert.Positive(t, targets.DroppedByPool["istiod"], "the other endpoint ports are dropped")

	vec, err := p.Query(context.Background(), `sim_up{job="kubelet"}`)
	require.NoError(t, err)
	require.Len(t, vec, 1)
	assert.Equal(t, "tls", string(vec[0].Metric["transport"]))
}

func sortedQueryKeys(r Request) []string { return slices.Sorted(maps.Keys(r.Query)) }
