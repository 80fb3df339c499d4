package adminnetpol

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/built"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
	"obsgen.dev/obsgen/internal/reach/analyzer"
)

func profile(plane v1alpha1.DataPlane) *v1alpha1.Profile {
	off := false
	return &v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "anp"},
		Cluster:    v1alpha1.Cluster{APIServerCIDRs: []string{"10.0.0.1/32"}, NodeCIDRs: []string{"10.1.0.0/16"}},
		Mesh:       v1alpha1.Mesh{DataPlane: plane, MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
		Monitoring: v1alpha1.Monitoring{InMesh: plane == v1alpha1.DataPlaneAmbient},
		Network: v1alpha1.Network{Stance: v1alpha1.StanceDefaultDeny, Engine: v1alpha1.EngineAdminNetworkPolicy,
			GrafanaIngress: []v1alpha1.NetworkPeer{{Namespace: "ingress-nginx"}},
			// Every address: the networks peer matches pods too.
			AlertmanagerEgress: []v1alpha1.NetworkPeer{{CIDRs: []string{"0.0.0.0/0"}, Ports: []int{443}}}},
		Teams: []v1alpha1.Team{
			{Name: "shop", Namespaces: []string{"shop", "shop-jobs"}, Services: []v1alpha1.Service{
				{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"}},
				{Name: "cron", Namespace: "shop-jobs", Port: 8080, Selector: map[string]string{"app": "web"}}}},
			{Name: "bank", Namespaces: []string{"bank"}, Services: []v1alpha1.Service{
				{Name: "ledger", Namespace: "bank", Port: 9102, Selector: map[string]string{"app": "ledger"}}}},
		}}
}

func objects(p *plan.Plan) []runtime.Object {
	objs := []runtime.Object{Baseline(p)}
	for _, anp := range Policies(p) {
		objs = append(objs, anp)
	}
	return objs
}

// models are obsgen's evaluator (what generate proves with) and np-guard's
// netpol-analyzer (the reference), each built from the same objects.
var models = map[string]func(*reach.Cluster, []runtime.Object) (reach.Model, error){
	"obsgen": func(c *reach.Cluster, objs []runtime.Object) (reach.Model, error) {
		var banp *anpv1alpha1.BaselineAdminNetworkPolicy
		var anps []*anpv1alpha1.AdminNetworkPolicy
		for _, o := range objs {
			switch o := o.(type) {
			case *anpv1alpha1.BaselineAdminNetworkPolicy:
				banp = o
			case *anpv1alpha1.AdminNetworkPolicy:
				anps = append(anps, o)
			}
		}
		return reach.NewAdminNetwork(c, anps, banp, nil)
	},
	"analyzer": analyzer.Reference,
}

func prove(t *testing.T, p *plan.Plan, objs []runtime.Object, model string) *reach.Result {
	t.Helper()
	c, err := reach.NewCluster(p)
	require.NoError(t, err)
	m, err := models[model](c, objs)
	require.NoError(t, err)
	// The mesh layer without Istio objects puts the traffic on the wire as
	// the data plane does (HBONE 15008 between enrolled pods in ambient);
	// mTLS and authorization are the istio generator's to prove.
	r, err := reach.Prove(c, reach.NewMesh(c, m, nil, nil))
	require.NoError(t, err)
	return r
}

// TestTheEvaluatorsProveTheAdminPolicies feeds the baseline deny and the
// allows to obsgen's evaluator and to np-guard's netpol-analyzer, for the
// sidecar and the ambient data plane: every flow allowed, every forbidden
// connection denied.
func TestTheEvaluatorsProveTheAdminPolicies(t *testing.T) {
	for _, plane := range []v1alpha1.DataPlane{v1alpha1.DataPlaneSidecar, v1alpha1.DataPlaneAmbient} {
		for model := range models {
			p := plan.Resolve(profile(plane))
			r := prove(t, p, objects(p), model)
			require.NoError(t, r.Err(), "%s, %s", plane, model)
			required, allowed, forbidden, denied := r.Counts()
			assert.Equal(t, required, allowed)
			assert.Equal(t, forbidden, denied)
			assert.Greater(t, forbidden, 10)
			t.Logf("%s, %s: %d/%d required allowed, %d/%d forbidden denied", plane, model, allowed, required, denied, forbidden)
		}
	}
}

