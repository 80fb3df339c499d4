// Package clusterstate reads what a Kubernetes cluster runs, for obsgen doctor
// and obsgen import: from files (the output of `kubectl get ... -A -o yaml`
// or `-o json`: a List, multi-document YAML, or single objects, in any
// order) or from the API server (live.go). Only the kinds that decide whether
// Prometheus can scrape a workload are kept; everything else is counted and
// skipped.
package clusterstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"

	"obsgen.dev/obsgen/internal/calico"
	"obsgen.dev/obsgen/internal/diag"
)

// State is what the cluster runs, as far as monitoring depends on it.
type State struct {
	Namespaces            []*corev1.Namespace
	Pods                  []*corev1.Pod
	Services              []*corev1.Service
	EndpointSlices        []*discoveryv1.EndpointSlice
	NetworkPolicies       []*networkingv1.NetworkPolicy
	PeerAuthentications   []*securityv1.PeerAuthentication
	AuthorizationPolicies []*securityv1.AuthorizationPolicy
	AdminNetworkPolicies  []*anpv1alpha1.AdminNetworkPolicy
	// BaselineAdminNetworkPolicy is the singleton named default, or nil.
	BaselineAdminNetworkPolicy *anpv1alpha1.BaselineAdminNetworkPolicy
	Calico                     []calico.Policy
	// CiliumConfig is Cilium's agent configuration (the ConfigMap
	// cilium-config, usually in kube-system), or nil. No other ConfigMap
	// is kept.
	CiliumConfig *corev1.ConfigMap
	// Skipped counts the objects of other kinds, by apiVersion/kind.
	Skipped map[string]int
	// Sources name where the state came from, for reports; Notes say what
	// could not be read.
	Sources []string
	Notes   []string
}

// Kinds lists the kinds State keeps, as apiVersion/kind, for messages and
// for the kubectl command the documentation gives.
var Kinds = []string{
	"v1/Namespace", "v1/Pod", "v1/Service", "discovery.k8s.io/v1/EndpointSlice",
	"networking.k8s.io/v1/NetworkPolicy",
	"security.istio.io/v1/PeerAuthentication", "security.istio.io/v1/AuthorizationPolicy",
	"policy.networking.k8s.io/v1alpha1/AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1/BaselineAdminNetworkPolicy",
	"projectcalico.org/v3/GlobalNetworkPolicy", "projectcalico.org/v3/NetworkPolicy",
}

// CiliumConfigName is the ConfigMap of Cilium's agent settings (Cilium's
// Helm chart, templates/cilium-configmap.yaml).
const CiliumConfigName = "cilium-config"

// KubectlCommand is the command that writes a state file obsgen doctor reads.
const KubectlCommand = "kubectl get namespaces,pods,services,endpointslices,networkpolicies," +
	"peerauthentications.security.istio.io,authorizationpolicies.security.istio.io -A -o yaml > cluster.yaml"

// Load reads every path: a file, or a folder whose *.yaml, *.yml and
// *.json files are read in name order (not its subfolders). Problems are
// positioned diagnostics; a file that cannot be read at all is an error.
func Load(paths []string) (*State, error) {
	st := &State{Skipped: map[string]int{}}
	var diags diag.List
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("cluster state: %w", err)
			}
			diags = append(diags, st.AddFile(f, data)...)
		}
	}
	if len(diags) > 0 {
		return nil, diags
	}
	st.Sort()
	return st, nil
}

func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cluster state: %w", err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("cluster state: %w", err)
	}
	var out []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			out = append(out, filepath.Join(p, e.Name()))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cluster state: %s holds no .yaml, .yml or .json file; write one with `%s`", p, KubectlCommand)
	}
	return out, nil
}

// AddFile reads one file's documents into the state.
func (st *State) AddFile(file string, data []byte) diag.List {
	st.Sources = append(st.Sources, file)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var diags diag.List
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return append(diags, diag.Diagnostic{File: file, Pos: yamlErrorPos(err), Message: "not YAML or JSON: " + err.Error(),
				Hint: "write the file with `" + KubectlCommand + "`"})
		}
		if len(doc.Content) == 0 {
			continue
		}
		diags = append(diags, st.addNode(file, doc.Content[0], fmt.Sprintf("document %d", i+1))...)
	}
	return diags
}

