package simcluster

import (
	"cmp"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// buildStore turns the cluster model into API objects.
func (c *Cluster) buildStore() (*store, error) {
	st := newStore()
	for _, n := range c.namespaces {
		st.add("namespaces", namespaceObject(n), nil)
	}
	for _, n := range c.nodes {
		st.add("nodes", nodeObject(n), nil)
	}
	for _, p := range c.pods {
		obj := podObject(p, c.hostIP(p))
		st.add("pods", obj, fields.Set{"spec.nodeName": p.Node, "status.phase": string(p.Phase),
			"status.podIP": p.IP, "spec.hostNetwork": fmt.Sprint(p.HostNetwork)})
	}
	for i, s := range c.services {
		backends := c.backends(s)
		st.add("services", serviceObject(s, i), nil)
		st.add("endpoints", endpointsObject(s, backends), nil)
		st.add("endpointslices", endpointSliceObject(s, backends), nil)
	}
	for _, o := range c.objects {
		st.add(o.resource, o.obj, nil)
	}
	if err := st.encode(); err != nil {
		return nil, fmt.Errorf("build API objects: %w", err)
	}
	return st, nil
}

func (c *Cluster) hostIP(p *Pod) string {
	if n := c.node(p.Node); n != nil {
		return n.IP
	}
	return ""
}

func objectMeta(namespace, name string, lbls, annotations map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: name, Namespace: namespace,
		Labels: maps.Clone(lbls), Annotations: maps.Clone(annotations),
		UID:               types.UID(fmt.Sprintf("simcluster-%s-%s", namespace, name)),
		CreationTimestamp: metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second)),
	}
}

func namespaceObject(n namespace) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: objectMeta("", n.name, n.labels, nil),
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
}

func nodeObject(n *Node) *corev1.Node {
	lbls := map[string]string{"kubernetes.io/hostname": n.Name, "kubernetes.io/os": "linux"}
	maps.Copy(lbls, n.Labels)
	return &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: objectMeta("", n.Name, lbls, n.Annotations),
		Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.IP},
				{Type: corev1.NodeHostName, Address: n.Name},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{
				KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(n.KubeletPort)},
			},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func podObject(p *Pod, hostIP string) *corev1.Pod {
	running := p.Phase == corev1.PodRunning
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: objectMeta(p.Namespace, p.Name, p.Labels, p.Annotations),
		Spec:       corev1.PodSpec{NodeName: p.Node, HostNetwork: p.HostNetwork},
		Status: corev1.PodStatus{
			Phase: p.Phase, PodIP: p.IP, PodIPs: []corev1.PodIP{{IP: p.IP}}, HostIP: hostIP,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: conditionStatus(running)}},
		},
	}
	for _, ctr := range p.Containers {
		spec := corev1.Container{Name: ctr.Name, Image: cmp.Or(ctr.Image, "simcluster/"+ctr.Name), Args: ctr.Args}
		for _, port := range ctr.Ports {
			spec.Ports = append(spec.Ports, corev1.ContainerPort{Name: port.Name, ContainerPort: port.Number,
				Protocol: corev1.ProtocolTCP})
		}
		pod.Spec.Containers = append(pod.Spec.Containers, spec)
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Ready: running, Image: spec.Image, ContainerID: "simcluster://" + p.Name + "/" + ctr.Name})
	}
	return pod
}

func conditionStatus(ok bool) corev1.ConditionStatus {
	if ok {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func serviceObject(s *Service, index int) *corev1.Service {
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(s.Namespace, s.Name, s.Labels, s.Annotations),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: maps.Clone(s.Selector),
			ClusterIP: fmt.Sprintf("10.96.%d.%d", (index+1)/250, (index+1)%250+1)},
	}
	for _, p := range s.Ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.Name, Port: p.Port,
			Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(p.target())})
	}
	return svc
}

func (p ServicePort) target() int32 {
	if p.TargetPort != 0 {
		return p.TargetPort
	}
	return p.Port
}

