package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/profile"
)

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	require.NoError(t, err)
	return p
}

func TestDoctorExitCodes(t *testing.T) {
	broken, targets := testdata(t, "doctor/broken.yaml"), testdata(t, "doctor/targets.json")
	dir := t.TempDir()

	code, out, errOut := run(t, dir, "doctor", exampleProfile, "--cluster-state", broken, "--targets", targets)
	require.Equal(t, ExitFailed, code, "findings exit 1: %s %s", out, errOut)
	assert.Contains(t, out, "1. [critical] no-sidecar: service shop/frontend: pod shop/frontend-2")
	assert.Contains(t, out, "connection refused")
	assert.Contains(t, out, "kubectl label namespace shop istio-injection=enabled")

	code, out, _ = run(t, dir, "doctor", exampleProfile, "--cluster-state", broken, "--targets", targets, "-o", "json")
	require.Equal(t, ExitFailed, code)
	var report struct {
		Findings []struct{ Severity, Cause, Fix string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &report), out)
	require.NotEmpty(t, report.Findings)
	assert.Equal(t, "critical", report.Findings[0].Severity)
	assert.Equal(t, "no-sidecar", report.Findings[0].Cause)

	bad := map[string]struct {
		args []string
		want string
	}{
		"a state file that is no YAML": {[]string{"--cluster-state", writeFile(t, dir, "bad.yaml", "a: [b\n")}, "bad.yaml:1:1: not YAML or JSON"},
		"an object without a kind":     {[]string{"--cluster-state", writeFile(t, dir, "nokind.yaml", "apiVersion: v1\nmetadata: {name: x}\n")}, "nokind.yaml:1:1: document 1: missing apiVersion or kind"},
		"a missing state file":         {[]string{"--cluster-state", filepath.Join(dir, "absent.yaml")}, "absent.yaml: no such file"},
		"targets that are not JSON":    {[]string{"--cluster-state", broken, "--targets", writeFile(t, dir, "t.json", "<html>")}, "t.json: not the JSON of Prometheus' /api/v1/targets"},
		"files and a live cluster":     {[]string{"--cluster-state", broken, "--context", "prod"}, "use one or the other"},
		"an unknown output format":     {[]string{"--cluster-state", broken, "-o", "xml"}, `--output "xml": want text or json`},
		"an empty state":               {[]string{"--cluster-state", writeFile(t, dir, "empty.yaml", "apiVersion: v1\nkind: List\nitems: []\n")}, "holds no namespace and no pod"},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run(t, dir, append([]string{"doctor", exampleProfile}, tc.args...)...)
			assert.Equal(t, ExitUsage, code, "bad input exits 2: %s", errOut)
			assert.Contains(t, errOut, tc.want)
			assert.Empty(t, out, "no report on bad input")
		})
	}
	code, _, errOut = run(t, dir, "doctor", exampleProfile, "--cluster-state", writeFile(t, dir, "bad2.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [x]}\n"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "bad2.yaml:3:1", "positioned: %s", errOut)
}

