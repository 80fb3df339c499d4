package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/ruletest"
)

// TestTargetDownFiresBeforeTheTrafficItHides: when a job's targets stop
// answering, their request series end too, and IstioTrafficDropped would
// fire for the services they report. Alertmanager mutes it only while
// TargetDown fires (inhibit_rules are checked when a group is flushed), so
// TargetDown must fire clearly first: not within the 30s group_wait that
// would otherwise decide the race.
func TestTargetDownFiresBeforeTheTrafficItHides(t *testing.T) {
	p := testPlan(nil)
	out, err := Generate(p, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	var ruleFiles []string
	for _, f := range out {
		if strings.HasPrefix(f.Path, "prometheus/rules/") {
			path := filepath.Join(dir, filepath.Base(f.Path))
			require.NoError(t, os.WriteFile(path, f.Data, 0o644))
			ruleFiles = append(ruleFiles, path)
		}
	}
	var requests string
	for _, file := range Files(p) {
		for _, g := range file.Groups {
			for _, r := range g.Rules {
				if r.Alert == "IstioTrafficDropped" {
					requests = r.Test.Fire.Series[0].Series
				}
			}
		}
	}
	require.NotEmpty(t, requests)
	lset, err := parser.NewParser(parser.Options{}).ParseMetric(requests)
	require.NoError(t, err)
	up := labels.NewBuilder(lset).Set(labels.MetricName, "up").Keep(labels.MetricName, "job", "namespace", "pod", "instance", "team").Labels()
	require.NotEmpty(t, up.Get("job"))

	// The target answers for 90 minutes, then every scrape fails: up is 0
	// and the request counter goes stale, as Prometheus writes it.
	series := []ruletest.Series{
		{Series: requests, Values: "0+60x90 stale"},
		{Series: up.String(), Values: "1x90 0x60"},
		{Series: `up{job="kubelet", instance="10.0.0.2:10250"}`, Values: "1x150"},
	}
	first := map[string]float64{}
	require.NoError(t, ruletest.Evaluate(ruleFiles, series, 30*time.Second, 150*time.Minute, func(q ruletest.Query) {
		for _, alert := range []string{"TargetDown", "IstioTrafficDropped"} {
			v, err := q(`min_over_time(timestamp(ALERTS{alertname="` + alert + `", alertstate="firing"})[150m:30s])`)
			require.NoError(t, err)
			require.NotEmpty(t, v, "%s fires", alert)
			first[alert] = v[0].F
		}
	}))
	lead := time.Duration(first["IstioTrafficDropped"]-first["TargetDown"]) * time.Second
	require.GreaterOrEqual(t, lead, 2*time.Minute,
		"TargetDown fires at %.0fs, IstioTrafficDropped at %.0fs: the inhibition would depend on group_wait", first["TargetDown"], first["IstioTrafficDropped"])
}
