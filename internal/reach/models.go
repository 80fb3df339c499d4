package reach

import (
	"fmt"

	"github.com/np-guard/netpol-analyzer/pkg/netpol/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"obsgen.dev/obsgen/internal/plan"
)

// Open is the model of the open stance: no policies, everything allowed.
type Open struct{}

// Name describes the model.
func (Open) Name() string { return "no network policies (stance open)" }

// Allowed is always true.
func (Open) Allowed(Endpoint, Endpoint, string, int) (bool, error) { return true, nil }

// Kubernetes evaluates Kubernetes NetworkPolicies with np-guard's
// netpol-analyzer.
type Kubernetes struct {
	engine *eval.PolicyEngine
}

// NewKubernetes loads the cluster and the policies into the analyzer.
func NewKubernetes(c *Cluster, policies []*networkingv1.NetworkPolicy) (*Kubernetes, error) {
	objs := make([]runtime.Object, len(policies))
	for i, np := range policies {
		objs[i] = np
	}
	return NewAnalyzer(c, objs)
}

// NewAnalyzer loads the cluster and policy objects of any kind the analyzer
// reads (NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy).
func NewAnalyzer(c *Cluster, policies []runtime.Object) (*Kubernetes, error) {
	e := eval.NewPolicyEngine()
	for _, ns := range c.Namespaces {
		if err := e.InsertObject(&corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{plan.NamespaceNameLabel: ns}},
		}); err != nil {
			return nil, fmt.Errorf("reach: namespace %s: %w", ns, err)
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
			return nil, fmt.Errorf("reach: pod %s: %w", pod.Name, err)
		}
	}
	for _, obj := range policies {
		if err := e.InsertObject(obj); err != nil {
			return nil, fmt.Errorf("reach: %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, err)
		}
	}
	return &Kubernetes{engine: e}, nil
}

// Name describes the model.
func (*Kubernetes) Name() string { return "np-guard netpol-analyzer" }

// Allowed asks the analyzer.
func (k *Kubernetes) Allowed(src, dst Endpoint, proto string, port int) (bool, error) {
	return k.engine.CheckIfAllowed(analyzerName(src), analyzerName(dst), proto, fmt.Sprint(port))
}

func analyzerName(e Endpoint) string {
	if e.Pod != nil {
		return e.Pod.Name
	}
	return e.Addr.String()
}
