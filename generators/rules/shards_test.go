package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/ruletest"
)

// TestADeadShardOfSixIsSeen: with six shards writing to Mimir, one shard
// dying takes a sixth of the cluster's targets, fewer than the fifth a
// cluster-wide count notices. The ruler's rules, run as Prometheus runs
// them over what the shards would have written (each series with its
// shard external label), must page for that shard; and stay quiet while
// every shard sends, or when the whole cluster is silent (which is
// ClusterMetricsMissing's page).
func TestADeadShardOfSixIsSeen(t *testing.T) {
	p := testPlan(func(in *v1alpha1.Profile) {
		in.Cluster.Name = "c1"
		in.Monitoring.Prometheus.Shards = 6
		in.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "mimir", URL: "http://mimir.mimir:8080/api/v1/push"}}
		in.Dashboards.Datasource.URL = "http://mimir.mimir:8080/prometheus"
	})
	out, err := Generate(p, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	var ruleFiles []string
	for _, f := range out {
		if strings.HasPrefix(f.Path, "ruler/rules/") && strings.Contains(string(f.Data), "alert: ClusterTargetsDropped") {
			path := filepath.Join(dir, filepath.Base(f.Path))
			require.NoError(t, os.WriteFile(path, f.Data, 0o644))
			ruleFiles = append(ruleFiles, path)
		}
	}
	require.Len(t, ruleFiles, 1, "the ruler evaluates ClusterTargetsDropped")

	targets := func(dead string, deadAt string) []ruletest.Series {
		var s []ruletest.Series
		for shard := range 6 {
			for i := range 5 {
				values := "1x200"
				if fmt.Sprint(shard) == dead || dead == "all" {
					values = "1x" + deadAt
				}
				s = append(s, ruletest.Series{
					Series: fmt.Sprintf(`up{cluster="c1", %s="%d", job="kubelet", instance="10.0.%d.%d:10250"}`, plan.ShardLabel, shard, shard, i),
					Values: values,
				})
			}
		}
		return s
	}
	firing := func(series []ruletest.Series, at time.Duration) []string {
		var shards []string
		require.NoError(t, ruletest.Evaluate(ruleFiles, series, time.Minute, at, func(q ruletest.Query) {
			v, err := q(`ALERTS{alertname="ClusterTargetsDropped", alertstate="firing"}`)
			require.NoError(t, err)
			for _, s := range v {
				shards = append(shards, s.Metric.Get(plan.ShardLabel))
			}
		}))
		return shards
	}
	assert.Equal(t, []string{"3"}, firing(targets("3", "60"), 100*time.Minute), "shard 3 stopped at 60m")
	assert.Equal(t, []string{"3"}, firing(targets("3", "60"), 200*time.Minute), "and it still pages once its last series are over an hour old")
	assert.Empty(t, firing(targets("", ""), 100*time.Minute), "every shard sends")
	assert.Empty(t, firing(targets("all", "60"), 200*time.Minute), "the whole cluster is silent: ClusterMetricsMissing's")
}
