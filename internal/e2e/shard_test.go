package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// manyPods puts sidecar pods, annotated pods and service pods in every
// namespace of the example, and pods of every declared gateway and
// waypoint, so every pod job has targets to split.
func manyPods(ex example) []pod {
	var pods []pod
	ip := 0
	next := func() string { ip++; return fmt.Sprintf("10.%d.%d.%d", ip/65536, ip/256%256, ip%256) }
	proxy := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus"}
	for _, g := range ex.result.Plan.Mesh.Gateways {
		for i := range 4 {
			pods = append(pods, pod{namespace: g.Namespace, name: fmt.Sprintf("%s-%d", g.Name, i), ip: next(),
				labels: g.PodLabels.Map(), annotations: proxy, ports: map[string]int{"http-envoy-prom": 15090}})
		}
	}
	for _, w := range ex.result.Plan.Mesh.Waypoints {
		for i := range 4 {
			pods = append(pods, pod{namespace: w.Namespace, name: fmt.Sprintf("%s-%d", w.Name, i), ip: next(),
				labels: map[string]string{"gateway.networking.k8s.io/gateway-name": w.Name}, annotations: proxy,
				ports: map[string]int{"metrics": 15020, "http-envoy-prom": 15090}})
		}
	}
	for _, t := range ex.result.Plan.Teams {
		for _, ns := range t.Namespaces {
			for i := range 6 {
				ann := map[string]string{"sidecar.istio.io/status": "{}", "prometheus.io/scrape": "true", "prometheus.io/port": "9000"}
				pods = append(pods, pod{namespace: ns, name: fmt.Sprintf("p%d", i), ip: next(),
					labels: map[string]string{"app": fmt.Sprintf("other-%d", i)}, annotations: ann, ports: sidecarPorts})
			}
		}
		for _, s := range t.Services {
			for i := range 4 {
				labels := map[string]string{}
				for _, l := range s.Selector {
					labels[l.Name] = l.Value
				}
				pods = append(pods, pod{namespace: s.Namespace, name: fmt.Sprintf("%s-%d", s.Name, i), ip: next(),
					labels: labels, annotations: map[string]string{"sidecar.istio.io/status": "{}"},
					ports: map[string]int{"http": s.AppPort, "http-envoy-prom": 15090}})
			}
		}
	}
	return pods
}

// TestShardsSplitTargetsExactly: with N shards, every target the unsharded
// configuration scrapes is scraped by exactly one shard, and no shard
// scrapes anything else.
func TestShardsSplitTargetsExactly(t *testing.T) {
	for _, ex := range examples(t) {
		for _, shards := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/%d shards", ex.result.Plan.Name, shards), func(t *testing.T) {
				pods := manyPods(ex)
				whole := scrapedTargets(t, generateShard(t, ex, 1, 0), pods)
				require.NotEmpty(t, whole)
				for _, job := range []plan.JobKind{plan.JobGateways, plan.JobWaypoints} {
					if slices.ContainsFunc(ex.result.Plan.Jobs, func(j plan.Job) bool { return j.Kind == job }) {
						assert.True(t, slices.ContainsFunc(whole, func(s string) bool { return strings.HasPrefix(s, string(job)+" ") }),
							"%s has targets to split", job)
					}
				}
				owner := map[string]int{}
				for i := range shards {
					part := scrapedTargets(t, generateShard(t, ex, shards, i), pods)
					assert.NotEmpty(t, part, "shard %d scrapes nothing", i)
					for _, target := range part {
						if prev, dup := owner[target]; dup {
							t.Errorf("%s is scraped by shards %d and %d", target, prev, i)
						}
						owner[target] = i
					}
				}
				assert.Len(t, owner, len(whole), "the shards together scrape exactly the unsharded targets")
				for _, target := range whole {
					assert.Contains(t, owner, target)
				}
			})
		}
	}
}

// generateShard renders the example with the given shard count (and one
// federation target per shard, a dashboard data source that sees every
// shard and, without one, a remote write to a store whose ruler evaluates
// the rules that need every series, as validation requires) and loads the
// configuration of one shard.
func generateShard(t *testing.T, ex example, shards, shard int) *config.Config {
	t.Helper()
	res := exampleVariant(t, ex.result.Plan.Name, func(p *v1alpha1.Profile) {
		p.Monitoring.Prometheus.Shards = shards
		p.Dashboards.Datasource.URL = "http://thanos-query.monitoring.svc:9090"
		if shards > 1 && len(p.Monitoring.Prometheus.RemoteWrite) == 0 {
			p.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "thanos", URL: "http://thanos-receive.monitoring.svc:19291/api/v1/receive"}}
		}
		if f := p.Monitoring.Prometheus.Federation; f != nil && shards > 1 {
			federation := *f
			federation.Targets = nil
			for i := range shards {
				federation.Targets = append(federation.Targets, fmt.Sprintf("prometheus-%d.monitoring.svc:9090", i))
			}
			p.Monitoring.Prometheus.Federation = &federation
		}
	})
	cfg, err := config.Load(configOf(t, res, shard), promslog.NewNopLogger())
	require.NoError(t, err)
	if shards > 1 {
		assert.Equal(t, fmt.Sprint(shard), cfg.GlobalConfig.ExternalLabels.Get("shard"))
	}
	return cfg
}
