package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestResolveURLLocatesTheHostForNetworkPolicies(t *testing.T) {
	cases := map[string]struct {
		url   string
		cidrs []string
		want  NetEndpoint
	}{
		"a Service in another namespace is every pod of that namespace": {
			url: "http://thanos-receive.thanos:19291/api/v1/receive", want: NetEndpoint{Peer: Peer{Namespace: "thanos"}, Port: 19291, InCluster: true}},
		"a fully qualified Service name": {
			url: "https://mimir.mimir.svc.cluster.local/api/v1/push", want: NetEndpoint{Peer: Peer{Namespace: "mimir"}, Port: 443, InCluster: true}},
		"a bare Service name is in the caller's namespace": {
			url: "http://prometheus:9090", want: NetEndpoint{Peer: Peer{Namespace: "monitoring"}, Port: 9090, InCluster: true}},
		"an address is itself": {
			url: "http://203.0.113.7:9009/push", want: NetEndpoint{Peer: Peer{CIDRs: []string{"203.0.113.7/32"}}, Port: 9009}},
		"an IPv6 address is itself": {
			url: "http://[2001:db8::7]:9009/push", want: NetEndpoint{Peer: Peer{CIDRs: []string{"2001:db8::7/128"}}, Port: 9009}},
		"an outside host is unknown without cidrs": {
			url: "https://mimir.example.com/api/v1/push", want: NetEndpoint{Port: 443}},
		"an outside host with cidrs is those ranges": {
			url: "https://mimir.example.com/api/v1/push", cidrs: []string{"203.0.113.30/32", "198.51.100.0/24"},
			want: NetEndpoint{Peer: Peer{CIDRs: []string{"198.51.100.0/24", "203.0.113.30/32"}}, Port: 443}},
		"the scheme gives the default port": {
			url: "http://thanos-query.thanos.svc", want: NetEndpoint{Peer: Peer{Namespace: "thanos"}, Port: 80, InCluster: true}},
		"not a URL": {url: "::", want: NetEndpoint{}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := ResolveURL(c.url, c.cidrs, "monitoring")
			assert.Equal(t, c.want, got)
			assert.Equal(t, c.want.Port != 0 && (len(c.want.Peer.CIDRs) > 0 || c.want.Peer.Namespace != ""), got.Known())
		})
	}
}
