package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"

	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/generators"
	"obsgen.dev/obsgen/generators/istio"
	"obsgen.dev/obsgen/generators/reports"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
	"obsgen.dev/obsgen/internal/reach/analyzer"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/templates"
)

// renderedPolicies is every policy object the plan's engine writes, as
// text, to tell whether leaving a flow out changes them.
func renderedPolicies(t *testing.T, p *plan.Plan) string {
	pol, err := generators.Policies(p)
	require.NoError(t, err)
	b, err := json.Marshal([]any{pol.NetworkPolicies, pol.Calico, pol.BaselineAdminNetworkPolicy, pol.AdminNetworkPolicies})
	require.NoError(t, err)
	// The flows a policy serves are named in an annotation; only rules count.
	return flowsAnnotation.ReplaceAllString(string(b), "")
}

var flowsAnnotation = regexp.MustCompile(`"obsgen.dev/flows":"[^"]*"`)

// TestEveryFlowOfTheCatalogueIsNeeded leaves each flow of each example out
// of the plan in turn, regenerates the policies and proves them against
// the requirements the proof derives without the flows (upstream
// documents, the components' places, pods the profile does not
// describe). Whenever leaving the flow out changes the policies, the proof
// must fail, and the failure must come out as a positioned diagnostic at
// the profile field that needs the connection. A flow whose removal
// passes the proof would be a connection nobody showed to be needed; a
// catalogue that forgets one fails here.
func TestEveryFlowOfTheCatalogueIsNeeded(t *testing.T) {
	tried := 0
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if p.Network.Stance == "open" {
			continue
		}
		full := renderedPolicies(t, p)
		for i, f := range p.Flows {
			cut := *p
			cut.Flows = slices.Delete(slices.Clone(p.Flows), i, i+1)
			if renderedPolicies(t, &cut) == full {
				continue // not rendered for this engine (e.g. istiod's egress, left open)
			}
			tried++
			_, r, err := proveWith(&cut, nil)
			require.NoError(t, err)
			perr := r.Err()
			if !assert.Error(t, perr, "%s: without flow %s (%s) the proof still passes", p.Name, f.ID, f.Why) {
				continue
			}
			diags := pipeline.ProofDiagnostics(ex.result.Loaded, fmt.Errorf("generate reports: %w", perr))
			var list diag.List
			require.ErrorAs(t, diags, &list, "%s: a proof failure becomes diagnostics", p.Name)
			positioned := slices.ContainsFunc(list, func(d diag.Diagnostic) bool {
				return d.Pos.Line > 0 && d.Path != "" && d.Hint != "" && d.File == ex.file
			})
			assert.True(t, positioned, "%s: without flow %s the failure has no position: %v", p.Name, f.ID, list)
		}
	}
	assert.Greater(t, tried, 60, "flows tried")
	t.Logf("%d flows left out in turn, each caught", tried)
}

// TestTheMeshSurvivesThePolicies checks, for every example under a deny
// stance, that the pods the profile does not describe keep the mesh: a
// gateway in Istio's namespace and one in its own, a meshed namespace no
// team owns, ztunnel and a waypoint in ambient (the declared one, which
// stands for it, or one the profile does not describe) all reach istiod's
// xDS and CA port, the gateways keep their traffic where obsgen's deny does
// not cover them by the stance's definition, and every waypoint keeps its
// HBONE both ways.
func TestTheMeshSurvivesThePolicies(t *testing.T) {
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if p.Network.Stance == "open" || !p.Mesh.Istio {
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			_, r, err := proveWith(p, nil)
			require.NoError(t, err)
			require.NoError(t, r.Err())
			xds := map[string]bool{}
			traffic := map[string]bool{}
			hbone := map[string]int{}
			for _, c := range r.Checks {
				if !c.Requirement || c.From.Pod == nil {
					continue
				}
				switch c.Flow {
				case "xds":
					xds[c.From.Pod.Role] = c.Got
				case "gateway-backends":
					traffic[c.From.Pod.Role] = c.Got
				case "waypoint-hbone":
					for _, pod := range []*reach.Pod{c.From.Pod, c.To.Pod} {
						if strings.HasPrefix(pod.Role, reach.RoleWaypoint) && c.Got {
							hbone[pod.Role]++
						}
					}
				}
			}
			want := []string{reach.RoleUnownedWorkload}
			if p.Mesh.Ambient {
				want = append(want, reach.RoleZtunnel)
				for _, w := range p.Mesh.Waypoints {
					want = append(want, "waypoint-"+w.Name)
					assert.Equal(t, 2, hbone["waypoint-"+w.Name], "declared waypoint %s keeps HBONE in and out", w.Name)
				}
				if len(p.Mesh.Waypoints) == 0 {
					want = append(want, reach.RoleWaypoint)
				}
			}
			if !slices.ContainsFunc(p.Mesh.Gateways, func(g plan.Gateway) bool { return g.Namespace == p.Mesh.IstioNamespace }) {
				want = append(want, reach.RoleGatewayIstioNS)
			}
			for _, role := range want {
				assert.True(t, xds[role], "%s keeps istiod's xDS and CA (15012)", role)
			}
			for _, g := range p.Mesh.Gateways {
				assert.True(t, xds["gateway-"+g.Name], "declared gateway %s keeps istiod", g.Name)
				if len(g.Destinations) == 0 {
					assert.True(t, traffic["gateway-"+g.Name], "declared ingress gateway %s reaches its backends", g.Name)
				}
			}
		})
	}
}

