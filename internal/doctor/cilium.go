package doctor

import (
	"fmt"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/clusterstate"
)

// Cilium gives node addresses the reserved host and remote-node identities
// before any CIDR rule is evaluated, so a NetworkPolicy ipBlock never
// selects a node, nor an API server that runs on one, unless the agents
// run with policy-cidr-match-mode including "nodes" (Cilium 1.15 on:
// cilium/cilium#27464; the issue it fixed, #20550; docs.cilium.io
// security/policy/language, "Selecting nodes with CIDR / ipBlock").
// cilium-cli reads the setting the same way (strings.Contains of the
// cilium-config key). Under the default-deny stance with NetworkPolicies,
// obsgen opens Prometheus' egress to the kubelets, cAdvisor and
// node-exporter (cluster.nodeCIDRs) and to the API server
// (cluster.apiServerCIDRs) with ipBlock peers: on Cilium without the
// setting those scrapes and, where the API server runs on the nodes,
// service discovery are dropped.

// ciliumAgentLabel selects Cilium's agent pods (the cilium DaemonSet of
// Cilium's Helm chart, k8s-app: cilium).
const (
	ciliumAgentLabel   = "k8s-app"
	ciliumAgentValue   = "cilium"
	ciliumCIDRMatchKey = "policy-cidr-match-mode"
)

func (d *doctor) checkCilium() {
	if d.p.Network.Stance != v1alpha1.StanceDefaultDeny || d.p.Network.Engine != v1alpha1.EngineKubernetes {
		return
	}
	var agent string
	for _, pod := range d.st.Pods {
		if pod.Labels[ciliumAgentLabel] == ciliumAgentValue {
			agent = pod.Namespace + "/" + pod.Name
			break
		}
	}
	cm := d.st.CiliumConfig
	if agent == "" && cm == nil {
		return
	}
	if cm != nil && strings.Contains(cm.Data[ciliumCIDRMatchKey], "nodes") {
		return
	}
	f := Finding{Severity: Warning, Cause: CauseCiliumNodeCIDRs, Subject: "Cilium",
		Summary: "the cluster runs Cilium, whose agents match a NetworkPolicy ipBlock against node addresses only with policy-cidr-match-mode: nodes; " +
			"obsgen's policies open Prometheus' egress to the kubelets, cAdvisor and node-exporter (cluster.nodeCIDRs) and to the API server (cluster.apiServerCIDRs) that way",
		Fix: "set policyCIDRMatchMode: nodes in Cilium's Helm values (policy-cidr-match-mode: nodes in the ConfigMap " + clusterstate.CiliumConfigName +
			", Cilium 1.15 or later) and restart the agents (`kubectl -n kube-system rollout restart daemonset cilium`)",
		Ref: "cilium/cilium#20550 and #27464; docs.cilium.io security/policy/language (Selecting nodes with CIDR / ipBlock)"}
	if cm == nil {
		f.Evidence = []string{fmt.Sprintf("Cilium agent pod %s; the cluster state holds no ConfigMap %s, so the setting was not read", agent, clusterstate.CiliumConfigName)}
		f.Fix += fmt.Sprintf("; if it is set, add the ConfigMap to the state (`kubectl get configmap -n %s %s -o yaml`)", agentNamespace(agent), clusterstate.CiliumConfigName)
	} else {
		f.Severity = Critical
		f.Evidence = []string{fmt.Sprintf("ConfigMap %s/%s: %s=%q", cm.Namespace, cm.Name, ciliumCIDRMatchKey, cm.Data[ciliumCIDRMatchKey])}
		f.Summary += ": the kubelet and node-exporter scrapes are dropped"
	}
	d.add(f)
}

func agentNamespace(agent string) string {
	if ns, _, ok := strings.Cut(agent, "/"); ok && ns != "" {
		return ns
	}
	return "kube-system"
}
