// Package built holds what generators build once per plan and hand along:
// the policy objects the policy generators write and the proof evaluates,
// and the alerts the rules generator writes that read each scrape job
// (Alertmanager's inhibitions). Generators never import each other; the
// registry runs the builders first and passes these on.
package built

import (
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	networkingv1 "k8s.io/api/networking/v1"
	anpv1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"

	"obsgen.dev/obsgen/internal/calico"
)

// Objects are what one generator builds for others. Each builder fills its
// own fields, so builders may run in parallel.
type Objects struct {
	Policies Policies
	// JobDependents maps each scrape job to the alerts that read its
	// metrics, directly or through recording rules (see
	// generators/rules.JobDependents).
	JobDependents map[string][]string
	// Catalogued are the names of the alerts, rule groups and rule files
	// the plan's rule catalogue holds before alerting.disable and the
	// overrides apply (generators/rules); nil when no rules are recorded.
	Catalogued map[string]bool
}

// Policies are the policy objects of a plan, built once: the policy
// generators write them and the proof evaluates the same objects. Each
// generator fills its own fields.
type Policies struct {
	// NetworkPolicies by namespace (network.engine kubernetes).
	NetworkPolicies map[string][]*networkingv1.NetworkPolicy
	// Calico are every Calico policy in force (network.engine calico),
	// including a global deny the profile describes but obsgen does not
	// write.
	Calico []calico.Policy
	// AdminNetworkPolicies and BaselineAdminNetworkPolicy (network.engine
	// admin-network-policy).
	AdminNetworkPolicies       []*anpv1alpha1.AdminNetworkPolicy
	BaselineAdminNetworkPolicy *anpv1alpha1.BaselineAdminNetworkPolicy
	// PeerAuthentications and AuthorizationPolicies (Istio).
	PeerAuthentications   []*securityv1.PeerAuthentication
	AuthorizationPolicies []*securityv1.AuthorizationPolicy
}