// backend is one endpoint address of a service.
type backend struct {
	ip    string
	pod   *Pod // nil for an explicit address
	ready bool
}

// backends are the pods the service selects, or its explicit addresses.
func (c *Cluster) backends(s *Service) []backend {
	var out []backend
	for _, ip := range s.Addresses {
		out = append(out, backend{ip: ip, ready: true})
	}
	if len(s.Selector) == 0 {
		return out
	}
	sel := labels.SelectorFromSet(s.Selector)
	for _, p := range c.pods {
		if p.Namespace == s.Namespace && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, backend{ip: p.IP, pod: p, ready: p.Phase == corev1.PodRunning})
		}
	}
	return out
}

func (b backend) targetRef() *corev1.ObjectReference {
	if b.pod == nil {
		return nil
	}
	return &corev1.ObjectReference{Kind: "Pod", Namespace: b.pod.Namespace, Name: b.pod.Name,
		UID: types.UID(fmt.Sprintf("simcluster-%s-%s", b.pod.Namespace, b.pod.Name))}
}

func (b backend) nodeName() *string {
	if b.pod == nil || b.pod.Node == "" {
		return nil
	}
	return &b.pod.Node
}

func endpointsObject(s *Service, backends []backend) *corev1.Endpoints {
	ep := &corev1.Endpoints{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"},
		ObjectMeta: objectMeta(s.Namespace, s.Name, s.Labels, nil),
	}
	if len(backends) == 0 {
		return ep
	}
	var subset corev1.EndpointSubset
	for _, b := range backends {
		addr := corev1.EndpointAddress{IP: b.ip, NodeName: b.nodeName(), TargetRef: b.targetRef()}
		if b.ready {
			subset.Addresses = append(subset.Addresses, addr)
		} else {
			subset.NotReadyAddresses = append(subset.NotReadyAddresses, addr)
		}
	}
	for _, p := range s.Ports {
		subset.Ports = append(subset.Ports, corev1.EndpointPort{Name: p.Name, Port: p.target(),
			Protocol: corev1.ProtocolTCP})
	}
	ep.Subsets = []corev1.EndpointSubset{subset}
	return ep
}

func endpointSliceObject(s *Service, backends []backend) *discoveryv1.EndpointSlice {
	lbls := map[string]string{discoveryv1.LabelServiceName: s.Name,
		discoveryv1.LabelManagedBy: "simcluster"}
	maps.Copy(lbls, s.Labels)
	es := &discoveryv1.EndpointSlice{
		TypeMeta:    metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta:  objectMeta(s.Namespace, s.Name+"-sim", lbls, nil),
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, b := range backends {
		ready, terminating := b.ready, false
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{b.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &ready, Terminating: &terminating},
			TargetRef:  b.targetRef(), NodeName: b.nodeName(),
		})
	}
	for _, p := range s.Ports {
		name, port, proto := p.Name, p.target(), corev1.ProtocolTCP
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto})
	}
	return es
}

// AddObject adds an API object of one of the policy resources the fake API
// server serves (networkpolicies, peerauthentications,
// authorizationpolicies, adminnetworkpolicies,
// baselineadminnetworkpolicies), for clients that read the cluster's state. Its
// TypeMeta is filled in. Listeners do not enforce it.
func (c *Cluster) AddObject(resource string, obj metav1.Object) {
	c.t.Helper()
	c.mustNotBeStarted()
	info, ok := policyResources[resource]
	if !ok {
		c.t.Fatalf("simcluster: AddObject: %q is not a policy resource", resource)
	}
	if t, ok := obj.(interface{ GetObjectKind() schema.ObjectKind }); ok {
		t.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Group: info.group, Version: info.ver(), Kind: info.kind})
	}
	c.objects = append(c.objects, extraObject{resource: resource, obj: obj})
}

// extraObject is an object added with AddObject.
type extraObject struct {
	resource string
	obj      metav1.Object
}