func TestDoctorOnAHealthyStateExitsZero(t *testing.T) {
	dir := t.TempDir()
	state := writeFile(t, dir, "ok.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
`+examplePods+`---
apiVersion: v1
kind: Pod
metadata: {name: frontend-1, namespace: shop, labels: {app: frontend}, annotations: {sidecar.istio.io/status: '{}'}}
spec: {containers: [{name: app, ports: [{containerPort: 8080}]}], initContainers: [{name: istio-proxy, restartPolicy: Always}]}
status: {phase: Running, podIP: 10.244.1.5}
`+platformPods("app.kubernetes.io/name: prometheus-node-exporter"))
	// obsgen's PeerAuthentications, applied.
	applied := filepath.Join(profilesDir, "..", "out", "default-permissive", "istio", "peerauthentications.yaml")
	code, out, errOut := run(t, dir, "doctor", exampleProfile, "--cluster-state", state, "--cluster-state", applied)
	assert.Equal(t, ExitOK, code, "%s %s", out, errOut)
	assert.Contains(t, out, "healthy")
}

// examplePods are the default-permissive example's Prometheus (keeping 30
// days) and istiod.
const examplePods = `apiVersion: v1
kind: Pod
metadata: {name: prometheus-0, namespace: istio-system, labels: {app.kubernetes.io/name: prometheus}}
spec: {containers: [{name: prometheus, args: [--config.file=/etc/prometheus/prometheus.yml, --storage.tsdb.retention.time=30d]}]}
status: {phase: Running, podIP: 10.244.0.9}
---
apiVersion: v1
kind: Pod
metadata: {name: istiod-1, namespace: istio-system, labels: {app: istiod}}
spec: {containers: [{name: discovery}]}
status: {phase: Running, podIP: 10.244.0.2}
`

// platformPods are the monitoring components of the default-permissive
// example, node-exporter on the host network with the labels given.
func platformPods(nodeExporterLabels string) string {
	return `---
apiVersion: v1
kind: Pod
metadata: {name: kube-state-metrics-1, namespace: istio-system, labels: {app.kubernetes.io/name: kube-state-metrics}}
spec: {containers: [{name: kube-state-metrics, ports: [{containerPort: 8080}]}]}
status: {phase: Running, podIP: 10.244.0.10}
---
apiVersion: v1
kind: Pod
metadata: {name: alertmanager-0, namespace: istio-system, labels: {app.kubernetes.io/name: alertmanager}}
spec: {containers: [{name: alertmanager, ports: [{containerPort: 9093}]}]}
status: {phase: Running, podIP: 10.244.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: node-exporter-x1, namespace: istio-system, labels: {` + nodeExporterLabels + `}}
spec: {hostNetwork: true, containers: [{name: node-exporter, ports: [{containerPort: 9100}]}]}
status: {phase: Running, podIP: 192.168.0.4}
`
}

// TestDoctorFindsNodeExporterUnderAnotherInstallsLabels: the profile's
// default node-exporter label is kube-prometheus-stack's chart name
// (charts/prometheus-node-exporter/templates/_helpers.tpl); kube-prometheus
// labels its node-exporter app.kubernetes.io/name=node-exporter, so the job
// finds no pod and nothing else says so. doctor names the field and the
// labels that select the pod it found.
func TestDoctorFindsNodeExporterUnderAnotherInstallsLabels(t *testing.T) {
	dir := t.TempDir()
	state := writeFile(t, dir, "kps.yaml", examplePods+platformPods("app.kubernetes.io/name: node-exporter, app.kubernetes.io/part-of: kube-prometheus"))
	code, out, errOut := run(t, dir, "doctor", exampleProfile, "--cluster-state", state)
	assert.Equal(t, ExitFailed, code, "findings exit 1: %s %s", out, errOut)
	assert.Contains(t, out, "1. [warning] no-pods: node-exporter", out)
	assert.NotContains(t, out, "no-pods: kube-state-metrics")
	assert.NotContains(t, out, "no-pods: alertmanager")
	assert.Contains(t, out, "fix: if istio-system/node-exporter-x1 is it, set monitoring.nodeExporter to namespace istio-system and pod labels app.kubernetes.io/name=node-exporter, as it runs with")
}

// TestDoctorTakesHostNetworkPodsForTheirNode: no NetworkPolicy selects a
// host-network pod; a scrape of node-exporter reaches its node's address
// (kubernetes.io docs/concepts/services-networking/network-policies,
// NetworkPolicy and hostNetwork pods). A namespace-wide default deny drops
// the scrapes of kube-state-metrics and Alertmanager, not node-exporter's.
func TestDoctorTakesHostNetworkPodsForTheirNode(t *testing.T) {
	dir := t.TempDir()
	state := writeFile(t, dir, "deny.yaml", `apiVersion: v1
kind: Pod
metadata: {name: prometheus-0, namespace: istio-system, labels: {app.kubernetes.io/name: prometheus}}
spec: {containers: [{name: prometheus, args: [--config.file=/etc/prometheus/prometheus.yml, --storage.tsdb.retention.time=30d]}]}
status: {phase: Running, podIP: 10.244.0.9}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: istio-system}
spec: {podSelector: {}, policyTypes: [Ingress]}
`+platformPods("app.kubernetes.io/name: prometheus-node-exporter"))
	code, out, errOut := run(t, dir, "doctor", exampleProfile, "--cluster-state", state)
	assert.Equal(t, ExitFailed, code, "findings exit 1: %s %s", out, errOut)
	assert.Contains(t, out, "[critical] network-policy: kube-state-metrics: pod istio-system/kube-state-metrics-1", out)
	assert.Contains(t, out, "[critical] network-policy: alertmanager: pod istio-system/alertmanager-0")
	assert.NotContains(t, out, "network-policy: node-exporter")
}

// TestDoctorSuggestsOnlyPodsNoOneElseSelects: a profile that names
// kube-prometheus-stack's node-exporter label where none runs must not be
// pointed at Prometheus (app.kubernetes.io/name=prometheus is contained in
// it) or another component: the node-exporter of another namespace, with
// exactly the labels asked for, comes first.
func TestDoctorSuggestsOnlyPodsNoOneElseSelects(t *testing.T) {
	dir := t.TempDir()
	profilePath := exampleProfile // node-exporter's default label: prometheus-node-exporter
	state := writeFile(t, dir, "state.yaml", examplePods+`---
apiVersion: v1
kind: Pod
metadata: {name: kps-prometheus-node-exporter-a, namespace: node-exporter, labels: {app.kubernetes.io/name: prometheus-node-exporter}}
spec: {hostNetwork: true, containers: [{name: node-exporter}]}
status: {phase: Running, podIP: 192.168.0.5}
`+platformPods("app.kubernetes.io/name: unrelated"))
	code, out, errOut := run(t, dir, "doctor", profilePath, "--cluster-state", state)
	assert.Equal(t, ExitFailed, code, "%s %s", out, errOut)
	assert.Contains(t, out, "fix: if node-exporter/kps-prometheus-node-exporter-a is it, set monitoring.nodeExporter to namespace node-exporter and pod labels app.kubernetes.io/name=prometheus-node-exporter", out)
	assert.Contains(t, out, "evidence: pods that look like it: node-exporter/kps-prometheus-node-exporter-a")
	assert.NotContains(t, out, "istio-system/prometheus-0 map[", "Prometheus is no look-alike")
}

// TestDoctorNamesTheNodeRangesForAHostNetworkDrop: under strict-deny with
// obsgen's policies applied, node-exporter on a node outside
// cluster.nodeCIDRs is dropped by Prometheus' egress; reapplying cannot
// help, the node ranges can.
func TestDoctorNamesTheNodeRangesForAHostNetworkDrop(t *testing.T) {
	dir := t.TempDir()
	state := writeFile(t, dir, "state.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: Pod
metadata: {name: prometheus-0, namespace: monitoring, labels: {app.kubernetes.io/name: prometheus}}
spec: {containers: [{name: prometheus, args: [--storage.tsdb.retention.time=30d]}]}
status: {phase: Running, podIP: 10.244.0.9}
---
apiVersion: v1
kind: Pod
metadata: {name: node-exporter-in, namespace: monitoring, labels: {app.kubernetes.io/name: prometheus-node-exporter}}
spec: {hostNetwork: true, containers: [{name: node-exporter}]}
status: {phase: Running, podIP: 10.10.0.4}
---
apiVersion: v1
kind: Pod
metadata: {name: node-exporter-out, namespace: monitoring, labels: {app.kubernetes.io/name: prometheus-node-exporter}}
spec: {hostNetwork: true, containers: [{name: node-exporter}]}
status: {phase: Running, podIP: 10.20.0.4}
`)
	applied := filepath.Join(profilesDir, "..", "out", "strict-deny", "kubernetes", "networkpolicies", "monitoring.yaml")
	code, out, errOut := run(t, dir, "doctor", filepath.Join(profilesDir, "strict-deny.yaml"), "--cluster-state", state, "--cluster-state", applied)
	assert.Equal(t, ExitFailed, code, "%s %s", out, errOut)
	assert.Contains(t, out, "[critical] network-policy: node-exporter: pod monitoring/node-exporter-out", out)
	assert.Contains(t, out, "monitoring/node-exporter-out (host network, node address 10.20.0.4)")
	assert.Contains(t, out, "fix: the node address 10.20.0.4 is outside cluster.nodeCIDRs [10.10.0.0/16]")
	assert.NotContains(t, out, "network-policy: node-exporter: pod monitoring/node-exporter-in", "inside the node ranges the scrape is allowed")
}