// TestEveryAddressIsAValidPeer: "Alertmanager may reach Slack" is written
// as alertmanagerEgress cidrs [0.0.0.0/0] (and ::/0). Every example under
// a deny stance, with its engine, must generate, prove (with the
// reference models too) and keep every check green with it.
func TestEveryAddressIsAValidPeer(t *testing.T) {
	engines := map[string]bool{}
	for _, ex := range examples(t) {
		if ex.result.Plan.Network.Stance == "open" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(testtools.RepoRoot(t), ex.file))
		require.NoError(t, err)
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal(data, &doc))
		network := doc["network"].(map[string]any)
		network["alertmanagerEgress"] = []any{map[string]any{"cidrs": []any{"0.0.0.0/0", "::/0"}, "ports": []any{443}}}
		// Under the calico and kubernetes engines every address needs the
		// pods' range, which the rules then leave out.
		cluster := doc["cluster"].(map[string]any)
		if _, ok := cluster["podCIDR"]; !ok {
			cluster["podCIDR"] = "10.244.0.0/16"
		}
		changed, err := yaml.Marshal(doc)
		require.NoError(t, err)
		engine, err := render.New(templates.FS, "")
		require.NoError(t, err)
		res, err := pipeline.Run(ex.file, changed, engine)
		require.NoError(t, err, ex.file)
		// obsgen's evaluators (what generate proves with), then the
		// reference.
		for _, ref := range []reports.Reference{nil, analyzer.Reference} {
			_, r, err := proveWith(res.Plan, ref)
			require.NoError(t, err, ex.file)
			assert.NoError(t, r.Err(), "%s (%s)", ex.file, r.Model)
		}
		engines[string(res.Plan.Network.Engine)] = true
	}
	assert.Len(t, engines, 3, "every engine: %v", engines)
}

// TestTheMeshLayerCatchesBrokenIstioObjects: a connection is proven only
// when the network and Istio both let it through. Each case breaks one
// Istio object (or the Prometheus pod's injection) of an example and the
// proof must fail on the connection it guards.
func TestTheMeshLayerCatchesBrokenIstioObjects(t *testing.T) {
	byName := map[string]*plan.Plan{}
	for _, ex := range examples(t) {
		byName[ex.result.Plan.Name] = ex.result.Plan
	}
	without := func(name string) func(*plan.Plan, []*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) {
		return func(_ *plan.Plan, pas []*securityv1.PeerAuthentication, aps []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) {
			pas = slices.DeleteFunc(slices.Clone(pas), func(pa *securityv1.PeerAuthentication) bool { return pa.Name == name })
			aps = slices.DeleteFunc(slices.Clone(aps), func(ap *securityv1.AuthorizationPolicy) bool { return ap.Name == name })
			return pas, aps
		}
	}
	cases := map[string]struct {
		example string
		breakIt func(*plan.Plan, []*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy)
		fails   string // a flow or requirement that must fail
	}{
		"without Alertmanager's plaintext exception Prometheus' alerts hit a STRICT port": {
			example: "calico-global-deny", breakIt: keepAPs(without("obsgen-alertmanager")), fails: "alerts"},
		"without Alertmanager's ALLOW no alert passes deny-by-default": {
			example: "calico-global-deny", breakIt: keepPAs(without("obsgen-alertmanager")), fails: "alerts"},
		"without a service's port exception the plaintext scrape hits STRICT": {
			example: "calico-global-deny", breakIt: keepAPs(without("obsgen-metrics-order-api")), fails: "scrape"},
		"without a service's ALLOW the scrape is denied by default": {
			example: "strict-deny", breakIt: keepPAs(without("obsgen-metrics-checkout")), fails: "scrape"},
		"without the service's ALLOW in ambient ztunnel denies Prometheus' scrape": {
			example: "ambient", breakIt: keepPAs(without("obsgen-metrics-transcoder")), fails: "scrape"},
		"without the cert-writing sidecar the secure metrics listener refuses Prometheus": {
			example: "admin-network-policy", fails: "scrape",
			breakIt: func(p *plan.Plan, pas []*securityv1.PeerAuthentication, aps []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) {
				p.Monitoring.Prometheus.MeshPodLabels = plan.Labels{{Name: plan.SidecarInjectLabel, Value: "false"}}
				return pas, aps
			}},
		"without tlsMode disabled a meshed Grafana speaks mTLS to Prometheus' uncaptured port": {
			example: "admin-network-policy", fails: "grafana-to-prometheus",
			breakIt: func(p *plan.Plan, pas []*securityv1.PeerAuthentication, aps []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) {
				p.Monitoring.Prometheus.MeshPodLabels = plan.Labels{{Name: plan.SidecarInjectLabel, Value: "true"}}
				return pas, aps
			}},
		"without cert-manager's Secret Prometheus has no certificate for STRICT ports": {
			example: "strict-deny", fails: "scrape",
			breakIt: func(p *plan.Plan, pas []*securityv1.PeerAuthentication, aps []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) {
				p.Monitoring.Prometheus.CertsSecret = ""
				return pas, aps
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			orig := byName[tc.example]
			require.NotNil(t, orig, tc.example)
			p := *orig
			c, err := reach.NewCluster(&p)
			require.NoError(t, err)
			network, err := modelOf(&p, c)
			require.NoError(t, err)
			pas, aps := istio.PeerAuthentications(&p), istio.AuthorizationPolicies(&p)
			r, err := reach.Prove(c, reach.NewMesh(c, network, pas, aps))
			require.NoError(t, err)
			require.NoError(t, r.Err(), "the example passes as generated")

			p.Monitoring.Prometheus = orig.Monitoring.Prometheus
			pas, aps = tc.breakIt(&p, pas, aps)
			r, err = reach.Prove(c, reach.NewMesh(c, network, pas, aps))
			require.NoError(t, err)
			var perr *reach.ProofError
			require.ErrorAs(t, r.Err(), &perr)
			assert.True(t, slices.ContainsFunc(perr.Failures, func(ch reach.Check) bool { return ch.Flow == tc.fails && ch.Want }),
				"%s must fail: %v", tc.fails, perr)
		})
	}
}

