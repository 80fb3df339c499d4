package calico

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group, version and kinds of the Calico policy API.
const (
	// Group is the API group of the Calico v3 API.
	Group = "projectcalico.org"
	// Version is the only version of Group this package reads and writes.
	Version = "v3"
	// APIVersion is the apiVersion of every object of this package.
	APIVersion = Group + "/" + Version

	KindGlobalNetworkPolicy = "GlobalNetworkPolicy"
	KindNetworkPolicy       = "NetworkPolicy"

	// DefaultTier is the tier of a policy whose spec.tier is empty. It is the
	// only tier the Evaluator supports.
	DefaultTier = "default"
)

// Labels Calico adds to workload endpoints and namespaces when it evaluates
// selectors. See
// https://docs.tigera.io/calico/latest/network-policy/get-started/calico-policy/calico-labels
const (
	// LabelNamespace holds, on a workload endpoint, the name of its namespace.
	LabelNamespace = "projectcalico.org/namespace"
	// LabelOrchestrator holds, on a workload endpoint, its orchestrator
	// (always "k8s" for pods).
	LabelOrchestrator = "projectcalico.org/orchestrator"
	// LabelServiceAccount holds, on a workload endpoint, the name of its pod's
	// service account.
	LabelServiceAccount = "projectcalico.org/serviceaccount"
	// LabelName holds, on a namespace (and on a service account), its name.
	// It is what a namespaceSelector uses to select a namespace by name.
	LabelName = "projectcalico.org/name"

	// OrchestratorKubernetes is the value of LabelOrchestrator for pods.
	OrchestratorKubernetes = "k8s"
)

// PolicyType is a direction a policy applies to.
type PolicyType string

// The two policy types.
const (
	PolicyTypeIngress PolicyType = "Ingress"
	PolicyTypeEgress  PolicyType = "Egress"
)

// Action is what a rule does with the traffic it matches.
type Action string

// The rule actions.
const (
	// Allow accepts the traffic; no later rule or policy is looked at.
	Allow Action = "Allow"
	// Deny drops the traffic; no later rule or policy is looked at.
	Deny Action = "Deny"
	// Log logs the traffic and carries on with the next rule.
	Log Action = "Log"
	// Pass skips the rest of the tier and goes to the next tier, or, in the
	// last tier, to the endpoint's profiles.
	Pass Action = "Pass"
)

// PolicyPerformanceHint is a hint to Calico's policy engine; hints never
// change what a policy enforces.
type PolicyPerformanceHint string

// PerfHintAssumeNeededOnEveryNode is the only performance hint.
const PerfHintAssumeNeededOnEveryNode PolicyPerformanceHint = "AssumeNeededOnEveryNode"

// GlobalNetworkPolicy is a projectcalico.org/v3 GlobalNetworkPolicy: a
// cluster-scoped, ordered set of rules applied to the endpoints its selectors
// pick, in every namespace. See
// https://docs.tigera.io/calico/latest/reference/resources/globalnetworkpolicy
type GlobalNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GlobalNetworkPolicySpec `json:"spec"`
}

// GlobalNetworkPolicySpec is the spec of a GlobalNetworkPolicy.
type GlobalNetworkPolicySpec struct {
	// Tier is the tier of the policy; empty means "default".
	Tier string `json:"tier,omitempty"`
	// Order places the policy within its tier: lower orders apply first;
	// nil means "last" (+infinity). Ties are broken by name.
	Order *float64 `json:"order,omitempty"`
	// Ingress and Egress are the ordered rules of each direction.
	Ingress []Rule `json:"ingress,omitempty"`
	Egress  []Rule `json:"egress,omitempty"`
	// Selector picks the endpoints the policy applies to; empty means all().
	Selector string `json:"selector,omitempty"`
	// Types are the directions the policy applies to. When empty Calico
	// defaults it from the rules present (see Evaluator).
	Types []PolicyType `json:"types,omitempty"`
	// DoNotTrack, PreDNAT and ApplyOnForward are host-endpoint features.
	DoNotTrack     bool `json:"doNotTrack,omitempty"`
	PreDNAT        bool `json:"preDNAT,omitempty"`
	ApplyOnForward bool `json:"applyOnForward,omitempty"`
	// ServiceAccountSelector further restricts the endpoints to those whose
	// service account's labels match.
	ServiceAccountSelector string `json:"serviceAccountSelector,omitempty"`
	// NamespaceSelector further restricts the endpoints to those whose
	// namespace's labels match (plus projectcalico.org/name).
	NamespaceSelector string `json:"namespaceSelector,omitempty"`
	// PerformanceHints never change what the policy enforces.
	PerformanceHints []PolicyPerformanceHint `json:"performanceHints,omitempty"`
}

// NetworkPolicy is a projectcalico.org/v3 NetworkPolicy: a namespaced, ordered
// set of rules applied to endpoints of its own namespace. See
// https://docs.tigera.io/calico/latest/reference/resources/networkpolicy
type NetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec NetworkPolicySpec `json:"spec"`
}

// NetworkPolicySpec is the spec of a NetworkPolicy. Its fields mean what the
// GlobalNetworkPolicySpec fields of the same name mean, scoped to the
// policy's namespace.
type NetworkPolicySpec struct {
	Tier                   string                  `json:"tier,omitempty"`
	Order                  *float64                `json:"order,omitempty"`
	Ingress                []Rule                  `json:"ingress,omitempty"`
	Egress                 []Rule                  `json:"egress,omitempty"`
	Selector               string                  `json:"selector,omitempty"`
	Types                  []PolicyType            `json:"types,omitempty"`
	ServiceAccountSelector string                  `json:"serviceAccountSelector,omitempty"`
	PerformanceHints       []PolicyPerformanceHint `json:"performanceHints,omitempty"`
}

