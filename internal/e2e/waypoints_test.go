package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
)

// waypointCases are the ambient example as written (its waypoint in the
// team's namespace, whose namespace-wide HBONE flows carry its traffic)
// and with the waypoint where only its own flows do: in Istio's namespace,
// whose pods obsgen isolates for ingress only, and in a namespace of its
// own under a Calico global deny, which isolates both ways.
func waypointCases(t *testing.T) map[string]*pipeline.Result {
	t.Helper()
	elsewhere := func(ns string) []v1alpha1.Waypoint {
		return []v1alpha1.Waypoint{{Name: "waypoint", Namespace: ns, Namespaces: []string{"media"}}}
	}
	return map[string]*pipeline.Result{
		"in the team's namespace": exampleVariant(t, "ambient", func(*v1alpha1.Profile) {}),
		"in Istio's namespace": exampleVariant(t, "ambient", func(p *v1alpha1.Profile) {
			p.Mesh.Waypoints = elsewhere("istio-system")
		}),
		"in its own namespace under a Calico global deny": exampleVariant(t, "ambient", func(p *v1alpha1.Profile) {
			p.Mesh.Waypoints = elsewhere("istio-waypoints")
			p.Network.Stance, p.Network.Engine = v1alpha1.StanceGlobalDeny, v1alpha1.EngineCalico
		}),
	}
}

// isWaypointFlow tells whether f is one of the flows the catalogue derives
// from mesh.waypoints.
func isWaypointFlow(f plan.Flow) bool {
	return strings.HasPrefix(f.ID, "scrape-waypoint-") || strings.HasPrefix(f.ID, "waypoint-")
}

// TestEveryWaypointFlowIsNeeded leaves each waypoint flow out in turn,
// wherever the waypoint runs, and requires the proof to fail on a
// requirement it derives on its own (not only on the flow's own check): the
// scrape of the istio-waypoints job, HBONE from the clients' ztunnels into
// the waypoint and from the waypoint to its services' pods, and istiod for
// its configuration. Every one of those requirements must be seen failing
// at least once, so none of them stands unguarded.
func TestEveryWaypointFlowIsNeeded(t *testing.T) {
	caught := map[string]bool{}
	tried := 0
	for name, res := range waypointCases(t) {
		p := res.Plan
		_, r, err := proveWith(p, nil)
		require.NoError(t, err, name)
		require.NoError(t, r.Err(), "%s: the waypoint's flows pass as generated", name)
		full := renderedPolicies(t, p)
		for i, f := range p.Flows {
			if !isWaypointFlow(f) && f.ID != "xds" {
				continue
			}
			cut := *p
			cut.Flows = slices.Delete(slices.Clone(p.Flows), i, i+1)
			if renderedPolicies(t, &cut) == full {
				continue // no policy holds it here (a side obsgen does not isolate)
			}
			tried++
			t.Logf("%s: without %s", name, f.ID)
			_, r, err := proveWith(&cut, nil)
			require.NoError(t, err)
			var waypointFailures []reach.Check
			for _, ch := range r.Failures() {
				if ch.Requirement && (isWaypointPod(ch.From.Pod) || isWaypointPod(ch.To.Pod)) {
					waypointFailures = append(waypointFailures, ch)
					caught[ch.Flow] = true
				}
			}
			assert.NotEmpty(t, waypointFailures, "%s: without flow %s no requirement of the waypoint fails: %v", name, f.ID, r.Err())
		}
	}
	assert.GreaterOrEqual(t, tried, 6, "waypoint flows tried")
	for _, id := range []string{"scrape", "waypoint-hbone", "xds"} {
		assert.True(t, caught[id], "the requirement %s of a waypoint is never seen failing", id)
	}
}

func isWaypointPod(pod *reach.Pod) bool {
	return pod != nil && strings.HasPrefix(pod.Role, reach.RoleWaypoint)
}

// TestWaypointsAreNotEnrolled: Istio's waypoint template labels waypoints
// istio.io/dataplane-mode: none, so the proof must not take a waypoint in
// a team's namespace for an enrolled pod (no HBONE between it and
// Prometheus, no probes from 169.254.7.127), and a declared waypoint stands
// for the undescribed one the proof adds otherwise.
func TestWaypointsAreNotEnrolled(t *testing.T) {
	for name, res := range waypointCases(t) {
		c, r, err := proveWith(res.Plan, nil)
		require.NoError(t, err)
		var waypoints []*reach.Pod
		for _, pod := range c.Pods {
			if isWaypointPod(pod) {
				waypoints = append(waypoints, pod)
			}
		}
		require.Len(t, waypoints, 1, "%s: one waypoint pod, the declared one", name)
		assert.Equal(t, "waypoint-waypoint", waypoints[0].Role, name)
		for _, ch := range r.Checks {
			if ch.To.Pod == waypoints[0] && ch.Flow == "probes" {
				t.Errorf("%s: the waypoint is asked for ambient's rewritten probes: %s", name, ch.Describe())
			}
		}
	}
	undeclared := exampleVariant(t, "ambient", func(p *v1alpha1.Profile) {
		p.Mesh.Waypoints = nil
		for i := range p.Teams {
			for j := range p.Teams[i].Services {
				p.Teams[i].Services[j].SLOs = nil
			}
		}
	})
	c, r, err := proveWith(undeclared.Plan, nil)
	require.NoError(t, err)
	require.NoError(t, r.Err())
	pod := c.Pod("media", plan.Labels{{Name: plan.WaypointLabel, Value: "waypoint"}})
	require.NotNil(t, pod, "without a declared waypoint the proof adds one")
	assert.Equal(t, reach.RoleWaypoint, pod.Role)
	assert.True(t, slices.ContainsFunc(r.Checks, func(ch reach.Check) bool {
		return ch.Requirement && ch.Flow == "waypoint-hbone" && ch.From.Pod == pod && ch.Got
	}), "the undescribed waypoint keeps its HBONE")
}