type istioObjects = func(*plan.Plan, []*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy)

// keepAPs applies f to the PeerAuthentications only; keepPAs to the
// AuthorizationPolicies only.
func keepAPs(f istioObjects) istioObjects {
	return func(p *plan.Plan, pas []*securityv1.PeerAuthentication, aps []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) {
		pas, _ = f(p, pas, aps)
		return pas, aps
	}
}

func keepPAs(f istioObjects) istioObjects {
	return func(p *plan.Plan, pas []*securityv1.PeerAuthentication, aps []*securityv1.AuthorizationPolicy) ([]*securityv1.PeerAuthentication, []*securityv1.AuthorizationPolicy) {
		_, aps = f(p, pas, aps)
		return pas, aps
	}
}

// proveWith builds the plan's policy objects as generate does and proves
// them (with a reference evaluator, np-guard's netpol-analyzer, when one
// is given).
func proveWith(p *plan.Plan, reference reports.Reference) (*reach.Cluster, *reach.Result, error) {
	pol, err := generators.Policies(p)
	if err != nil {
		return nil, nil, err
	}
	proof, err := reports.Prove(p, pol, reference)
	if err != nil {
		return nil, nil, err
	}
	return proof.Cluster, proof.Result, nil
}

// modelOf is the network model of the plan's policy objects.
func modelOf(p *plan.Plan, c *reach.Cluster) (reach.Model, error) {
	pol, err := generators.Policies(p)
	if err != nil {
		return nil, err
	}
	return reports.Model(p, c, pol, nil)
}

// TestKialiAndTracingFlowsAreEachNeeded leaves out, in turn, each flow of
// Kiali and of tracing from the example that enables both under a deny
// stance: the proof must fail, positioned at the profile field that asks
// for the connection (kiali.*, tracing.*, or the data source Kiali shares
// with the dashboards).
func TestKialiAndTracingFlowsAreEachNeeded(t *testing.T) {
	tried := map[string]bool{}
	for _, ex := range examples(t) {
		p := ex.result.Plan
		if p.Network.Stance == "open" || p.Kiali == nil || p.Tracing == nil {
			continue
		}
		for i, f := range p.Flows {
			if !strings.HasPrefix(f.ID, "kiali-") && !strings.HasPrefix(f.ID, "tracing-") {
				continue
			}
			cut := *p
			cut.Flows = slices.Delete(slices.Clone(p.Flows), i, i+1)
			_, r, err := proveWith(&cut, nil)
			require.NoError(t, err)
			perr := r.Err()
			if !assert.Error(t, perr, "%s: without flow %s the proof passes", p.Name, f.ID) {
				continue
			}
			tried[f.ID] = true
			diags := pipeline.ProofDiagnostics(ex.result.Loaded, fmt.Errorf("generate reports: %w", perr))
			var list diag.List
			require.ErrorAs(t, diags, &list)
			assert.True(t, slices.ContainsFunc(list, func(d diag.Diagnostic) bool {
				return d.Pos.Line > 0 && (strings.HasPrefix(d.Path, "kiali") || strings.HasPrefix(d.Path, "tracing") || d.Path == "dashboards.datasource.url")
			}), "%s: without flow %s: %v", p.Name, f.ID, list)
		}
	}
	for _, id := range []string{"kiali-ingress-1", "kiali-to-apiserver", "kiali-to-istiod", "kiali-to-datasource", "kiali-to-grafana",
		"kiali-to-tracing", "tracing-spans", "tracing-backend-1"} {
		assert.True(t, tried[id], "flow %s was left out and caught", id)
	}
}
