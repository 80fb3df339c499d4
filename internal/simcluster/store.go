package simcluster

import (
	"encoding/json"
	"fmt"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// resourceInfo describes one resource the fake API server serves.
type resourceInfo struct {
	group      string // "" for the core group
	kind       string
	namespaced bool
	version    string // "" for v1
}

func (r resourceInfo) apiVersion() string {
	if r.group == "" {
		return "v1"
	}
	return r.group + "/" + r.ver()
}

func (r resourceInfo) ver() string {
	if r.version == "" {
		return "v1"
	}
	return r.version
}

// resources are the served resources by their plural name.
var resources = map[string]resourceInfo{
	"pods":           {kind: "Pod", namespaced: true},
	"services":       {kind: "Service", namespaced: true},
	"endpoints":      {kind: "Endpoints", namespaced: true},
	"nodes":          {kind: "Node"},
	"namespaces":     {kind: "Namespace"},
	"endpointslices": {group: "discovery.k8s.io", kind: "EndpointSlice", namespaced: true},
}

// apiObject is a typed Kubernetes object (a pointer to it).
type apiObject interface {
	metav1.Object
}

// storedObject is an API object with what selectors match on.
type storedObject struct {
	obj    apiObject
	labels labels.Set
	fields fields.Set
	raw    json.RawMessage
}

// store holds the API objects of a started cluster; it does not change.
type store struct {
	rv      int
	objects map[string][]*storedObject // by resource
}

func newStore() *store {
	return &store{objects: map[string][]*storedObject{}}
}

// add stores obj with a new resource version; extra are the resource's
// selectable fields besides metadata.name and metadata.namespace.
func (s *store) add(resource string, obj apiObject, extra fields.Set) {
	s.rv++
	obj.SetResourceVersion(strconv.Itoa(s.rv))
	f := fields.Set{"metadata.name": obj.GetName(), "metadata.namespace": obj.GetNamespace()}
	for k, v := range extra {
		f[k] = v
	}
	s.objects[resource] = append(s.objects[resource], &storedObject{obj: obj, labels: obj.GetLabels(), fields: f})
}

// encode renders every object as JSON once.
func (s *store) encode() error {
	for resource, objs := range s.objects {
		for _, o := range objs {
			raw, err := json.Marshal(o.obj)
			if err != nil {
				return fmt.Errorf("encode %s %s/%s: %w", resource, o.obj.GetNamespace(), o.obj.GetName(), err)
			}
			o.raw = raw
		}
	}
	return nil
}

// resourceVersion is the store's current (latest) resource version.
func (s *store) resourceVersion() string { return strconv.Itoa(s.rv) }

// query selects objects of a resource.
type query struct {
	resource  string
	namespace string // "" for all namespaces
	labels    labels.Selector
	fields    fields.Selector
}

// selectObjects returns the raw objects q matches, in insertion order.
func (s *store) selectObjects(q query) []json.RawMessage {
	var out []json.RawMessage
	for _, o := range s.objects[q.resource] {
		if q.namespace != "" && o.obj.GetNamespace() != q.namespace {
			continue
		}
		if q.labels.Matches(o.labels) && q.fields.Matches(o.fields) {
			out = append(out, o.raw)
		}
	}
	return out
}

// policyResources are the policy kinds the fake API server also serves, for
// clients that read a cluster's state (obsgen doctor's live mode). Calico's
// are left out: its plural networkpolicies clashes with Kubernetes'.
var policyResources = map[string]resourceInfo{
	"adminnetworkpolicies":         {group: "policy.networking.k8s.io", kind: "AdminNetworkPolicy", version: "v1alpha1"},
	"baselineadminnetworkpolicies": {group: "policy.networking.k8s.io", kind: "BaselineAdminNetworkPolicy", version: "v1alpha1"},
	"networkpolicies":              {group: "networking.k8s.io", kind: "NetworkPolicy", namespaced: true},
	"peerauthentications":          {group: "security.istio.io", kind: "PeerAuthentication", namespaced: true},
	"authorizationpolicies":        {group: "security.istio.io", kind: "AuthorizationPolicy", namespaced: true},
}

func init() {
	for k, v := range policyResources {
		resources[k] = v
	}
}
