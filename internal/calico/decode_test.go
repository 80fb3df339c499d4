package calico

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

const gnpYAML = `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: default-deny
  labels:
    app.kubernetes.io/managed-by: obsgen
spec:
  order: 2000
  namespaceSelector: projectcalico.org/name not in {'kube-system', 'calico-system'}
  types: [Ingress, Egress]
  egress:
    - action: Allow
      protocol: UDP
      destination:
        selector: k8s-app == 'kube-dns'
        namespaceSelector: projectcalico.org/name == 'kube-system'
        ports: [53, "8000:8080", metrics]
      metadata:
        annotations:
          why: dns
`

func TestDecodeStrict(t *testing.T) {
	obj, err := DecodeStrict([]byte(gnpYAML))
	require.NoError(t, err)
	gnp, ok := obj.(*GlobalNetworkPolicy)
	require.True(t, ok, "%T", obj)
	assert.Equal(t, "default-deny", gnp.Name)
	assert.Equal(t, "obsgen", gnp.Labels["app.kubernetes.io/managed-by"])
	require.NotNil(t, gnp.Spec.Order)
	assert.Equal(t, 2000.0, *gnp.Spec.Order)
	assert.Equal(t, []PolicyType{PolicyTypeIngress, PolicyTypeEgress}, gnp.Spec.Types)
	require.Len(t, gnp.Spec.Egress, 1)
	r := gnp.Spec.Egress[0]
	assert.Equal(t, Allow, r.Action)
	assert.Equal(t, ProtocolPtr(ProtocolUDP), r.Protocol)
	assert.Equal(t, []Port{SinglePort(53), {MinPort: 8000, MaxPort: 8080}, {PortName: "metrics"}}, r.Destination.Ports)
	assert.Equal(t, "dns", r.Metadata.Annotations["why"])

	// JSON is YAML too.
	obj, err = DecodeStrict([]byte(`{"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy",
		"metadata":{"name":"allow-web","namespace":"team-a"},
		"spec":{"selector":"app == 'web'","ingress":[{"action":"Allow","protocol":6,"destination":{"ports":[8080]}}]}}`))
	require.NoError(t, err)
	np, ok := obj.(*NetworkPolicy)
	require.True(t, ok, "%T", obj)
	assert.Equal(t, "team-a", np.Namespace)
	assert.Equal(t, ProtocolPtr("6"), np.Spec.Ingress[0].Protocol)

	// A leading --- and comments are not documents.
	_, err = DecodeStrict([]byte("# policy\n---\n" + gnpYAML))
	require.NoError(t, err)
}

func TestDecodeStrictRejects(t *testing.T) {
	withSpec := func(spec string) string {
		return "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: x\nspec:\n" + spec
	}
	tests := []struct {
		name, doc, msg string
	}{
		{"unknown field deep in a rule, with its path",
			withSpec("  ingress:\n  - action: Allow\n    source:\n      selectr: a == 'b'\n"),
			`unknown field "spec.ingress[0].source.selectr"`},
		// encoding/json alone would take "Selector" for "selector"; the API
		// server would not.
		{"field names are case-sensitive",
			withSpec("  Selector: all()\n"),
			`did you mean "selector"`},
		{"unknown field in metadata",
			"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: x\n  labelz: {}\nspec: {}\n",
			`unknown field "metadata.labelz"`},
		{"namespaceSelector is not a NetworkPolicy spec field",
			"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: x\nspec:\n  namespaceSelector: all()\n",
			`unknown field "spec.namespaceSelector"`},
		{"unknown top-level field",
			withSpec("  selector: all()\nstatus: {}\n"),
			`unknown field "status"`},
		{"wrong version",
			strings.Replace(withSpec("  selector: all()\n"), "projectcalico.org/v3", "projectcalico.org/v1", 1),
			`apiVersion "projectcalico.org/v1" is not projectcalico.org/v3`},
		{"the CRD storage API",
			strings.Replace(withSpec("  selector: all()\n"), "projectcalico.org/v3", "crd.projectcalico.org/v1", 1),
			"internal storage API"},
		{"Kubernetes NetworkPolicy",
			"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: x\nspec: {}\n",
			`apiVersion "networking.k8s.io/v1" is not projectcalico.org/v3`},
		{"missing apiVersion", "kind: NetworkPolicy\nmetadata:\n  name: x\n", "missing apiVersion"},
		{"other kind", "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: x\n", `kind "Tier" is not`},
		{"missing kind", "apiVersion: projectcalico.org/v3\nmetadata:\n  name: x\n", "missing kind"},
		{"duplicate key", withSpec("  selector: all()\n  selector: has(a)\n"), "already set"},
		{"two documents", gnpYAML + "---\n" + gnpYAML, "2 documents"},
		{"no document", "# nothing\n", "no document"},
		{"not an object", "- a\n- b\n", "not an object"},
		{"wrong type", withSpec("  order: high\n"), "cannot unmarshal"},
		{"inverted port range",
			withSpec("  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: ['10:1']\n"),
			"minimum is greater than maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := DecodeStrict([]byte(tt.doc))
			require.Error(t, err, "decoded %#v", obj)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

// TestRoundTrip writes policies built in Go and reads them back strictly.
func TestRoundTrip(t *testing.T) {
	gnp := NewGlobalNetworkPolicy("default-deny")
	gnp.Spec = GlobalNetworkPolicySpec{
		Order:             Float64(2000),
		NamespaceSelector: NotIn(LabelName, "kube-system", "calico-system").MustBuild(),
		Types:             []PolicyType{PolicyTypeIngress, PolicyTypeEgress},
		Egress: []Rule{{
			Action:   Allow,
			Protocol: ProtocolPtr(ProtocolUDP),
			Destination: EntityRule{
				Selector:          Eq("k8s-app", "kube-dns").MustBuild(),
				NamespaceSelector: Eq(LabelName, "kube-system").MustBuild(),
				Ports:             []Port{SinglePort(53)},
			},
		}},
	}
	np := NewNetworkPolicy("team-a", "allow-web")
	np.Spec = NetworkPolicySpec{
		Selector: Eq("app", "web").MustBuild(),
		Ingress:  []Rule{{Action: Allow, Protocol: ProtocolPtr(ProtocolTCP), Destination: EntityRule{Ports: []Port{MustPort("8080:8090")}}}},
	}
	for _, obj := range []any{gnp, np} {
		b, err := yaml.Marshal(obj)
		require.NoError(t, err)
		// Empty rule sides are left out (omitzero), like upstream.
		assert.NotContains(t, string(b), "source:")
		back, err := DecodeStrict(b)
		require.NoError(t, err, "%s", b)
		assert.Equal(t, obj, back, "%s", b)
	}
}
