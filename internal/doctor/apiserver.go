package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// A pod reaches the API server through the Service default/kubernetes on
// 443, which kube-proxy (or the CNI's own service handling) translates to
// one endpoint (clusterstate.APIServerEndpoints) before the packet leaves
// the node: policy engines match the translated address and port. Calico
// says so for its service rules ("Endpoint addresses and ports to allow
// will be automatically detected from the service", docs.tigera.io
// calico/latest/network-policy/policy-rules/service-policy), and
// cert-manager's chart had to open 6443, not 443, for its webhook to reach
// the API server (cert-manager/cert-manager#5788). kubeadm and kind serve
// 6443; most managed control planes 443.

// checkAPIServer compares cluster.apiServerCIDRs and cluster.apiServerPort
// with the API server's endpoints in the cluster state. Under a deny stance
// obsgen's egress policies open exactly those addresses and that port for
// Prometheus (service discovery), kube-state-metrics, istiod and the
// operators; an endpoint outside them or on another port means discovery
// fails and every target disappears, with nothing but "context deadline
// exceeded" in Prometheus' log.
func (d *doctor) checkAPIServer() {
	if d.p.Network.Stance == v1alpha1.StanceOpen {
		return
	}
	api := d.st.APIServerEndpoints()
	if !api.Found {
		d.notes = append(d.notes, "the cluster state holds no EndpointSlice of the Service default/kubernetes: cluster.apiServerCIDRs and cluster.apiServerPort were not checked against the API server's endpoints")
		return
	}
	var prefixes []netip.Prefix
	for _, c := range d.p.Cluster.APIServerCIDRs {
		if pr, err := netip.ParsePrefix(c); err == nil {
			prefixes = append(prefixes, pr.Masked())
		}
	}
	var addrs, outside, served []string
	for _, ip := range api.Addresses {
		addrs = append(addrs, ip.String())
		if !slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(ip) }) {
			outside = append(outside, ip.String())
		}
	}
	for _, p := range api.Ports {
		served = append(served, strconv.Itoa(p))
	}
	evidence := []string{fmt.Sprintf("EndpointSlice(s) of default/kubernetes: addresses %s, port %s", orNone(addrs), orNone(served)),
		fmt.Sprintf("profile: cluster.apiServerCIDRs %s, cluster.apiServerPort %d", orNone(d.p.Cluster.APIServerCIDRs), d.p.Cluster.APIServerPort)}
	const ref = "docs.tigera.io calico/latest/network-policy/policy-rules/service-policy; cert-manager/cert-manager#5788; kubernetes pkg/controlplane/reconcilers"
	impact := "obsgen's egress policies let Prometheus (service discovery), kube-state-metrics, istiod and the operators reach the API server only there, so discovery times out and targets disappear"
	if len(api.Ports) > 0 && !slices.Contains(api.Ports, d.p.Cluster.APIServerPort) {
		fix := fmt.Sprintf("set cluster.apiServerPort: %s, the port the endpoints serve, and generate again", served[0])
		d.add(Finding{Severity: Critical, Cause: CauseAPIServerEndpoints, Subject: "API server port",
			Summary:  fmt.Sprintf("the API server's endpoints serve port %s, not cluster.apiServerPort %d: %s", strings.Join(served, ", "), d.p.Cluster.APIServerPort, impact),
			Evidence: evidence, Fix: fix, Ref: ref})
	}
	if len(outside) > 0 {
		d.add(Finding{Severity: Critical, Cause: CauseAPIServerEndpoints, Subject: "API server addresses",
			Summary:  fmt.Sprintf("API server endpoint(s) %s lie outside cluster.apiServerCIDRs: %s", strings.Join(outside, ", "), impact),
			Evidence: evidence,
			Fix:      "add the endpoints' addresses (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes) to cluster.apiServerCIDRs, not the Service's cluster address, and generate again",
			Ref:      ref})
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
