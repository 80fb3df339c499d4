package plan

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// NetEndpoint is where a URL of the profile leads, as network policies
// can name it: the pods of an in-cluster Service's namespace, or address
// ranges, and the port.
type NetEndpoint struct {
	Peer Peer
	Port int
	// InCluster tells that the host is a Service name
	// (<service>[.<namespace>[.svc[.<cluster domain>]]]).
	InCluster bool
}

// Known tells whether a policy can name the endpoint.
func (e NetEndpoint) Known() bool { return e.Port != 0 && (e.Peer.IsCIDR() || e.Peer.Namespace != "") }

// ResolveURL locates the host of raw for network policies. A Service host
// resolves to every pod of its namespace (callerNS for a bare name) on the
// URL's port: a NetworkPolicy names pods, and the Service's pods are not
// known here, so the Service's targetPort must equal its port. An IP
// address resolves to itself; any other host to cidrs, which the profile
// must give under a deny stance (a NetworkPolicy cannot name a DNS name).
func ResolveURL(raw string, cidrs []string, callerNS string) NetEndpoint {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return NetEndpoint{}
	}
	port := urlPort(u)
	if len(cidrs) > 0 {
		return NetEndpoint{Peer: Peer{CIDRs: sortedCopy(cidrs)}, Port: port}
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		return NetEndpoint{Peer: Peer{CIDRs: []string{netip.PrefixFrom(a, a.BitLen()).String()}}, Port: port}
	}
	if ns, ok := serviceNamespace(host, callerNS); ok {
		return NetEndpoint{Peer: Peer{Namespace: ns}, Port: port, InCluster: true}
	}
	return NetEndpoint{Port: port}
}

// serviceNamespace reads the namespace of a Service host name:
// svc (the caller's namespace), svc.ns, svc.ns.svc or
// svc.ns.svc.<cluster domain>.
func serviceNamespace(host, callerNS string) (string, bool) {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	switch {
	case len(labels) == 1 && host != "localhost":
		return callerNS, true
	case len(labels) == 2:
		return labels[1], true
	case len(labels) >= 3 && labels[2] == "svc":
		return labels[1], true
	}
	return "", false
}

// serviceName is the first label of raw's host.
func serviceName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(u.Hostname(), ".")
	return name
}

func urlPort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}