// Rule is a set of match criteria and an action. All criteria of a rule must
// hold for it to match; every positive criterion has a negated Not* twin.
type Rule struct {
	Action Action `json:"action"`
	// IPVersion (4 or 6) restricts the rule to one IP version.
	IPVersion *int `json:"ipVersion,omitempty"`
	// Protocol restricts the rule to one IP protocol; it is required when
	// either side has Ports or NotPorts.
	Protocol *Protocol `json:"protocol,omitempty"`
	// ICMP restricts an ICMP/ICMPv6 rule to a type and code.
	ICMP *ICMPFields `json:"icmp,omitempty"`
	// NotProtocol is the negated Protocol.
	NotProtocol *Protocol `json:"notProtocol,omitempty"`
	// NotICMP is the negated ICMP.
	NotICMP *ICMPFields `json:"notICMP,omitempty"`
	// Source and Destination match the two ends of the traffic.
	Source      EntityRule `json:"source,omitzero"`
	Destination EntityRule `json:"destination,omitzero"`
	// HTTP matches HTTP requests (application layer policy only).
	HTTP *HTTPMatch `json:"http,omitempty"`
	// Metadata carries annotations; it never changes what the rule matches.
	Metadata *RuleMetadata `json:"metadata,omitempty"`
}

// ICMPFields matches an ICMP type and, optionally, code.
type ICMPFields struct {
	Type *int `json:"type,omitempty"`
	Code *int `json:"code,omitempty"`
}

// HTTPMatch matches HTTP methods and paths (Calico application layer policy).
type HTTPMatch struct {
	Methods []string   `json:"methods,omitempty"`
	Paths   []HTTPPath `json:"paths,omitempty"`
}

// HTTPPath is an exact or prefix match on an HTTP path.
type HTTPPath struct {
	Exact  string `json:"exact,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// EntityRule holds the criteria a rule applies to one end (source or
// destination) of the traffic.
type EntityRule struct {
	// Nets matches traffic from (to) an address in any of these CIDRs.
	Nets []string `json:"nets,omitempty"`
	// Selector matches traffic from (to) Calico endpoints whose labels match.
	Selector string `json:"selector,omitempty"`
	// NamespaceSelector matches traffic from (to) endpoints in namespaces
	// whose labels match. In a NetworkPolicy an empty NamespaceSelector
	// limits Selector to the policy's own namespace; global() selects
	// non-namespaced entities only.
	NamespaceSelector string `json:"namespaceSelector,omitempty"`
	// Services matches the endpoints of a Kubernetes Service.
	Services *ServiceMatch `json:"services,omitempty"`
	// Ports matches traffic from (to) one of these ports or port ranges.
	Ports []Port `json:"ports,omitempty"`
	// NotNets, NotSelector and NotPorts are the negated Nets, Selector and
	// Ports.
	NotNets     []string `json:"notNets,omitempty"`
	NotSelector string   `json:"notSelector,omitempty"`
	NotPorts    []Port   `json:"notPorts,omitempty"`
	// ServiceAccounts matches traffic from (to) pods running as matching
	// service accounts.
	ServiceAccounts *ServiceAccountMatch `json:"serviceAccounts,omitempty"`
}

// ServiceMatch names a Kubernetes Service.
type ServiceMatch struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// ServiceAccountMatch matches service accounts by name and/or by a selector
// over their labels; when both are set both must hold.
type ServiceAccountMatch struct {
	Names    []string `json:"names,omitempty"`
	Selector string   `json:"selector,omitempty"`
}

// RuleMetadata carries annotations of a rule.
type RuleMetadata struct {
	Annotations map[string]string `json:"annotations,omitempty"`
}

// NewGlobalNetworkPolicy returns an empty GlobalNetworkPolicy with the given
// name and its apiVersion and kind set.
func NewGlobalNetworkPolicy(name string) *GlobalNetworkPolicy {
	return &GlobalNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: KindGlobalNetworkPolicy},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
}

// NewNetworkPolicy returns an empty NetworkPolicy in the given namespace with
// the given name and its apiVersion and kind set.
func NewNetworkPolicy(namespace, name string) *NetworkPolicy {
	return &NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: KindNetworkPolicy},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
	}
}

// Policy is a GlobalNetworkPolicy or a NetworkPolicy: it is implemented by
// *GlobalNetworkPolicy and *NetworkPolicy only.
type Policy interface {
	// Ref identifies the policy in traces and errors.
	Ref() PolicyRef
	calicoPolicy()
}

func (*GlobalNetworkPolicy) calicoPolicy() {}
func (*NetworkPolicy) calicoPolicy()       {}

// Ref identifies the policy.
func (p *GlobalNetworkPolicy) Ref() PolicyRef {
	return PolicyRef{Kind: KindGlobalNetworkPolicy, Name: p.Name, Order: p.Spec.Order}
}

// Ref identifies the policy.
func (p *NetworkPolicy) Ref() PolicyRef {
	return PolicyRef{Kind: KindNetworkPolicy, Namespace: p.Namespace, Name: p.Name, Order: p.Spec.Order}
}

// Float64 returns a pointer to f, for Spec.Order.
func Float64(f float64) *float64 { return &f }
