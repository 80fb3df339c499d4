// Package analyzer evaluates Kubernetes NetworkPolicies,
// AdminNetworkPolicies and the BaselineAdminNetworkPolicy with np-guard's
// netpol-analyzer, the independent reference obsgen's own evaluators
// (reach.Compiled, reach.AdminNetwork) are checked against. It links
// client-go and kustomize, so only the tests and obsgen-verify import it;
// the obsgen binary proves with obsgen's evaluators.
package analyzer

import (
	"fmt"

	"github.com/np-guard/netpol-analyzer/pkg/netpol/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/reach"
)

// Model is a reach.Model backed by the analyzer.
type Model struct {
	engine *eval.PolicyEngine
}

// Name describes the model.
func (*Model) Name() string { return "np-guard netpol-analyzer" }

// NewKubernetes loads the cluster and the NetworkPolicies into the
// analyzer.
func NewKubernetes(c *reach.Cluster, policies []*networkingv1.NetworkPolicy) (*Model, error) {
	objs := make([]runtime.Object, len(policies))
	for i, np := range policies {
		objs[i] = np
	}
	return New(c, objs)
}

// Reference is New as a reach.Model constructor, what
// reports.Prove takes to prove with the analyzer.
func Reference(c *reach.Cluster, policies []runtime.Object) (reach.Model, error) {
	return New(c, policies)
}

// New loads the cluster and policy objects of any kind the analyzer reads
// (NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy). Pods
// need a node and addresses: the analyzer reads spec.nodeName and
// status.podIPs.
func New(c *reach.Cluster, policies []runtime.Object) (*Model, error) {
	e := eval.NewPolicyEngine()
	for _, ns := range c.Namespaces {
		if err := e.InsertObject(&corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{plan.NamespaceNameLabel: ns}},
		}); err != nil {
			return nil, fmt.Errorf("analyzer: namespace %s: %w", ns, err)
		}
	}
	for _, pod := range c.Pods {
		ip := pod.IP.String()
		labels := pod.Labels.Map()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["obsgen.dev/synthetic"] = "true"
		if err := e.InsertObject(&corev1.Pod{
			TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: pod.Name[len(pod.Namespace)+1:], Namespace: pod.Namespace, Labels: labels},
			Spec:       corev1.PodSpec{NodeName: "node-1"},
			Status:     corev1.PodStatus{PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIP: ip},
		}); err != nil {
			return nil, fmt.Errorf("analyzer: pod %s: %w", pod.Name, err)
		}
	}
	for _, obj := range policies {
		if err := e.InsertObject(obj); err != nil {
			return nil, fmt.Errorf("analyzer: %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, err)
		}
	}
	return &Model{engine: e}, nil
}

// Allowed asks the analyzer.
func (m *Model) Allowed(src, dst reach.Endpoint, proto string, port int) (bool, error) {
	return m.engine.CheckIfAllowed(name(src), name(dst), proto, fmt.Sprint(port))
}

func name(e reach.Endpoint) string {
	if e.Pod != nil {
		return e.Pod.Name
	}
	return e.Addr.String()
}