// addNode adds one object, or the items of a List.
func (st *State) addNode(file string, n *yaml.Node, where string) diag.List {
	pos := diag.Pos{Line: n.Line, Col: n.Column}
	if n.Kind != yaml.MappingNode {
		return diag.List{{File: file, Pos: pos, Path: where, Message: "not a Kubernetes object (want a mapping with apiVersion and kind)"}}
	}
	apiVersion, kind := scalar(n, "apiVersion"), scalar(n, "kind")
	if kind == "" || apiVersion == "" {
		return diag.List{{File: file, Pos: pos, Path: where, Message: "missing apiVersion or kind",
			Hint: "cluster state files are what `kubectl get ... -o yaml` prints"}}
	}
	if strings.HasSuffix(kind, "List") {
		items := field(n, "items")
		if items == nil {
			return nil
		}
		if items.Kind != yaml.SequenceNode {
			return diag.List{{File: file, Pos: diag.Pos{Line: items.Line, Col: items.Column}, Path: where + ".items", Message: "items is not a list"}}
		}
		var diags diag.List
		for i, it := range items.Content {
			diags = append(diags, st.addNode(file, it, fmt.Sprintf("%s.items[%d]", where, i))...)
		}
		return diags
	}
	var generic any
	if err := n.Decode(&generic); err != nil {
		return diag.List{{File: file, Pos: pos, Path: where, Message: err.Error()}}
	}
	data, err := json.Marshal(jsonable(generic))
	if err != nil {
		return diag.List{{File: file, Pos: pos, Path: where, Message: err.Error()}}
	}
	if err := st.add(apiVersion, kind, data); err != nil {
		path := where
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			path += "." + typeErr.Field
			if at := lookup(n, strings.Split(typeErr.Field, ".")); at != nil {
				pos = diag.Pos{Line: at.Line, Col: at.Column}
			}
			err = fmt.Errorf("want a %s, not %s", typeErr.Type, typeErr.Value)
		}
		return diag.List{{File: file, Pos: pos, Path: path, Message: fmt.Sprintf("%s %s: %v", apiVersion, kind, err),
			Hint: "the object does not follow its kind's schema; export it again with kubectl"}}
	}
	return nil
}

// AddObject adds one object given as JSON. Kinds State does not keep are
// counted in Skipped.
func (st *State) AddObject(data []byte) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return err
	}
	return st.add(head.APIVersion, head.Kind, data)
}

func (st *State) add(apiVersion, kind string, data []byte) error {
	group, _, _ := strings.Cut(apiVersion, "/")
	if !strings.Contains(apiVersion, "/") {
		group = ""
	}
	switch {
	case apiVersion == "v1" && kind == "Namespace":
		return decodeInto(data, &st.Namespaces)
	case apiVersion == "v1" && kind == "Pod":
		return decodeInto(data, &st.Pods)
	case apiVersion == "v1" && kind == "Service":
		return decodeInto(data, &st.Services)
	case apiVersion == "discovery.k8s.io/v1" && kind == "EndpointSlice":
		return decodeInto(data, &st.EndpointSlices)
	case apiVersion == "networking.k8s.io/v1" && kind == "NetworkPolicy":
		return decodeInto(data, &st.NetworkPolicies)
	// security.istio.io v1 and v1beta1 share one schema (istio.io/api
	// security/v1beta1 is what both versions serve).
	case group == "security.istio.io" && kind == "PeerAuthentication":
		return decodeInto(data, &st.PeerAuthentications)
	case group == "security.istio.io" && kind == "AuthorizationPolicy":
		return decodeInto(data, &st.AuthorizationPolicies)
	case group == "policy.networking.k8s.io" && kind == "AdminNetworkPolicy":
		return decodeInto(data, &st.AdminNetworkPolicies)
	case group == "policy.networking.k8s.io" && kind == "BaselineAdminNetworkPolicy":
		var b anpv1alpha1.BaselineAdminNetworkPolicy
		if err := json.Unmarshal(data, &b); err != nil {
			return err
		}
		st.BaselineAdminNetworkPolicy = &b
		return nil
	case apiVersion == "v1" && kind == "ConfigMap":
		var cm corev1.ConfigMap
		if err := json.Unmarshal(data, &cm); err != nil {
			return err
		}
		if cm.Name == CiliumConfigName {
			st.CiliumConfig = &cm
			return nil
		}
	case apiVersion == calico.APIVersion && (kind == calico.KindGlobalNetworkPolicy || kind == calico.KindNetworkPolicy):
		obj, err := calico.DecodeStrict(stripServerFields(data))
		if err != nil {
			return err
		}
		st.Calico = append(st.Calico, obj.(calico.Policy))
		return nil
	}
	st.Skipped[apiVersion+"/"+kind]++
	return nil
}

// stripServerFields removes what the API server adds to every object
// (status, managedFields), which Calico's strict decoder does not know.
func stripServerFields(data []byte) []byte {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return data
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}

func decodeInto[T any](data []byte, list *[]*T) error {
	obj := new(T)
	if err := json.Unmarshal(data, obj); err != nil {
		return err
	}
	*list = append(*list, obj)
	return nil
}