// TestDoctorTakesHostNetworkPodsForNodesOfAdminNetworkPolicies: an empty
// nodes peer selects every node (network-policy-api
// adminnetworkpolicy_types.go, "If present but empty, it selects all
// Nodes"), whether or not the profile lists cluster.nodeCIDRs (the
// default-permissive example lists none): Prometheus' egress to
// node-exporter's node is allowed; to kube-state-metrics, a pod, it is
// not. A labelled nodes peer gets a note: node labels are not in the state.
func TestDoctorTakesHostNetworkPodsForNodesOfAdminNetworkPolicies(t *testing.T) {
	dir := t.TempDir()
	state := func(nodes string) string {
		return writeFile(t, dir, "anp.yaml", `apiVersion: v1
kind: Pod
metadata: {name: prometheus-0, namespace: istio-system, labels: {app.kubernetes.io/name: prometheus}}
spec: {containers: [{name: prometheus, args: [--storage.tsdb.retention.time=30d]}]}
status: {phase: Running, podIP: 10.244.0.9}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  egress: [{name: deny-all, action: Deny, to: [{networks: [0.0.0.0/0]}, {namespaces: {}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: prometheus-to-nodes}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: istio-system}}}
  egress: [{name: node-exporter, action: Allow, to: [{nodes: `+nodes+`}], ports: [{portNumber: {protocol: TCP, port: 9100}}]}]
`+platformPods("app.kubernetes.io/name: prometheus-node-exporter"))
	}
	code, out, errOut := run(t, dir, "doctor", exampleProfile, "--cluster-state", state("{}"))
	assert.Equal(t, ExitFailed, code, "%s %s", out, errOut)
	assert.Contains(t, out, "[critical] network-policy: kube-state-metrics", out)
	assert.NotContains(t, out, "network-policy: node-exporter")
	assert.NotContains(t, out, "selects nodes by label")

	_, out, _ = run(t, dir, "doctor", exampleProfile, "--cluster-state", state("{matchLabels: {kubernetes.io/os: linux}}"))
	assert.Contains(t, out, "note: AdminNetworkPolicy prometheus-to-nodes selects nodes by label", out)
}

