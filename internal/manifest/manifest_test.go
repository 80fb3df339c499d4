package manifest

import (
	"regexp"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Objects full of the empty fields Go types leave (status, resources,
// creationTimestamp, empty rules) are written without them, keep the empty
// selectors that mean "everything", and every written document decodes
// strictly into its type again.
func TestDocumentsDropEmptyFieldsAndStillDecode(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "x", Namespace: "monitoring"}
	port := intstr.FromInt32(9090)
	replicas, history := int32(2500000), int32(10)
	objs := []any{
		&networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}, ObjectMeta: meta,
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
				}}}},
		&appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, RevisionHistoryLimit: &history, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "x:1"}}}}}},
		&monitoringv1.PrometheusRule{TypeMeta: metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "PrometheusRule"}, ObjectMeta: meta,
			Spec: monitoringv1.PrometheusRuleSpec{Groups: []monitoringv1.RuleGroup{{Name: "g",
				Rules: []monitoringv1.Rule{{Record: "r", Expr: intstr.FromString("up")}}}}}},
	}
	f, err := Documents("x.yaml", objs)
	require.NoError(t, err)
	text := string(f.Data)
	for _, gone := range []string{"creationTimestamp", "status:", "resources:", "strategy:"} {
		assert.NotContains(t, text, gone)
	}
	assert.Contains(t, text, "namespaceSelector: {}", "an empty selector means every namespace and stays")
	assert.Contains(t, text, "podSelector: {}")
	assert.Contains(t, text, "replicas: 2500000\n", "integers stay integers, however large")
	assert.Contains(t, text, "revisionHistoryLimit: 10\n")

	docs := regexp.MustCompile(`(?m)^---\n`).Split(text, -1)
	require.Len(t, docs, len(objs))
	news := []any{&networkingv1.NetworkPolicy{}, &appsv1.Deployment{}, &monitoringv1.PrometheusRule{}}
	for i, doc := range docs {
		assert.NoError(t, yaml.UnmarshalStrict([]byte(doc), news[i]), doc)
	}
}