// jsonable turns YAML's map[string]any/map[any]any trees into JSON's.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonable(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = jsonable(e)
		}
		return t
	}
	return v
}

func field(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lookup follows keys through mappings (and into the first element of
// lists, whose indices encoding/json does not report).
func lookup(n *yaml.Node, keys []string) *yaml.Node {
	for _, k := range keys {
		for n != nil && n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
			n = n.Content[0]
		}
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		n = field(n, k)
	}
	return n
}

func scalar(n *yaml.Node, key string) string {
	if f := field(n, key); f != nil && f.Kind == yaml.ScalarNode {
		return f.Value
	}
	return ""
}

// yamlErrorPos reads "yaml: line N: ..." from a yaml.v3 error.
func yamlErrorPos(err error) diag.Pos {
	var line int
	if _, e := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line); e == nil {
		return diag.Pos{Line: line, Col: 1}
	}
	return diag.Pos{}
}

// Sort orders every list by namespace and name, so reports do not depend on
// the order of the files.
func (st *State) Sort() {
	sortBy(st.Namespaces, func(o *corev1.Namespace) string { return o.Name })
	sortBy(st.Pods, func(o *corev1.Pod) string { return o.Namespace + "/" + o.Name })
	sortBy(st.Services, func(o *corev1.Service) string { return o.Namespace + "/" + o.Name })
	sortBy(st.EndpointSlices, func(o *discoveryv1.EndpointSlice) string { return o.Namespace + "/" + o.Name })
	sortBy(st.NetworkPolicies, func(o *networkingv1.NetworkPolicy) string { return o.Namespace + "/" + o.Name })
	sortBy(st.PeerAuthentications, func(o *securityv1.PeerAuthentication) string { return o.Namespace + "/" + o.Name })
	sortBy(st.AuthorizationPolicies, func(o *securityv1.AuthorizationPolicy) string { return o.Namespace + "/" + o.Name })
	sortBy(st.AdminNetworkPolicies, func(o *anpv1alpha1.AdminNetworkPolicy) string { return o.Name })
	sort.SliceStable(st.Calico, func(i, j int) bool { return st.Calico[i].Ref().String() < st.Calico[j].Ref().String() })
}

func sortBy[T any](list []*T, key func(*T) string) {
	slices.SortStableFunc(list, func(a, b *T) int { return strings.Compare(key(a), key(b)) })
}

// Namespace returns the namespace named name, or nil.
func (st *State) Namespace(name string) *corev1.Namespace {
	for _, n := range st.Namespaces {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Empty tells whether the state holds no pod and no namespace.
func (st *State) Empty() bool { return len(st.Pods) == 0 && len(st.Namespaces) == 0 }

// MetricsPort is the target port of a Service port that serves metrics:
// one named for metrics, or the prometheus.io/port annotation of a
// Service annotated for scraping (the kubernetes-service-endpoints
// convention of Prometheus' example configuration).
func MetricsPort(svc *corev1.Service) (int, string) {
	if svc.Annotations["prometheus.io/scrape"] == "true" {
		var port int
		if _, err := fmt.Sscan(svc.Annotations["prometheus.io/port"], &port); err == nil && port > 0 {
			return port, "prometheus.io/scrape and prometheus.io/port annotations"
		}
	}
	for _, p := range svc.Spec.Ports {
		name := strings.ToLower(p.Name)
		if strings.Contains(name, "metrics") || strings.Contains(name, "prometheus") || name == "prom" {
			port := int(p.Port)
			if p.TargetPort.IntVal != 0 {
				port = int(p.TargetPort.IntVal)
			}
			return port, fmt.Sprintf("port %q", p.Name)
		}
	}
	return 0, ""
}

// AppAnnotations are the application's prometheus.io annotations: with
// metrics merging the injector moves them to the istio-proxy container's
// ISTIO_PROMETHEUS_ANNOTATIONS and points the pod's at 15020
// (pkg/kube/inject/webhook.go applyPrometheusMerge).
func AppAnnotations(pod *corev1.Pod) map[string]string {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range list {
			for _, env := range c.Env {
				if c.Name == "istio-proxy" && env.Name == "ISTIO_PROMETHEUS_ANNOTATIONS" {
					var m map[string]string
					if json.Unmarshal([]byte(env.Value), &m) == nil {
						return m
					}
				}
			}
		}
	}
	if pod.Annotations["prometheus.io/port"] == "15020" {
		return nil
	}
	return map[string]string{"scrape": pod.Annotations["prometheus.io/scrape"], "path": pod.Annotations["prometheus.io/path"],
		"port": pod.Annotations["prometheus.io/port"]}
}
