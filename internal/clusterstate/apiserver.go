package clusterstate

import (
	"net/netip"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// APIServer is where the API server's endpoints are: those of the Service
// default/kubernetes, which the API server itself keeps (its EndpointSlice
// is named kubernetes, labelled kubernetes.io/service-name=kubernetes, its
// port named https: kubernetes/kubernetes pkg/controlplane/reconcilers).
// Policy engines see these, not the Service's address and port 443.
type APIServer struct {
	// Found tells whether the state holds an EndpointSlice of the Service.
	Found bool
	// Addresses are the ready endpoints' addresses, sorted, each once.
	Addresses []netip.Addr
	// Ports are the ports named https (or unnamed), sorted, each once.
	Ports []int
}

// APIServerEndpoints reads the API server's endpoints from the state.
func (st *State) APIServerEndpoints() APIServer {
	var out APIServer
	for _, s := range st.EndpointSlices {
		if s.Namespace != "default" || s.Labels[discoveryv1.LabelServiceName] != "kubernetes" {
			continue
		}
		out.Found = true
		for _, p := range s.Ports {
			if p.Port != nil && (p.Name == nil || *p.Name == "https") {
				out.Ports = append(out.Ports, int(*p.Port))
			}
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				if ip, err := netip.ParseAddr(a); err == nil {
					out.Addresses = append(out.Addresses, ip.Unmap())
				}
			}
		}
	}
	slices.SortFunc(out.Addresses, func(a, b netip.Addr) int { return a.Compare(b) })
	out.Addresses = slices.Compact(out.Addresses)
	slices.Sort(out.Ports)
	out.Ports = slices.Compact(out.Ports)
	return out
}
