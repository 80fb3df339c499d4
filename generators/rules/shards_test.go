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
	ruleFiles := rulerFileOf(t, 6, "ClusterTargetsDropped")

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
	// From three shards to six at 60m: hashmod moves the targets between
	// shards, each of the first three holds half as many, none is lost.
	var resized []ruletest.Series
	for i := range 30 {
		l := func(shard int) string {
			return fmt.Sprintf(`up{cluster="c1", %s="%d", job="kubelet", instance="10.0.1.%d:10250"}`, plan.ShardLabel, shard, i)
		}
		if i%3 == i%6 {
			resized = append(resized, ruletest.Series{Series: l(i % 3), Values: "1x200"})
			continue
		}
		resized = append(resized, ruletest.Series{Series: l(i % 3), Values: "1x60"}, ruletest.Series{Series: l(i % 6), Values: "_x60 1x140"})
	}
	assert.Empty(t, firing(resized, 100*time.Minute), "a resize loses no target")
	assert.Empty(t, firing(targets("all", "60"), 200*time.Minute), "the whole cluster is silent: ClusterMetricsMissing's")
}

// TestIstiodDownOnALiveShardPagesWhileAnotherIsAway: a shard away keeps
// IstiodDown quiet only while istiod has no up series at all (its targets
// were on that shard); an istiod that a live shard scrapes as down pages.
func TestIstiodDownOnALiveShardPagesWhileAnotherIsAway(t *testing.T) {
	ruleFiles := rulerFileOf(t, 2, "IstiodDown")
	up := func(shard int, job, values string) ruletest.Series {
		return ruletest.Series{Series: fmt.Sprintf(`up{cluster="c1", %s="%d", job=%q, instance="10.0.%d.1:1"}`, plan.ShardLabel, shard, job, shard), Values: values}
	}
	firing := func(series ...ruletest.Series) bool {
		var n int
		require.NoError(t, ruletest.Evaluate(ruleFiles, series, time.Minute, 40*time.Minute, func(q ruletest.Query) {
			v, err := q(`ALERTS{alertname="IstiodDown", alertstate="firing"}`)
			require.NoError(t, err)
			n = len(v)
		}))
		return n > 0
	}
	// Shard 1 is away from 5m on.
	assert.True(t, firing(up(0, "kubelet", "1x40"), up(0, "istiod", "0x40"), up(1, "kubelet", "1x5")), "istiod down on the live shard")
	assert.False(t, firing(up(0, "kubelet", "1x40"), up(1, "istiod", "1x5"), up(1, "kubelet", "1x5")), "istiod's targets went with the shard away")
	assert.False(t, firing(up(0, "kubelet", "1x40"), up(0, "istiod", "1x40"), up(1, "kubelet", "1x40")), "istiod up")
}

// rulerFileOf writes the Mimir ruler's rule file that holds alert, for
// cluster c1 scraped by shards Prometheus servers, and returns its path.
func rulerFileOf(t *testing.T, shards int, alert string) []string {
	t.Helper()
	p := testPlan(func(in *v1alpha1.Profile) {
		in.Cluster.Name = "c1"
		in.Monitoring.Prometheus.Shards = shards
		in.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "mimir", URL: "http://mimir.mimir:8080/api/v1/push"}}
		in.Dashboards.Datasource.URL = "http://mimir.mimir:8080/prometheus"
	})
	out, err := Generate(p, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	var ruleFiles []string
	for _, f := range out {
		if strings.HasPrefix(f.Path, "ruler/rules/") && strings.Contains(string(f.Data), "alert: "+alert+"\n") {
			path := filepath.Join(dir, filepath.Base(f.Path))
			require.NoError(t, os.WriteFile(path, f.Data, 0o644))
			ruleFiles = append(ruleFiles, path)
		}
	}
	require.Len(t, ruleFiles, 1, "the ruler evaluates %s", alert)
	return ruleFiles
}

// TestAShardCutOffFromAlertmanagerIsSeenByTheRuler: with shards writing
// to Mimir, a shard that still remote-writes but cannot reach
// Alertmanager keeps its place in the shared heartbeat; the alerts on a
// server's own link to Alertmanager must come from the ruler, which
// sends by its own way, over the series the shard writes, and no longer
// from the servers, which could not send them.
func TestAShardCutOffFromAlertmanagerIsSeenByTheRuler(t *testing.T) {
	p := testPlan(func(in *v1alpha1.Profile) {
		in.Cluster.Name = "c1"
		in.Monitoring.Prometheus.Shards = 2
		in.Monitoring.Prometheus.RemoteWrite = []v1alpha1.RemoteWrite{{Name: "mimir", URL: "http://mimir.mimir:8080/api/v1/push"}}
		in.Dashboards.Datasource.URL = "http://mimir.mimir:8080/prometheus"
	})
	require.True(t, p.Rules.TwoEvaluators())
	out, err := Generate(p, nil)
	require.NoError(t, err)
	for _, alert := range []string{"PrometheusNotConnectedToAlertmanagers", "PrometheusErrorSendingAlertsToSomeAlertmanagers"} {
		var where []string
		for _, f := range out {
			if strings.Contains(string(f.Data), "alert: "+alert+"\n") {
				where = append(where, strings.SplitN(f.Path, "/", 2)[0]+"/"+filepath.Base(filepath.Dir(f.Path)))
			}
		}
		assert.ElementsMatch(t, []string{"ruler/rules", "ruler/mimir"}, where, alert)
	}
	ruleFiles := rulerFileOf(t, 2, "PrometheusNotConnectedToAlertmanagers")
	discovered := func(shard1 string) []ruletest.Series {
		return []ruletest.Series{
			{Series: fmt.Sprintf(`prometheus_notifications_alertmanagers_discovered{cluster="c1", %s="0", job="prometheus", namespace="monitoring", pod="prometheus-0"}`, plan.ShardLabel), Values: "1x60"},
			{Series: fmt.Sprintf(`prometheus_notifications_alertmanagers_discovered{cluster="c1", %s="1", job="prometheus", namespace="monitoring", pod="prometheus-1"}`, plan.ShardLabel), Values: shard1},
		}
	}
	firing := func(series []ruletest.Series) []string {
		var pods []string
		require.NoError(t, ruletest.Evaluate(ruleFiles, series, time.Minute, 50*time.Minute, func(q ruletest.Query) {
			v, err := q(`ALERTS{alertname="PrometheusNotConnectedToAlertmanagers", alertstate="firing"}`)
			require.NoError(t, err)
			for _, s := range v {
				pods = append(pods, s.Metric.Get("pod"))
			}
		}))
		return pods
	}
	assert.Equal(t, []string{"prometheus-1"}, firing(discovered("1x20 0x40")), "shard 1 lost Alertmanager at 20m")
	assert.Empty(t, firing(discovered("1x60")))

	// Without a ruler the servers evaluate them, as before.
	single, err := Generate(testPlan(nil), nil)
	require.NoError(t, err)
	found := false
	for _, f := range single {
		found = found || (strings.HasPrefix(f.Path, "prometheus/rules/") && strings.Contains(string(f.Data), "alert: PrometheusNotConnectedToAlertmanagers\n"))
	}
	assert.True(t, found, "a lone server evaluates its own link alerts")
}