// TestDoctorChecksCiliumsNodeCIDRMatching: on Cilium, obsgen's ipBlock
// egress to node addresses matches only with policy-cidr-match-mode:
// nodes (cilium/cilium#20550, #27464). A Cilium cluster whose setting is
// not in the state gets a warning, one whose cilium-config lacks it a
// critical finding, one with it none; a cluster without Cilium none.
func TestDoctorChecksCiliumsNodeCIDRMatching(t *testing.T) {
	dir := t.TempDir()
	prom := `apiVersion: v1
kind: Pod
metadata: {name: prometheus-0, namespace: monitoring, labels: {app.kubernetes.io/name: prometheus}}
spec: {containers: [{name: prometheus, args: [--storage.tsdb.retention.time=30d]}]}
status: {phase: Running, podIP: 10.244.0.9}
`
	agent := `---
apiVersion: v1
kind: Pod
metadata: {name: cilium-x7k2p, namespace: kube-system, labels: {k8s-app: cilium}}
spec: {hostNetwork: true, containers: [{name: cilium-agent}]}
status: {phase: Running, podIP: 10.10.0.4}
`
	config := func(mode string) string {
		return fmt.Sprintf(`---
apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config, namespace: kube-system}
data: {policy-cidr-match-mode: %q}
`, mode)
	}
	profile := filepath.Join(profilesDir, "strict-deny.yaml")
	for name, tc := range map[string]struct {
		state, want string
	}{
		"no Cilium":            {prom, ""},
		"setting not exported": {prom + agent, "[warning] cilium-node-cidrs: Cilium"},
		"setting unset":        {prom + agent + config(""), "[critical] cilium-node-cidrs: Cilium"},
		"setting nodes":        {prom + agent + config("nodes"), ""},
		"nodes among others":   {prom + agent + config("nodes pods"), ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, out, errOut := run(t, dir, "doctor", profile, "--cluster-state", writeFile(t, dir, strings.ReplaceAll(name, " ", "-")+".yaml", tc.state))
			if tc.want == "" {
				assert.NotContains(t, out, "cilium-node-cidrs", "%s %s", out, errOut)
				return
			}
			assert.Contains(t, out, tc.want, "%s %s", out, errOut)
			assert.Contains(t, out, "policyCIDRMatchMode: nodes")
		})
	}
}