// TestTheAdminProofCatchesWrongPolicies: without Prometheus' allows its
// scrapes hit the baseline deny; without the baseline an outsider reaches
// a metrics port. Both evaluators see it.
func TestTheAdminProofCatchesWrongPolicies(t *testing.T) {
	p := plan.Resolve(profile(v1alpha1.DataPlaneSidecar))
	objs := slices.DeleteFunc(objects(p), func(o runtime.Object) bool {
		anp, ok := o.(*anpv1alpha1.AdminNetworkPolicy)
		return ok && anp.Name == "obsgen-monitoring-prometheus"
	})
	require.Len(t, objs, len(objects(p))-1)
	for model := range models {
		err := prove(t, p, objs, model).Err()
		require.Error(t, err, model)
		assert.Contains(t, err.Error(), "must be allowed but is denied")

		err = prove(t, p, objects(p)[1:], model).Err()
		require.Error(t, err, model)
		assert.Contains(t, err.Error(), "must be denied but is allowed")
	}
}

// TestDocumentsDecodeStrictly reads the written files back into the
// upstream types.
func TestDocumentsDecodeStrictly(t *testing.T) {
	files, err := Generate(plan.Resolve(profile(v1alpha1.DataPlaneSidecar)), nil)
	require.NoError(t, err)
	require.Len(t, files, 2)
	var banp anpv1alpha1.BaselineAdminNetworkPolicy
	require.NoError(t, yaml.UnmarshalStrict(files[0].Data, &banp))
	assert.Equal(t, "default", banp.Name, "the baseline is a singleton named default")
	docs := regexp.MustCompile(`(?m)^---\n`).Split(string(files[1].Data), -1)
	names := map[string]bool{}
	for _, doc := range docs {
		var anp anpv1alpha1.AdminNetworkPolicy
		require.NoError(t, yaml.UnmarshalStrict([]byte(doc), &anp))
		if strings.HasSuffix(anp.Name, NetworksSuffix) {
			// Egress to address ranges, one priority later, each Allow
			// after a Pass for every pod on its ports.
			assert.Equal(t, int32(51), anp.Spec.Priority, anp.Name)
			assert.Empty(t, anp.Spec.Ingress, anp.Name)
			require.Zero(t, len(anp.Spec.Egress)%2, anp.Name)
			for i := 0; i < len(anp.Spec.Egress); i += 2 {
				pass, allow := anp.Spec.Egress[i], anp.Spec.Egress[i+1]
				assert.Equal(t, anpv1alpha1.AdminNetworkPolicyRuleActionPass, pass.Action, anp.Name)
				assert.Equal(t, []anpv1alpha1.AdminNetworkPolicyEgressPeer{{Namespaces: &metav1.LabelSelector{}}}, pass.To, anp.Name)
				assert.Equal(t, anpv1alpha1.AdminNetworkPolicyRuleActionAllow, allow.Action, anp.Name)
				assert.Equal(t, pass.Ports, allow.Ports, anp.Name)
				require.Len(t, allow.To, 1)
				assert.NotEmpty(t, allow.To[0].Networks, anp.Name)
			}
		} else {
			assert.Equal(t, int32(50), anp.Spec.Priority, anp.Name)
			for _, r := range anp.Spec.Egress {
				for _, peer := range r.To {
					assert.Empty(t, peer.Networks, "%s: egress to address ranges belongs in the policy one priority later", anp.Name)
				}
			}
		}
		assert.False(t, names[anp.Name], "duplicate name %s", anp.Name)
		names[anp.Name] = true
	}
	assert.Greater(t, len(docs), 5)
}

// TestAClusterBaselineIsLeftAlone: the BaselineAdminNetworkPolicy is a
// singleton named default, so with baseline.manage false obsgen writes only
// its AdminNetworkPolicies (applying its baseline would replace the
// cluster's), while the proof still holds the deny the cluster's baseline
// stands for.
func TestAClusterBaselineIsLeftAlone(t *testing.T) {
	in := profile(v1alpha1.DataPlaneSidecar)
	off := false
	in.Network.AdminNetworkPolicy.Baseline.Manage = &off
	var pol built.Policies
	files, err := Write(plan.Resolve(in), &pol)
	require.NoError(t, err)
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	assert.Equal(t, []string{ANPPath}, paths, "no baseline written")
	require.NotNil(t, pol.BaselineAdminNetworkPolicy, "the proof keeps the deny")
	assert.Equal(t, "default", pol.BaselineAdminNetworkPolicy.Name)

	var managed built.Policies
	files, err = Write(plan.Resolve(profile(v1alpha1.DataPlaneSidecar)), &managed)
	require.NoError(t, err)
	require.Len(t, files, 2)
	assert.Equal(t, BANPPath, files[0].Path, "by default obsgen writes the baseline")
}
