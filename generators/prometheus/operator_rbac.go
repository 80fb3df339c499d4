package prometheus

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RBACPath holds the Prometheus pods' ServiceAccount and what it may read.
const RBACPath = "operator/rbac-prometheus.yaml"

// prometheusRBAC is the ServiceAccount the Prometheus (or PrometheusAgent)
// resource names and its cluster-wide read access. The operator creates
// the StatefulSet with spec.serviceAccountName but never the account, nor
// its permissions: without them the pods are refused ("serviceaccount not
// found"), and with a bare account every discovery (pods, endpoints,
// EndpointSlices, nodes) and the kubelet's /metrics are refused with 403.
// The rules are the operator's own example, for the discovery roles the
// jobs use (pod, endpoints, endpointslice, node) and the kubelet's and
// API server's /metrics (nodes/metrics, nonResourceURLs):
// prometheus-operator Documentation/platform/rbac.md ("Prometheus RBAC"),
// example/rbac/prometheus/prometheus-cluster-role.yaml. The ClusterRole
// and its binding are cluster-scoped, so their name carries the namespace
// too: two profiles' Prometheus servers do not take each other's.
func (b builder) prometheusRBAC() []any {
	m := b.p.Monitoring
	sa := b.meta("")
	sa.Name = m.Prometheus.ServiceAccount
	cluster := b.meta("")
	cluster.Name = "obsgen-" + m.Namespace + "-" + m.Prometheus.Name
	cluster.Namespace = ""
	read := []string{"get", "list", "watch"}
	return []any{
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: sa},
		&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: cluster,
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes", "nodes/metrics", "services", "endpoints", "pods"}, Verbs: read},
				{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}},
				{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
				{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: read},
				{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}},
			},
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: cluster,
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: cluster.Name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: sa.Namespace}},
		},
	}
}