func TestImportDraftsAProfileThatValidates(t *testing.T) {
	dir := t.TempDir()
	state := writeFile(t, dir, "cluster.yaml", `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: payments, labels: {owner: payments, istio-injection: enabled}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: search, labels: {owner: search}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: legacy}}
- {apiVersion: v1, kind: Namespace, metadata: {name: istio-system}}
- {apiVersion: v1, kind: Namespace, metadata: {name: monitoring}}
- apiVersion: v1
  kind: Pod
  metadata: {name: istiod-1, namespace: istio-system, labels: {app: istiod}}
  status: {phase: Running, podIP: 10.244.0.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: prometheus-0, namespace: monitoring, labels: {app.kubernetes.io/name: prometheus}}
  status: {phase: Running, podIP: 10.244.0.3}
- apiVersion: v1
  kind: Pod
  metadata: {name: node-exporter-x1, namespace: monitoring, labels: {app.kubernetes.io/name: node-exporter}}
  spec: {hostNetwork: true}
  status: {phase: Running, podIP: 192.168.0.4}
- apiVersion: v1
  kind: Pod
  metadata: {name: kube-state-metrics-1, namespace: kube-system, labels: {app.kubernetes.io/name: kube-state-metrics}}
  status: {phase: Running, podIP: 10.244.0.4}
- apiVersion: v1
  kind: Pod
  metadata: {name: alertmanager-main-0, namespace: monitoring, labels: {app.kubernetes.io/name: alertmanager}}
  status: {phase: Running, podIP: 10.244.0.5}
- apiVersion: v1
  kind: Pod
  metadata: {name: checkout-1, namespace: payments, labels: {app: checkout}, annotations: {prometheus.io/path: /stats}}
  status: {phase: Running, podIP: 10.244.1.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: indexer-1, namespace: search, labels: {app.kubernetes.io/name: indexer},
    annotations: {prometheus.io/scrape: "true", prometheus.io/port: "9102"}}
  status: {phase: Running, podIP: 10.244.2.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: old-1, namespace: legacy}
  status: {phase: Running, podIP: 10.244.3.2}
- apiVersion: v1
  kind: Service
  metadata: {name: checkout, namespace: payments}
  spec:
    selector: {app: checkout}
    ports: [{name: http, port: 80, targetPort: 8080}, {name: http-metrics, port: 9090, targetPort: 9090}]
- apiVersion: security.istio.io/v1
  kind: PeerAuthentication
  metadata: {name: default, namespace: istio-system}
  spec: {mtls: {mode: STRICT}}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: default-deny, namespace: payments}
  spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: kubernetes, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}
  addressType: IPv4
  endpoints: [{addresses: [10.0.0.10]}]
  ports: [{name: https, port: 6443, protocol: TCP}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: kubernetes-v6, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}
  addressType: IPv6
  endpoints: [{addresses: ["fd00:10::10"]}]
  ports: [{name: https, port: 6443, protocol: TCP}]
`)
	code, out, errOut := run(t, dir, "import", "--cluster-state", state, "--team-label", "owner", "--name", "prod-eu-1")
	require.Equal(t, ExitOK, code, errOut)
	loaded, err := profile.Load("draft.yaml", []byte(out))
	require.NoError(t, err, out)
	p := loaded.Profile
	assert.Equal(t, "prod-eu-1", p.Metadata.Name)
	assert.EqualValues(t, "STRICT", p.Mesh.MTLS, out)
	assert.EqualValues(t, "default-deny", p.Network.Stance, out)
	assert.Equal(t, []string{"10.0.0.10/32", "fd00:10::10/128"}, p.Cluster.APIServerCIDRs, "one address each, IPv6 too")
	assert.Equal(t, "monitoring", p.Monitoring.Namespace)
	// kube-prometheus' node-exporter label, kube-state-metrics in another
	// namespace; Alertmanager where the defaults find it.
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "node-exporter"}, p.Monitoring.NodeExporter.PodLabels, out)
	assert.Equal(t, "monitoring", p.Monitoring.NodeExporter.Namespace)
	assert.Equal(t, "kube-system", p.Monitoring.KubeStateMetrics.Namespace, out)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "kube-state-metrics"}, p.Monitoring.KubeStateMetrics.PodLabels, out)
	assert.Empty(t, p.Monitoring.Alertmanager.Namespace, "the defaults select it")
	assert.Nil(t, p.Monitoring.Alertmanager.PodLabels, out)
	require.Len(t, p.Teams, 2, out)
	assert.Equal(t, "payments", p.Teams[0].Name)
	require.Len(t, p.Teams[0].Services, 1, out)
	assert.Equal(t, 9090, p.Teams[0].Services[0].Port)
	assert.Equal(t, "/stats", p.Teams[0].Services[0].Path)
	assert.Equal(t, map[string]string{"app": "checkout"}, p.Teams[0].Services[0].Selector)
	require.Len(t, p.Teams[1].Services, 1, out)
	assert.Equal(t, 9102, p.Teams[1].Services[0].Port)
	assert.Contains(t, out, "REVIEW: namespace legacy runs workloads")
	assert.Contains(t, out, "REVIEW: the nodes' address range")

	// The draft generates.
	draft := writeFile(t, dir, "prod-eu-1.yaml", out)
	code, _, errOut = run(t, dir, "validate", draft)
	assert.Equal(t, ExitOK, code, "%s\n%s", errOut, out)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// TestDoctorComparesTheAPIServerEndpoints: under a deny stance obsgen's
