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
