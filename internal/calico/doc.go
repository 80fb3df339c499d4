// Package calico models the Calico network policy that obsgen emits and
// checks what it allows.
//
// It has three parts:
//
//   - Types for the projectcalico.org/v3 kinds GlobalNetworkPolicy and
//     NetworkPolicy, written to follow the upstream schema
//     (github.com/projectcalico/api) field for field, with Port and Protocol
//     marshalling like upstream's numorstring types, and DecodeStrict to read
//     one of them strictly from JSON or YAML.
//   - A parser, evaluator and normaliser for Calico selector expressions
//     (ParseSelector), and builders (Eq, In, NotIn, Has, And, ...) that only
//     produce selectors Calico reads as meant.
//   - An Evaluator that decides whether Calico allows a connection, given the
//     policies and namespaces of a cluster, and explains why (Trace).
//
// # Semantics of the Evaluator
//
// The Evaluator follows Calico's documented behaviour for the default tier
// and, where the documentation is silent, Calico's code (libcalico-go's
// conversion of v3 policies for Felix):
//
//   - Policy evaluation: https://docs.tigera.io/calico/latest/reference/resources/tier
//     ("How policy is evaluated") and
//     https://docs.tigera.io/calico/latest/network-policy/policy-tiers/tiered-policy.
//     For each direction at an endpoint, the policies that apply to it are
//     taken in ascending order (a nil order is +infinity, i.e. last; ties
//     by name), and in each policy the rules in order. The first rule whose
//     criteria all hold decides: Allow allows; Deny denies; Pass skips the
//     rest of the tier and, as the default tier is the last, goes to the
//     endpoint's profiles, where the Kubernetes namespace profile (kns.<ns>)
//     allows; Log logs and goes on. When policies applied but no rule
//     decided, the default tier's end-of-tier action denies. When no policy
//     applies, the namespace profile allows.
//   - A connection is allowed when egress at the source (if it is an
//     endpoint) and ingress at the destination (if it is an endpoint) are
//     both allowed; a side that is a bare IP is not checked.
//   - Which endpoints a policy applies to:
//     https://docs.tigera.io/calico/latest/reference/resources/networkpolicy and
//     https://docs.tigera.io/calico/latest/reference/resources/globalnetworkpolicy.
//     The policy's types must include the direction. Empty types default as
//     Calico defaults them on create: [Ingress] without egress rules,
//     [Egress] with egress rules but no ingress rules, both with both.
//     (This is not Kubernetes NetworkPolicy's rule, under which Ingress is
//     always included.) The selector must match the endpoint; a
//     NetworkPolicy applies only in its own namespace; a
//     GlobalNetworkPolicy's namespaceSelector must match the endpoint's
//     namespace and serviceAccountSelector its service account.
//   - Labels: https://docs.tigera.io/calico/latest/network-policy/get-started/calico-policy/calico-labels.
//     An endpoint is matched with its own labels plus
//     projectcalico.org/namespace, projectcalico.org/orchestrator: k8s and
//     projectcalico.org/serviceaccount (and, as in Felix, its namespace's and
//     service account's labels prefixed pcns. and pcsa.). A namespace is
//     matched with the labels the caller gives plus projectcalico.org/name:
//     <name>; a service account with its labels plus projectcalico.org/name.
//     So "exempt kube-system" is namespaceSelector:
//     projectcalico.org/name != 'kube-system', or selector:
//     projectcalico.org/namespace != 'kube-system' — but not selector:
//     projectcalico.org/name != ..., which every pod satisfies.
//   - Rule criteria (EntityRule in the NetworkPolicy reference): protocol
//     and notProtocol; ipVersion, and the IP version implied by the rule's
//     CIDRs (Calico renders such a rule for that version only); destination
//     ports and notPorts (numbers and ranges); nets and notNets, where an
//     endpoint peer is in a net when any of its IPs is; selector,
//     namespaceSelector, serviceAccounts and notSelector. A rule selects
//     endpoints as soon as it has a selector, a namespaceSelector or a
//     service account match (or, in a NetworkPolicy, a lone notSelector);
//     then a bare IP peer never matches it. Without a namespaceSelector, a
//     NetworkPolicy rule selects endpoints of the policy's own namespace
//     only and a GlobalNetworkPolicy rule endpoints of every namespace. A
//     namespaceSelector alone selects every endpoint of the matching
//     namespaces; all() there is every namespace and global() (which must
//     stand alone) selects only non-namespaced entities, that is no pod. A
//     notSelector excludes matching endpoints and never excludes a bare IP.
//
// # Meaning of the empty selector, by field
//
//   - spec.selector: empty is all(), every endpoint in scope.
//   - spec.namespaceSelector and spec.serviceAccountSelector: empty is no
//     restriction.
//   - a rule's selector, notSelector and serviceAccounts: empty is no
//     criterion, which also matches bare IPs; all() matches every endpoint
//     in scope and no bare IP.
//   - a rule's namespaceSelector: empty is "the policy's namespace" in a
//     NetworkPolicy rule that selects endpoints, and no restriction in a
//     GlobalNetworkPolicy.
//
// ParseSelector("") is all(); the Evaluator tells an empty field from all()
// itself.
//
// # Not supported
//
// NewEvaluator rejects, with an error naming the policy and field, what it
// cannot evaluate faithfully rather than guess:
//
//   - tiers other than default (and so the Tier resource, tier order and
//     defaultAction), and the admin network policy tiers;
//   - named ports, source ports (a query has no source port), services
//     matches, ICMP type/code matches, and HTTP matches (application layer
//     policy);
//
// and it does not model:
//
//   - host endpoints, global and namespaced network sets, and so
//     doNotTrack and preDNAT policies (which apply to host endpoints only;
//     they are ignored) and applyOnForward;
//   - Kubernetes NetworkPolicy, AdminNetworkPolicy and the other policy
//     kinds Calico enforces alongside its own: give the Evaluator the
//     Calico policies only if the cluster has none of those;
//   - staged policies, Calico Enterprise features, and Felix's failsafe
//     rules (which protect host endpoints);
//   - connection tracking: a verdict is about a new connection; replies are
//     allowed.
package calico