// egress policies open cluster.apiServerCIDRs on cluster.apiServerPort,
// which policy engines match after the Service default/kubernetes is
// translated to an endpoint. A kubeadm cluster's endpoints serve 6443, and
// an endpoint outside the ranges is cut off too: doctor reads the
// EndpointSlice and says which field to change. Matching endpoints, and
// the open stance (no egress policies), give no such finding.
func TestDoctorComparesTheAPIServerEndpoints(t *testing.T) {
	dir := t.TempDir()
	slice := func(port int, addrs ...string) string {
		return fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: kubernetes, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}
addressType: IPv4
endpoints: [{addresses: [%s], conditions: {ready: true}}]
ports: [{name: https, port: %d, protocol: TCP}]
`, strings.Join(addrs, ", "), port)
	}
	strict := filepath.Join(profilesDir, "strict-deny.yaml") // 10.0.0.10-12/32, port 6443
	doctor := func(profile, state string) string {
		state = "apiVersion: v1\nkind: Namespace\nmetadata: {name: payments}\n---\n" + state
		_, out, errOut := run(t, dir, "doctor", profile, "--cluster-state", writeFile(t, dir, "state.yaml", state))
		return out + errOut
	}

	out := doctor(strict, slice(443, "10.0.0.10", "10.0.0.13"))
	assert.Contains(t, out, "[critical] api-server-endpoints: API server port", out)
	assert.Contains(t, out, "serve port 443, not cluster.apiServerPort 6443")
	assert.Contains(t, out, "set cluster.apiServerPort: 443")
	assert.Contains(t, out, "[critical] api-server-endpoints: API server addresses")
	assert.Contains(t, out, "10.0.0.13 lie outside cluster.apiServerCIDRs")
	assert.NotContains(t, out, "10.0.0.10 lie outside")

	out = doctor(strict, slice(6443, "10.0.0.10", "10.0.0.11", "10.0.0.12"))
	assert.NotContains(t, out, "api-server-endpoints", out)
	assert.NotContains(t, out, "no EndpointSlice of the Service default/kubernetes")

	out = doctor(strict, "apiVersion: v1\nkind: Namespace\nmetadata: {name: search}\n")
	assert.Contains(t, out, "no EndpointSlice of the Service default/kubernetes", out)

	out = doctor(exampleProfile, slice(6443, "192.0.2.1")) // open stance
	assert.NotContains(t, out, "api-server-endpoints", out)
}
