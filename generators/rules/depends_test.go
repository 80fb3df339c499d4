package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/plan"
)

// TestJobDependentsFollowTheReporter: Istio's proxies report requests as
// the client or the server by kind (istio.io docs/reference/config/metrics,
// "Reporter"; istio pilot/pkg/model/telemetry.go): a gateway only as
// "source", a waypoint only as "waypoint", sidecars as "source" or
// "destination". An alert whose selector names a reporter reads only the
// jobs that can produce it; one without reads every job of the metric.
func TestJobDependentsFollowTheReporter(t *testing.T) {
	p := &plan.Plan{Jobs: []plan.Job{
		{Name: "envoy-stats", Kind: plan.JobEnvoyStats},
		{Name: "istio-gateways", Kind: plan.JobGateways},
		{Name: "istio-waypoints", Kind: plan.JobWaypoints},
	}}
	alert := func(name, expr string) Rule { return Rule{Alert: name, Expr: expr} }
	files := []File{{Name: "x", Groups: []Group{{Name: "x", Rules: []Rule{
		{Record: "dest:rate5m", Expr: `sum(rate(istio_requests_total{reporter="destination"}[5m]))`},
		alert("Destination", `dest:rate5m > 1`),
		alert("Source", `sum(rate(istio_requests_total{reporter="source"}[5m])) > 1`),
		alert("Waypoint", `sum(rate(istio_requests_total{reporter="waypoint"}[5m])) > 1`),
		alert("Any", `sum(rate(istio_requests_total[5m])) > 1`),
		alert("GatewayOnly", `sum(rate(istio_requests_total{job="istio-gateways", reporter="source"}[5m])) > 1`),
	}}}}}
	deps, err := JobDependents(p, files)
	require.NoError(t, err)
	assert.Equal(t, []string{"Any", "Destination", "Source"}, deps["envoy-stats"])
	assert.Equal(t, []string{"Any", "GatewayOnly", "Source"}, deps["istio-gateways"])
	assert.Equal(t, []string{"Any", "Waypoint"}, deps["istio-waypoints"])
}

// TestTargetDownMutesNoAlertMissingDataCanOnlyHide: an alert that fires on
// a value its targets' own series show (plaintext seen, a certificate's
// expiry, a pod's own scrape failures) can be hidden by a target that is
// down, never raised; TargetDown must not mute it, or a healthy replica's
// finding is lost while another replica is down.
func TestTargetDownMutesNoAlertMissingDataCanOnlyHide(t *testing.T) {
	p := testPlan(nil)
	files := Files(p)
	deps, err := JobDependents(p, files)
	require.NoError(t, err)
	var presence []string
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Presence {
					presence = append(presence, r.Alert)
				}
			}
		}
	}
	for _, want := range []string{"IstioRootCertificateExpiring", "IstioWorkloadCertificateExpiring"} {
		assert.Contains(t, presence, want)
	}
	for job, alerts := range deps {
		for _, a := range presence {
			assert.NotContains(t, alerts, a, "TargetDown of %s mutes %s", job, a)
		}
	}
}
